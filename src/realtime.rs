//! Realtime use cases for a WebSocket connection: subscribing with a gap-free
//! replay, presence, typing and sign-out. The socket loop itself lives in the
//! server; everything it decides is here.

use std::time::Duration;

use tokio::sync::broadcast;

use crate::auth::{AuthSession, AuthUser};
use crate::hub::{Frame, UserSignal};
use crate::model::{Author, RoomId, UserId};
use crate::protocol::ServerEvent;
use crate::{AppError, Hearth};

/// The most changes one subscribe replays; further behind gets `resync`.
pub const REPLAY_MAX: u32 = 2_000;
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

impl Hearth {
    /// Checks membership, then subscribes and reads every change after
    /// `after` (none when `after` is `None`).
    pub async fn subscribe(&self, me: UserId, room: RoomId, after: Option<i64>) -> Result<Subscription, AppError> {
        self.member_room(me, room).await?;
        let live = self.hub.subscribe_room(room);
        // Read the position only after subscribing: anything later arrives live.
        let current = self.member_room(me, room).await?.last_seq;
        let (replay, seq) = self.replay(room, after, current).await?;
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
        let (frames, seq) = self.replay(room, after, delivered).await?;
        // A seq of -1 marks a resync: the socket drops the subscription.
        Ok((frames, seq < 0))
    }

    /// The changes in (`after`, `upto`], a `subscribed` marker and who is
    /// online; only `resync` (and a seq of -1) when too far behind.
    async fn replay(&self, room: RoomId, after: Option<i64>, upto: i64) -> Result<(Vec<Frame>, i64), AppError> {
        let mut replay = Vec::new();
        let mut seq = upto;
        if let Some(after) = after.filter(|after| *after < upto) {
            let events = self.store.events_after(room, after, REPLAY_MAX + 1).await?;
            if events.len() > REPLAY_MAX as usize {
                // Nothing else: the client reloads the history and subscribes again.
                return Ok((vec![Frame::new(&ServerEvent::Resync { room_id: room })], -1));
            } else {
                for (event_seq, kind, message) in events.into_iter().filter(|(s, _, _)| *s <= upto) {
                    seq = seq.max(event_seq);
                    let event = match kind.as_str() {
                        "message" => ServerEvent::Message { room_id: room, seq: event_seq, message },
                        "edited" => ServerEvent::MessageEdited { room_id: room, seq: event_seq, message },
                        _ => ServerEvent::MessageDeleted { room_id: room, seq: event_seq, number: message.number },
                    };
                    replay.push(Frame::new(&event));
                }
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
        let name = self.store.profile(me.id).await?.and_then(|p| p.name);
        let user = Author { id: me.id, username: me.username.clone(), name };
        self.hub.publish_room(room, &ServerEvent::Typing { room_id: room, user });
        Ok(())
    }

    /// A socket opened: announce the user online if it is their first.
    pub async fn socket_opened(&self, me: UserId) -> Result<(), AppError> {
        if self.hub.socket_opened(me) {
            self.announce_presence(me, true).await?;
        }
        Ok(())
    }

    /// A socket closed: after a grace period, announce the user offline if no
    /// other socket of theirs opened meanwhile (a reload does not flap).
    pub fn socket_closed(&self, me: UserId) {
        if self.hub.socket_closed(me) {
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
    }

    async fn announce_presence(&self, me: UserId, online: bool) -> Result<(), AppError> {
        let event = ServerEvent::Presence { user_id: me, online };
        for room in self.store.room_ids_of(me).await? {
            self.hub.publish_room(room, &event);
        }
        Ok(())
    }

    /// Signs out and closes every socket opened with this session.
    pub async fn sign_out(&self, session: &mut AuthSession) -> Result<(), AppError> {
        let user = session.user.as_ref().map(|u| u.id);
        let id = session.session.id().map(|id| id.to_string());
        crate::auth::end_session(session).await?;
        if let (Some(user), Some(id)) = (user, id) {
            self.hub.signal_user(user, UserSignal::SessionEnded(id));
        }
        Ok(())
    }
}
