//! The store: the only place SQL lives. Each query is a small named function
//! over the one pool; handlers, server functions and the hub never build SQL.
//!
//! The URL chooses the database: `sqlite://…` (the embedded default) or
//! `postgres://…`. Each has its own migrations (`migrations/sqlite/`,
//! `migrations/postgres/`, the same versions). So far only connecting,
//! migrating and `ping` work on Postgres: every query below still runs on
//! SQLite alone, through [`Store::sqlite`], and answers an error on Postgres
//! until it is written for both (issue 12).

mod applications;
mod copy;
mod messages;
mod rooms;
mod search;
mod sessions;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, SqlitePool};

pub use applications::{AppRow, ChatRow};
pub use copy::{CopyError, CopyReport, Side, TableCount, copy_data, redacted};
pub use messages::{Change, ChangeKind, HistoryQuery, InsertedMessage, MessageMeta};
pub use rooms::RoomRow;
pub use search::{HitRow, ScanRow, SearchScope};
pub use sessions::Sessions;
pub use users::NewUserRow;

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pool of one database or the other.
#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database: one pool, shared by clones.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url`: `sqlite://data/hearth.db` (created if
    /// missing) or `postgres://user@host/db` (which must exist). Any other
    /// scheme is refused with a message that names it.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let pool = match Backend::of_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    // WAL lets readers run while one writer writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Writers queue on the lock instead of failing at once.
                    .busy_timeout(Duration::from_secs(10));
                Pool::Sqlite(SqlitePoolOptions::new().max_connections(8).connect_with(options).await?)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                // One direct connection first: a wrong host, password or
                // database fails at once with its own message, where the
                // pool would retry until a timeout.
                PgConnection::connect_with(&options).await?.close().await?;
                Pool::Postgres(PgPoolOptions::new().max_connections(8).connect_lazy_with(options))
            }
        };
        Ok(Self { pool })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every migration of this backend (`migrations/sqlite/` or
    /// `migrations/postgres/`) not yet applied.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
        }
    }

    /// The SQLite pool, for crates that keep their own tables in the same
    /// database (the session store); `None` on Postgres.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The pool the queries of this module run on: SQLite only, for now. On
    /// Postgres each query fails with this error instead of running SQL
    /// written for SQLite.
    fn sqlite(&self) -> Result<&SqlitePool, sqlx::Error> {
        self.sqlite_pool().ok_or_else(|| {
            sqlx::Error::Configuration(
                "this query is not yet written for Postgres (issue 12); use a sqlite:// URL".into(),
            )
        })
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

/// Ids are SQLite integers; these let them bind and decode as themselves.
macro_rules! integer_id {
    ($($id:ty),*) => {$(
        impl sqlx::Type<sqlx::Sqlite> for $id {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <i64 as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $id {
            fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<sqlx::Sqlite>>::decode(value).map(Self)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $id {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
            }
        }
    )*};
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
fn after_micro(stored: &str) -> Option<String> {
    time::OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| format_time(t + time::Duration::microseconds(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_have_fixed_width_and_parse_any_offset() {
        assert_eq!(parse_time("2024-05-01T12:00:00+02:00").unwrap(), "2024-05-01T10:00:00.000000Z");
        assert_eq!(parse_time("2024-05-01T10:00:00.5Z").unwrap(), "2024-05-01T10:00:00.500000Z");
        assert_eq!(after_micro("2024-05-01T10:00:00.999999Z").unwrap(), "2024-05-01T10:00:01.000000Z");
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
        assert_eq!(parse_time("9999-12-31T23:59:59.999999Z").unwrap(), "9999-12-31T23:59:59.999999Z");
        assert_eq!(parse_time("0000-01-01T00:00:00Z").unwrap(), "0000-01-01T00:00:00.000000Z");
        assert_eq!(now().len(), "2024-05-01T10:00:00.000000Z".len());
    }
}
