//! Queries on `users`.

use super::Store;
use crate::auth::AuthUser;
use crate::error::{AppError, ResultExt};
use crate::model::{Person, Profile, UserId};

/// A validated account, ready to insert.
pub struct NewUserRow<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub name: Option<&'a str>,
}

const PROFILE_COLUMNS: &str = "id, email, username, name, avatar_url";

impl Store {
    pub async fn insert_user(&self, user: NewUserRow<'_>) -> Result<Profile, AppError> {
        sqlx::query_as::<_, Profile>(&format!(
            "INSERT INTO users (email, username, password_hash, name) VALUES (?, ?, ?, ?)
             RETURNING {PROFILE_COLUMNS}"
        ))
        .bind(user.email)
        .bind(user.username)
        .bind(user.password_hash)
        .bind(user.name)
        .fetch_one(self.sqlite()?)
        .await
        .on_unique(UNIQUE_FIELDS)
    }

    /// Which of `email` / `username` already belong to someone other than `except`.
    pub async fn taken_fields(
        &self,
        email: Option<&str>,
        username: Option<&str>,
        except: Option<UserId>,
    ) -> Result<(bool, bool), AppError> {
        let (email_taken, username_taken): (bool, bool) = sqlx::query_as(
            "SELECT
                EXISTS(SELECT 1 FROM users WHERE email = ?1 AND id IS NOT ?3),
                EXISTS(SELECT 1 FROM users WHERE lower(username) = lower(?2) AND id IS NOT ?3)",
        )
        .bind(email)
        .bind(username)
        .bind(except.map(|id| id.0))
        .fetch_one(self.sqlite()?)
        .await?;
        Ok((email_taken, username_taken))
    }

    /// The account whose email or username (either, case-insensitively) is `login`.
    pub async fn auth_user_by_login(&self, login: &str) -> Result<Option<AuthUser>, AppError> {
        Ok(sqlx::query_as::<_, AuthUser>(
            "SELECT id, username, password_hash FROM users
             WHERE email = lower(?1) OR lower(username) = lower(?1)
             LIMIT 1",
        )
        .bind(login)
        .fetch_optional(self.sqlite()?)
        .await?)
    }

    pub async fn auth_user_by_id(&self, id: UserId) -> Result<Option<AuthUser>, AppError> {
        Ok(sqlx::query_as::<_, AuthUser>("SELECT id, username, password_hash FROM users WHERE id = ?")
            .bind(id.0)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    pub async fn profile(&self, id: UserId) -> Result<Option<Profile>, AppError> {
        Ok(sqlx::query_as::<_, Profile>(&format!("SELECT {PROFILE_COLUMNS} FROM users WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    pub async fn profile_by_email(&self, email: &str) -> Result<Option<Profile>, AppError> {
        Ok(sqlx::query_as::<_, Profile>(&format!("SELECT {PROFILE_COLUMNS} FROM users WHERE email = lower(?)"))
            .bind(email)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    pub async fn update_profile(
        &self,
        id: UserId,
        username: &str,
        name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Result<Profile, AppError> {
        sqlx::query_as::<_, Profile>(&format!(
            "UPDATE users
             SET username = ?, name = ?, avatar_url = ?,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?
             RETURNING {PROFILE_COLUMNS}"
        ))
        .bind(username)
        .bind(name)
        .bind(avatar_url)
        .bind(id.0)
        .fetch_optional(self.sqlite()?)
        .await
        .on_unique(UNIQUE_FIELDS)?
        .ok_or(AppError::NotFound("user"))
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<(), AppError> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id.0)
            .execute(self.sqlite()?)
            .await?;
        Ok(())
    }

    /// People whose username or name starts with `prefix` (all when empty),
    /// by username.
    pub async fn directory(&self, prefix: &str, limit: u32) -> Result<Vec<Person>, AppError> {
        let pattern = format!("{}%", escape_like(&prefix.to_lowercase()));
        Ok(sqlx::query_as::<_, Person>(
            r"SELECT id, username, name, avatar_url FROM users
              WHERE lower(username) LIKE ?1 ESCAPE '\' OR lower(coalesce(name, '')) LIKE ?1 ESCAPE '\'
              ORDER BY lower(username)
              LIMIT ?2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.sqlite()?)
        .await?)
    }
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
#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
