//! Queries for account security (issue 18, part 5): the sessions a user
//! sees (`user_sessions`, beside the session store's own `sessions`) and the
//! email change.

use super::{Store, WritePool, now, on_pool, on_writer};
use crate::error::{AppError, ResultExt};
use crate::model::UserId;

/// One of a user's sessions as stored. `session_id` is the session store's
/// id: it never leaves the core.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSessionRow {
    pub session_id: String,
    pub public_id: String,
    pub user_agent: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
}

/// Longest user agent kept (a browser's is about 150 bytes).
const USER_AGENT_MAX: usize = 512;

/// At most [`USER_AGENT_MAX`] bytes, without NUL (which Postgres refuses).
fn clip_agent(ua: &str) -> String {
    let mut end = ua.len().min(USER_AGENT_MAX);
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    ua[..end].replace('\0', "")
}

impl Store {
    /// Records that `session_id` (named `public_id` in the API) is `user`'s
    /// and was seen now, from `user_agent` when known (a known one is kept
    /// when none is given).
    pub async fn touch_user_session(
        &self,
        session_id: &str,
        public_id: &str,
        user: UserId,
        user_agent: Option<&str>,
    ) -> Result<(), AppError> {
        let agent = user_agent.map(clip_agent);
        let sql = "INSERT INTO user_sessions (session_id, public_id, user_id, user_agent, created_at, last_seen_at)
                   VALUES ($1, $2, $3, $4, $5, $5)
                   ON CONFLICT (session_id) DO UPDATE SET
                       user_id = excluded.user_id,
                       last_seen_at = excluded.last_seen_at,
                       user_agent = coalesce(excluded.user_agent, user_sessions.user_agent)";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(session_id)
            .bind(public_id)
            .bind(user)
            .bind(agent)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Whether session `id` still exists: signing out, ending a session from
    /// the sessions list, a password change or reset and a deactivation all
    /// delete its row.
    pub async fn session_exists(&self, id: &str) -> Result<bool, AppError> {
        let sql = "SELECT 1 FROM sessions WHERE id = $1";
        let found: Option<(i32,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        Ok(found.is_some())
    }

    /// Drops the records of sessions the session store no longer has (they
    /// expired and were swept), so that what hangs on them (a device's push
    /// subscription) ends with them. A record younger than five minutes is
    /// left: its session may not be saved yet (the store writes it as the
    /// sign-in's answer goes out). Returns how many went.
    pub async fn forget_ended_user_sessions(&self) -> Result<u64, AppError> {
        let sql = "DELETE FROM user_sessions
                   WHERE last_seen_at < $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = user_sessions.session_id)";
        let cutoff = super::format_time(time::OffsetDateTime::now_utc() - time::Duration::minutes(5));
        Ok(on_writer!(self, pool => sqlx::query(sql).bind(cutoff).execute(pool).await?.rows_affected()))
    }

    /// Drops the record of a session that signed out (its row in `sessions`
    /// is gone already).
    pub async fn forget_user_session(&self, session_id: &str) -> Result<(), AppError> {
        let sql = "DELETE FROM user_sessions WHERE session_id = $1";
        on_writer!(self, pool => sqlx::query(sql).bind(session_id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Sets the user agent of a recorded session.
    pub async fn set_session_agent(&self, session_id: &str, user_agent: &str) -> Result<(), AppError> {
        let sql = "UPDATE user_sessions SET user_agent = $1 WHERE session_id = $2";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(clip_agent(user_agent))
            .bind(session_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// `user`'s sessions that still exist in the session store, the most
    /// recently seen first.
    pub async fn user_sessions(&self, user: UserId) -> Result<Vec<UserSessionRow>, AppError> {
        let sql = "SELECT u.session_id, u.public_id, u.user_agent, u.created_at, u.last_seen_at
                   FROM user_sessions u JOIN sessions s ON s.id = u.session_id
                   WHERE u.user_id = $1
                   ORDER BY u.last_seen_at DESC, u.public_id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(user).fetch_all(pool).await?))
    }

    /// Deletes `user`'s session named `public_id` from both tables, in one
    /// transaction; its session store id, or `None` when `user` has no such
    /// session.
    pub async fn end_user_session(&self, user: UserId, public_id: &str) -> Result<Option<String>, AppError> {
        let forget = "DELETE FROM user_sessions WHERE user_id = $1 AND public_id = $2 RETURNING session_id";
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let ended: Option<(String,)> =
                sqlx::query_as(forget).bind(user).bind(public_id).fetch_optional(&mut *tx).await?;
            if let Some((id,)) = &ended {
                sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(ended.map(|(id,)| id))
        })
    }

    /// Deletes every recorded session of `user` but `keep`, from both
    /// tables; their session store ids.
    pub async fn end_user_sessions_except(&self, user: UserId, keep: Option<&str>) -> Result<Vec<String>, AppError> {
        let end = "DELETE FROM sessions WHERE id IN (
                       SELECT session_id FROM user_sessions WHERE user_id = $1 AND session_id IS DISTINCT FROM $2)";
        let forget = "DELETE FROM user_sessions WHERE user_id = $1 AND session_id IS DISTINCT FROM $2
                      RETURNING session_id";
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(end).bind(user).bind(keep).execute(&mut *tx).await?;
            let ended: Vec<(String,)> = sqlx::query_as(forget).bind(user).bind(keep).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(ended.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Sets `user`'s email (already checked and lower-cased); 422 when
    /// someone has it.
    pub async fn set_email(&self, user: UserId, email: &str) -> Result<(), AppError> {
        let sql = "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3";
        let done = on_writer!(self, pool => sqlx::query(sql)
            .bind(email)
            .bind(now())
            .bind(user)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
            .on_unique(&[("email", "email", "Email has already been taken")]))?;
        if done == 0 {
            return Err(AppError::NotFound("user"));
        }
        Ok(())
    }

    /// The active account whose email is `email`.
    pub async fn active_user_by_email(&self, email: &str) -> Result<Option<UserId>, AppError> {
        if email.contains('\0') {
            return Ok(None);
        }
        let sql = "SELECT id FROM users WHERE email = $1 AND deactivated_at IS NULL";
        let email = email.to_lowercase();
        let found: Option<(UserId,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(&email).fetch_optional(pool).await?);
        Ok(found.map(|(id,)| id))
    }
}
