//! What an instance does with what the bus brings ([`crate::bus`]): other
//! instances' room changes (in order, gaps filled from the change log), user
//! signals, presence, sign-in attempts and cache invalidations; and what it
//! does on its own to stay in step: heartbeats, forgetting instances that
//! stopped answering, and comparing each shared room's position with the
//! database so that a change the bus lost at the end of a burst is found too.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::bus::{Bus, BusSettings, Forget, Incoming, PresenceKind, PresenceNote};
use crate::hub::{Frame, UserSignal};
use crate::model::{RoomId, UserId};
use crate::protocol::{RoomChange, ServerEvent};
use crate::realtime::change_event;
use crate::store::Store;
use crate::{AppError, Hearth, Settings};

/// Changes read per round trip of a gap fill.
const FILL_BATCH: u32 = 500;
/// How often each shared room's position is compared with the database.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

impl Hearth {
    /// Drops a user from the cache here and on every other instance (their
    /// profile, password, role or active flag changed).
    pub(crate) fn forget_user(&self, user: UserId) {
        self.caches.users.invalidate(&user);
        // Their name or picture shows in the room list of everyone who
        // shares a room with them.
        self.hub.list_changes().everything();
        self.hub.bus().forget(Forget::User(user));
    }

    /// Every member's room list shows `room` differently now (who is in it,
    /// its title), here and elsewhere. Changes published to the room itself
    /// need not call this: the hub tells the lists of those.
    pub(crate) fn forget_listed_room(&self, room: RoomId) {
        self.hub.list_changes().room(room);
        self.hub.bus().forget(Forget::ListedRoom(room));
    }

    /// `user`'s own room list changed in a way no event tells (their
    /// notification level for a room), here and elsewhere.
    pub(crate) fn forget_room_list(&self, user: UserId) {
        self.hub.list_changes().user(user);
        self.hub.bus().forget(Forget::RoomList(user));
    }

    /// Drops whether `room` is archived from the cache, here and elsewhere.
    pub(crate) fn forget_archived(&self, room: RoomId) {
        self.archived_rooms.invalidate(&room);
        self.hub.bus().forget(Forget::Archived(room));
    }

    /// A Hearth that shares live changes with the other instances on the
    /// same database through NATS. It starts (and serves) while NATS is
    /// unreachable; the client keeps trying, and `/healthz` says so.
    pub async fn clustered(store: Store, settings: Settings, bus: BusSettings) -> Result<Self, String> {
        let at = crate::store::redact_password(&bus.url);
        let (bus, incoming) = Bus::connect(bus).await.map_err(|err| format!("NATS at {at}: {err}"))?;
        let (gaps_tx, gaps) = mpsc::unbounded_channel();
        let hearth = Self::build(store, settings, bus, Some(gaps_tx));
        tokio::spawn(hearth.clone().apply_bus(incoming));
        tokio::spawn(hearth.clone().fill_gaps(gaps));
        tokio::spawn(hearth.clone().keep_in_step());
        Ok(hearth)
    }

    /// The bus, for `/healthz` and the shutdown.
    pub fn bus(&self) -> &Bus {
        self.hub.bus()
    }

    /// Leaving the cluster (shutdown): the others forget this instance's
    /// users now rather than after the presence TTL.
    pub async fn leave_cluster(&self) {
        let bus = self.hub.bus();
        bus.presence(PresenceKind::All, Vec::new());
        bus.flush().await;
        bus.close();
    }

    async fn apply_bus(self, mut incoming: mpsc::Receiver<Incoming>) {
        while let Some(message) = incoming.recv().await {
            match message {
                Incoming::Room { room, frame } => {
                    // As `Hub::publish_room` does for the changes made here.
                    if frame.seq.is_some() {
                        self.hub.list_changes().room(room);
                    }
                    self.hub.deliver(room, frame)
                }
                Incoming::User { user, signal } => {
                    if let UserSignal::SessionEnded(id) = &signal {
                        self.forget_here(Forget::Session(id.clone()));
                    }
                    self.hub.signal_here(user, signal);
                }
                Incoming::Presence(note) => self.presence_note(note),
                Incoming::Attempt(attempt) => self.sign_in_limiter.spend_elsewhere(&attempt),
                Incoming::Forget(forget) => self.forget_here(forget),
                Incoming::Reconnected => {
                    // What was published while the bus was away is lost:
                    // invalidations (so forget everything cached), presence
                    // (so say who is here now), and room changes (so read
                    // each shared room's log after its position).
                    self.caches.clear();
                    self.archived_rooms.clear();
                    self.hub.bus().presence(PresenceKind::All, self.hub.online_here());
                    for (room, _) in self.hub.shared_rooms() {
                        self.hub.ask_fill_unless_asked(room);
                    }
                    // So were sign-outs: each socket here checks that its
                    // session still exists.
                    for user in self.hub.online_here() {
                        self.hub.signal_here(user, UserSignal::RecheckSession);
                    }
                    // Removals from rooms said meanwhile were lost too.
                    let hearth = self.clone();
                    tokio::spawn(async move {
                        if let Err(err) = hearth.recheck_memberships().await {
                            tracing::warn!(error = %err, "rechecking memberships after a bus outage failed");
                        }
                        // And the unread counts other instances told them.
                        if let Err(err) = hearth.retell_unread().await {
                            tracing::warn!(error = %err, "telling unread counts again after a bus outage failed");
                        }
                    });
                }
            }
        }
    }

    /// Drops a cache entry that another instance invalidated.
    fn forget_here(&self, forget: Forget) {
        match forget {
            Forget::Session(id) => {
                if let Ok(id) = tower_sessions::session::Id::from_str(&id) {
                    self.caches.sessions.invalidate(&id);
                }
            }
            Forget::User(user) => {
                self.caches.users.invalidate(&user);
                self.hub.list_changes().everything();
            }
            Forget::Membership(user, room) => {
                self.caches.members.invalidate(&(user, room));
                self.hub.list_changes().room(room);
            }
            Forget::Archived(room) => self.archived_rooms.invalidate(&room),
            Forget::ListedRoom(room) => self.hub.list_changes().room(room),
            Forget::RoomList(user) => self.hub.list_changes().user(user),
        }
    }

    /// After a bus outage: every user with a socket here stops getting the
    /// rooms followed here that they no longer belong to (the removal's
    /// signal may have been published while the bus was away). One query
    /// per such user.
    async fn recheck_memberships(&self) -> Result<(), AppError> {
        let followed: Vec<RoomId> = self.hub.shared_rooms().into_iter().map(|(room, _)| room).collect();
        if followed.is_empty() {
            return Ok(());
        }
        for user in self.hub.online_here() {
            let mine: std::collections::HashSet<RoomId> = self.store.room_ids_of(user).await?.into_iter().collect();
            for room in followed.iter().filter(|room| !mine.contains(room)) {
                self.hub.signal_here(user, UserSignal::LostRoom(*room));
            }
        }
        Ok(())
    }

    /// Tells each user with a socket here the unread count and mentions of
    /// each of their rooms, as the database has them: those the other
    /// instances sent while the bus was away were lost. Once per outage, one
    /// room list read per user.
    async fn retell_unread(&self) -> Result<(), AppError> {
        for user in self.hub.online_here() {
            for room in self.room_list(user).await?.iter() {
                let event = ServerEvent::Room {
                    room_id: room.id,
                    change: RoomChange::Unread,
                    unread_count: Some(room.unread_count),
                    unread_mentions: Some(room.unread_mentions),
                };
                self.hub.signal_here(user, UserSignal::Frame(Frame::new(&event)));
            }
        }
        Ok(())
    }

    fn presence_note(&self, note: PresenceNote) {
        let (came, gone) = match note.kind {
            PresenceKind::Up => self.hub.presence_elsewhere(note.instance, &note.users, &[], None),
            PresenceKind::Down => self.hub.presence_elsewhere(note.instance, &[], &note.users, None),
            PresenceKind::All => self.hub.presence_elsewhere(note.instance, &[], &[], Some(&note.users)),
        };
        for user in came {
            self.announce_in_background(user, true);
        }
        for user in gone {
            self.offline_after_grace(user);
        }
    }

    /// Announces `user` to the sockets here, off the bus's loop (it reads
    /// the user's rooms).
    pub(crate) fn announce_in_background(&self, user: UserId, online: bool) {
        let hearth = self.clone();
        tokio::spawn(async move {
            if let Err(err) = hearth.announce_presence(user, online).await {
                tracing::warn!(error = %err, "presence announcement failed");
            }
        });
    }

    /// Reads each room sent here after the gap bound.
    async fn fill_gaps(self, mut gaps: mpsc::UnboundedReceiver<RoomId>) {
        let wait = self.hub.bus().settings().map_or(Duration::from_millis(200), |s| s.gap);
        while let Some(room) = gaps.recv().await {
            let hearth = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                hearth.fill_gap(room).await;
            });
        }
    }

    /// Reads the room's changes after the position its channel is at from
    /// the change log, and hands them to the hub, which sends them in order
    /// with whatever it held (and asks again if a gap is left).
    pub(crate) async fn fill_gap(&self, room: RoomId) {
        let Some(after) = self.hub.room_last(room) else { return };
        let frames = match self.store.events_after(room, after, FILL_BATCH).await {
            Ok(changes) => {
                crate::metrics::bus_filled(changes.len());
                changes.into_iter().map(|change| Frame::new(&change_event(room, change))).collect()
            }
            Err(err) => {
                tracing::warn!(error = %err, room = room.0, "filling a gap from the change log failed");
                Vec::new()
            }
        };
        self.hub.filled(room, frames);
    }

    /// Heartbeats, instances that stopped answering, and rooms behind the
    /// database.
    async fn keep_in_step(self) {
        let Some(settings) = self.hub.bus().settings().cloned() else { return };
        // A heartbeat every third of the TTL (a lost one or two do not
        // expire this instance elsewhere); expiry and the sweep at least
        // once a second.
        let heartbeat = (settings.presence_ttl / 3).max(Duration::from_millis(100));
        let mut ticks = tokio::time::interval(heartbeat.min(SWEEP_EVERY));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut last_beat, mut last_sweep) = (None::<tokio::time::Instant>, tokio::time::Instant::now());
        // Rooms found behind at the last sweep, with the position they were at.
        let mut behind: HashMap<RoomId, i64> = HashMap::new();
        let Some(mut closed) = self.hub.bus().closed() else { return };
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = closed.changed() => return,
            }
            if last_beat.is_none_or(|at| at.elapsed() >= heartbeat) {
                last_beat = Some(tokio::time::Instant::now());
                self.hub.bus().presence(PresenceKind::All, self.hub.online_here());
            }
            for user in self.hub.presence_expire(settings.presence_ttl) {
                self.announce_in_background(user, false);
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = tokio::time::Instant::now();
                if let Err(err) = self.sweep(&mut behind).await {
                    tracing::warn!(error = %err, "comparing rooms with the change log failed");
                }
            }
        }
    }

    /// A room whose log is ahead of its channel at two sweeps in a row, with
    /// no progress between them, is filled: a change the bus lost with no
    /// later one to show the gap. (One sweep is not enough: a commit on this
    /// instance is ahead of its own publish for a moment.)
    async fn sweep(&self, behind: &mut HashMap<RoomId, i64>) -> Result<(), AppError> {
        let rooms = self.hub.shared_rooms();
        if rooms.is_empty() {
            behind.clear();
            return Ok(());
        }
        let positions: HashMap<RoomId, i64> = rooms.into_iter().collect();
        let ids: Vec<RoomId> = positions.keys().copied().collect();
        let mut still = HashMap::new();
        for (room, head) in self.store.room_heads(&ids).await? {
            let Some(&at) = positions.get(&room) else { continue };
            if head > at {
                if behind.get(&room) == Some(&at) {
                    self.hub.ask_fill_unless_asked(room);
                }
                still.insert(room, at);
            }
        }
        *behind = still;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ServerEvent;

    fn change(room: RoomId, seq: i64) -> Frame {
        Frame::new(&ServerEvent::MessageDeleted { room_id: room, seq, number: seq, message_id: seq, reply_to: None })
    }

    fn seqs(rx: &mut tokio::sync::broadcast::Receiver<Frame>) -> Vec<Option<i64>> {
        std::iter::from_fn(|| rx.try_recv().ok()).map(|f| f.seq).collect()
    }

    #[tokio::test]
    async fn a_shared_room_delivers_in_seq_order_each_change_once_and_asks_for_gaps() {
        let (gaps_tx, mut gaps) = mpsc::unbounded_channel();
        // With a gap filler the hub orders changes, whatever the bus.
        let hub = crate::hub::Hub::new(Bus::Local, Some(gaps_tx));
        let room = RoomId(3);
        let mut rx = hub.subscribe_room(room);

        // Before the first subscriber read the position, frames wait.
        hub.deliver(room, change(room, 5));
        assert!(seqs(&mut rx).is_empty());
        hub.room_read_at(room, 4);
        assert_eq!(seqs(&mut rx), [Some(5)]);

        // Ahead of its turn: held, and a fill is asked for once.
        hub.deliver(room, change(room, 8));
        hub.deliver(room, change(room, 7));
        assert!(seqs(&mut rx).is_empty());
        assert_eq!(gaps.try_recv().ok(), Some(room));
        assert!(gaps.try_recv().is_err(), "one ask per gap");

        // The fill brings 6 (and a duplicate 7): all out in order, once.
        hub.filled(room, vec![change(room, 6), change(room, 7)]);
        assert_eq!(seqs(&mut rx), [Some(6), Some(7), Some(8)]);
        hub.deliver(room, change(room, 8));
        hub.deliver(room, change(room, 2));
        assert!(seqs(&mut rx).is_empty(), "duplicates and old changes are dropped");

        // Frames without a seq (typing, presence) are not held.
        hub.deliver(room, Frame::new(&ServerEvent::Resync { room_id: room }));
        assert_eq!(seqs(&mut rx), [None]);
    }
}
