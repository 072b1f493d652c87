//! Moving an instance to another database (`hearth copy-data`): every row of
//! every table, ids kept, from SQLite or Postgres to an empty SQLite or
//! Postgres database.
//!
//! - The source is read as of one moment: one read transaction on SQLite,
//!   `REPEATABLE READ, READ ONLY` on Postgres. Writes that start after the
//!   copy are not in it, so the source server should be stopped first.
//! - The target is migrated, then every write to it happens in ONE
//!   transaction, committed only once the check has passed. A copy that is
//!   interrupted (Ctrl-C, a crash, a kill) or fails its check leaves the
//!   target as empty as it was, ready for another try.
//! - Tables go in foreign-key order, in batches read by primary key (keyset,
//!   never OFFSET). On SQLite the FTS5 search table is filled by its own
//!   triggers as messages arrive; on Postgres each identity is moved past the
//!   largest copied id, so new rows get new ids.
//! - The check: the row count of every table on both sides, and each room's
//!   and application's counters, equal on both sides and, for rooms, equal
//!   to the newest message number and change seq.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite, Transaction};
use time::OffsetDateTime;

use super::{Backend, Store};

/// Rows read and written per statement: at most 10 columns × 1,000 binds,
/// well under SQLite's 32,766 and Postgres's 65,535.
const BATCH: usize = 1000;

/// What a column holds, for reading and binding it on either database.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Int,
    Text,
    Blob,
    /// The session store's expiry: RFC 3339 text in SQLite (what sqlx writes
    /// for an `OffsetDateTime`), `timestamptz` in Postgres.
    Time,
}

struct Table {
    name: &'static str,
    /// The primary key, the order batches are read in.
    key: &'static [&'static str],
    columns: &'static [(&'static str, Kind)],
    /// An identity id on Postgres, moved past the largest copied one.
    identity: bool,
}

use Kind::{Blob, Int, Text, Time};

/// Every table of the schema, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "users",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("username", Text),
            ("email", Text),
            ("password_hash", Text),
            ("name", Text),
            ("avatar_url", Text),
            ("created_at", Text),
            ("updated_at", Text),
            ("role", Text),
            ("deactivated_at", Text),
            ("session_epoch", Int),
            ("avatar_hash", Text),
            ("name_key", Text),
            ("notifications_paused_until", Text),
        ],
        identity: true,
    },
    Table {
        name: "applications",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("token", Text),
            ("name", Text),
            ("owner_id", Int),
            ("chats_count", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        identity: true,
    },
    Table {
        name: "rooms",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("title", Text),
            ("created_by", Int),
            ("direct_key", Text),
            ("last_number", Int),
            ("messages_count", Int),
            ("last_seq", Int),
            ("last_message_at", Text),
            ("created_at", Text),
            ("updated_at", Text),
            ("application_id", Int),
            ("chat_number", Int),
            ("topic", Text),
            ("archived_at", Text),
        ],
        identity: true,
    },
    Table {
        name: "memberships",
        key: &["room_id", "user_id"],
        columns: &[
            ("room_id", Int),
            ("user_id", Int),
            ("joined_at", Text),
            ("last_read_number", Int),
            ("own_count", Int),
            ("read_others", Int),
            ("notify_level", Text),
            ("closed_at", Text),
        ],
        identity: false,
    },
    Table {
        name: "messages",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("number", Int),
            ("user_id", Int),
            ("application_id", Int),
            ("body", Text),
            ("client_id", Text),
            ("created_at", Text),
            ("edited_at", Text),
            ("deleted_at", Text),
            ("reply_to", Int),
            ("reply_count", Int),
            ("mention_ids", Text),
            ("preview_url", Text),
            ("pinned_at", Text),
            ("pinned_by", Int),
        ],
        identity: true,
    },
    Table {
        name: "link_previews",
        key: &["url"],
        columns: &[("url", Text), ("title", Text), ("description", Text), ("site_name", Text), ("fetched_at", Text)],
        identity: false,
    },
    // Issue 16 (migration 0012): the blobs' records (their bytes stay in the
    // blob store, which both databases share) and the attachments.
    Table {
        name: "blobs",
        key: &["hash"],
        columns: &[("hash", Text), ("size", Int), ("created_at", Text)],
        identity: false,
    },
    Table {
        name: "attachments",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("room_id", Int),
            ("number", Int),
            ("uploader_id", Int),
            ("name", Text),
            ("content_type", Text),
            ("size", Int),
            ("blob_hash", Text),
            ("width", Int),
            ("height", Int),
            ("thumb_hash", Text),
            ("created_at", Text),
            ("position", Int),
        ],
        identity: true,
    },
    Table {
        name: "mentions",
        key: &["message_id", "user_id"],
        columns: &[("message_id", Int), ("user_id", Int), ("room_id", Int), ("number", Int)],
        identity: false,
    },
    Table {
        name: "room_events",
        key: &["room_id", "seq"],
        columns: &[("room_id", Int), ("seq", Int), ("kind", Text), ("number", Int)],
        identity: false,
    },
    Table {
        name: "reactions",
        key: &["room_id", "number", "emoji", "user_id"],
        columns: &[("room_id", Int), ("number", Int), ("emoji", Text), ("user_id", Int), ("created_at", Text)],
        identity: false,
    },
    // Edit history (migration 0025).
    Table {
        name: "message_edits",
        key: &["id"],
        columns: &[("id", Int), ("room_id", Int), ("number", Int), ("body", Text), ("written_at", Text)],
        identity: true,
    },
    // Saved messages (migration 0026).
    Table {
        name: "saved_messages",
        key: &["id"],
        columns: &[("id", Int), ("user_id", Int), ("room_id", Int), ("number", Int), ("saved_at", Text)],
        identity: true,
    },
    // Issue 18 (migration 0006).
    Table { name: "instance_settings", key: &["key"], columns: &[("key", Text), ("value", Text)], identity: false },
    Table {
        name: "invitations",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("token_hash", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("expires_at", Text),
            ("max_uses", Int),
            ("uses", Int),
            ("revoked_at", Text),
        ],
        identity: true,
    },
    Table {
        name: "password_resets",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("token_hash", Text),
            ("created_by", Int),
            ("created_at", Text),
            ("expires_at", Text),
            ("used_at", Text),
        ],
        identity: true,
    },
    Table {
        name: "audit_log",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("actor_id", Int),
            ("action", Text),
            ("target_user", Int),
            ("target_room", Int),
            ("target_number", Int),
            ("detail", Text),
            ("created_at", Text),
        ],
        identity: true,
    },
    Table {
        name: "push_keys",
        key: &["id"],
        columns: &[("id", Int), ("private_pkcs8", Text), ("public_key", Text), ("created_at", Text)],
        identity: false,
    },
    Table {
        name: "push_subscriptions",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("endpoint", Text),
            ("p256dh", Text),
            ("auth", Text),
            ("created_at", Text),
            ("session_id", Text),
        ],
        identity: true,
    },
    // Issue 17's push queue (migration 0010): jobs not yet sent go with the
    // data, and so does what was pushed (a later read withdraws it).
    // `push_viewing` (open tabs) does not: it describes running instances.
    Table {
        name: "push_jobs",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("kind", Text),
            ("room_id", Int),
            ("number", Int),
            ("user_id", Int),
            ("due_at", Text),
            ("lease_token", Text),
            ("leased_until", Text),
        ],
        identity: true,
    },
    Table {
        name: "push_sent",
        key: &["user_id", "room_id"],
        columns: &[("user_id", Int), ("room_id", Int), ("number", Int)],
        identity: false,
    },
    // tower-sessions-sqlx-store's table (created by migration 0019 as the
    // store would, and by `Store::sessions`); its ids are hashes of cookies.
    Table {
        name: "sessions",
        key: &["id"],
        columns: &[("id", Text), ("data", Blob), ("expiry_date", Time)],
        identity: false,
    },
    Table {
        name: "user_sessions",
        key: &["session_id"],
        columns: &[
            ("session_id", Text),
            ("public_id", Text),
            ("user_id", Int),
            ("user_agent", Text),
            ("created_at", Text),
            ("last_seen_at", Text),
        ],
        identity: false,
    },
    // The rooms new accounts join (migration 0014).
    Table { name: "default_rooms", key: &["room_id"], columns: &[("room_id", Int)], identity: false },
];

/// Tables of a migrated database that are not data of their own: sqlx's
/// bookkeeping, SQLite's search index and its mark, which the copy builds
/// again from the copied messages (`Store::index_search_backlog`), and the
/// tabs open on running instances (`push_viewing`), which expire.
fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("_sqlx")
        || table.starts_with("messages_fts")
        || table.starts_with("sqlite_")
        || table == "push_viewing"
        // A day's journal for the running instances (`Hearth::follow_the_log`).
        || table == "room_exits"
}

/// One column's value, as read from either database.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
    Time(Option<OffsetDateTime>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(Some(v)) => write!(f, "{v}"),
            Value::Text(Some(v)) => write!(f, "{v:?}"),
            Value::Blob(Some(v)) => write!(f, "<{} bytes>", v.len()),
            Value::Time(Some(v)) => write!(f, "{v}"),
            _ => f.write_str("NULL"),
        }
    }
}

/// Which end of the copy an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

/// Why a copy stopped. Each reads as one line; in every case nothing was
/// committed to the target.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("--from and --to name the same database")]
    SameDatabase,
    #[error("the {side} URL is not usable: {error}")]
    Url { side: Side, error: sqlx::Error },
    #[error("cannot open the {side} database: {error}")]
    Open { side: Side, error: sqlx::Error },
    #[error("there is no source database at {0}")]
    NoSource(String),
    #[error("the source database {0}")]
    SourceSchema(String),
    #[error("cannot open the target database: {0}")]
    OpenTarget(#[from] super::OpenError),
    #[error("copy-data does not know {0}: this build cannot copy that schema")]
    UnknownSchema(String),
    #[error("the target database is not empty ({}): copy-data only writes into an empty database", list_counts(.0))]
    NotEmpty(Vec<(&'static str, i64)>),
    #[error("{doing} on the {side} database failed: {error}")]
    Database { side: Side, doing: String, error: sqlx::Error },
    #[error("the check after copying found {} difference(s), so nothing was committed: {}", .0.len(), first_few(.0))]
    Mismatch(Vec<String>),
    #[error("the copy is committed, but indexing its messages for search failed ({0}); the first search indexes them")]
    Index(String),
}

fn first_few(problems: &[String]) -> String {
    let mut shown = problems.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
    if problems.len() > 5 {
        shown.push_str(&format!("; and {} more", problems.len() - 5));
    }
    shown
}

fn list_counts(counts: &[(&'static str, i64)]) -> String {
    let rows = |n: &i64| if *n == 1 { "row" } else { "rows" };
    counts.iter().map(|(table, n)| format!("{table}: {n} {}", rows(n))).collect::<Vec<_>>().join(", ")
}

/// One table's row count on each side, after the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub source: i64,
    pub target: i64,
}

/// What the check found: every table's rows on both sides, and how many
/// rooms and applications had their counters compared.
#[derive(Clone, Debug)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
    pub rooms_checked: usize,
    pub applications_checked: usize,
}

impl fmt::Display for CopyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<14}{:>12}{:>12}", "table", "source", "target")?;
        for t in &self.tables {
            writeln!(f, "{:<14}{:>12}{:>12}", t.table, t.source, t.target)?;
        }
        writeln!(
            f,
            "rooms: {} checked (last number and last seq equal to the newest message's and change's on both sides; counters, live messages and read markers equal)",
            self.rooms_checked
        )?;
        write!(f, "applications: {} checked (chat counters equal on both sides)", self.applications_checked)
    }
}

/// A read or write transaction on either database.
enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same tokens against either database's transaction: sqlx's API
/// is the same on both, and each arm type-checks on its own.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            Tx::Sqlite($conn) => $body,
            Tx::Postgres($conn) => $body,
        }
    };
}

/// `sql` with `binds` bound as `$1, $2…`, on whichever driver the caller's
/// `on_tx!` arm is for.
macro_rules! bound {
    ($sql:expr, $binds:expr) => {{
        let mut query = sqlx::query($sql);
        for value in $binds {
            query = match value.clone() {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Blob(v) => query.bind(v),
                Value::Time(v) => query.bind(v),
            };
        }
        query
    }};
}

impl Tx {
    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// `sql` with `binds` as `$1, $2…`, each row read as `columns`.
    async fn fetch(&mut self, sql: &str, binds: &[Value], columns: &[Kind]) -> Result<Vec<Vec<Value>>, sqlx::Error> {
        on_tx!(self, tx => {
            let query = bound!(sql, binds);
            let rows = query.fetch_all(&mut **tx).await?;
            rows.iter()
                .map(|row| {
                    columns
                        .iter()
                        .enumerate()
                        .map(|(i, kind)| {
                            Ok(match kind {
                                Kind::Int => Value::Int(row.try_get(i)?),
                                Kind::Text => Value::Text(row.try_get(i)?),
                                Kind::Blob => Value::Blob(row.try_get(i)?),
                                Kind::Time => Value::Time(row.try_get(i)?),
                            })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()
                })
                .collect()
        })
    }

    async fn count(&mut self, table: &str) -> Result<i64, sqlx::Error> {
        let rows = self.fetch(&format!("SELECT count(*) FROM {table}"), &[], &[Kind::Int]).await?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(Value::Int(Some(n))) => *n,
            _ => 0,
        })
    }

    async fn execute(&mut self, sql: &str, binds: &[Value]) -> Result<(), sqlx::Error> {
        on_tx!(self, tx => {
            let query = bound!(sql, binds);
            query.execute(&mut **tx).await.map(|_| ())
        })
    }

    /// One multi-row INSERT of `rows` (each in `table.columns` order).
    async fn insert(&mut self, table: &Table, rows: Vec<Vec<Value>>) -> Result<(), sqlx::Error> {
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let head = format!("INSERT INTO {} ({}) ", table.name, names.join(", "));
        on_tx!(self, tx => {
            let mut insert = QueryBuilder::new(head);
            insert.push_values(rows, |mut row, values| {
                for value in values {
                    match value {
                        Value::Int(v) => row.push_bind(v),
                        Value::Text(v) => row.push_bind(v),
                        Value::Blob(v) => row.push_bind(v),
                        Value::Time(v) => row.push_bind(v),
                    };
                }
            });
            insert.build().execute(&mut **tx).await.map(|_| ())
        })
    }

    /// Whether `table` exists (before migration 0019, the sessions table
    /// appeared only once a server had run on the database).
    async fn has_table(&mut self, table: &str) -> Result<bool, sqlx::Error> {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            Backend::Postgres => {
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name::text = $1"
            }
        };
        let rows = self.fetch(sql, &[Value::Text(Some(table.to_owned()))], &[Kind::Int]).await?;
        Ok(matches!(rows.first().and_then(|r| r.first()), Some(Value::Int(Some(n))) if *n > 0))
    }

    /// Every (table, column) of the schema, apart from bookkeeping tables.
    async fn columns(&mut self) -> Result<Vec<(String, String)>, sqlx::Error> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'"
            }
            Backend::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                  WHERE table_schema = current_schema()"
            }
        };
        let rows = self.fetch(sql, &[], &[Kind::Text, Kind::Text]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match (&row[0], &row[1]) {
                (Value::Text(Some(t)), Value::Text(Some(c))) if !is_bookkeeping(t) => Some((t.clone(), c.clone())),
                _ => None,
            })
            .collect())
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        on_tx!(self, tx => tx.commit().await)
    }
}

/// Copies everything in the database at `from` into the empty database at
/// `to` (migrated first), and checks the copy before committing it.
/// `progress(table, rows done, rows in the table)` is called as each table
/// starts and after each batch.
///
/// Dropping the returned future before it finishes (Ctrl-C) rolls the
/// target's transaction back: nothing is ever half-copied.
pub async fn copy_data(
    from: &str,
    to: &str,
    mut progress: impl FnMut(&'static str, u64, u64) + Send,
) -> Result<CopyReport, CopyError> {
    let source_backend = Backend::of_url(from).map_err(|error| CopyError::Url { side: Side::Source, error })?;
    Backend::of_url(to).map_err(|error| CopyError::Url { side: Side::Target, error })?;
    if from.trim() == to.trim() {
        return Err(CopyError::SameDatabase);
    }
    let db = |side: Side, doing: &str| {
        let doing = doing.to_owned();
        move |error| CopyError::Database { side, doing, error }
    };

    // The source: opened as it is (never created), then pinned to one moment.
    let source = open_source(from, source_backend).await?;
    let mut read = match &source.pool {
        super::Pool::Sqlite { read, .. } => {
            Tx::Sqlite(read.begin().await.map_err(db(Side::Source, "beginning a read"))?)
        }
        super::Pool::Postgres(pool) => Tx::Postgres(
            pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await
                .map_err(db(Side::Source, "beginning a read"))?,
        ),
    };
    // The first read fixes the snapshot (SQLite's read transaction starts there).
    check_source_schema(&mut read, source_backend).await?;

    // The target: created if missing, migrated, with the sessions table.
    let target = Store::open(to).await?;
    target.sessions().await.map_err(db(Side::Target, "creating the sessions table"))?;
    let mut write = match &target.pool {
        super::Pool::Sqlite { write: pool, .. } => Tx::Sqlite(
            // IMMEDIATE: the write lock now, so no one else writes meanwhile.
            pool.begin_with("BEGIN IMMEDIATE").await.map_err(db(Side::Target, "beginning the transaction"))?,
        ),
        super::Pool::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(db(Side::Target, "beginning the transaction"))?;
            // Writers to these tables wait for the copy (and a second copy
            // then finds the target full); a server left running on the
            // target makes this fail after 10 s instead of waiting forever.
            let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            let lock = format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", names.join(", "));
            sqlx::query("SET LOCAL lock_timeout = '10s'")
                .execute(&mut *tx)
                .await
                .map_err(db(Side::Target, "setting a lock timeout"))?;
            sqlx::query(&lock).execute(&mut *tx).await.map_err(db(Side::Target, "locking the tables"))?;
            Tx::Postgres(tx)
        }
    };
    check_target_schema(&mut write).await?;
    let mut full = Vec::new();
    for table in TABLES {
        let n = write.count(table.name).await.map_err(db(Side::Target, &format!("counting {}", table.name)))?;
        if n > 0 {
            full.push((table.name, n));
        }
    }
    if !full.is_empty() {
        return Err(CopyError::NotEmpty(full));
    }

    // How much there is, as of the snapshot.
    let mut totals = Vec::new();
    for table in TABLES {
        totals.push(source_count(&mut read, table.name).await?);
    }

    for (table, &total) in TABLES.iter().zip(&totals) {
        progress(table.name, 0, total as u64);
        if total == 0 {
            continue;
        }
        copy_table(&mut read, &mut write, table, total as u64, &mut progress).await?;
    }

    let report = check(&mut read, &mut write, &totals).await?;
    // Last, as setval is not undone by a rollback: new rows on Postgres get
    // ids after the copied ones.
    if write.backend() == Backend::Postgres {
        for table in TABLES.iter().filter(|t| t.identity) {
            let name = table.name;
            write
                .execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(max(id), 0) + 1, false) FROM {name}"
                    ),
                    &[],
                )
                .await
                .map_err(db(Side::Target, &format!("moving the identity of {name}")))?;
        }
    }

    write.commit().await.map_err(db(Side::Target, "committing"))?;
    // SQLite's search index takes the copied messages now, rather than at
    // the first search (`search_index`).
    target.index_search_backlog().await.map_err(|err| CopyError::Index(err.to_string()))?;
    drop(read);
    source.close().await;
    target.close().await;
    Ok(report)
}

async fn open_source(url: &str, backend: Backend) -> Result<Store, CopyError> {
    let bad_url = |error| CopyError::Url { side: Side::Source, error };
    let cannot_open = |error| CopyError::Open { side: Side::Source, error };
    let pool = match backend {
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(bad_url)?
                .create_if_missing(false)
                .busy_timeout(Duration::from_secs(10));
            let file = options.get_filename();
            if !file.exists() && !url.contains(":memory:") {
                return Err(CopyError::NoSource(file.display().to_string()));
            }
            // The copy only reads the source: one connection serves as both.
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.map_err(cannot_open)?;
            super::Pool::Sqlite { read: pool.clone(), write: pool }
        }
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(url).map_err(bad_url)?;
            super::Pool::Postgres(
                PgPoolOptions::new().max_connections(1).connect_with(options).await.map_err(cannot_open)?,
            )
        }
    };
    Ok(Store { pool, _checkpoints: None, search_index: None })
}

/// The source must hold this build's schema, every migration applied:
/// anything else would copy into columns that do not match.
async fn check_source_schema(read: &mut Tx, backend: Backend) -> Result<(), CopyError> {
    let schema_error = |e: sqlx::Error| CopyError::Database { side: Side::Source, doing: "reading".into(), error: e };
    if !read.has_table("_sqlx_migrations").await.map_err(schema_error)? {
        return Err(CopyError::SourceSchema(
            "has no Hearth schema (no migrations applied): is --from the right database?".into(),
        ));
    }
    let applied: Vec<i64> = read
        .fetch("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version", &[], &[Kind::Int])
        .await
        .map_err(schema_error)?
        .into_iter()
        .filter_map(|row| match row.first() {
            Some(Value::Int(Some(v))) => Some(*v),
            _ => None,
        })
        .collect();
    let known: Vec<i64> = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect(),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).collect(),
    };
    if let Some(unknown) = applied.iter().find(|v| !known.contains(v)) {
        return Err(CopyError::SourceSchema(format!(
            "has migration {unknown}, which this hearth does not know: copy with the hearth that last ran on it"
        )));
    }
    if let Some(missing) = known.iter().find(|v| !applied.contains(v)) {
        return Err(CopyError::SourceSchema(format!(
            "lacks migration {missing}: run `hearth migrate` on it with this hearth first"
        )));
    }
    Ok(())
}

/// After migrating, the target's tables and columns must be exactly the ones
/// this copy knows, so that a new migration cannot be copied in part.
async fn check_target_schema(write: &mut Tx) -> Result<(), CopyError> {
    let columns = write.columns().await.map_err(|error| CopyError::Database {
        side: Side::Target,
        doing: "reading the schema".into(),
        error,
    })?;
    for (table, column) in &columns {
        let known = TABLES.iter().find(|t| t.name == table).is_some_and(|t| t.columns.iter().any(|(c, _)| c == column));
        if !known {
            return Err(CopyError::UnknownSchema(format!("column {table}.{column}")));
        }
    }
    for table in TABLES {
        for (column, _) in table.columns {
            if !columns.iter().any(|(t, c)| t == table.name && c == column) {
                return Err(CopyError::UnknownSchema(format!("the schema without column {}.{column}", table.name)));
            }
        }
    }
    Ok(())
}

async fn source_count(read: &mut Tx, table: &str) -> Result<i64, CopyError> {
    let error = |error| CopyError::Database { side: Side::Source, doing: format!("counting {table}"), error };
    // A source that never served has no sessions table: nothing to copy.
    if table == "sessions" && !read.has_table(table).await.map_err(error)? {
        return Ok(0);
    }
    read.count(table).await.map_err(error)
}

/// Copies one table in batches of [`BATCH`] rows, in primary-key order.
async fn copy_table(
    read: &mut Tx,
    write: &mut Tx,
    table: &Table,
    total: u64,
    progress: &mut (impl FnMut(&'static str, u64, u64) + Send),
) -> Result<(), CopyError> {
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let kinds: Vec<Kind> = table.columns.iter().map(|(_, kind)| *kind).collect();
    let key_at: Vec<usize> =
        table.key.iter().map(|k| names.iter().position(|n| n == k).expect("the key is a column")).collect();
    let select = format!("SELECT {} FROM {}", names.join(", "), table.name);
    let order = format!("ORDER BY {} LIMIT {BATCH}", table.key.join(", "));
    let placeholders: Vec<String> = (1..=table.key.len()).map(|i| format!("${i}")).collect();
    let first = format!("{select} {order}");
    let next = format!("{select} WHERE ({}) > ({}) {order}", table.key.join(", "), placeholders.join(", "));

    let mut after: Option<Vec<Value>> = None;
    let mut done = 0u64;
    loop {
        let rows = match &after {
            None => read.fetch(&first, &[], &kinds).await,
            Some(key) => read.fetch(&next, key, &kinds).await,
        }
        .map_err(|error| CopyError::Database {
            side: Side::Source,
            doing: format!("reading {}", table.name),
            error,
        })?;
        let Some(last) = rows.last() else { break };
        let count = rows.len();
        after = Some(key_at.iter().map(|&i| last[i].clone()).collect());
        write.insert(table, rows).await.map_err(|error| CopyError::Database {
            side: Side::Target,
            doing: format!("writing {}", table.name),
            error,
        })?;
        done += count as u64;
        progress(table.name, done, total.max(done));
        if count < BATCH {
            break;
        }
    }
    Ok(())
}

/// Row counts of every table on both sides, and each room's and
/// application's counters; any difference is an error.
async fn check(read: &mut Tx, write: &mut Tx, source_totals: &[i64]) -> Result<CopyReport, CopyError> {
    let mut problems = Vec::new();
    let mut tables = Vec::new();
    for (table, &source) in TABLES.iter().zip(source_totals) {
        let target = write.count(table.name).await.map_err(|error| CopyError::Database {
            side: Side::Target,
            doing: format!("counting {}", table.name),
            error,
        })?;
        if source != target {
            problems.push(format!("{}: {source} rows in the source, {target} in the target", table.name));
        }
        tables.push(TableCount { table: table.name, source, target });
    }

    // Each room's counters, newest message and change, live messages and
    // read markers (their sum: a marker copied wrong moves it).
    let rooms_sql = "SELECT r.id, r.last_number, r.last_seq, r.messages_count, r.last_message_at,
            (SELECT max(m.number) FROM messages m WHERE m.room_id = r.id),
            (SELECT max(e.seq) FROM room_events e WHERE e.room_id = r.id),
            (SELECT count(*) FROM messages m WHERE m.room_id = r.id AND m.deleted_at IS NULL),
            (SELECT CAST(COALESCE(sum(s.last_read_number), 0) AS BIGINT) FROM memberships s WHERE s.room_id = r.id)
        FROM rooms r ORDER BY r.id";
    let room_columns = [
        ("id", Kind::Int),
        ("last number", Kind::Int),
        ("last seq", Kind::Int),
        ("messages count", Kind::Int),
        ("last message time", Kind::Text),
        ("newest message", Kind::Int),
        ("newest change", Kind::Int),
        ("live messages", Kind::Int),
        ("read markers' sum", Kind::Int),
    ];
    let rooms = compare(read, write, "room", rooms_sql, &room_columns, &mut problems).await?;
    for (side, rows) in [(Side::Source, &rooms.0), (Side::Target, &rooms.1)] {
        for row in rows {
            let number = |v: &Value| if let Value::Int(n) = v { n.unwrap_or(0) } else { 0 };
            let (room, last_number, last_seq, newest, newest_seq) =
                (&row[0], number(&row[1]), number(&row[2]), number(&row[5]), number(&row[6]));
            if last_number != newest {
                problems.push(format!(
                    "{side} room {room}: last number {last_number} but its newest message is number {newest}"
                ));
            }
            if last_seq != newest_seq {
                problems
                    .push(format!("{side} room {room}: last seq {last_seq} but its newest change is seq {newest_seq}"));
            }
        }
    }
    let apps_sql = "SELECT a.id, a.chats_count, (SELECT max(r.chat_number) FROM rooms r WHERE r.application_id = a.id)
        FROM applications a ORDER BY a.id";
    let app_columns = [("id", Kind::Int), ("chats count", Kind::Int), ("newest chat", Kind::Int)];
    let apps = compare(read, write, "application", apps_sql, &app_columns, &mut problems).await?;

    if !problems.is_empty() {
        return Err(CopyError::Mismatch(problems));
    }
    Ok(CopyReport { tables, rooms_checked: rooms.1.len(), applications_checked: apps.1.len() })
}

/// Runs `sql` on both sides and notes, for each row (by its first column,
/// the id), every other column that differs, by its name in `columns`.
async fn compare(
    read: &mut Tx,
    write: &mut Tx,
    what: &str,
    sql: &str,
    columns: &[(&str, Kind)],
    problems: &mut Vec<String>,
) -> Result<(Vec<Vec<Value>>, Vec<Vec<Value>>), CopyError> {
    let doing = format!("checking {what}s");
    let kinds: Vec<Kind> = columns.iter().map(|(_, kind)| *kind).collect();
    let source = read.fetch(sql, &[], &kinds).await.map_err(|error| CopyError::Database {
        side: Side::Source,
        doing: doing.clone(),
        error,
    })?;
    let target = write.fetch(sql, &[], &kinds).await.map_err(|error| CopyError::Database {
        side: Side::Target,
        doing,
        error,
    })?;
    if source.len() == target.len() {
        for (s, t) in source.iter().zip(&target) {
            for (i, (name, _)) in columns.iter().enumerate() {
                if s[i] != t[i] {
                    problems.push(format!("{what} {}: {name} {} in the source, {} in the target", s[0], s[i], t[i]));
                }
            }
        }
    }
    Ok((source, target))
}

impl Store {
    /// Closes the pool (used by the copy, which opens its own stores).
    async fn close(&self) {
        match &self.pool {
            super::Pool::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            super::Pool::Postgres(pool) => pool.close().await,
        }
    }
}
