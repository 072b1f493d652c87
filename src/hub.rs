//! The realtime hub: in-process fan-out of room changes to WebSocket
//! connections. A cheap `Clone` handle over `Arc<Shared>` (as mini-redis's
//! `Db`); the std mutexes inside are never held across an `.await`.
//!
//! Each event is serialised once; subscribers share its bytes. Channels are
//! bounded: a subscriber that falls `ROOM_CAPACITY` frames behind is told to
//! resync instead of growing the server's memory.
//!
//! With a shared [`Bus`] (several instances), what this hub publishes also
//! goes to the others, and what they publish comes in through
//! [`Hub::deliver`]. A room's changes then reach its channel through an
//! [`Order`]: in seq order, each once, whichever instance committed them and
//! in whatever order the bus brings them. A change that comes ahead of its
//! turn waits; when it has to wait, the hub asks for the gap to be read from
//! the database (see `Hearth::fill_gap`). On one instance the order lock
//! already publishes in seq order, and frames go straight to the channel.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use crate::bus::Bus;
use crate::model::{RoomId, UserId};
use crate::protocol::ServerEvent;
use crate::room_lists::ListChanges;

/// Frames a room channel holds for its slowest subscriber.
pub const ROOM_CAPACITY: usize = 1024;
/// A room's subscribers that a frame reaches at once ([`Fan`]).
pub const FIRST: usize = 32;
const USER_CAPACITY: usize = 64;

/// One serialised server event; cloning shares the bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The room-sequence position, for change events (dedupe on resume).
    pub seq: Option<i64>,
    pub bytes: Bytes,
    /// A second encoding of the same event, for a second wire protocol
    /// (ActionCable's, at `/cable`): made by the first socket that needs it
    /// and shared with every other one, as `bytes` is.
    alternate: Arc<OnceLock<Bytes>>,
}

impl Frame {
    pub fn new(event: &ServerEvent) -> Self {
        let json = serde_json::to_vec(event).expect("server events always serialise");
        Self { seq: event.seq(), bytes: Bytes::from(json), alternate: Arc::default() }
    }

    /// A frame as another instance serialised it.
    pub(crate) fn received(seq: Option<i64>, bytes: Bytes) -> Self {
        Self { seq, bytes, alternate: Arc::default() }
    }

    /// The event encoded by `encode` (given this frame's JSON), computed once
    /// per frame whichever subscriber asks first. One frame has one alternate
    /// encoding: every caller must pass the same `encode`.
    pub fn alternate(&self, encode: impl FnOnce(&[u8]) -> Bytes) -> Bytes {
        self.alternate.get_or_init(|| encode(&self.bytes)).clone()
    }
}

impl From<Frame> for Bytes {
    fn from(frame: Frame) -> Bytes {
        frame.bytes
    }
}

/// What reaches every socket of one user.
#[derive(Debug, Clone)]
pub enum UserSignal {
    /// An event to forward as is.
    Frame(Frame),
    /// This session signed out: its sockets close.
    SessionEnded(String),
    /// The user left or was removed from a room: stop delivering it.
    RoomRemoved(RoomId),
    /// The user was found no longer a member of a room by reading the
    /// database (the bus may have lost its [`Self::RoomRemoved`]): a socket
    /// still following it stops, and tells its client the room is gone.
    /// Said on this instance only.
    LostRoom(RoomId),
    /// The account was deactivated: every one of its sockets closes.
    AccountClosed,
    /// The password changed in this session: every socket of the user's
    /// other sessions closes.
    SessionsEndedExcept(String),
    /// The bus was away, and a sign-out said on it meanwhile may be lost:
    /// each socket asks whether its session still exists
    /// ([`crate::Hearth::session_alive`]) and closes if not. Said on this
    /// instance only.
    RecheckSession,
}

#[derive(Clone, Default)]
pub struct Hub {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Live channel per room, created on first subscribe and dropped on the
    /// first publish that finds no receivers left.
    rooms: Mutex<HashMap<RoomId, RoomChannel>>,
    /// One channel per connected user, for all their tabs and devices.
    users: Mutex<HashMap<UserId, broadcast::Sender<UserSignal>>>,
    /// Open sockets per user here, and on the other instances.
    presence: Mutex<Presence>,
    /// Per-room locks held from a change's commit to its publish, so changes
    /// are published in sequence order.
    order: Mutex<HashMap<RoomId, Arc<tokio::sync::Mutex<()>>>>,
    /// The other instances, if any.
    bus: Bus,
    /// Where rooms with a gap are sent to be filled from the database (only
    /// with a shared bus).
    gaps: Option<mpsc::UnboundedSender<RoomId>>,
    /// What room lists are told before anyone is (`crate::room_lists`).
    list_changes: Arc<ListChanges>,
}

struct RoomChannel {
    fan: Fan,
    order: Order,
}

/// A room's live channel, in two parts. Waking a subscriber's task costs
/// about a quarter of a microsecond, and no task runs until the publisher
/// has woken them all: in a room of a thousand, that was the first
/// delivery's wait. So a frame is sent at once to the room's first
/// [`FIRST`] subscribers, and to the others by the room's fan-out task,
/// after the first ones' tasks have had their turn to write. Each part has
/// its frames in publish order; a subscriber is in one part.
struct Fan {
    first: broadcast::Sender<Frame>,
    /// Made when the first part is full (and a runtime runs).
    rest: Option<Rest>,
}

struct Rest {
    tx: broadcast::Sender<Frame>,
    /// To the fan-out task; it ends when this is dropped with the channel.
    queue: mpsc::UnboundedSender<Frame>,
}

impl Fan {
    fn new() -> Self {
        Self { first: broadcast::channel(ROOM_CAPACITY).0, rest: None }
    }

    fn subscribe(&mut self) -> broadcast::Receiver<Frame> {
        if self.first.receiver_count() < FIRST {
            return self.first.subscribe();
        }
        if self.rest.is_none()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let tx = broadcast::channel(ROOM_CAPACITY).0;
            let (queue, frames) = mpsc::unbounded_channel();
            runtime.spawn(fan_out(tx.clone(), frames));
            self.rest = Some(Rest { tx, queue });
        }
        match &self.rest {
            Some(rest) => rest.tx.subscribe(),
            None => self.first.subscribe(),
        }
    }

    fn receiver_count(&self) -> usize {
        self.first.receiver_count() + self.rest.as_ref().map_or(0, |rest| rest.tx.receiver_count())
    }

    fn send(&self, frame: Frame) {
        match &self.rest {
            Some(rest) if rest.tx.receiver_count() > 0 => {
                let _ = self.first.send(frame.clone());
                let _ = rest.queue.send(frame);
            }
            _ => {
                let _ = self.first.send(frame);
            }
        }
    }
}

/// A room's fan-out task: each frame goes to the rest of the room once the
/// tasks that the first part's send woke have run (a yield lets them), with
/// whatever else was queued meanwhile.
async fn fan_out(rest: broadcast::Sender<Frame>, mut frames: mpsc::UnboundedReceiver<Frame>) {
    let mut queued = Vec::new();
    while frames.recv_many(&mut queued, ROOM_CAPACITY).await > 0 {
        tokio::task::yield_now().await;
        while let Ok(frame) = frames.try_recv() {
            queued.push(frame);
        }
        for frame in queued.drain(..) {
            let _ = rest.send(frame);
        }
    }
}

/// Frames held while a shared room's changes wait for an earlier one: at
/// most this many, then the room's subscribers are told to resync.
const HELD_MAX: usize = ROOM_CAPACITY;

/// Where a room's channel is in the room's changes (with a shared bus).
#[derive(Default)]
struct Order {
    /// The last seq sent to the channel; `None` until the first subscriber
    /// has read the room's position (frames wait until then).
    last: Option<i64>,
    /// Changes that came ahead of their turn, by seq.
    held: BTreeMap<i64, Frame>,
    /// A fill from the database is asked for and not done yet.
    fill_asked: bool,
}

impl Order {
    /// Sends every held frame whose turn has come; true if a gap remains and
    /// no fill was asked for it yet (the caller asks).
    fn release(&mut self, room: RoomId, tx: &Fan) -> bool {
        let Some(mut last) = self.last else { return false };
        while let Some(entry) = self.held.first_entry() {
            let seq = *entry.key();
            if seq <= last {
                entry.remove();
            } else if seq == last + 1 {
                tx.send(entry.remove());
                last = seq;
            } else {
                break;
            }
        }
        if self.held.len() > HELD_MAX {
            // The gap is not filling (the database is unreachable): the
            // subscribers reload instead of this growing.
            last = self.held.keys().next_back().copied().unwrap_or(last);
            self.held.clear();
            tx.send(Frame::new(&ServerEvent::Resync { room_id: room }));
        }
        self.last = Some(last);
        if !self.held.is_empty() && !self.fill_asked {
            self.fill_asked = true;
            return true;
        }
        false
    }
}

/// Who has sockets open, here and on the other instances.
#[derive(Default)]
struct Presence {
    here: HashMap<UserId, Sockets>,
    /// Each other instance's users, and when it last spoke.
    elsewhere: HashMap<u64, Instance>,
}

/// One user's sockets on this instance.
#[derive(Default)]
struct Sockets {
    /// Open now; the user is online while this is above zero.
    sockets: usize,
    /// Bumped at every open (here or elsewhere), so a grace timer can tell
    /// whether the user came back (and maybe left again) after the close
    /// that started it.
    epoch: u64,
}

struct Instance {
    seen: Instant,
    users: HashSet<UserId>,
}

impl Presence {
    fn online(&self, user: UserId) -> bool {
        self.here.get(&user).is_some_and(|p| p.sockets > 0)
            || self.elsewhere.values().any(|instance| instance.users.contains(&user))
    }

    fn bump(&mut self, user: UserId) {
        self.here.entry(user).or_default().epoch += 1;
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent
    // (every operation is a single insert/remove), so poisoning is ignored.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    /// A hub that shares its rooms and users over `bus`; rooms with a gap in
    /// their changes are sent to `gaps`.
    pub(crate) fn new(bus: Bus, gaps: Option<mpsc::UnboundedSender<RoomId>>) -> Self {
        Self { shared: Arc::new(Shared { bus, gaps, ..Shared::default() }) }
    }

    pub fn bus(&self) -> &Bus {
        &self.shared.bus
    }

    /// Whether room changes are put in order here (they come from several
    /// instances), rather than sent as published.
    fn ordered(&self) -> bool {
        self.shared.gaps.is_some()
    }

    pub fn subscribe_room(&self, room: RoomId) -> broadcast::Receiver<Frame> {
        lock(&self.shared.rooms)
            .entry(room)
            .or_insert_with(|| RoomChannel { fan: Fan::new(), order: Order::default() })
            .fan
            .subscribe()
    }

    /// When room lists last changed, which the hub moves on before it passes
    /// a change on.
    pub(crate) fn list_changes(&self) -> &Arc<ListChanges> {
        &self.shared.list_changes
    }

    /// Sends an event to the room's sockets here and on every other instance.
    pub fn publish_room(&self, room: RoomId, event: &ServerEvent) {
        if event.seq().is_some() {
            self.shared.list_changes.room(room);
        }
        if let Bus::Local = self.shared.bus {
            // One process: serialise only for a room someone follows.
            let mut rooms = lock(&self.shared.rooms);
            if let Some(channel) = rooms.get(&room) {
                if channel.fan.receiver_count() == 0 {
                    rooms.remove(&room);
                } else {
                    channel.fan.send(Frame::new(event));
                }
            }
            return;
        }
        let frame = Frame::new(event);
        self.shared.bus.room(room, &frame);
        self.deliver(room, frame);
    }

    /// Sends a frame to the room's sockets on this instance only: one from
    /// another instance, from the database, or one every instance makes for
    /// itself (presence).
    pub(crate) fn deliver(&self, room: RoomId, frame: Frame) {
        let ask = {
            let mut rooms = lock(&self.shared.rooms);
            let Some(channel) = rooms.get_mut(&room) else { return };
            if channel.fan.receiver_count() == 0 {
                rooms.remove(&room);
                return;
            }
            match frame.seq {
                Some(seq) if self.ordered() => {
                    if channel.order.last.is_some_and(|last| seq <= last) {
                        return;
                    }
                    channel.order.held.insert(seq, frame);
                    channel.order.release(room, &channel.fan)
                }
                _ => {
                    channel.fan.send(frame);
                    false
                }
            }
        };
        if ask {
            self.ask_fill(room);
        }
    }

    /// The room's position as its first subscriber read it from the
    /// database: changes up to `seq` are in that subscriber's replay, later
    /// ones go to the channel in order. Later calls change nothing.
    pub(crate) fn room_read_at(&self, room: RoomId, seq: i64) {
        if !self.ordered() {
            return;
        }
        let ask = {
            let mut rooms = lock(&self.shared.rooms);
            let Some(channel) = rooms.get_mut(&room) else { return };
            if channel.order.last.is_some() {
                return;
            }
            channel.order.last = Some(seq);
            channel.order.release(room, &channel.fan)
        };
        if ask {
            self.ask_fill(room);
        }
    }

    /// The last seq a shared room's channel got, if it has subscribers.
    pub(crate) fn room_last(&self, room: RoomId) -> Option<i64> {
        lock(&self.shared.rooms).get(&room).and_then(|channel| channel.order.last)
    }

    /// Rooms with subscribers here and a known position, with that position.
    pub(crate) fn shared_rooms(&self) -> Vec<(RoomId, i64)> {
        lock(&self.shared.rooms)
            .iter()
            .filter(|(_, channel)| channel.fan.receiver_count() > 0)
            .filter_map(|(room, channel)| channel.order.last.map(|last| (*room, last)))
            .collect()
    }

    /// Frames read from the database for a gap: sent in order with what was
    /// held; asks again if a gap is still left.
    pub(crate) fn filled(&self, room: RoomId, frames: Vec<Frame>) {
        let ask = {
            let mut rooms = lock(&self.shared.rooms);
            let Some(channel) = rooms.get_mut(&room) else { return };
            channel.order.fill_asked = false;
            let last = channel.order.last;
            for frame in frames {
                if let Some(seq) = frame.seq
                    && last.is_none_or(|last| seq > last)
                {
                    channel.order.held.insert(seq, frame);
                }
            }
            channel.order.release(room, &channel.fan)
        };
        if ask {
            self.ask_fill(room);
        }
    }

    /// Asks for the room's changes after its position to be read from the
    /// database, unless that is already asked for.
    pub(crate) fn ask_fill_unless_asked(&self, room: RoomId) {
        let ask = {
            let mut rooms = lock(&self.shared.rooms);
            match rooms.get_mut(&room) {
                Some(channel) if !channel.order.fill_asked && channel.order.last.is_some() => {
                    channel.order.fill_asked = true;
                    true
                }
                _ => false,
            }
        };
        if ask {
            self.ask_fill(room);
        }
    }

    fn ask_fill(&self, room: RoomId) {
        if let Some(gaps) = &self.shared.gaps {
            crate::metrics::bus_gap();
            let _ = gaps.send(room);
        }
    }

    pub fn subscribe_user(&self, user: UserId) -> broadcast::Receiver<UserSignal> {
        lock(&self.shared.users).entry(user).or_insert_with(|| broadcast::channel(USER_CAPACITY).0).subscribe()
    }

    /// Signals every socket of `user`, here and on every other instance.
    pub fn signal_user(&self, user: UserId, signal: UserSignal) {
        self.shared.bus.user(user, &signal);
        self.signal_here(user, signal);
    }

    /// Signals the sockets of `user` on this instance.
    pub(crate) fn signal_here(&self, user: UserId, signal: UserSignal) {
        self.shared.list_changes.user(user);
        let mut users = lock(&self.shared.users);
        if let Some(tx) = users.get(&user) {
            if tx.receiver_count() == 0 {
                users.remove(&user);
            } else {
                let _ = tx.send(signal);
            }
        }
    }

    pub fn send_user(&self, user: UserId, event: &ServerEvent) {
        self.signal_user(user, UserSignal::Frame(Frame::new(event)));
    }

    /// Held while a change commits and publishes (see `Shared::order`).
    pub async fn order_room(&self, room: RoomId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock_for_room = lock(&self.shared.order).entry(room).or_default().clone();
        lock_for_room.lock_owned().await
    }

    /// Counts a new socket here: (was the user online anywhere before,
    /// is it their first socket here).
    pub fn socket_opened(&self, user: UserId) -> (bool, bool) {
        let mut presence = lock(&self.shared.presence);
        let before = presence.online(user);
        let entry = presence.here.entry(user).or_default();
        entry.sockets += 1;
        entry.epoch += 1;
        (before, entry.sockets == 1)
    }

    /// Counts a closed socket; true if it was the user's last here.
    pub fn socket_closed(&self, user: UserId) -> bool {
        match lock(&self.shared.presence).here.get_mut(&user) {
            Some(entry) if entry.sockets > 0 => {
                entry.sockets -= 1;
                entry.sockets == 0
            }
            _ => false,
        }
    }

    /// How many times the user came online (see [`Sockets::epoch`]).
    pub fn epoch(&self, user: UserId) -> u64 {
        lock(&self.shared.presence).here.get(&user).map_or(0, |p| p.epoch)
    }

    /// Online: a socket here, or on another instance that is alive.
    pub fn is_online(&self, user: UserId) -> bool {
        lock(&self.shared.presence).online(user)
    }

    /// The users with a socket here.
    pub(crate) fn online_here(&self) -> Vec<UserId> {
        lock(&self.shared.presence).here.iter().filter(|(_, p)| p.sockets > 0).map(|(user, _)| *user).collect()
    }

    /// Another instance's users: `up` came, `down` left, or `all` is the
    /// whole set now. Returns the users who came online with it and those
    /// who are offline everywhere since.
    pub(crate) fn presence_elsewhere(
        &self,
        instance: u64,
        up: &[UserId],
        down: &[UserId],
        all: Option<&[UserId]>,
    ) -> (Vec<UserId>, Vec<UserId>) {
        let mut presence = lock(&self.shared.presence);
        let before: HashSet<UserId> = presence.elsewhere.get(&instance).map(|i| i.users.clone()).unwrap_or_default();
        let mut now = match all {
            Some(all) => all.iter().copied().collect(),
            None => before.clone(),
        };
        now.extend(up.iter().copied());
        for user in down {
            now.remove(user);
        }
        let added: Vec<UserId> = now.difference(&before).copied().collect();
        let removed: Vec<UserId> = before.difference(&now).copied().collect();
        let came: Vec<UserId> = added.into_iter().filter(|user| !presence.online(*user)).collect();
        if now.is_empty() {
            presence.elsewhere.remove(&instance);
        } else {
            presence.elsewhere.insert(instance, Instance { seen: Instant::now(), users: now });
        }
        for user in &came {
            presence.bump(*user);
        }
        let gone = removed.into_iter().filter(|user| !presence.online(*user)).collect();
        (came, gone)
    }

    /// Forgets instances not heard from for `ttl`; returns their users who
    /// are now offline everywhere.
    pub(crate) fn presence_expire(&self, ttl: std::time::Duration) -> Vec<UserId> {
        let mut presence = lock(&self.shared.presence);
        let dead: Vec<u64> =
            presence.elsewhere.iter().filter(|(_, i)| i.seen.elapsed() > ttl).map(|(id, _)| *id).collect();
        let mut users = HashSet::new();
        for id in dead {
            if let Some(instance) = presence.elsewhere.remove(&id) {
                tracing::warn!(instance = id, users = instance.users.len(), "an instance stopped answering");
                users.extend(instance.users);
            }
        }
        users.into_iter().filter(|user| !presence.online(*user)).collect()
    }

    /// Live room channels, for metrics and tests.
    pub fn room_channels(&self) -> usize {
        lock(&self.shared.rooms).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_serialisation_is_shared_by_every_subscriber() {
        let hub = Hub::default();
        let room = RoomId(1);
        let mut a = hub.subscribe_room(room);
        let mut b = hub.subscribe_room(room);

        hub.publish_room(room, &ServerEvent::Resync { room_id: room });

        let (fa, fb) = (a.try_recv().expect("a frame was sent"), b.try_recv().expect("a frame was sent"));
        assert_eq!(fa.bytes.as_ptr(), fb.bytes.as_ptr(), "same buffer, not a copy");
        assert_eq!(&fa.bytes[..], br#"{"type":"resync","room_id":1}"#);
    }

    #[tokio::test]
    async fn a_big_rooms_first_subscribers_get_a_frame_at_once_and_the_rest_after_them_all_in_order() {
        // Arrange
        let hub = Hub::default();
        let room = RoomId(1);
        let mut subscribers: Vec<_> = (0..FIRST + 8).map(|_| hub.subscribe_room(room)).collect();

        // Act
        for n in 1..=3 {
            hub.publish_room(room, &ServerEvent::Resync { room_id: RoomId(n) });
        }
        let at_once: Vec<usize> = subscribers.iter().map(|s| s.len()).collect();
        let mut got = Vec::new();
        for subscriber in &mut subscribers {
            let mut frames = Vec::new();
            for _ in 1..=3 {
                let frame = tokio::time::timeout(std::time::Duration::from_secs(5), subscriber.recv()).await;
                frames.push(String::from_utf8(frame.expect("in time").expect("a frame").bytes.to_vec()).expect("text"));
            }
            got.push(frames);
        }

        // Assert
        assert_eq!(at_once[..FIRST], [3; FIRST], "the first part has every frame at once");
        assert_eq!(at_once[FIRST..], [0; 8], "the rest wait for the fan-out task");
        let expected: Vec<String> = (1..=3).map(|n| format!(r#"{{"type":"resync","room_id":{n}}}"#)).collect();
        assert!(got.iter().all(|frames| *frames == expected), "everyone, in order: {got:?}");
        assert_eq!(hub.room_channels(), 1);
    }

    /// The seqs each subscriber gets within 5 s, `n` frames each.
    async fn seqs(subscribers: &mut [broadcast::Receiver<Frame>], n: usize) -> Vec<Vec<i64>> {
        let mut got = Vec::new();
        for subscriber in subscribers {
            let mut seqs = Vec::new();
            for _ in 0..n {
                let frame = tokio::time::timeout(std::time::Duration::from_secs(5), subscriber.recv()).await;
                seqs.push(frame.expect("in time").expect("a frame").seq.expect("a change"));
            }
            got.push(seqs);
        }
        got
    }

    fn change(seq: i64) -> Frame {
        Frame::received(Some(seq), Bytes::from(format!("{{\"seq\":{seq}}}")))
    }

    #[tokio::test]
    async fn a_subscriber_who_joins_the_rest_while_its_frames_wait_misses_none_after_it() {
        // Arrange: the first part full, one subscriber in the rest.
        let hub = Hub::default();
        let room = RoomId(1);
        let mut first: Vec<_> = (0..FIRST).map(|_| hub.subscribe_room(room)).collect();
        let mut early = hub.subscribe_room(room);

        // Act: frame 1 waits for the fan-out task when another joins the
        // rest; then frame 2.
        hub.deliver(room, change(1));
        assert_eq!(early.len(), 0, "frame 1 is still queued for the rest");
        let mut late = hub.subscribe_room(room);
        hub.deliver(room, change(2));

        // Assert: the one who joined gets frame 2 and, since frame 1 had not
        // reached the rest yet, frame 1 too (its replay drops what it had):
        // nothing after it is missed, and the order holds.
        assert_eq!(seqs(&mut first, 2).await, vec![vec![1, 2]; FIRST]);
        assert_eq!(seqs(std::slice::from_mut(&mut early), 2).await, [[1, 2]]);
        assert_eq!(seqs(std::slice::from_mut(&mut late), 2).await, [[1, 2]]);
    }

    #[tokio::test]
    async fn in_a_shared_room_changes_that_come_out_of_order_reach_both_parts_in_order() {
        // Arrange: a hub that puts rooms' changes in order (several
        // instances), with a room of both parts whose position is 0.
        let (gaps, mut asked) = mpsc::unbounded_channel();
        let hub = Hub::new(Bus::Local, Some(gaps));
        let room = RoomId(1);
        let mut subscribers: Vec<_> = (0..FIRST + 4).map(|_| hub.subscribe_room(room)).collect();
        hub.room_read_at(room, 0);

        // Act: 2 comes first, is held and a fill asked for; then 1, 3, and a
        // late copy of 2.
        hub.deliver(room, change(2));
        assert_eq!(asked.try_recv().ok(), Some(room), "the gap is to be filled from the database");
        assert!(subscribers.iter().all(|s| s.is_empty()), "2 waits for 1");
        hub.deliver(room, change(1));
        hub.deliver(room, change(3));
        hub.deliver(room, change(2));

        // Assert: every subscriber, in either part, gets 1, 2, 3 once each.
        assert_eq!(seqs(&mut subscribers, 3).await, vec![vec![1, 2, 3]; FIRST + 4]);
        tokio::task::yield_now().await;
        assert!(subscribers.iter().all(|s| s.is_empty()), "no copy of 2");
    }

    #[test]
    fn a_room_without_subscribers_is_dropped() {
        let hub = Hub::default();
        drop(hub.subscribe_room(RoomId(7)));
        hub.publish_room(RoomId(7), &ServerEvent::Resync { room_id: RoomId(7) });
        assert_eq!(hub.room_channels(), 0);
    }

    #[test]
    fn presence_counts_sockets() {
        let hub = Hub::default();
        let u = UserId(1);
        assert_eq!(hub.socket_opened(u), (false, true));
        assert_eq!(hub.socket_opened(u), (true, false));
        assert!(!hub.socket_closed(u));
        assert!(hub.is_online(u));
        assert!(hub.socket_closed(u));
        assert!(!hub.is_online(u));
    }
}
