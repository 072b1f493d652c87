//! The session store (tower-sessions' sqlx stores) in the same database as
//! everything else. The server asks the store for it and never touches a
//! pool: the rows live in a `sessions` table on either backend.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Pool, Store};

/// Sessions on SQLite or Postgres, as the store's own database is.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// The Postgres advisory lock the session table's creation is made under.
const SESSIONS_MIGRATION_LOCK: i64 = 7_234_617_280_561_842_002;

impl Store {
    /// The session store on this database, its table created if missing.
    pub async fn sessions(&self) -> std::result::Result<Sessions, sqlx::Error> {
        let table = |err: String| sqlx::Error::Configuration(err.into());
        Ok(match &self.pool {
            // Sessions are written (sign-in, sign-out, expiry): the writer.
            Pool::Sqlite { write, .. } => {
                let sessions = SqliteStore::new(write.clone()).with_table_name("sessions").map_err(table)?;
                sessions.migrate().await?;
                Sessions::Sqlite(sessions)
            }
            Pool::Postgres(pool) => {
                let sessions = PostgresStore::new(pool.clone())
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name("sessions"))
                    .map_err(table)?;
                // Its `CREATE … IF NOT EXISTS` statements are not safe against
                // one another: two instances starting at once on a new
                // database could both create the table's type, and one
                // failed. One at a time, under a lock held by this connection.
                let mut held = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1)").bind(SESSIONS_MIGRATION_LOCK).execute(&mut *held).await?;
                let migrated = sessions.migrate().await;
                sqlx::query("SELECT pg_advisory_unlock($1)").bind(SESSIONS_MIGRATION_LOCK).execute(&mut *held).await?;
                migrated?;
                Sessions::Postgres(sessions)
            }
        })
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}
