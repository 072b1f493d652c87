//! Online backup of a SQLite database (`VACUUM INTO`), and the durability
//! mode a SQLite store runs with.
//!
//! `VACUUM INTO` reads the database inside one read transaction and writes a
//! compacted copy of it to a new file: the copy is the database as it was at
//! one instant, and in WAL mode writers go on committing while it runs (they
//! are not blocked by a reader). Postgres has its own tools (`pg_dump`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Backend, Pool, Store, redact_password};

/// How a SQLite store commits: `synchronous=NORMAL` (the default) in WAL mode
/// survives a crash of the process but may lose the last transactions on a
/// power loss or an OS crash; `FULL` syncs the WAL at every commit and
/// survives those too, at some cost in write throughput.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    #[default]
    Normal,
    Full,
}

impl SqliteSynchronous {
    pub(super) fn to_sqlx(self) -> sqlx::sqlite::SqliteSynchronous {
        match self {
            Self::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
            Self::Full => sqlx::sqlite::SqliteSynchronous::Full,
        }
    }
}

impl FromStr for SqliteSynchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            other => Err(format!("unknown SQLite synchronous mode {other:?}: use NORMAL or FULL")),
        }
    }
}

/// How a store opens its database (the SQLite settings; Postgres ignores them).
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    pub sqlite_synchronous: SqliteSynchronous,
    /// How many bytes SQLite's WAL may reach before the writer restarts it
    /// from its beginning, and the size its file is cut back to then
    /// (`journal_size_limit`). 64 MiB by default: about a second of the
    /// heaviest posting measured here.
    pub sqlite_wal_limit: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { sqlite_synchronous: SqliteSynchronous::default(), sqlite_wal_limit: 64 * 1024 * 1024 }
    }
}

/// The durability settings a SQLite connection of the pool reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteDurability {
    /// `PRAGMA journal_mode`: `wal`.
    pub journal_mode: String,
    /// `PRAGMA synchronous`: 1 is NORMAL, 2 is FULL.
    pub synchronous: i64,
}

impl Store {
    /// The journal mode and synchronous level in effect on one of the pool's
    /// connections; `None` on Postgres.
    pub async fn sqlite_durability(&self) -> Result<Option<SqliteDurability>, sqlx::Error> {
        // The writer: its commits are the ones the level applies to.
        let Pool::Sqlite { write: pool, .. } = &self.pool else { return Ok(None) };
        let mut conn = pool.acquire().await?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await?;
        Ok(Some(SqliteDurability { journal_mode, synchronous }))
    }
}

/// Why a backup was not made, in one line.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file; choose a new name or move the old one away")]
    Exists(String),
    #[error(
        "hearth backup copies SQLite databases; this one is on Postgres ({0}): use pg_dump, for example \
         `pg_dump --format=custom --file=hearth.dump \"$DATABASE_URL\"` (restore with pg_restore)"
    )]
    Postgres(String),
    #[error("no SQLite database at {0}")]
    Missing(String),
    #[error("backing up {from} to {to} failed: {why}")]
    Failed { from: String, to: String, why: String },
}

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    /// The size of the snapshot file, in bytes.
    pub bytes: u64,
}

/// Writes a consistent snapshot of the SQLite database at `url` to the new
/// file `to` with `VACUUM INTO`, while servers on that database go on
/// writing. Refuses an existing `to`, a database that does not exist, and
/// Postgres (whose tool is `pg_dump`). The snapshot is an ordinary SQLite
/// database (journal mode DELETE): point `DATABASE_URL` at it, or copy it
/// into the data directory as `hearth.db`, to restore.
pub async fn backup_sqlite(url: &str, to: &Path) -> Result<BackupReport, BackupError> {
    let shown = redact_password(url);
    let target = to.display().to_string();
    let failed =
        |why: String| BackupError::Failed { from: shown.clone(), to: target.clone(), why: super::one_line(&why) };
    match Backend::of_url(url).map_err(|e| failed(e.to_string()))? {
        Backend::Postgres => return Err(BackupError::Postgres(shown)),
        Backend::Sqlite => {}
    }
    // SQLite would read `file:…` as a URI and write elsewhere than named.
    if to.to_string_lossy().starts_with("file:") {
        return Err(failed("give the snapshot's path, not a file: URI".into()));
    }
    if to.exists() {
        return Err(BackupError::Exists(target));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| failed(e.to_string()))?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .disable_statement_logging();
    if !options.get_filename().exists() {
        return Err(BackupError::Missing(shown));
    }
    let mut conn = options.connect().await.map_err(|e| failed(e.to_string()))?;
    // The snapshot holds every account's data and the live sessions: it is
    // created empty here, readable by this user only (and never over a file
    // that exists), and VACUUM INTO fills an empty file.
    private_new_file(to).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(target.clone()),
        _ => failed(e.to_string()),
    })?;
    let done = sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().into_owned()).execute(&mut conn).await;
    let _ = conn.close().await;
    if let Err(e) = done {
        // Nothing half-written is left behind.
        let _ = std::fs::remove_file(to);
        return Err(failed(e.to_string()));
    }
    let bytes = std::fs::metadata(to).map_err(|e| failed(e.to_string()))?.len();
    Ok(BackupReport { bytes })
}

/// Creates `path`, which must not exist, empty and readable and writable by
/// this user only (on Unix; elsewhere with the default permissions): for
/// files that will hold every password hash, as a backup does.
pub fn private_new_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// The database file now in place.
    pub database: std::path::PathBuf,
    /// The files that were there before (the database, its `-wal` and
    /// `-shm`), moved aside under a `.before-restore-<time>` suffix.
    pub moved_aside: Vec<std::path::PathBuf>,
}

/// Puts the snapshot `from` in place as the SQLite database at `url`, with
/// no server on it: the files there before (`hearth.db`, and its `-wal` and
/// `-shm`, whose stale log SQLite would otherwise replay into the restored
/// file) are moved aside, never deleted; the snapshot is checked first
/// (`PRAGMA quick_check`, and Hearth's migrations table) and copied in
/// through a temporary file, readable by its owner only.
pub async fn restore_sqlite(url: &str, from: &Path) -> Result<RestoreReport, String> {
    let shown = redact_password(url);
    if !matches!(Backend::of_url(url), Ok(Backend::Sqlite)) {
        return Err(format!(
            "hearth restore puts back SQLite snapshots; this database is {shown}: use pg_restore on Postgres"
        ));
    }
    let Some(database) = super::serving::sqlite_file(url) else {
        return Err(format!("{shown} names no database file"));
    };
    if !from.is_file() {
        return Err(format!("there is no snapshot at {}", from.display()));
    }
    check_snapshot(from).await?;
    // No server may be using the database while its file is swapped.
    let _marker = match super::serve_marker(url, false).await {
        super::Serving::Shared(lock) => {
            return Err(format!("a server is using {} ({lock} is held): stop it first", database.display()));
        }
        super::Serving::Alone(marker) => Some(marker),
        super::Serving::Unknown => None,
    };
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let with = |suffix: &str| super::serving::beside(&database, suffix);
    // Copied in beside it first, so the database is never half a file.
    let incoming = with(".restoring");
    let _ = std::fs::remove_file(&incoming);
    private_new_file(&incoming).map_err(|e| format!("cannot create {}: {e}", incoming.display()))?;
    if let Err(e) = std::fs::copy(from, &incoming).and_then(|_| std::fs::File::open(&incoming)?.sync_all()) {
        let _ = std::fs::remove_file(&incoming);
        return Err(format!("copying {} to {} failed: {e}", from.display(), incoming.display()));
    }
    let mut moved_aside = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let old = with(suffix);
        if old.exists() {
            let aside = with(&format!("{suffix}.before-restore-{stamp}"));
            std::fs::rename(&old, &aside)
                .map_err(|e| format!("cannot move {} aside to {}: {e}", old.display(), aside.display()))?;
            moved_aside.push(aside);
        }
    }
    std::fs::rename(&incoming, &database)
        .map_err(|e| format!("cannot put {} in place as {}: {e}", incoming.display(), database.display()))?;
    Ok(RestoreReport { database, moved_aside })
}

/// A snapshot SQLite reads as whole, of a Hearth database.
async fn check_snapshot(from: &Path) -> Result<(), String> {
    let bad =
        |why: String| format!("{} is not a Hearth snapshot SQLite can read: {}", from.display(), super::one_line(&why));
    let options =
        SqliteConnectOptions::new().filename(from).read_only(true).create_if_missing(false).disable_statement_logging();
    let mut conn = options.connect().await.map_err(|e| bad(e.to_string()))?;
    let checked: String =
        sqlx::query_scalar("PRAGMA quick_check").fetch_one(&mut conn).await.map_err(|e| bad(e.to_string()))?;
    if checked != "ok" {
        return Err(bad(checked));
    }
    let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = '_sqlx_migrations'")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let _ = conn.close().await;
    if migrated == 0 {
        return Err(bad("it has no Hearth migrations".into()));
    }
    Ok(())
}
