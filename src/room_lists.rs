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
//! first request that answers with it from each entry's JSON; a list brought
//! up to date room by room writes only the changed rooms' entries again.

use std::collections::HashSet;
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
/// Bytes of kept lists across all users, as [`weight`] counts them (a
/// newest message can be 10,000 characters, so rooms are not counted alike).
pub const KEPT_BYTES: u64 = 64 << 20;
/// At most this many changed rooms are read again into a kept list; more,
/// and the list is read whole.
const REFRESH_MAX: usize = 64;

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
        matches!(self.changed_since(read_at, user, rooms), Changed::Nothing)
    }

    /// What changed in `user`'s list of `rooms` after `read_at`.
    fn changed_since(&self, read_at: u64, user: UserId, rooms: &[ConversationSummary]) -> Changed {
        if self.everything.load(SeqCst) > read_at || Self::slot(&self.users, user.0).load(SeqCst) > read_at {
            return Changed::All;
        }
        let changed: Vec<RoomId> = rooms
            .iter()
            .filter(|room| Self::slot(&self.rooms, room.id.0).load(SeqCst) > read_at)
            .map(|room| room.id)
            .collect();
        if changed.is_empty() { Changed::Nothing } else { Changed::Rooms(changed) }
    }
}

/// About the bytes a kept list holds: its entries' text and fixed parts,
/// three times over, for each entry's JSON and the list's written from them.
fn weight(rooms: &[ConversationSummary]) -> u32 {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let bytes: usize = rooms
        .iter()
        .map(|room| {
            let people: usize =
                room.users.iter().map(|p| 96 + p.username.len() + text(&p.name) + text(&p.avatar_url)).sum();
            let last =
                room.last_message.as_ref().map_or(0, |m| 64 + text(&m.body) + text(&m.text) + m.created_at.len());
            3 * (192 + text(&room.title) + room.updated_at.len() + people + last)
        })
        .sum();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// The list's order, as its query sorts it (`ORDER BY r.updated_at DESC,
/// r.id DESC`; `updated_at` is byte-ordered text on both databases).
fn listed_order(a: &ConversationSummary, b: &ConversationSummary) -> std::cmp::Ordering {
    b.updated_at.cmp(&a.updated_at).then(b.id.0.cmp(&a.id.0))
}

/// What changed in a kept list.
enum Changed {
    Nothing,
    /// Only what these rooms show: their entries are read again.
    Rooms(Vec<RoomId>),
    /// Which rooms it holds, or anything (it is read again whole).
    All,
}

/// A user's list as read at a tick.
struct Listed {
    read_at: u64,
    list: RoomList,
}

/// A room list as kept: shared, not copied. Its JSON is written once, by
/// the first request that answers with it, from each entry's JSON, which
/// is written once too and carried into the list brought up to date.
#[derive(Clone, Debug)]
pub struct RoomList(Arc<Rooms>);

#[derive(Debug)]
struct Rooms {
    rooms: Vec<ConversationSummary>,
    /// Each entry's JSON, beside it.
    entries: Vec<OnceLock<Bytes>>,
    json: OnceLock<Bytes>,
}

impl RoomList {
    /// This list with the entries of `changed` replaced by `fresh` (those of
    /// them that are still listed), in the list's order: newest activity
    /// first, then highest id, as the list's query orders them. The others
    /// keep their JSON.
    fn refreshed(&self, changed: &[RoomId], fresh: Vec<ConversationSummary>) -> Self {
        let changed: HashSet<RoomId> = changed.iter().copied().collect();
        let kept = self.0.rooms.iter().zip(&self.0.entries).filter(|(room, _)| !changed.contains(&room.id));
        let mut listed: Vec<(ConversationSummary, OnceLock<Bytes>)> = kept
            .map(|(room, json)| (room.clone(), json.clone()))
            .chain(fresh.into_iter().map(|room| (room, OnceLock::new())))
            .collect();
        listed.sort_by(|(a, _), (b, _)| listed_order(a, b));
        let (rooms, entries) = listed.into_iter().unzip();
        Self(Arc::new(Rooms { rooms, entries, json: OnceLock::new() }))
    }

    /// The list as a JSON array: the same bytes as the listed rooms
    /// ([`ConversationSummary::is_listed`]) serialised whole.
    pub fn json(&self) -> Bytes {
        self.0
            .json
            .get_or_init(|| {
                let entries = self.0.rooms.iter().zip(&self.0.entries).filter(|(room, _)| room.is_listed());
                let entries: Vec<&Bytes> = entries.map(|(room, json)| json.get_or_init(|| entry_json(room))).collect();
                let mut json = Vec::with_capacity(entries.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
                json.push(b'[');
                for (i, entry) in entries.into_iter().enumerate() {
                    if i > 0 {
                        json.push(b',');
                    }
                    json.extend_from_slice(entry);
                }
                json.push(b']');
                Bytes::from(json)
            })
            .clone()
    }
}

/// One entry of the list as JSON.
fn entry_json(room: &ConversationSummary) -> Bytes {
    // Plain data always serialises.
    serde_json::to_vec(room).map(Bytes::from).unwrap_or_else(|_| Bytes::from_static(b"null"))
}

impl From<Vec<ConversationSummary>> for RoomList {
    fn from(rooms: Vec<ConversationSummary>) -> Self {
        let entries = rooms.iter().map(|_| OnceLock::new()).collect();
        Self(Arc::new(Rooms { rooms, entries, json: OnceLock::new() }))
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
    /// At most [`KEPT_BYTES`] in all, each list kept at most `ttl`; `ttl`
    /// zero keeps none.
    pub fn new(ttl: Duration, changes: Arc<ListChanges>) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(KEPT_BYTES)
                .weigher(|_, listed: &Arc<Listed>| weight(&listed.list))
                .time_to_live(ttl)
                .build()
        });
        Self { entries, changes }
    }

    /// `user`'s list: as kept; or the kept one with the entries of the few
    /// rooms that changed read again by `refresh`; or read whole by `load`.
    /// Kept unless something it shows changed while it was read.
    pub async fn get_or_load<E, Fut>(
        &self,
        user: UserId,
        load: impl Future<Output = Result<Vec<ConversationSummary>, E>>,
        refresh: impl FnOnce(Vec<RoomId>) -> Fut,
    ) -> Result<RoomList, E>
    where
        Fut: Future<Output = Result<Vec<ConversationSummary>, E>>,
    {
        let Some(entries) = &self.entries else {
            return Ok(load.await?.into());
        };
        // Before anything is read: a change after this tick, even to an entry
        // the kept list still has, makes what is built here stale.
        let read_at = self.changes.now();
        let kept = entries.get(&user);
        let changed = kept.as_ref().map(|listed| self.changes.changed_since(listed.read_at, user, &listed.list));
        let list = match (kept, changed) {
            (Some(listed), Some(Changed::Nothing)) => return Ok(listed.list.clone()),
            (Some(listed), Some(Changed::Rooms(rooms))) if rooms.len() <= REFRESH_MAX => {
                let fresh = refresh(rooms.clone()).await?;
                listed.list.refreshed(&rooms, fresh)
            }
            _ => RoomList::from(load.await?),
        };
        if self.changes.unchanged_since(read_at, user, &list) {
            entries.insert(user, Arc::new(Listed { read_at, list: list.clone() }));
        } else {
            entries.invalidate(&user);
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
    use std::sync::Mutex;

    use super::*;
    use crate::model::{NotifyLevel, RoomKind};

    /// Room `room` as listed, its activity at `at` and `unread` unread.
    fn summary(room: i64, at: &str, unread: i64) -> ConversationSummary {
        ConversationSummary {
            id: RoomId(room),
            title: Some(format!("room {room}")),
            topic: None,
            group: true,
            kind: RoomKind::Group,
            updated_at: at.to_owned(),
            archived_at: None,
            users: Vec::new(),
            last_message: None,
            unread_count: unread,
            unread_mentions: 0,
            notify_level: NotifyLevel::Mentions,
            closed_at: None,
            closed: false,
        }
    }

    /// A stand-in for the database: each room's activity time and unread
    /// count, and a record of what was read (`whole`, or the rooms asked).
    #[derive(Default)]
    struct Db {
        rooms: Mutex<Vec<(i64, String, i64)>>,
        reads: Mutex<Vec<String>>,
    }

    impl Db {
        fn set(&self, room: i64, at: &str, unread: i64) {
            let mut rooms = self.rooms.lock().expect("the test's rooms");
            rooms.retain(|(id, ..)| *id != room);
            rooms.push((room, at.to_owned(), unread));
        }

        /// The rooms as the list's query orders them (newest first).
        fn list(&self, only: Option<&[RoomId]>) -> Vec<ConversationSummary> {
            let mut rooms: Vec<ConversationSummary> = self
                .rooms
                .lock()
                .expect("the test's rooms")
                .iter()
                .filter(|(id, ..)| only.is_none_or(|only| only.contains(&RoomId(*id))))
                .map(|(id, at, unread)| summary(*id, at, *unread))
                .collect();
            rooms.sort_by(listed_order);
            rooms
        }

        fn reads(&self) -> Vec<String> {
            std::mem::take(&mut self.reads.lock().expect("the test's reads"))
        }
    }

    /// Runs a load that never waits (the tests' loads are ready at once).
    fn ready<T>(future: impl Future<Output = Result<T, ()>>) -> T {
        futures_util::FutureExt::now_or_never(future).expect("ready").expect("loaded")
    }

    /// `user`'s list through `lists`, from `db`: (room, unread) in order.
    fn list(lists: &RoomLists, db: &Db, user: i64) -> Vec<(i64, i64)> {
        let load = async {
            db.reads.lock().expect("the test's reads").push("whole".into());
            Ok::<_, ()>(db.list(None))
        };
        let refresh = |rooms: Vec<RoomId>| async move {
            db.reads
                .lock()
                .expect("the test's reads")
                .push(format!("{:?}", rooms.iter().map(|r| r.0).collect::<Vec<_>>()));
            Ok(db.list(Some(&rooms)))
        };
        let listed = ready(lists.get_or_load(UserId(user), load, refresh));
        listed.iter().map(|room| (room.id.0, room.unread_count)).collect()
    }

    fn kept(changes: &Arc<ListChanges>) -> RoomLists {
        RoomLists::new(Duration::from_secs(60), changes.clone())
    }

    #[test]
    fn a_list_is_served_again_until_one_of_its_rooms_its_user_or_everything_changes() {
        let changes = Arc::new(ListChanges::default());
        let lists = kept(&changes);
        let db = Db::default();
        db.set(1, "2026-01-01", 0);
        db.set(2, "2026-01-02", 0);

        assert_eq!(list(&lists, &db, 7), [(2, 0), (1, 0)]);
        list(&lists, &db, 7);
        assert_eq!(db.reads(), ["whole"], "the second read is served from memory");

        changes.room(RoomId(3));
        changes.user(UserId(8));
        list(&lists, &db, 7);
        assert!(db.reads().is_empty(), "a room and a user not in the list change nothing");

        let whole: [&dyn Fn(); 3] = [&|| changes.user(UserId(7)), &|| changes.everything(), &|| lists.clear()];
        for change in whole {
            change();
            list(&lists, &db, 7);
            list(&lists, &db, 7);
            assert_eq!(db.reads(), ["whole"], "read whole once after the change, then kept");
        }
        for room in [2, 2 + ROOM_SLOTS as i64] {
            changes.room(RoomId(room));
            list(&lists, &db, 7);
            list(&lists, &db, 7);
            assert_eq!(db.reads(), ["[2]"], "room 2 read again, then kept");
        }
    }

    #[test]
    fn rooms_read_again_take_their_place_in_the_kept_list() {
        let changes = Arc::new(ListChanges::default());
        let lists = kept(&changes);
        let db = Db::default();
        for (room, at) in [(1, "2026-01-01"), (2, "2026-01-02"), (3, "2026-01-03"), (4, "2026-01-03")] {
            db.set(room, at, 0);
        }
        assert_eq!(list(&lists, &db, 1), [(4, 0), (3, 0), (2, 0), (1, 0)]);
        db.reads();

        // Room 1 gets a message (newest now); room 3 an edit (same place).
        db.set(1, "2026-01-04", 1);
        db.set(3, "2026-01-03", 5);
        changes.room(RoomId(1));
        changes.room(RoomId(3));
        assert_eq!(list(&lists, &db, 1), [(1, 1), (4, 0), (3, 5), (2, 0)]);
        assert_eq!(db.reads(), ["[3, 1]"], "only the two rooms read again");
        assert_eq!(list(&lists, &db, 1), db.list(None).iter().map(|r| (r.id.0, r.unread_count)).collect::<Vec<_>>());
        assert!(db.reads().is_empty(), "kept after the refresh");

        // A room read again that the database no longer lists drops out.
        db.rooms.lock().expect("the test's rooms").retain(|(id, ..)| *id != 2);
        changes.room(RoomId(2));
        assert_eq!(list(&lists, &db, 1), [(1, 1), (4, 0), (3, 5)]);

        // More changed rooms than a refresh takes: read whole.
        for room in 100..100 + REFRESH_MAX as i64 + 1 {
            db.set(room, "2026-01-05", 0);
        }
        changes.user(UserId(1));
        list(&lists, &db, 1);
        db.reads();
        for room in 100..100 + REFRESH_MAX as i64 + 1 {
            changes.room(RoomId(room));
        }
        list(&lists, &db, 1);
        assert_eq!(db.reads(), ["whole"]);
    }

    #[test]
    fn a_list_brought_up_to_date_writes_only_its_changed_entries_json_again() {
        let changes = Arc::new(ListChanges::default());
        let lists = kept(&changes);
        let db = &Db::default();
        for (room, at) in [(1, "2026-01-01"), (2, "2026-01-02"), (3, "2026-01-03")] {
            db.set(room, at, 0);
        }
        let get = || {
            let load = async { Ok::<_, ()>(db.list(None)) };
            ready(lists.get_or_load(UserId(1), load, |rooms: Vec<RoomId>| async move { Ok(db.list(Some(&rooms))) }))
        };
        let whole = |list: &[ConversationSummary]| serde_json::to_vec(list).expect("serialises");
        let before = get();
        let written = before.json();
        assert_eq!(written, whole(&db.list(None)), "written from its entries, the same bytes as whole");
        // Where each room's JSON lives.
        let entry = |list: &RoomList, room: i64| {
            let at = list.iter().position(|r| r.id.0 == room).expect("listed");
            list.0.entries[at].get().expect("written").as_ptr()
        };

        db.set(1, "2026-01-04", 3);
        changes.room(RoomId(1));
        let after = get();
        let json = after.json();

        assert_eq!(json, whole(&db.list(None)), "brought up to date, still the same bytes as whole");
        assert_ne!(json, written);
        assert_eq!(entry(&after, 2), entry(&before, 2), "room 2's JSON is the one written before");
        assert_eq!(entry(&after, 3), entry(&before, 3));
        assert_ne!(entry(&after, 1), entry(&before, 1), "room 1's is written again");
    }

    #[test]
    fn a_list_read_while_one_of_its_rooms_changed_is_not_kept() {
        let changes = Arc::new(ListChanges::default());
        let lists = kept(&changes);
        let db = Db::default();
        db.set(5, "2026-01-01", 0);
        // The room changes (its commit and its tick) while the list is read.
        let load = async {
            changes.room(RoomId(5));
            Ok::<_, ()>(db.list(None))
        };
        let refresh = |_: Vec<RoomId>| async { Ok(Vec::new()) };
        ready(lists.get_or_load(UserId(1), load, refresh));

        list(&lists, &db, 1);
        assert_eq!(db.reads(), ["whole"], "the list read during the change was not kept");
        list(&lists, &db, 1);
        assert!(db.reads().is_empty());
    }

    #[test]
    fn kept_lists_stay_within_their_byte_budget_however_long_their_messages() {
        let lists = kept(&Arc::new(ListChanges::default()));
        // 100 rooms whose newest message is 10,000 characters: about 2 MB.
        let heavy: Vec<ConversationSummary> = (1..=100)
            .map(|room| ConversationSummary {
                last_message: Some(crate::model::LastMessage {
                    number: 1,
                    body: Some("x".repeat(10_000)),
                    text: Some("x".repeat(crate::markdown::PREVIEW_CHARS)),
                    user_id: None,
                    created_at: "2026-01-01T00:00:00.000000Z".into(),
                }),
                ..summary(room, "2026-01-01", 0)
            })
            .collect();
        let one = u64::from(weight(&heavy));
        assert!(one > 2_000_000, "the messages count: {one}");

        for user in 0..2 * KEPT_BYTES / one {
            let load = async { Ok::<_, ()>(heavy.clone()) };
            let refresh = |_: Vec<RoomId>| async { Ok(Vec::new()) };
            ready(lists.get_or_load(UserId(user as i64), load, refresh));
        }

        let entries = lists.entries.as_ref().expect("kept");
        entries.run_pending_tasks();
        let kept = entries.entry_count();
        assert!(kept > 0, "some are kept");
        assert!(kept * one <= KEPT_BYTES, "{kept} lists of {one} bytes kept");
    }

    #[test]
    fn with_no_time_to_live_nothing_is_kept() {
        let lists = RoomLists::new(Duration::ZERO, Arc::new(ListChanges::default()));
        let db = Db::default();
        db.set(1, "2026-01-01", 0);
        list(&lists, &db, 1);
        list(&lists, &db, 1);
        assert_eq!(db.reads(), ["whole", "whole"]);
    }
}
