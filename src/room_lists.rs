//! Each user's room list (`GET /conversations`, the sidebar), kept in memory
//! between the changes that move it.
//!
//! Building the list reads every room of the user with its counters, newest
//! message and members: for a member of 1,000 rooms, several milliseconds
//! of SQL and driver work however little changed (docs/benchmarks.md). The
//! list is kept per user and served again until something it shows changes.
//!
//! What changed is told by [`ListChanges`], a clock and two tables of "last
//! changed at" ticks, one by room and one by user, which the hub and the core
//! advance *before* they tell anyone of a committed change:
//!
//! - a room's sequenced changes (a message, an edit, a delete, a reaction),
//!   published here or arriving from another instance, advance the room;
//! - every signal to a user (added to or removed from a room, their unread
//!   count, a rename or archive of one of their rooms) advances the user;
//! - a join, a leave or a removal advances the room (the others' member
//!   lists), a chat renamed through the token API too, and a notification
//!   level its user; these also go over the bus (`Forget`);
//! - a profile change advances everything (names and avatars are shown in
//!   every room the person is in), as does a bus reconnect.
//!
//! A list read at tick `t` is served while no room in it, nor its user, nor
//! everything, has changed after `t`. The tick is read *before* the database,
//! so a change that commits while the list is being read makes it stale at
//! once rather than leaving an old answer behind. Rooms and users share
//! slots by their id modulo the table size: two that share one only make each
//! other's lists reload sooner. Lists also expire after the caches' time to
//! live, which bounds what a change made outside this process (the command
//! line) can leave. While the bus is down nothing is served from here
//! (`Hearth::room_list`). A kept list keeps its JSON too, written by the
//! first request that answers with it.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache;

use crate::model::{ConversationSummary, RoomId, UserId};

/// Slots of the room table (8 bytes each).
const ROOM_SLOTS: usize = 1 << 15;
/// Slots of the user table.
const USER_SLOTS: usize = 1 << 14;
/// Listed rooms kept in memory across all users (a few hundred bytes each).
pub const LISTED_ROOMS_CAPACITY: u64 = 100_000;

/// When each room, each user, and everything last changed, on one clock.
pub struct ListChanges {
    clock: AtomicU64,
    everything: AtomicU64,
    rooms: Box<[AtomicU64]>,
    users: Box<[AtomicU64]>,
}

impl Default for ListChanges {
    fn default() -> Self {
        let slots = |n: usize| std::iter::repeat_with(|| AtomicU64::new(0)).take(n).collect();
        Self {
            clock: AtomicU64::new(0),
            everything: AtomicU64::new(0),
            rooms: slots(ROOM_SLOTS),
            users: slots(USER_SLOTS),
        }
    }
}

impl ListChanges {
    /// What a list read from now on reflects.
    fn now(&self) -> u64 {
        self.clock.load(SeqCst)
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, SeqCst) + 1
    }

    fn slot(table: &[AtomicU64], id: i64) -> &AtomicU64 {
        &table[id.rem_euclid(table.len() as i64) as usize]
    }

    /// Something every member of `room` sees in their list changed.
    pub fn room(&self, room: RoomId) {
        let at = self.tick();
        Self::slot(&self.rooms, room.0).fetch_max(at, SeqCst);
    }

    /// Something in `user`'s own list changed.
    pub fn user(&self, user: UserId) {
        let at = self.tick();
        Self::slot(&self.users, user.0).fetch_max(at, SeqCst);
    }

    /// Anything may have changed.
    pub fn everything(&self) {
        let at = self.tick();
        self.everything.fetch_max(at, SeqCst);
    }

    /// Whether `user`'s list of `rooms`, read at `read_at`, still holds.
    fn unchanged_since(&self, read_at: u64, user: UserId, rooms: &[ConversationSummary]) -> bool {
        self.everything.load(SeqCst) <= read_at
            && Self::slot(&self.users, user.0).load(SeqCst) <= read_at
            && rooms.iter().all(|room| Self::slot(&self.rooms, room.id.0).load(SeqCst) <= read_at)
    }
}

/// A user's list as read at a tick.
struct Listed {
    read_at: u64,
    list: RoomList,
}

/// A room list as kept: shared, not copied; its JSON is written once, by
/// the first request that answers with it.
#[derive(Clone, Debug)]
pub struct RoomList(Arc<Rooms>);

#[derive(Debug)]
struct Rooms {
    rooms: Vec<ConversationSummary>,
    json: OnceLock<Bytes>,
}

impl RoomList {
    /// The list as a JSON array.
    pub fn json(&self) -> Bytes {
        self.0
            .json
            .get_or_init(|| {
                // A list of plain data always serialises.
                serde_json::to_vec(&self.0.rooms).map(Bytes::from).unwrap_or_else(|_| Bytes::from_static(b"[]"))
            })
            .clone()
    }
}

impl From<Vec<ConversationSummary>> for RoomList {
    fn from(rooms: Vec<ConversationSummary>) -> Self {
        Self(Arc::new(Rooms { rooms, json: OnceLock::new() }))
    }
}

impl std::ops::Deref for RoomList {
    type Target = [ConversationSummary];

    fn deref(&self) -> &Self::Target {
        &self.0.rooms
    }
}

/// The room lists kept in memory, by user. Cheap to clone (shared).
#[derive(Clone)]
pub struct RoomLists {
    /// `None` when caching is off (a time to live of 0).
    entries: Option<Cache<UserId, Arc<Listed>>>,
    changes: Arc<ListChanges>,
}

impl RoomLists {
    /// At most [`LISTED_ROOMS_CAPACITY`] rooms in all, each list kept at
    /// most `ttl`; `ttl` zero keeps none.
    pub fn new(ttl: Duration, changes: Arc<ListChanges>) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(LISTED_ROOMS_CAPACITY)
                .weigher(|_, listed: &Arc<Listed>| {
                    u32::try_from(listed.list.len()).unwrap_or(u32::MAX).saturating_add(1)
                })
                .time_to_live(ttl)
                .build()
        });
        Self { entries, changes }
    }

    /// `user`'s list, kept or read by `load` (and kept unless something it
    /// shows changed while it was read).
    pub async fn get_or_load<E, F>(&self, user: UserId, load: F) -> Result<RoomList, E>
    where
        F: Future<Output = Result<Vec<ConversationSummary>, E>>,
    {
        let Some(entries) = &self.entries else {
            return Ok(load.await?.into());
        };
        if let Some(listed) = entries.get(&user) {
            if self.changes.unchanged_since(listed.read_at, user, &listed.list) {
                return Ok(listed.list.clone());
            }
            entries.invalidate(&user);
        }
        let read_at = self.changes.now();
        let list = RoomList::from(load.await?);
        if self.changes.unchanged_since(read_at, user, &list) {
            entries.insert(user, Arc::new(Listed { read_at, list: list.clone() }));
        }
        Ok(list)
    }

    /// Forgets every list, and makes every read in flight drop its answer.
    pub fn clear(&self) {
        self.changes.everything();
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NotifyLevel, RoomKind};

    fn summary(room: i64) -> ConversationSummary {
        ConversationSummary {
            id: RoomId(room),
            title: Some(format!("room {room}")),
            group: true,
            kind: RoomKind::Group,
            updated_at: String::new(),
            users: Vec::new(),
            last_message: None,
            unread_count: 0,
            unread_mentions: 0,
            notify_level: NotifyLevel::Mentions,
        }
    }

    /// A cache whose loads count themselves and list `rooms`.
    fn counted(lists: &RoomLists, loads: &AtomicU64, user: i64, rooms: &[i64]) -> Vec<i64> {
        let rooms: Vec<ConversationSummary> = rooms.iter().copied().map(summary).collect();
        let listed = futures_util::FutureExt::now_or_never(lists.get_or_load(UserId(user), async {
            loads.fetch_add(1, SeqCst);
            Ok::<_, ()>(rooms)
        }))
        .expect("ready")
        .expect("loaded");
        listed.iter().map(|room| room.id.0).collect()
    }

    #[test]
    fn a_list_is_served_again_until_one_of_its_rooms_its_user_or_everything_changes() {
        let changes = Arc::new(ListChanges::default());
        let lists = RoomLists::new(Duration::from_secs(60), changes.clone());
        let loads = AtomicU64::new(0);
        let list = |user| counted(&lists, &loads, user, &[1, 2]);

        assert_eq!(list(7), vec![1, 2]);
        list(7);
        assert_eq!(loads.load(SeqCst), 1, "the second read is served from memory");

        changes.room(RoomId(3));
        changes.user(UserId(8));
        list(7);
        assert_eq!(loads.load(SeqCst), 1, "a room and a user not in the list change nothing");

        let changes: [&dyn Fn(); 5] = [
            &|| changes.room(RoomId(2)),
            &|| changes.room(RoomId(2 + ROOM_SLOTS as i64)),
            &|| changes.user(UserId(7)),
            &|| changes.everything(),
            &|| lists.clear(),
        ];
        for change in changes {
            let before = loads.load(SeqCst);
            change();
            list(7);
            list(7);
            assert_eq!(loads.load(SeqCst), before + 1, "read again once after the change, then kept");
        }
    }

    #[test]
    fn a_list_read_while_one_of_its_rooms_changed_is_not_kept() {
        let changes = Arc::new(ListChanges::default());
        let lists = RoomLists::new(Duration::from_secs(60), changes.clone());
        let loads = AtomicU64::new(0);
        // The room changes (its commit and its tick) while the list is read.
        let load = lists.get_or_load(UserId(1), async {
            loads.fetch_add(1, SeqCst);
            changes.room(RoomId(5));
            Ok::<_, ()>(vec![summary(5)])
        });
        futures_util::FutureExt::now_or_never(load).expect("ready").expect("loaded");

        counted(&lists, &loads, 1, &[5]);
        assert_eq!(loads.load(SeqCst), 2, "the list read during the change was not kept");
        counted(&lists, &loads, 1, &[5]);
        assert_eq!(loads.load(SeqCst), 2);
    }

    #[test]
    fn with_no_time_to_live_nothing_is_kept() {
        let lists = RoomLists::new(Duration::ZERO, Arc::new(ListChanges::default()));
        let loads = AtomicU64::new(0);
        counted(&lists, &loads, 1, &[1]);
        counted(&lists, &loads, 1, &[1]);
        assert_eq!(loads.load(SeqCst), 2);
    }
}
