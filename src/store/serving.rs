//! Whether another `hearth serve` is already using a SQLite database. Several
//! instances on one database need Postgres and NATS between them (each tells
//! the others what it writes); two on one SQLite file without that each
//! serve, but a socket on one never hears what is posted through the other.
//! A serving instance holds a lock on a file beside the database for as long
//! as it serves; one that finds it held warns.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

use super::Backend;

/// The lock a serving instance holds on its SQLite database's
/// `<file>.serve-lock` until dropped.
#[derive(Debug)]
pub struct ServeMarker {
    _file: File,
}

/// What [`serve_marker`] found.
#[derive(Debug)]
pub enum Serving {
    /// This is the only instance serving the database; hold on to it.
    Alone(ServeMarker),
    /// Another process serves the same SQLite file (the path of its lock).
    Shared(PathBuf),
    /// Postgres, an in-memory database, or a lock file that cannot be made:
    /// nothing to say.
    Unknown,
}

/// Marks the database at `url` as served by this process.
pub fn serve_marker(url: &str) -> Serving {
    if !matches!(Backend::of_url(url), Ok(Backend::Sqlite)) {
        return Serving::Unknown;
    }
    let Ok(options) = SqliteConnectOptions::from_str(url) else { return Serving::Unknown };
    let database = options.get_filename();
    if database.as_os_str().is_empty() || database.to_string_lossy().contains(":memory:") {
        return Serving::Unknown;
    }
    let mut lock = database.as_os_str().to_owned();
    lock.push(".serve-lock");
    let lock = PathBuf::from(lock);
    let Ok(file) = OpenOptions::new().create(true).truncate(false).write(true).open(&lock) else {
        return Serving::Unknown;
    };
    match file.try_lock() {
        Ok(()) => Serving::Alone(ServeMarker { _file: file }),
        Err(TryLockError::WouldBlock) => Serving::Shared(lock),
        Err(TryLockError::Error(_)) => Serving::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_server_on_one_sqlite_file_finds_it_served_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/hearth.db", dir.path().display());
        let first = serve_marker(&url);
        assert!(matches!(first, Serving::Alone(_)), "{first:?}");
        assert!(matches!(serve_marker(&url), Serving::Shared(path) if path.ends_with("hearth.db.serve-lock")));
        drop(first);
        assert!(matches!(serve_marker(&url), Serving::Alone(_)));
        assert!(matches!(serve_marker("postgres://h@127.0.0.1/h"), Serving::Unknown));
    }
}
