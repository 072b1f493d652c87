//! Queries on `users`.

use super::{Store, WritePool, now, on_pool, on_writer};
use crate::error::{AppError, ResultExt};
use crate::model::{Person, Profile, UserId};

/// The session's view of a user: just enough to authenticate (the auth
/// module makes it axum-login's user).
#[derive(Clone, sqlx::FromRow)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    /// The display name, shown beside what the user writes.
    pub name: Option<String>,
    pub password_hash: String,
    /// What sessions are tied to: the password hash, and the account's
    /// session epoch once it has moved (deactivation moves it), so changing
    /// either ends every session made before.
    pub auth_hash: String,
    /// Set while the account is deactivated (sign-in only: a session never
    /// loads a deactivated user).
    pub deactivated_at: Option<String>,
}

impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// A validated account, ready to insert.
pub struct NewUserRow<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub name: Option<&'a str>,
}

/// What [`Store::insert_user`] did with the registration.
/// The invitation a new account spends a use of.
#[derive(Debug, Clone, Copy)]
pub enum Spend<'a> {
    /// This one (its token's hash), or no account.
    Required(&'a str),
    /// This one if it is still good, else none (while sign-up is open).
    IfUsable(&'a str),
}

pub enum Inserted {
    User(Profile),
    /// The invitation is unknown, revoked, expired or used up.
    InvitationRefused,
    /// Asked as the instance's first account, but another registered first.
    NotFirst,
}

/// An account's auth columns; `auth_hash` leaves the password hash alone
/// while the epoch is 0, so sessions made before epochs existed stay valid.
const AUTH_COLUMNS: &str = "id, username, name, password_hash, deactivated_at,
    CASE WHEN session_epoch = 0 THEN password_hash ELSE password_hash || ':' || session_epoch END AS auth_hash";

const PROFILE_COLUMNS: &str = "id, email, username, name, avatar_url, notifications_paused_until";

/// Postgres: registrations queue on this lock (until their transaction
/// ends), so two first sign-ups cannot both see an empty `users`.
const REGISTRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7234617280561842001)";

impl Store {
    /// Inserts a member (the admin, when it is the instance's first account).
    pub async fn insert_user(&self, user: NewUserRow<'_>) -> Result<Profile, AppError> {
        match self.insert_account(user, false, None, false).await? {
            Inserted::User(profile) => Ok(profile),
            Inserted::InvitationRefused | Inserted::NotFirst => Err(AppError::internal("no invitation was named")),
        }
    }

    /// Inserts the account, as the instance's admin when it is the first
    /// (or when `admin`), spending one use of the invitation whose token
    /// hash (SHA-256, hex) is given in the same transaction, or writing
    /// nothing when it can't be used. With `first_only`, writes nothing
    /// ([`Inserted::NotFirst`]) unless the instance has no account yet.
    ///
    /// Race-free: on SQLite the transaction holds the one write lock; on
    /// Postgres registrations take a transaction-scoped advisory lock first,
    /// so "is there an account yet?" is answered after any concurrent
    /// registration committed (READ COMMITTED reads anew per statement).
    pub async fn insert_account(
        &self,
        user: NewUserRow<'_>,
        admin: bool,
        invitation: Option<Spend<'_>>,
        first_only: bool,
    ) -> Result<Inserted, AppError> {
        let sql = format!(
            "INSERT INTO users (email, username, password_hash, name, role, name_key)
             VALUES ($1, $2, $3, $4, CASE WHEN $5 OR NOT EXISTS (SELECT 1 FROM users) THEN 'admin' ELSE 'member' END, $6)
             RETURNING {PROFILE_COLUMNS}"
        );
        let spend = "UPDATE invitations SET uses = uses + 1
                     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses
                     RETURNING id";
        let at = now();
        let lock = match self.backend() {
            super::Backend::Postgres => Some(REGISTRATION_LOCK),
            super::Backend::Sqlite => None,
        };
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(lock) = lock {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            if first_only {
                let (any,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(&mut *tx).await?;
                if any {
                    return Ok(Inserted::NotFirst);
                }
            }
            if let Some(Spend::Required(hash) | Spend::IfUsable(hash)) = invitation {
                // Taken inside the transaction: a failed insert gives it back.
                let spent: Option<(i64,)> = sqlx::query_as(spend).bind(hash).bind(&at).fetch_optional(&mut *tx).await?;
                if spent.is_none() && matches!(invitation, Some(Spend::Required(_))) {
                    return Ok(Inserted::InvitationRefused);
                }
            }
            let profile = sqlx::query_as(&sql)
                .bind(user.email)
                .bind(user.username)
                .bind(user.password_hash)
                .bind(user.name)
                .bind(admin)
                .bind(user.name.map(crate::text::name_key))
                .fetch_one(&mut *tx)
                .await
                .on_unique(UNIQUE_FIELDS)?;
            tx.commit().await?;
            Ok(Inserted::User(profile))
        })
    }

    /// Which of `email` / `username` already belong to someone other than `except`.
    pub async fn taken_fields(
        &self,
        email: Option<&str>,
        username: Option<&str>,
        except: Option<UserId>,
    ) -> Result<(bool, bool), AppError> {
        let sql = "SELECT
                EXISTS(SELECT 1 FROM users WHERE email = $1 AND id IS DISTINCT FROM $3),
                EXISTS(SELECT 1 FROM users WHERE lower(username) = lower($2) AND id IS DISTINCT FROM $3)";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(email)
            .bind(username)
            .bind(except)
            .fetch_one(pool)
            .await?))
    }

    /// The account whose email or username (either, case-insensitively) is `login`.
    pub async fn auth_user_by_login(&self, login: &str) -> Result<Option<AuthUser>, AppError> {
        // No account has a NUL in its email or username (the core refuses
        // them), and Postgres refuses NUL in any text it is sent.
        if login.contains('\0') {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {AUTH_COLUMNS} FROM users
             WHERE email = $1 OR lower(username) = $1
             LIMIT 1"
        );
        // Lowercased here, as registration lowercases emails: SQL's lower()
        // leaves `Ö` as it is on SQLite.
        let login = login.to_lowercase();
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(&login).fetch_optional(pool).await?))
    }

    /// The account a session belongs to; none while it is deactivated, so
    /// every session of a deactivated account is signed out.
    pub async fn auth_user_by_id(&self, id: UserId) -> Result<Option<AuthUser>, AppError> {
        let sql = format!("SELECT {AUTH_COLUMNS} FROM users WHERE id = $1 AND deactivated_at IS NULL");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    pub async fn profile(&self, id: UserId) -> Result<Option<Profile>, AppError> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM users WHERE id = $1");
        let profile: Option<Profile> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        Ok(profile.map(as_of_now))
    }

    pub async fn profile_by_email(&self, email: &str) -> Result<Option<Profile>, AppError> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM users WHERE email = $1");
        let email = email.to_lowercase();
        let profile: Option<Profile> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await?);
        Ok(profile.map(as_of_now))
    }

    /// Pauses `id`'s notifications until `until` (a stored time), or
    /// resumes them (`None`); false when there is no such account.
    pub async fn set_notifications_paused_until(&self, id: UserId, until: Option<&str>) -> Result<bool, AppError> {
        let sql = "UPDATE users SET notifications_paused_until = $1 WHERE id = $2";
        let n = on_writer!(self, pool => sqlx::query(sql).bind(until).bind(id).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Changes `id`'s username, name and avatar.
    pub async fn update_profile(
        &self,
        id: UserId,
        username: &str,
        name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<Profile, AppError> {
        let sql = format!(
            "UPDATE users SET username = $1, name = $2, avatar_url = $3, updated_at = $4,
                    avatar_hash = CASE WHEN avatar_url = $3 THEN avatar_hash END, name_key = $6
             WHERE id = $5
             RETURNING {PROFILE_COLUMNS}"
        );
        on_writer!(self, pool => sqlx::query_as(&sql)
            .bind(username)
            .bind(name)
            .bind(avatar_url)
            .bind(now())
            .bind(id)
            .bind(name.map(crate::text::name_key))
            .fetch_optional(pool)
            .await
            .on_unique(UNIQUE_FIELDS))?
        .map(as_of_now)
        .ok_or(AppError::NotFound("user"))
    }

    /// Sets `id`'s password hash and spends the reset links the account
    /// had, in one transaction.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<(), AppError> {
        let sql = "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3";
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql).bind(hash).bind(&at).bind(id).execute(&mut *tx).await?;
            sqlx::query(super::admin::SPEND_RESET_LINKS).bind(id).bind(&at).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// People whose username, name or a word of their name starts with
    /// `prefix` (all when empty), ignoring case in any script, by username.
    pub async fn directory(&self, prefix: &str, limit: u32) -> Result<Vec<Person>, AppError> {
        let (start, word) = name_patterns(prefix);
        let sql = r"SELECT id, username, name, avatar_url FROM users
              WHERE (lower(username) LIKE $1 ESCAPE '\' OR name_key LIKE $1 ESCAPE '\' OR name_key LIKE $3 ESCAPE '\')
                AND deactivated_at IS NULL
              ORDER BY lower(username)
              LIMIT $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as(sql).bind(&start).bind(i64::from(limit)).bind(&word).fetch_all(pool).await?),
        )
    }

    /// Fills `name_key` for names written before Hearth kept it (0021):
    /// a few rows, once, after that migration.
    pub(crate) async fn fill_name_keys(&self) -> Result<(), sqlx::Error> {
        let missing = "SELECT id, name FROM users WHERE name IS NOT NULL AND name_key IS NULL";
        let set = "UPDATE users SET name_key = $1 WHERE id = $2";
        on_writer!(self, pool => {
            let rows: Vec<(UserId, String)> = sqlx::query_as(missing).fetch_all(pool).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = pool.begin_write().await?;
            for (id, name) in rows {
                sqlx::query(set).bind(crate::text::name_key(&name)).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

/// `LIKE` patterns for a people search: what starts with `prefix`, and
/// what has a word (after a space) that does, both folded as `name_key` is.
pub(crate) fn name_patterns(prefix: &str) -> (String, String) {
    let folded = escape_like(&crate::text::name_key(prefix));
    (format!("{folded}%"), format!("% {folded}%"))
}

/// Makes `%`, `_` and `\` in user input match themselves in a `LIKE … ESCAPE '\'`.
pub(crate) fn escape_like(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// SQLite names the index ("index 'users_username_key'") or the column
/// ("users.email"); Postgres names the constraint. Either maps to a field.
const UNIQUE_FIELDS: &[(&str, &str, &str)] =
    &[("username", "username", "Username has already been taken"), ("email", "email", "Email has already been taken")];

/// A profile as of now: a pause of its notifications that has ended reads
/// as none.
fn as_of_now(mut profile: Profile) -> Profile {
    if !crate::model::paused_at(profile.notifications_paused_until.as_deref(), &now()) {
        profile.notifications_paused_until = None;
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
