//! In-memory caches for what nearly every request asks the database: its
//! session, its signed-in user, and whether that user is in the room.
//!
//! Each is a [`Bounded`] cache (moka): at most a fixed number of entries,
//! each kept at most `Settings::cache_ttl_secs` (0 turns caching off). What
//! revokes access is never left to the time limit on this instance:
//!
//! - a session is dropped from the cache when it is deleted (sign-out, the id
//!   cycled at sign-in) and replaced when it is saved ([`CachedSessions`]);
//! - a user is dropped when their profile changes (`Hearth::update_profile`);
//! - a membership is dropped when it ends (`Hearth::leave`,
//!   `Hearth::remove_participant`). Only memberships that exist are cached, so
//!   joining needs nothing: the next check misses and reads the database.
//!
//! A fill never undoes an invalidation: a request that read the database just
//! before a sign-out or a removal committed must not put the old answer back
//! after it (see [`Bounded::get_or_load`]).
//!
//! With several instances, each invalidation also goes over the bus
//! (`crate::bus::Forget`) and every other instance drops the same entry; an
//! instance whose bus reconnects clears its caches, since what was said
//! while it was away is lost.

use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result as SessionResult, SessionStore};

use crate::auth::stored_id;
use crate::bus::{Bus, Forget};
use crate::model::{RoomId, UserId};
use crate::room_lists::{ListChanges, RoomLists};
use crate::store::{AuthUser, Sessions};

/// Sessions kept in memory at once; each holds a small record.
pub const SESSIONS_CAPACITY: u64 = 10_000;
/// Signed-in users kept in memory at once.
pub const USERS_CAPACITY: u64 = 10_000;
/// (user, room) memberships kept in memory at once: 16 bytes of key each.
pub const MEMBERSHIPS_CAPACITY: u64 = 100_000;

/// A bounded cache with a time to live, filled from the database without
/// ever undoing an invalidation. Cheap to clone (shared).
#[derive(Clone)]
pub struct Bounded<K, V> {
    /// `None` when caching is off (a TTL of 0).
    entries: Option<Cache<K, V>>,
    /// Bumped by every invalidation and every write-through, under this lock;
    /// a fill inserts only if it has not moved since the fill began, under
    /// the same lock.
    generation: Arc<Mutex<u64>>,
}

impl<K, V> Bounded<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `capacity` entries, each kept at most `ttl`; `ttl` zero caches
    /// nothing.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        let entries = (!ttl.is_zero()).then(|| Cache::builder().max_capacity(capacity).time_to_live(ttl).build());
        Self { entries, generation: Arc::new(Mutex::new(0)) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.entries.as_ref()?.get(key)
    }

    /// The cached value, or `load`'s (cached when it is `Some`). The value is
    /// cached only if no invalidation happened while `load` ran: `load` may
    /// have read the row just before the change that invalidated it.
    pub async fn get_or_load<E>(
        &self,
        key: K,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E> {
        if let Some(hit) = self.get(&key) {
            return Ok(Some(hit));
        }
        let began = *self.lock();
        let loaded = load.await?;
        if let (Some(entries), Some(value)) = (&self.entries, &loaded) {
            let generation = self.lock();
            if *generation == began {
                entries.insert(key, value.clone());
            }
        }
        Ok(loaded)
    }

    /// Puts a value just written to the database, superseding any fill in
    /// flight (which read what was there before).
    pub fn put(&self, key: K, value: V) {
        let mut generation = self.lock();
        *generation += 1;
        if let Some(entries) = &self.entries {
            entries.insert(key, value);
        }
    }

    /// Forgets `key` at once, and makes every fill in flight drop its value.
    /// Call it after the change is committed.
    pub fn invalidate(&self, key: &K) {
        let mut generation = self.lock();
        *generation += 1;
        if let Some(entries) = &self.entries {
            entries.invalidate(key);
        }
    }

    /// Forgets everything, and makes every fill in flight drop its value.
    pub fn clear(&self) {
        let mut generation = self.lock();
        *generation += 1;
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.generation.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Entries held, after pending evictions are applied (tests).
    #[cfg(test)]
    fn len(&self) -> u64 {
        self.entries.as_ref().map_or(0, |entries| {
            entries.run_pending_tasks();
            entries.entry_count()
        })
    }
}

/// The caches the core reads through and invalidates.
#[derive(Clone)]
pub(crate) struct Caches {
    /// The user axum-login loads for each request, by id.
    pub users: Bounded<UserId, AuthUser>,
    /// Memberships known to exist.
    pub members: Bounded<(UserId, RoomId), ()>,
    /// Session records, by id ([`CachedSessions`]).
    pub sessions: Bounded<Id, Record>,
    /// Each user's room list, kept until something in it changes
    /// ([`crate::room_lists`]).
    pub room_lists: RoomLists,
}

impl Caches {
    pub fn new(ttl: Duration, list_changes: Arc<ListChanges>) -> Self {
        Self {
            users: Bounded::new(USERS_CAPACITY, ttl),
            members: Bounded::new(MEMBERSHIPS_CAPACITY, ttl),
            sessions: Bounded::new(SESSIONS_CAPACITY, ttl),
            room_lists: RoomLists::new(ttl, list_changes),
        }
    }

    /// Forgets every entry (see the module's notes on the bus).
    pub fn clear(&self) {
        self.users.clear();
        self.members.clear();
        self.sessions.clear();
        self.room_lists.clear();
    }
}

/// The session store with a [`Bounded`] cache in front, as tower-sessions'
/// `CachingSessionStore` with `tower-sessions-moka-store` would be, but with
/// a short time to live: that store keeps each record until the session's
/// own expiry (14 days of inactivity here), so a session deleted elsewhere
/// (another instance, the database) would stay valid in this one's memory
/// for days; and its load fills the cache after reading the database, which
/// can put back a session that a concurrent sign-out just deleted.
#[derive(Clone)]
pub struct CachedSessions {
    cache: Bounded<Id, Record>,
    store: Sessions,
    /// Where a deleted or changed session is announced to other instances.
    bus: Bus,
}

impl std::fmt::Debug for CachedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSessions").field("store", &self.store).finish_non_exhaustive()
    }
}

impl CachedSessions {
    /// `store` behind `cache` (see `Hearth::session_store`); what changes a
    /// session here is told to the other instances on `bus`.
    pub(crate) fn new(store: Sessions, cache: Bounded<Id, Record>, bus: Bus) -> Self {
        Self { cache, store, bus }
    }

    fn forget_elsewhere(&self, id: &Id) {
        self.bus.forget(Forget::Session(id.to_string()));
    }
}

/// `record` as it is stored: under its [`stored_id`], never its cookie's.
fn at_rest(record: &Record) -> Record {
    let mut stored = record.clone();
    stored.id = stored_id(record.id);
    stored
}

/// Everything here is keyed by the session's [`stored_id`]: the database row,
/// the cache and what the bus says. tower-sessions hands in and gets back the
/// cookie's id; the database never sees it.
#[async_trait]
impl SessionStore for CachedSessions {
    async fn create(&self, record: &mut Record) -> SessionResult<()> {
        loop {
            let mut stored = at_rest(record);
            let key = stored.id;
            self.store.create(&mut stored).await?;
            if stored.id == key {
                self.cache.put(key, stored);
                return Ok(());
            }
            // The store found `key` taken and saved the record under an id
            // of its own, whose cookie no one has: undone, and tried again
            // with a new cookie id (2^-128, but never a shared session).
            self.store.delete(&stored.id).await?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> SessionResult<()> {
        let stored = at_rest(record);
        // Forget first: if the write fails, no one reads the old record here.
        self.cache.invalidate(&stored.id);
        self.store.save(&stored).await?;
        self.forget_elsewhere(&stored.id);
        self.cache.put(stored.id, stored);
        Ok(())
    }

    async fn load(&self, id: &Id) -> SessionResult<Option<Record>> {
        let key = stored_id(*id);
        let record = self.cache.get_or_load(key, self.store.load(&key)).await?;
        // The database never returns an expired session, and neither may the
        // cache: a record cached just before its expiry date outlives it.
        match record {
            Some(record) if record.expiry_date <= time::OffsetDateTime::now_utc() => {
                self.cache.invalidate(&key);
                Ok(None)
            }
            Some(mut record) => {
                record.id = *id;
                Ok(Some(record))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> SessionResult<()> {
        let key = stored_id(*id);
        self.store.delete(&key).await?;
        self.cache.invalidate(&key);
        self.forget_elsewhere(&key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn found(value: u32) -> Result<Option<u32>, ()> {
        Ok(Some(value))
    }

    #[tokio::test]
    async fn a_cache_holds_no_more_than_its_capacity() {
        let cache = Bounded::new(10, Duration::from_secs(60));
        for key in 0..1_000u32 {
            cache.put(key, key);
        }
        assert!(cache.len() <= 10, "{} entries", cache.len());
    }

    #[tokio::test]
    async fn an_entry_is_gone_after_its_time_to_live() {
        let cache = Bounded::new(10, Duration::from_millis(100));
        cache.put(1u32, 1u32);
        assert_eq!(cache.get(&1), Some(1));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(cache.get(&1), None);
    }

    #[tokio::test]
    async fn a_loaded_value_is_cached_and_served_without_loading_again() {
        let cache = Bounded::new(10, Duration::from_secs(60));
        assert_eq!(cache.get_or_load(1u32, found(7)).await, Ok(Some(7)));
        let not_called = async { panic!("the cache should answer") };
        assert_eq!(cache.get_or_load::<()>(1u32, not_called).await, Ok(Some(7)));
    }

    #[tokio::test]
    async fn nothing_is_cached_for_a_missing_row() {
        let cache: Bounded<u32, u32> = Bounded::new(10, Duration::from_secs(60));
        assert_eq!(cache.get_or_load(1, async { Ok::<_, ()>(None) }).await, Ok(None));
        assert_eq!(cache.get(&1), None);
    }

    #[tokio::test]
    async fn a_load_that_overlaps_an_invalidation_does_not_put_the_old_value_back() {
        let cache = Bounded::new(10, Duration::from_secs(60));
        let load = async {
            // The row is read, then the change commits and invalidates.
            cache.invalidate(&1u32);
            Ok::<_, ()>(Some(7u32))
        };
        assert_eq!(cache.get_or_load(1, load).await, Ok(Some(7)));
        assert_eq!(cache.get(&1), None, "the stale value was not cached");
    }

    #[tokio::test]
    async fn a_zero_time_to_live_caches_nothing() {
        let cache = Bounded::new(10, Duration::ZERO);
        cache.put(1u32, 1u32);
        assert_eq!(cache.get_or_load(2u32, found(2)).await, Ok(Some(2)));
        assert_eq!((cache.get(&1), cache.get(&2)), (None, None));
    }
}
