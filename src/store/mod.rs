//! The store: the only place SQL lives. Each query is a small named function
//! over the one pool; handlers, server functions and the hub never build SQL.
//!
//! The URL chooses the database: `sqlite://…` (the embedded default) or
//! `postgres://…`. Each has its own migrations (`migrations/sqlite/`,
//! `migrations/postgres/`, the same versions).
//!
//! A query is written once when both dialects accept it, which is most of
//! them: `$1` placeholders (sqlx's SQLite driver takes them too), `IS [NOT]
//! DISTINCT FROM`, `RETURNING`, `ON CONFLICT`, row values. [`on_pool!`]
//! compiles that one text once per driver. Where the dialects differ the
//! query says so with a `match` on [`Backend`]: the write lock
//! ([`WritePool::begin_write`]), search (FTS5 on SQLite, pg_trgm on
//! Postgres) and the read marker's clamp.

mod account;
mod admin;
mod applications;
mod attachments;
mod backup;
mod batch;
mod copy;
mod messages;
mod push;
mod push_jobs;
mod rooms;
mod saved;
mod search;
mod search_index;
mod serving;
mod sessions;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub use account::UserSessionRow;
pub use admin::{AdminChange, Audit};
pub use applications::{AppRow, ChatRow};
pub use attachments::{AttachmentRow, BlobRef, NewUpload};
pub use backup::{
    BackupError, BackupReport, RestoreReport, SqliteDurability, SqliteSynchronous, StoreOptions, backup_sqlite,
    private_new_file, restore_sqlite,
};
pub use copy::{CopyError, CopyReport, Side, TableCount, copy_data};
pub use messages::{
    Appended, Change, ChangeKind, HistoryQuery, InsertedMessage, MessageMeta, NewMessage, PinChange, Toggled, Written,
};
pub use push::PushSubscription;
pub use push_jobs::{PushCandidate, PushJob};
pub use rooms::{Backlog, ListedRoom, RoomRow};
pub use saved::{SaveChange, SavedRow};
pub use search::{
    HitByline, HitRow, NEEDLES_MAX, ScanWindow, SearchScope, SearchStep, fts_all, fts_phrase, like_contains,
};
pub use serving::{ServeMarker, Serving, beside, serve_marker, sqlite_file};
pub use sessions::Sessions;
pub use users::{AuthUser, Inserted, NewUserRow, Spend};

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What the plan tests put before a statement: SQLite's `EXPLAIN QUERY
    /// PLAN`; on Postgres the statement is run, so that the plan says how
    /// many rows and pages each step read.
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Self::Sqlite => "EXPLAIN QUERY PLAN",
            Self::Postgres => "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)",
        }
    }

    /// The column of a plan's row that holds its text: SQLite's rows are
    /// (id, parent, notused, detail), Postgres's one text column.
    pub(crate) fn plan_column(self) -> usize {
        match self {
            Self::Sqlite => 3,
            Self::Postgres => 0,
        }
    }
}

/// The pools of one database or the other. SQLite has one writer at a time
/// whatever the number of connections, so every write goes through `write`,
/// a pool of one connection: writers queue in the pool (first come, first
/// served) instead of meeting `SQLITE_BUSY` and sleeping in SQLite's busy
/// handler. `read` is the rest, opened `query_only` so that a write sent to
/// it by mistake fails loudly. Postgres takes both on one pool.
#[derive(Clone, Debug)]
enum Pool {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// Connections that read a SQLite database (WAL lets them run beside the writer).
const SQLITE_READERS: u32 = 8;
/// How long a SQLite connection waits for a lock another holds (set again
/// by [`Checkpoints::restart_wal`] after its shorter wait).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// A Postgres connection idle this long is pinged before it is used.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// A handle to the database: one pool, shared by clones.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// SQLite's checkpoints, while any clone lives ([`Checkpoints`]).
    _checkpoints: Option<Arc<Checkpoints>>,
    /// SQLite's search indexing beside the writer ([`search_index`]).
    search_index: Option<Arc<search_index::SearchIndexer>>,
}

/// How often SQLite's WAL is copied back into the database, off the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// SQLite's page size, which a WAL frame holds one of (SQLite's default,
/// which Hearth keeps).
const SQLITE_PAGE_BYTES: u64 = 4096;

/// SQLite's checkpoints, run beside the writer rather than by it.
///
/// By default the connection whose commit takes the WAL past 1,000 pages
/// copies the WAL back into the database there and then, syncing both
/// files, while every sender in the batch waits. The writer is the only
/// connection that commits, so it paid for every checkpoint: with 64 tasks
/// posting to one room its core sat idle 28 % of the time, and turning the
/// writer's automatic checkpoint off took the store from 5,900–6,200 to
/// 8,800–9,300 messages/s. The writer therefore runs with
/// `wal_autocheckpoint = 0`, and a task with a connection of its own runs a
/// `PASSIVE` checkpoint every [`CHECKPOINT_EVERY`] (it waits for no reader or
/// writer; commits go on meanwhile). Durability does not change: a commit is
/// in the WAL, synced as `synchronous` says, whenever the checkpoint runs.
/// The task ends when the last clone of the store is dropped; SQLite
/// checkpoints once more when the last connection closes.
///
/// A passive checkpoint never lets the WAL start again from its beginning
/// while the writer is busy: the next writer restarts the log only if
/// every frame was copied back before it began, and a busy writer has
/// always added frames since. Under steady posting the file grew by about
/// 60 MB a second without end (1.5 GB after a minute of the REST benchmark,
/// with posts stalling for a second at a time as the file system allocated
/// it). So when a checkpoint finds the WAL holding at least
/// [`StoreOptions::sqlite_wal_limit`], it asks the writer to restart it:
/// before its next transaction the writer runs a `RESTART` checkpoint on
/// its own connection (no other writer exists to wait for; what is left to
/// copy is what was committed since the passive one), and its next commit
/// writes from the file's start. Under the same benchmark the file now
/// peaks at 76–112 MiB with the 64 MiB default (docs/benchmarks.md).
#[derive(Debug)]
struct Checkpoints {
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Checkpoints {
    fn start(pool: SqlitePool, restart: Arc<AtomicBool>, wal_limit: u64) -> Self {
        let restart_frames = i64::try_from(wal_limit / SQLITE_PAGE_BYTES).unwrap_or(i64::MAX);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = every.tick() => {
                        // (busy, frames in the WAL, frames copied back)
                        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
                            Ok((_, frames, _)) if frames >= restart_frames => restart.store(true, Ordering::Relaxed),
                            Ok(_) => {}
                            Err(err) => tracing::warn!(error = %err, "a SQLite checkpoint failed"),
                        }
                    }
                }
            }
            pool.close().await;
        });
        Self { _stop: stop }
    }

    /// Restarts the WAL on the writer's connection, between its transactions.
    /// It waits at most 50 ms for readers of the old WAL, then waits for
    /// locks as long as before ([`SQLITE_BUSY_TIMEOUT`]).
    /// (Boxed here, with its lifetime named, so that the pool's
    /// `before_acquire` hook can hold it for any connection it is given.)
    fn restart_wal<'c>(conn: &'c mut sqlx::SqliteConnection) -> futures_util::future::BoxFuture<'c, ()> {
        Box::pin(async move {
            let restarted = async {
                sqlx::query("PRAGMA busy_timeout = 50").execute(&mut *conn).await?;
                sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&mut *conn).await
            }
            .await;
            if let Err(err) = restarted {
                tracing::warn!(error = %err, "restarting the SQLite WAL failed");
            }
            let waits = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
            if let Err(err) = sqlx::query(&waits).execute(&mut *conn).await {
                tracing::warn!(error = %err, "resetting the SQLite busy timeout failed");
            }
        })
    }
}

impl Store {
    /// Opens the database at `url`: `sqlite://data/hearth.db` (created if
    /// missing) or `postgres://user@host/db` (which must exist). Any other
    /// scheme is refused with a message that names it.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`Self::connect`] with the given options (SQLite's durability mode).
    pub async fn connect_with(url: &str, store_options: StoreOptions) -> Result<Self, sqlx::Error> {
        let pool = match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    // WAL lets readers run while one writer writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    // NORMAL: a commit survives a crash of the process (the
                    // WAL is synced at checkpoints); FULL: it survives a power
                    // loss too (the WAL is synced at every commit).
                    .synchronous(store_options.sqlite_synchronous.to_sqlx())
                    .foreign_keys(true)
                    // Only a checkpoint or another process can hold the
                    // lock now; wait for it rather than fail at once.
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                // The writer first: it creates the file and switches it to WAL.
                // It leaves checkpoints to `Checkpoints`.
                // A connection to a local file cannot go away while idle, so
                // none is pinged before use: that was a round trip to its
                // thread before every statement or transaction.
                // Before a transaction, it restarts the WAL when the
                // checkpoints ask it to.
                let restart = Arc::new(AtomicBool::new(false));
                let wanted = restart.clone();
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .before_acquire(move |conn, _| {
                        let restart = wanted.swap(false, Ordering::Relaxed);
                        Box::pin(async move {
                            if restart {
                                Checkpoints::restart_wal(conn).await;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(
                        options
                            .clone()
                            .pragma("wal_autocheckpoint", "0")
                            .pragma("journal_size_limit", store_options.sqlite_wal_limit.to_string()),
                    )
                    .await?;
                let checkpoints = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .test_before_acquire(false)
                    .connect_with(options.pragma("query_only", "ON"))
                    .await?;
                let search_index = Some(Arc::new(search_index::SearchIndexer::start(write.clone())));
                return Ok(Self {
                    pool: Pool::Sqlite { read, write },
                    search_index,
                    _checkpoints: Some(Arc::new(Checkpoints::start(
                        checkpoints,
                        restart,
                        store_options.sqlite_wal_limit,
                    ))),
                });
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                // One direct connection first: a wrong host, password or
                // database fails at once with its own message, where the
                // pool would retry until a timeout.
                PgConnection::connect_with(&options).await?.close().await?;
                // A connection idle for a while is pinged before use (the
                // server may have restarted since); a busy one is not, since
                // a ping is a round trip before every transaction.
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_AFTER_IDLE {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_lazy_with(options);
                Pool::Postgres(pool)
            }
        };
        Ok(Self { pool, _checkpoints: None, search_index: None })
    }

    /// Opens the database at `url` and applies every migration not yet
    /// applied, for the server and the CLI: any failure is one line that
    /// names the problem (the URL shown without its password).
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// [`Self::open`] with the given options (SQLite's durability mode).
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Self, OpenError> {
        let shown = redact_password(url);
        let store = Self::connect_with(url, options).await.map_err(|err| OpenError::connect(&shown, err))?;
        store.migrate().await.map_err(|err| OpenError::migrate(&shown, err))?;
        Ok(store)
    }

    /// [`Self::open_with`], saying how many migrations it applied, and the
    /// newest one's version now (what `hearth migrate` reports).
    pub async fn open_counting(url: &str, options: StoreOptions) -> Result<(Self, i64, i64), OpenError> {
        let shown = redact_password(url);
        let store = Self::connect_with(url, options).await.map_err(|err| OpenError::connect(&shown, err))?;
        let (before, _) = store.applied_migrations().await.unwrap_or((0, 0));
        store.migrate().await.map_err(|err| OpenError::migrate(&shown, err))?;
        let (after, newest) = store.applied_migrations().await.map_err(|err| OpenError::connect(&shown, err))?;
        Ok((store, after - before, newest))
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every migration of this backend (`migrations/sqlite/` or
    /// `migrations/postgres/`) not yet applied.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        // What SQL cannot write: names folded by Unicode's rules.
        self.fill_name_keys().await.map_err(sqlx::migrate::MigrateError::Execute)
    }

    /// How many migrations the database has applied, and the newest one's
    /// version: `(0, 0)` for a database never migrated.
    pub async fn applied_migrations(&self) -> Result<(i64, i64), sqlx::Error> {
        const APPLIED: &str = "SELECT count(*), coalesce(max(version), 0) FROM _sqlx_migrations WHERE success";
        match &self.pool {
            Pool::Sqlite { read, .. } => {
                let known: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(read)
                .await?;
                if known == 0 {
                    return Ok((0, 0));
                }
                sqlx::query_as(APPLIED).fetch_one(read).await
            }
            Pool::Postgres(pool) => {
                let known: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL").fetch_one(pool).await?;
                if !known {
                    return Ok((0, 0));
                }
                sqlx::query_as(APPLIED).fetch_one(pool).await
            }
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match &self.pool {
            Pool::Sqlite { read, .. } => sqlx::query("SELECT 1").execute(read).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
    }

    /// The pools' connections now: open, idle, and the most they open (on
    /// SQLite the readers and the writer together).
    pub fn pool_stats(&self) -> PoolStats {
        match &self.pool {
            Pool::Sqlite { read, write } => PoolStats {
                size: read.size() + write.size(),
                idle: read.num_idle() + write.num_idle(),
                max: read.options().get_max_connections() + write.options().get_max_connections(),
            },
            Pool::Postgres(pool) => {
                PoolStats { size: pool.size(), idle: pool.num_idle(), max: pool.options().get_max_connections() }
            }
        }
    }

    /// The SQLite writer's pool, for tests and tools that reach into a
    /// SQLite file directly; `None` on Postgres. The server never uses it.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite { write, .. } => Some(write),
            Pool::Postgres(_) => None,
        }
    }
}

/// A pool's connections at one moment (for `/metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

/// Runs `$body` with `$pool` bound to the store's pool for reads, whichever
/// database it is: the same SQL and binds, compiled once for each driver.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        // Timed to the end of the block, early returns (`?`) included.
        let _timer = $crate::metrics::QueryTimer::start("read");
        match &$store.pool {
            $crate::store::Pool::Sqlite { read: $pool, .. } => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use on_pool;

/// [`on_pool!`] for code that writes: `$pool` is SQLite's one writer
/// connection. That pool has one connection, so the body must not use `$pool`
/// while it holds a transaction begun on it: everything goes through the
/// transaction.
macro_rules! on_writer {
    ($store:expr, $pool:ident => $body:expr) => {{
        let _timer = $crate::metrics::QueryTimer::start("write");
        match &$store.pool {
            $crate::store::Pool::Sqlite { write: $pool, .. } => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    }};
}
pub(crate) use on_writer;

/// A transaction that writes. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so two writers never both read and then fail to
/// upgrade; on Postgres it is a plain READ COMMITTED transaction, and the
/// counter row's `UPDATE … RETURNING` is what orders writers of one room.
trait WritePool {
    type Db: sqlx::Database;
    type Batch: BatchWrite<Db = Self::Db>;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
    /// The write transaction of a batch of messages ([`BatchWrite`]).
    async fn begin_batch(&self) -> Result<Self::Batch, sqlx::Error>;
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    type Batch = SqliteBatch;
    /// Begun on a task of its own, which a dropped caller cannot stop:
    /// sqlx 0.8.6 checks a custom `BEGIN` after the connection has run it,
    /// and a future dropped at that await leaves the writer's one
    /// connection inside a transaction nothing will end, so every later
    /// write failed (`InvalidSavePointStatement`) until a restart
    /// (`tests/cancelled_writes.rs`). Here the begun transaction always
    /// reaches a `Transaction`, whose drop rolls it back.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        let pool = self.clone();
        tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await })
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
    }
    async fn begin_batch(&self) -> Result<SqliteBatch, sqlx::Error> {
        Ok(SqliteBatch { conn: self.acquire().await?, closed: false })
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    type Batch = Transaction<'static, Postgres>;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
    async fn begin_batch(&self) -> Result<Self::Batch, sqlx::Error> {
        self.begin().await
    }
}

/// A batch of messages' write transaction, in as few round trips as the
/// backend allows. On Postgres it is an ordinary transaction. On SQLite,
/// where each call is a round trip to the connection's thread (a wake-up of
/// another thread, about 60 µs here, most of a lone message's write:
/// `docs/benchmarks.md`), the `BEGIN IMMEDIATE` goes in the text of the
/// batch's first statement ([`Self::BEGIN`]) and the `COMMIT` in its last
/// ([`Self::COMMIT`]), so the batch is two calls, not four. sqlx does not
/// see that transaction, so it cannot roll it back: a batch that fails or
/// is dropped before it commits closes its connection instead, and closing
/// rolls back what it had begun (the pool opens another).
pub(super) trait BatchWrite {
    type Db: sqlx::Database;
    /// Goes before the batch's first statement.
    const BEGIN: &'static str;
    /// Goes after the batch's last statement.
    const COMMIT: &'static str;
    /// The connection to run the batch's statements on.
    fn conn(&mut self) -> &mut <Self::Db as sqlx::Database>::Connection;
    /// Commits, unless the last statement's text did already
    /// (`committed`).
    async fn finish(self, committed: bool) -> Result<(), sqlx::Error>;
}

impl BatchWrite for Transaction<'static, Postgres> {
    type Db = Postgres;
    const BEGIN: &'static str = "";
    const COMMIT: &'static str = "";
    fn conn(&mut self) -> &mut PgConnection {
        self
    }
    async fn finish(self, _committed: bool) -> Result<(), sqlx::Error> {
        self.commit().await
    }
}

/// [`BatchWrite`] on SQLite: the writer's connection, closed when dropped
/// unless the batch committed.
pub(super) struct SqliteBatch {
    conn: sqlx::pool::PoolConnection<Sqlite>,
    closed: bool,
}

impl BatchWrite for SqliteBatch {
    type Db = Sqlite;
    const BEGIN: &'static str = "BEGIN IMMEDIATE;\n";
    const COMMIT: &'static str = ";\nCOMMIT";
    fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }
    async fn finish(mut self, committed: bool) -> Result<(), sqlx::Error> {
        if !committed {
            sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        }
        self.closed = true;
        Ok(())
    }
}

impl Drop for SqliteBatch {
    fn drop(&mut self) {
        if !self.closed {
            // Perhaps inside a transaction sqlx does not know of: closing
            // the connection rolls it back; returning it to the pool would
            // leave the next writer inside it.
            self.conn.close_on_drop();
        }
    }
}

/// Why [`Store::open`] failed, in one line.
#[derive(Debug)]
pub struct OpenError(String);

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpenError {}

impl OpenError {
    fn connect(url: &str, err: sqlx::Error) -> Self {
        let why = match &err {
            sqlx::Error::Configuration(why) => format!("invalid database URL {url}: {why}"),
            sqlx::Error::Io(why) => format!("cannot reach the database at {url}: {why}"),
            sqlx::Error::Database(why) => {
                format!(
                    "the database at {url} refused the connection: {}{}",
                    why.message(),
                    stale_wal_hint(url, why.message())
                )
            }
            other => format!("cannot open the database at {url}: {other}"),
        };
        Self(one_line(&why))
    }

    fn migrate(url: &str, err: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError;
        let why = match &err {
            MigrateError::VersionMissing(version) => format!(
                "the database at {url} was migrated by a newer Hearth (it has migration {version}, \
                 which this version does not know): run that Hearth or a newer one"
            ),
            MigrateError::VersionMismatch(version) => format!(
                "migration {version} in the database at {url} differs from this Hearth's own: \
                 the database belongs to a different build"
            ),
            other => format!("cannot migrate the database at {url}: {other}"),
        };
        Self(one_line(&why))
    }
}

/// For a SQLite file that reads as damaged while a `-wal` file lies beside
/// it: the usual cause is a database file restored or copied in over one
/// whose write-ahead log was left behind (a server killed, then a backup
/// put in its place), which SQLite then replays into the wrong file.
fn stale_wal_hint(url: &str, message: &str) -> String {
    let Some(file) = serving::sqlite_file(url) else { return String::new() };
    let wal = serving::beside(&file, "-wal");
    if !message.contains("malformed") || !wal.exists() {
        return String::new();
    }
    format!(
        ". If {} was restored or copied in, the {} beside it is from the database before: with no server \
         running, move it and the -shm file away (not the database), then start again; `hearth restore` \
         does this for you (docs/operations.md)",
        file.display(),
        wal.display()
    )
}

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Errors from drivers may span lines; the CLI prints one.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let shown = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(path) => format!("{scheme}://{shown}/{path}"),
        None => format!("{scheme}://{shown}"),
    }
}

impl Backend {
    /// The backend a database URL names, by its scheme. Without one (a file
    /// path, or `sqlite::memory:`) it is SQLite, as it always was.
    pub fn of_url(url: &str) -> Result<Self, sqlx::Error> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            None | Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            Some(scheme) => Err(sqlx::Error::Configuration(
                format!("unsupported database URL scheme {scheme:?}: use sqlite://… or postgres://…").into(),
            )),
        }
    }
}

/// Ids are 64-bit integers on both databases; these let them bind and
/// decode as themselves.
macro_rules! integer_id {
    ($($id:ty),*) => {$(
        integer_id!(@on sqlx::Sqlite, $id, Vec<sqlx::sqlite::SqliteArgumentValue<'q>>);
        integer_id!(@on sqlx::Postgres, $id, sqlx::postgres::PgArgumentBuffer);
    )*};
    (@on $db:ty, $id:ty, $buf:ty) => {
        impl sqlx::Type<$db> for $id {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <i64 as sqlx::Type<$db>>::type_info()
            }
        }

        impl<'r> sqlx::Decode<'r, $db> for $id {
            fn decode(value: <$db as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<$db>>::decode(value).map(Self)
            }
        }

        impl<'q> sqlx::Encode<'q, $db> for $id {
            fn encode_by_ref(&self, buf: &mut $buf) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<$db>>::encode_by_ref(&self.0, buf)
            }
        }
    };
}

integer_id!(crate::model::UserId, crate::model::RoomId);

/// Now, as stored: ISO 8601 UTC with fixed microseconds, so text order is
/// time order.
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Reads any RFC 3339 time (with any offset) into the stored form, or `None`
/// when it is not one or falls outside the years 0000 to 9999 in UTC (the
/// stored form's four-digit years; converting past 9999 would panic).
pub fn parse_time(raw: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()?;
    let utc = t.checked_to_offset(time::UtcOffset::UTC)?;
    (0..=9999).contains(&utc.year()).then(|| format_time(utc))
}

/// The instant one microsecond after a stored time (for strictly increasing
/// stamps within a room).
pub(crate) fn after_micro(stored: &str) -> Option<String> {
    time::OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| format_time(t + time::Duration::microseconds(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_sqlite_file_beside_a_wal_names_the_stale_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/hearth.db", dir.path().display());
        let malformed = "database disk image is malformed";
        assert_eq!(stale_wal_hint(&url, malformed), "", "no -wal beside it");
        std::fs::write(dir.path().join("hearth.db-wal"), b"old").expect("write");
        let hint = stale_wal_hint(&url, malformed);
        assert!(hint.contains("hearth.db-wal beside it is from the database before"), "{hint}");
        assert_eq!(stale_wal_hint(&url, "database is locked"), "", "only for a damaged file");
        assert_eq!(stale_wal_hint("postgres://h@localhost/hearth", malformed), "");
    }

    #[test]
    fn stored_times_have_fixed_width_and_parse_any_offset() {
        assert_eq!(parse_time("2024-05-01T12:00:00+02:00").expect("a valid test time"), "2024-05-01T10:00:00.000000Z");
        assert_eq!(parse_time("2024-05-01T10:00:00.5Z").expect("a valid test time"), "2024-05-01T10:00:00.500000Z");
        assert_eq!(
            after_micro("2024-05-01T10:00:00.999999Z").expect("a valid test time"),
            "2024-05-01T10:00:01.000000Z"
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn times_outside_four_digit_utc_years_are_refused_instead_of_panicking() {
        // Found by fuzzing: the last instant of 9999 west of UTC is in 10000
        // once in UTC, where `to_offset` panicked.
        assert_eq!(parse_time("9999-12-31T23:59:59.9999-23:29"), None);
        assert_eq!(parse_time("9999-12-31T23:59:59-00:01"), None);
        // Year -1 in UTC would be stored as "-001-…", out of text order.
        assert_eq!(parse_time("0000-01-01T00:00:00+00:01"), None);
        assert_eq!(
            parse_time("9999-12-31T23:59:59.999999Z").expect("a valid test time"),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(parse_time("0000-01-01T00:00:00Z").expect("a valid test time"), "0000-01-01T00:00:00.000000Z");
        assert_eq!(now().len(), "2024-05-01T10:00:00.000000Z".len());
    }

    /// A batch's SQLite transaction is begun and committed in its
    /// statements' text, where sqlx cannot see it: one that stops before its
    /// commit (an error, or its future dropped) must not leave the writer's
    /// connection inside it.
    #[tokio::test]
    async fn a_sqlite_batch_that_stops_before_its_commit_leaves_nothing_open_and_nothing_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("batch.db");
        let store = Store::open(&format!("sqlite://{}", path.display())).await.expect("open");
        let Pool::Sqlite { write, .. } = &store.pool else { unreachable!("a SQLite store") };
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(write).await.expect("create");
        let count = || async { sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM t").fetch_one(write).await };

        // Begun and written, then dropped before the commit.
        let mut batch = write.begin_batch().await.expect("begin");
        let sql = format!("{}INSERT INTO t VALUES (1)", SqliteBatch::BEGIN);
        sqlx::query(&sql).execute(batch.conn()).await.expect("insert");
        drop(batch);
        // The next writer is not inside that transaction (its own BEGIN
        // would fail), and the row is gone with it.
        let mut tx = write.begin_write().await.expect("the next writer begins");
        sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        assert_eq!(count().await.expect("count").0, 1);

        // A batch whose text commits, and one committed by `finish`.
        let mut batch = write.begin_batch().await.expect("begin");
        let sql = format!("{}INSERT INTO t VALUES (3){}", SqliteBatch::BEGIN, SqliteBatch::COMMIT);
        sqlx::query(&sql).execute(batch.conn()).await.expect("insert and commit");
        batch.finish(true).await.expect("finish");
        let mut batch = write.begin_batch().await.expect("begin");
        let sql = format!("{}INSERT INTO t VALUES (4)", SqliteBatch::BEGIN);
        sqlx::query(&sql).execute(batch.conn()).await.expect("insert");
        batch.finish(false).await.expect("commit");
        assert_eq!(count().await.expect("count").0, 3);
        let mut tx = write.begin_write().await.expect("the next writer begins");
        sqlx::query("INSERT INTO t VALUES (5)").execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        assert_eq!(count().await.expect("count").0, 4);
    }

    #[tokio::test]
    async fn sqlite_checkpoints_run_beside_the_writer_not_in_its_commits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checkpoints.db");
        let store = Store::open(&format!("sqlite://{}", path.display())).await.expect("open");
        let Pool::Sqlite { write, .. } = &store.pool else { unreachable!("a SQLite store") };
        let (automatic,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint").fetch_one(write).await.expect("pragma");
        assert_eq!(automatic, 0, "the writer leaves checkpoints to the task");
        // About 4 MB into the WAL, in one commit.
        let before = std::fs::metadata(&path).expect("the database file").len();
        filler(write, 1000).await;
        // Only a checkpoint moves those pages into the database file, and the
        // writer runs none: the task must.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = std::fs::metadata(&path).expect("the database file").len();
            if now >= before + 4_000_000 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint within 10 s: {before} -> {now} bytes");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A table `filler` of `rows` random 4 KiB blobs, written in one commit.
    async fn filler(write: &SqlitePool, rows: u32) {
        sqlx::query("CREATE TABLE filler (b BLOB)").execute(write).await.expect("create");
        sqlx::query(
            "INSERT INTO filler WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
             SELECT randomblob(4096) FROM n",
        )
        .bind(rows)
        .execute(write)
        .await
        .expect("insert");
    }

    /// Under writes with no pause between them a passive checkpoint never
    /// lets the WAL start again, and it grew without end (1.5 GB in a minute
    /// of the posting benchmark). The writer must restart it, and the file
    /// must be cut back once writing stops.
    #[tokio::test]
    async fn sqlite_wal_restarts_under_nonstop_writes_and_is_cut_back_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wal.db");
        let wal = dir.path().join("wal.db-wal");
        // A small limit, so that a few seconds of writes pass it many times.
        let limit = 1024 * 1024;
        let options = StoreOptions { sqlite_wal_limit: limit, ..StoreOptions::default() };
        let store = Store::open_with(&format!("sqlite://{}", path.display()), options).await.expect("open");
        let Pool::Sqlite { write, .. } = &store.pool else { unreachable!("a SQLite store") };
        filler(write, 16).await;
        // The WAL header's checkpoint sequence number (bytes 12..16, big
        // endian) goes up each time the log restarts from its beginning.
        let sequence = || {
            use std::io::Read;
            let mut header = [0u8; 16];
            std::fs::File::open(&wal).and_then(|mut file| file.read_exact(&mut header)).expect("the WAL header");
            u32::from_be_bytes([header[12], header[13], header[14], header[15]])
        };
        // Each commit rewrites 16 blobs: about 70 KB of frames. Write with no
        // pause until the log has restarted three times, or for 20 s: a
        // checkpoint every 500 ms finds the limit passed each time.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let (mut restarts, mut last, mut written, mut peak) = (0u32, sequence(), 0u64, 0u64);
        while restarts < 3 && std::time::Instant::now() < deadline {
            sqlx::query("UPDATE filler SET b = randomblob(4096)").execute(write).await.expect("update");
            written += 16 * SQLITE_PAGE_BYTES;
            peak = peak.max(std::fs::metadata(&wal).expect("the WAL file").len());
            let now = sequence();
            if now != last {
                restarts += 1;
                last = now;
            }
        }
        assert!(
            restarts >= 3,
            "the WAL restarted {restarts} times in {written} bytes of writes; it reached {peak} bytes"
        );
        // Once writing stops, a checkpoint copies the rest back and the next
        // commit starts the log again, cutting the file to the limit.
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        sqlx::query("UPDATE filler SET b = randomblob(4096)").execute(write).await.expect("update");
        let size = std::fs::metadata(&wal).expect("the WAL file").len();
        assert!(size <= limit, "the WAL is {size} bytes after writing stopped");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_password("postgres://hearth:s3cret@db:5432/hearth"), "postgres://hearth:***@db:5432/hearth");
        assert_eq!(redact_password("postgres://hearth@db/hearth"), "postgres://hearth@db/hearth");
        assert_eq!(redact_password("postgres://u:p@ss@db"), "postgres://u:***@db");
        assert_eq!(redact_password("sqlite://data/hearth.db"), "sqlite://data/hearth.db");
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }
}
