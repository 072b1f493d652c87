//! Whether another `hearth serve` is already using the same database.
//! Several instances on one database need Postgres and NATS between them
//! (each tells the others what it writes); two without NATS each serve, but
//! a socket on one never hears what is posted through the other. A serving
//! instance holds a lock for as long as it serves, and one that finds it
//! held in a way that means that warns:
//! - on SQLite, a lock on a file beside the database (`<file>.serve-lock`);
//! - on Postgres, an advisory lock on a connection of its own: shared by the
//!   instances with NATS, exclusive for one without, so that an instance
//!   without NATS and any other on the same database find each other.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::Backend;

/// The advisory lock serving instances hold on a Postgres database.
const SERVING_LOCK: i64 = 7_234_617_280_561_842_003;

/// What a serving instance holds until it is dropped or released.
#[derive(Debug)]
pub struct ServeMarker {
    held: Held,
}

#[derive(Debug)]
enum Held {
    File(#[allow(dead_code)] File),
    Postgres(PgConnection),
}

impl ServeMarker {
    /// Lets go at once (dropping it does too, when the database notices).
    pub async fn release(self) {
        if let Held::Postgres(mut conn) = self.held {
            let _ = sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut conn).await;
            let _ = conn.close().await;
        }
    }
}

/// What [`serve_marker`] found.
#[derive(Debug)]
pub enum Serving {
    /// No instance serves the database in a way this one cannot share;
    /// hold on to it while serving.
    Alone(ServeMarker),
    /// Another instance serves it, and they do not share live changes: what
    /// the held lock is (a file, or the database).
    Shared(String),
    /// An in-memory database, or a lock that cannot be taken: nothing to say.
    Unknown,
}

/// Marks the database at `url` as served by this process, which shares live
/// changes with the others (`with_bus`) or not.
pub async fn serve_marker(url: &str, with_bus: bool) -> Serving {
    match Backend::of_url(url) {
        Ok(Backend::Sqlite) => sqlite_marker(url),
        Ok(Backend::Postgres) => postgres_marker(url, with_bus).await,
        Err(_) => Serving::Unknown,
    }
}

/// The file a `sqlite:` URL names, as SQLite reads the URL; `None` for
/// another backend, an in-memory database or a URL SQLite refuses.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !matches!(Backend::of_url(url), Ok(Backend::Sqlite)) {
        return None;
    }
    let database = SqliteConnectOptions::from_str(url).ok()?.get_filename().to_path_buf();
    // sqlx names `sqlite::memory:` a shared in-memory file of its own.
    let in_memory = database.as_os_str().is_empty()
        || database.to_string_lossy().contains(":memory:")
        || url.contains(":memory:")
        || url.contains("mode=memory");
    (!in_memory).then_some(database)
}

/// The file named `path` followed by `suffix`, beside it: SQLite's
/// `hearth.db-wal` and `-shm`, Hearth's `.serve-lock`.
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sqlite_marker(url: &str) -> Serving {
    let Some(database) = sqlite_file(url) else { return Serving::Unknown };
    let lock = beside(&database, ".serve-lock");
    let Ok(file) = OpenOptions::new().create(true).truncate(false).write(true).open(&lock) else {
        return Serving::Unknown;
    };
    match file.try_lock() {
        Ok(()) => Serving::Alone(ServeMarker { held: Held::File(file) }),
        Err(TryLockError::WouldBlock) => Serving::Shared(lock.display().to_string()),
        Err(TryLockError::Error(_)) => Serving::Unknown,
    }
}

async fn postgres_marker(url: &str, with_bus: bool) -> Serving {
    let Ok(options) = PgConnectOptions::from_str(url) else { return Serving::Unknown };
    let Ok(mut conn) = PgConnection::connect_with(&options.disable_statement_logging()).await else {
        return Serving::Unknown;
    };
    let sql = if with_bus { "SELECT pg_try_advisory_lock_shared($1)" } else { "SELECT pg_try_advisory_lock($1)" };
    match sqlx::query_scalar::<_, bool>(sql).bind(SERVING_LOCK).fetch_one(&mut conn).await {
        Ok(true) => Serving::Alone(ServeMarker { held: Held::Postgres(conn) }),
        Ok(false) => {
            let _ = conn.close().await;
            Serving::Shared(format!("advisory lock {SERVING_LOCK} on {}", super::redact_password(url)))
        }
        Err(_) => Serving::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_server_on_one_sqlite_file_finds_it_served_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/hearth.db", dir.path().display());
        let first = serve_marker(&url, false).await;
        assert!(matches!(first, Serving::Alone(_)), "{first:?}");
        let second = serve_marker(&url, false).await;
        assert!(matches!(&second, Serving::Shared(path) if path.ends_with("hearth.db.serve-lock")), "{second:?}");
        drop(first);
        assert!(matches!(serve_marker(&url, false).await, Serving::Alone(_)));
        assert!(matches!(serve_marker("mysql://h@127.0.0.1/h", false).await, Serving::Unknown));
    }
}
