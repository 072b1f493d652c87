//! Realtime use cases for a WebSocket connection: subscribing with a gap-free
//! replay, presence, typing and sign-out. The socket loop itself lives in the
//! server; everything it decides is here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

use crate::auth::{AuthSession, AuthUser};
use crate::bus::PresenceKind;
use crate::hub::{Frame, UserSignal};
use crate::model::{RoomId, UserId};
use crate::protocol::ServerEvent;
use crate::store::{Change, ChangeKind};
use crate::{AppError, Hearth};

/// The most changes one subscribe replays; further behind gets `resync`.
pub const REPLAY_MAX: u32 = 2_000;
/// The most frame bytes one subscribe replays; more gets `resync` (a page
/// load fetches only the newest page, then scrolls back on demand).
pub const REPLAY_MAX_BYTES: usize = 1 << 20;
/// Changes read per round trip of a replay.
const REPLAY_BATCH: u32 = 100;
/// Replays of one user read at once; more wait their turn.
pub const REPLAYS_PER_USER: usize = 2;
/// How long a user stays "online" after their last socket closes.
pub const PRESENCE_GRACE: Duration = Duration::from_secs(3);

/// A room subscription, ready to go live.
pub struct Subscription {
    /// Live frames; subscribed *before* the replay was read, so nothing
    /// committed in between is missed (duplicates are dropped by seq).
    pub live: broadcast::Receiver<Frame>,
    /// The replayed changes, in order, then a `subscribed` marker.
    pub replay: Vec<Frame>,
    /// The last seq the replay covered; live frames at or below it are duplicates.
    pub seq: i64,
    /// Too far behind: the replay is just `resync`, and `live` must not be used.
    pub resync: bool,
}

/// One semaphore per user with a replay in progress, so that one account's
/// sockets cannot make the server read many replays at once. An entry lives
/// only while some replay of that user holds or awaits it.
#[derive(Clone, Default)]
pub(crate) struct ReplaySlots(Arc<Mutex<HashMap<UserId, Arc<Semaphore>>>>);

/// A held replay slot; dropping the last one of a user forgets the user.
pub(crate) struct ReplaySlot {
    slots: ReplaySlots,
    user: UserId,
    permit: Option<OwnedSemaphorePermit>,
}

impl ReplaySlots {
    async fn acquire(&self, user: UserId) -> Result<ReplaySlot, AppError> {
        let semaphore = {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(user).or_insert_with(|| Arc::new(Semaphore::new(REPLAYS_PER_USER))))
        };
        let permit = semaphore.acquire_owned().await.map_err(AppError::internal)?;
        Ok(ReplaySlot { slots: self.clone(), user, permit: Some(permit) })
    }

    /// Replays of `user` running or waiting, for tests.
    #[cfg(test)]
    fn in_use(&self, user: UserId) -> usize {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&user).map_or(0, |s| REPLAYS_PER_USER - s.available_permits())
    }
}

impl Drop for ReplaySlot {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut map = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map's own reference left: nobody holds or awaits a slot.
        if map.get(&self.user).is_some_and(|s| Arc::strong_count(s) == 1) {
            map.remove(&self.user);
        }
    }
}

/// The least time between two typing notices of one person in one room
/// that the room is told of.
pub const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Hearth {
    /// Checks membership, then subscribes and reads every change after
    /// `after` (none when `after` is `None`).
    pub async fn subscribe(&self, me: UserId, room: RoomId, after: Option<i64>) -> Result<Subscription, AppError> {
        self.member_room(me, room).await?;
        let live = self.hub.subscribe_room(room);
        // Read the position only after subscribing: anything later arrives live.
        // From the database, which checks the membership once more, uncached.
        let current = self.member_room_row(me, room).await?.last_seq;
        // With several instances, the room's first subscriber here fixes
        // where its ordered stream starts.
        self.hub.room_read_at(room, current);
        let (replay, seq) = self.replay(me, room, after, current).await?;
        let resync = seq < 0;
        Ok(Subscription { live, replay, seq, resync })
    }

    /// For a socket already subscribed to `room` and delivered up to
    /// `delivered`: replays the changes in (`after`, `delivered`] and keeps
    /// the live stream as it is, so a second subscribe never opens a gap.
    pub async fn catch_up(
        &self,
        me: UserId,
        room: RoomId,
        after: Option<i64>,
        delivered: i64,
    ) -> Result<(Vec<Frame>, bool), AppError> {
        self.member_room(me, room).await?;
        let (frames, seq) = self.replay(me, room, after, delivered).await?;
        // A seq of -1 marks a resync: the socket drops the subscription.
        Ok((frames, seq < 0))
    }

    /// The changes in (`after`, `upto`], a `subscribed` marker and who is
    /// online; only `resync` (and a seq of -1) when too far behind: more than
    /// `REPLAY_MAX` changes or `REPLAY_MAX_BYTES` of frames, or ahead (an
    /// `after` past `upto`). It is read in
    /// batches, so what one replay holds is bounded by the byte budget however
    /// large the room's messages are, and at most `REPLAYS_PER_USER` of a
    /// user's replays are read at once.
    async fn replay(
        &self,
        me: UserId,
        room: RoomId,
        after: Option<i64>,
        upto: i64,
    ) -> Result<(Vec<Frame>, i64), AppError> {
        // A position past the room's newest change is from changes this
        // database never had: it was restored from a backup, say, under an
        // open tab, whose history is now partly made up.
        if after.is_some_and(|after| after > upto) {
            return Ok((vec![Frame::new(&ServerEvent::Resync { room_id: room })], -1));
        }
        let mut replay = Vec::new();
        let mut seq = upto;
        if let Some(mut after) = after.filter(|after| *after < upto) {
            let _slot = self.replays.acquire(me).await?;
            let mut bytes = 0;
            let resync = loop {
                let events = self.store.events_after(room, after, REPLAY_BATCH).await?;
                let mut done = events.len() < REPLAY_BATCH as usize;
                for change in events {
                    let event_seq = change.seq;
                    if event_seq > upto {
                        done = true;
                        break;
                    }
                    after = event_seq;
                    seq = seq.max(event_seq);
                    let frame = Frame::new(&change_event(room, change));
                    bytes += frame.bytes.len();
                    replay.push(frame);
                }
                if replay.len() > REPLAY_MAX as usize || bytes > REPLAY_MAX_BYTES {
                    break true;
                }
                if done || after >= upto {
                    break false;
                }
            };
            if resync {
                // Nothing else: the client reloads the history and subscribes again.
                return Ok((vec![Frame::new(&ServerEvent::Resync { room_id: room })], -1));
            }
        }
        replay.push(Frame::new(&ServerEvent::Subscribed { room_id: room, seq }));
        for member in self.store.member_ids(room).await? {
            if self.hub.is_online(member) {
                replay.push(Frame::new(&ServerEvent::Presence { user_id: member, online: true }));
            }
        }
        Ok((replay, seq))
    }

    /// Shows `me` typing in a room they belong to.
    pub async fn typing(&self, me: &AuthUser, room: RoomId) -> Result<(), AppError> {
        self.member_room(me.id, room).await?;
        // At most one notice per person and room a second reaches the room,
        // however fast a client sends them (the web client sends one every
        // two seconds while typing).
        if !self.typing_relayed.entry((me.id, room)).or_insert(()).is_fresh() {
            return Ok(());
        }
        // As the user is now (a rename shows at once), from the users cache.
        let Some(user) = self.author(me.id).await? else { return Ok(()) };
        self.hub.publish_room(room, &ServerEvent::Typing { room_id: room, user });
        Ok(())
    }

    /// Whether `user` has a socket open on any instance.
    pub fn is_online(&self, user: UserId) -> bool {
        self.hub.is_online(user)
    }

    /// A socket opened: announce the user online if they were online on no
    /// instance, and tell the other instances if it is their first socket here.
    pub async fn socket_opened(&self, me: UserId) -> Result<(), AppError> {
        let (was_online, first_here) = self.hub.socket_opened(me);
        if first_here {
            self.hub.bus().presence(PresenceKind::Up, vec![me]);
        }
        if !was_online {
            self.announce_presence(me, true).await?;
        }
        Ok(())
    }

    /// A socket closed: if it was the user's last here, tell the other
    /// instances, and after a grace period announce the user offline if they
    /// have no socket anywhere and opened none meanwhile (a reload does not
    /// flap).
    pub fn socket_closed(&self, me: UserId) {
        if self.hub.socket_closed(me) {
            self.hub.bus().presence(PresenceKind::Down, vec![me]);
            self.offline_after_grace(me);
        }
    }

    /// Announces `me` offline after [`PRESENCE_GRACE`], unless they came
    /// online anywhere in between.
    pub(crate) fn offline_after_grace(&self, me: UserId) {
        let hearth = self.clone();
        let epoch = self.hub.epoch(me);
        tokio::spawn(async move {
            tokio::time::sleep(PRESENCE_GRACE).await;
            // Only the timer of the last close speaks: any socket opened
            // since (even one closed again) has its own.
            if hearth.hub.epoch(me) == epoch
                && !hearth.hub.is_online(me)
                && let Err(err) = hearth.announce_presence(me, false).await
            {
                tracing::warn!(error = %err, "presence announcement failed");
            }
        });
    }

    /// Tells the sockets here, in each of the user's rooms. Every instance
    /// announces to its own sockets (it learns of the others' users through
    /// the bus), so this never goes over the bus itself.
    pub(crate) async fn announce_presence(&self, me: UserId, online: bool) -> Result<(), AppError> {
        let frame = Frame::new(&ServerEvent::Presence { user_id: me, online });
        for room in self.store.room_ids_of(me).await? {
            self.hub.deliver(room, frame.clone());
        }
        Ok(())
    }

    /// Whether a socket's session `id` still exists (asked after a bus
    /// outage: [`UserSignal::RecheckSession`]). A failed read keeps it: the
    /// socket's requests are checked afresh all the same.
    pub async fn session_alive(&self, id: &str) -> bool {
        match self.store.session_exists(id).await {
            Ok(alive) => alive,
            Err(error) => {
                tracing::warn!(%error, "a socket's session could not be checked after a bus outage");
                true
            }
        }
    }

    /// Signs out and closes every socket opened with this session.
    pub async fn sign_out(&self, session: &mut AuthSession) -> Result<(), AppError> {
        let user = session.user.as_ref().map(|u| u.id);
        let id = crate::auth::stored_session_id(&session.session);
        crate::auth::end_session(session).await?;
        if let (Some(user), Some(id)) = (user, id) {
            // Off the sessions list too (`account.rs`).
            self.store.forget_user_session(&id).await?;
            self.hub.signal_user(user, UserSignal::SessionEnded(id));
        }
        Ok(())
    }
}

/// The event a logged change is sent as, with the message as it is now.
pub(crate) fn change_event(room: RoomId, change: Change) -> ServerEvent {
    let Change { seq, kind, message } = change;
    match kind {
        ChangeKind::Message => ServerEvent::Message { room_id: room, seq, message },
        ChangeKind::Edited => ServerEvent::MessageEdited { room_id: room, seq, message },
        ChangeKind::Deleted => ServerEvent::MessageDeleted {
            room_id: room,
            seq,
            number: message.number,
            message_id: message.id,
            reply_to: message.reply_to,
        },
        ChangeKind::Reaction => ServerEvent::Reacted {
            room_id: room,
            seq,
            number: message.number,
            message_id: message.id,
            reactions: message.reactions,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_user_reads_at_most_the_slot_count_of_replays_at_once_and_is_forgotten_after() {
        let slots = ReplaySlots::default();
        let me = UserId(7);
        let first = slots.acquire(me).await.expect("a replay slot");
        let second = slots.acquire(me).await.expect("a replay slot");
        assert_eq!(slots.in_use(me), REPLAYS_PER_USER);
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { slots.acquire(me).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a third replay must wait for a slot");
        drop(first);
        waiting.await.expect("the task ran").expect("a replay slot");
        drop(second);
        assert!(slots.0.lock().expect("the slots lock is not poisoned").is_empty());
    }
}
