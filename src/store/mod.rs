//! The store: the only place SQL lives. Each query is a small named function
//! over the one pool; handlers, server functions and the hub never build SQL.
//!
//! SQLite is the embedded default. The SQL here sticks to what SQLite and
//! Postgres share (expression indexes, `RETURNING`) so a Postgres store can
//! be added beside it.

mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use users::NewUserRow;

/// A handle to the database: one pool, shared by clones.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url`, e.g.
    /// `sqlite://data/hearth.db`.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers run while one writer writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Writers queue on the lock instead of failing at once.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { pool })
    }

    /// Applies every migration in `migrations/` not yet applied.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("./migrations").run(&self.pool).await
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// The pool, for crates that keep their own tables in the same database
    /// (the session store).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Ids are stored as SQLite integers.
impl sqlx::Type<sqlx::Sqlite> for crate::model::UserId {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <i64 as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for crate::model::UserId {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <i64 as sqlx::Decode<sqlx::Sqlite>>::decode(value).map(crate::model::UserId)
    }
}

