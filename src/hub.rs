//! The realtime hub: in-process fan-out of room changes to WebSocket
//! connections. A cheap `Clone` handle over `Arc<Shared>` (as mini-redis's
//! `Db`); the std mutexes inside are never held across an `.await`.
//!
//! Each event is serialised once; subscribers share its bytes. Channels are
//! bounded: a subscriber that falls `ROOM_CAPACITY` frames behind is told to
//! resync instead of growing the server's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use tokio::sync::broadcast;

use crate::model::{RoomId, UserId};
use crate::protocol::ServerEvent;

/// Frames a room channel holds for its slowest subscriber.
pub const ROOM_CAPACITY: usize = 1024;
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
    /// The account was deactivated: every one of its sockets closes.
    AccountClosed,
    /// The password changed in this session: every socket of the user's
    /// other sessions closes.
    SessionsEndedExcept(String),
}

#[derive(Clone, Default)]
pub struct Hub {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Live channel per room, created on first subscribe and dropped on the
    /// first publish that finds no receivers left.
    rooms: Mutex<HashMap<RoomId, broadcast::Sender<Frame>>>,
    /// One channel per connected user, for all their tabs and devices.
    users: Mutex<HashMap<UserId, broadcast::Sender<UserSignal>>>,
    /// Open sockets per user, and how many they ever opened.
    presence: Mutex<HashMap<UserId, Presence>>,
    /// Per-room locks held from a change's commit to its publish, so changes
    /// are published in sequence order.
    order: Mutex<HashMap<RoomId, Arc<tokio::sync::Mutex<()>>>>,
}

/// One user's sockets.
#[derive(Default)]
struct Presence {
    /// Open now; the user is online while this is above zero.
    sockets: usize,
    /// Bumped at every open, so a grace timer can tell whether the user came
    /// back (and maybe left again) after the close that started it.
    epoch: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent
    // (every operation is a single insert/remove), so poisoning is ignored.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn subscribe_room(&self, room: RoomId) -> broadcast::Receiver<Frame> {
        lock(&self.shared.rooms).entry(room).or_insert_with(|| broadcast::channel(ROOM_CAPACITY).0).subscribe()
    }

    pub fn publish_room(&self, room: RoomId, event: &ServerEvent) {
        let mut rooms = lock(&self.shared.rooms);
        if let Some(tx) = rooms.get(&room) {
            if tx.receiver_count() == 0 {
                rooms.remove(&room);
            } else {
                let _ = tx.send(Frame::new(event));
            }
        }
    }

    pub fn subscribe_user(&self, user: UserId) -> broadcast::Receiver<UserSignal> {
        lock(&self.shared.users).entry(user).or_insert_with(|| broadcast::channel(USER_CAPACITY).0).subscribe()
    }

    pub fn signal_user(&self, user: UserId, signal: UserSignal) {
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

    /// Counts a new socket; true if the user just came online.
    pub fn socket_opened(&self, user: UserId) -> bool {
        let mut presence = lock(&self.shared.presence);
        let entry = presence.entry(user).or_default();
        entry.sockets += 1;
        entry.epoch += 1;
        entry.sockets == 1
    }

    /// Counts a closed socket; true if it was the user's last.
    pub fn socket_closed(&self, user: UserId) -> bool {
        match lock(&self.shared.presence).get_mut(&user) {
            Some(entry) if entry.sockets > 0 => {
                entry.sockets -= 1;
                entry.sockets == 0
            }
            _ => false,
        }
    }

    /// How many sockets the user has ever opened (see [`Presence::epoch`]).
    pub fn epoch(&self, user: UserId) -> u64 {
        lock(&self.shared.presence).get(&user).map_or(0, |p| p.epoch)
    }

    pub fn is_online(&self, user: UserId) -> bool {
        lock(&self.shared.presence).get(&user).is_some_and(|p| p.sockets > 0)
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
        assert!(hub.socket_opened(u));
        assert!(!hub.socket_opened(u));
        assert!(!hub.socket_closed(u));
        assert!(hub.is_online(u));
        assert!(hub.socket_closed(u));
        assert!(!hub.is_online(u));
    }
}
