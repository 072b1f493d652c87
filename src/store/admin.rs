//! Queries for running an instance: roles, deactivation, the sign-up
//! policy, invitations and the audit log (migration 0006).

use sqlx::Executor;

use super::{Backend, Store, WritePool, now, on_pool, on_writer};
use crate::error::AppError;
use crate::model::{AdminUser, AuditEntry, DefaultRoom, Invitation, Role, RoomId, UserId};

/// Taken first by every transaction that can take away an admin, on
/// Postgres (its READ COMMITTED would let two of them each see the other
/// admin still there); SQLite's one writer already runs them one at a time.
const ADMINS_LOCK: &str = "SELECT pg_advisory_xact_lock(180006)";

/// What a role change or (de)activation found.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminChange {
    Done,
    /// The account was already so: nothing written, nothing audited.
    Unchanged,
    /// It would leave the instance without an active admin.
    LastAdmin,
    NoSuchUser,
}

/// An audit entry to write: who (`None`: the command line), what, to what.
#[derive(Debug, Default)]
pub struct Audit<'a> {
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub target_user: Option<UserId>,
    pub target_room: Option<RoomId>,
    pub target_number: Option<i64>,
    pub detail: Option<String>,
}

/// An account as the admin page lists it, with how many sessions it has
/// (those the session store still holds).
const ADMIN_USER_COLUMNS: &str = "id, username, email, name, avatar_url, role, deactivated_at, created_at,
    (SELECT COUNT(*) FROM user_sessions us JOIN sessions s ON s.id = us.session_id WHERE us.user_id = users.id)
        AS sessions";
const INVITATION_COLUMNS: &str = "id, created_by, created_at, expires_at, max_uses, uses, revoked_at";

/// Whether some active admin other than `$1` exists.
const ANOTHER_ADMIN: &str =
    "EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deactivated_at IS NULL AND o.id <> $1)";

impl Store {
    /// The account's role and whether it is active; `None` if there is none.
    pub async fn role_of(&self, id: UserId) -> Result<Option<(Role, bool)>, AppError> {
        let sql = "SELECT role, deactivated_at IS NULL AS active FROM users WHERE id = $1";
        let row: Option<(String, bool)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(|(role, active)| (Role::parse(&role).unwrap_or(Role::Member), active)))
    }

    /// Whether the instance has any account yet.
    pub async fn has_users(&self) -> Result<bool, AppError> {
        let (any,): (bool,) =
            on_pool!(self, pool => sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(pool).await?);
        Ok(any)
    }

    /// Accounts whose username, name or email starts with `prefix` (all
    /// when empty), by username.
    pub async fn admin_users(&self, prefix: &str, limit: u32) -> Result<Vec<AdminUser>, AppError> {
        let (start, word) = super::users::name_patterns(prefix);
        let sql = format!(
            r"SELECT {ADMIN_USER_COLUMNS} FROM users
              WHERE lower(username) LIKE $1 ESCAPE '\' OR name_key LIKE $1 ESCAPE '\' OR name_key LIKE $3 ESCAPE '\'
                 OR email LIKE $1 ESCAPE '\'
              ORDER BY lower(username)
              LIMIT $2"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as(&sql).bind(&start).bind(i64::from(limit)).bind(&word).fetch_all(pool).await?),
        )
    }

    pub async fn admin_user(&self, id: UserId) -> Result<Option<AdminUser>, AppError> {
        let sql = format!("SELECT {ADMIN_USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The account whose email or username (case-insensitively) is `login`.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<AdminUser>, AppError> {
        if login.contains('\0') {
            return Ok(None);
        }
        let sql = format!("SELECT {ADMIN_USER_COLUMNS} FROM users WHERE email = $1 OR lower(username) = $1 LIMIT 1");
        let login = login.to_lowercase();
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(&login).fetch_optional(pool).await?))
    }

    /// Sets the role, unless that demotes the last active admin; the audit
    /// entry is written in the same transaction.
    pub async fn set_role(&self, id: UserId, role: Role, audit: Audit<'_>) -> Result<AdminChange, AppError> {
        let sql = format!(
            "UPDATE users SET role = $2, updated_at = $3
             WHERE id = $1 AND ($2 = 'admin' OR role <> 'admin' OR deactivated_at IS NOT NULL OR {ANOTHER_ADMIN})"
        );
        let already = format!("role = '{}'", role.as_str());
        self.guarded_change(id, audit, &sql, Some(role.as_str()), &already).await
    }

    /// Deactivates (ending every session: the epoch moves) or reactivates,
    /// unless that deactivates the last active admin.
    pub async fn set_active(&self, id: UserId, active: bool, audit: Audit<'_>) -> Result<AdminChange, AppError> {
        let sql = if active {
            "UPDATE users SET deactivated_at = NULL, updated_at = $2 WHERE id = $1".to_owned()
        } else {
            format!(
                "UPDATE users SET deactivated_at = coalesce(deactivated_at, $2), session_epoch = session_epoch + 1,
                     updated_at = $2
                 WHERE id = $1 AND (role <> 'admin' OR deactivated_at IS NOT NULL OR {ANOTHER_ADMIN})"
            )
        };
        let already = if active { "deactivated_at IS NULL" } else { "deactivated_at IS NOT NULL" };
        self.guarded_change(id, audit, &sql, None, already).await
    }

    /// Ends every session of account `id` with its audit entry (its
    /// `detail`: how many ended), in one transaction: the session epoch
    /// moves, so a session no list holds ends too. The session store ids
    /// ended, or `None` when there is no such account.
    pub async fn end_all_sessions(&self, id: UserId, audit: Audit<'_>) -> Result<Option<Vec<String>>, AppError> {
        let at = now();
        let epoch = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1";
        let end = "DELETE FROM sessions WHERE id IN (SELECT session_id FROM user_sessions WHERE user_id = $1)";
        let forget = "DELETE FROM user_sessions WHERE user_id = $1 RETURNING session_id";
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if sqlx::query(epoch).bind(id).execute(&mut *tx).await?.rows_affected() == 0 {
                return Ok(None);
            }
            sqlx::query(end).bind(id).execute(&mut *tx).await?;
            let ended: Vec<(String,)> = sqlx::query_as(forget).bind(id).fetch_all(&mut *tx).await?;
            let detail = match ended.len() {
                1 => "1 session".to_owned(),
                n => format!("{n} sessions"),
            };
            let audit = Audit { detail: Some(detail), ..audit };
            bind_audit(&audit, &at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(ended.into_iter().map(|(id,)| id).collect()))
        })
    }

    /// Runs one guarded `UPDATE users … WHERE id = $1 …` (binds: id, then
    /// `role` if given, then now) and its audit entry in one transaction,
    /// unless the account is `already` so (a condition on its row).
    async fn guarded_change(
        &self,
        id: UserId,
        audit: Audit<'_>,
        sql: &str,
        role: Option<&str>,
        already: &str,
    ) -> Result<AdminChange, AppError> {
        let at = now();
        let postgres = self.backend() == Backend::Postgres;
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if postgres {
                tx.execute(ADMINS_LOCK).await?;
            }
            let state = format!("SELECT CASE WHEN {already} THEN 1 ELSE 0 END FROM users WHERE id = $1");
            let exists: Option<(i32,)> = sqlx::query_as(&state).bind(id).fetch_optional(&mut *tx).await?;
            match exists {
                None => return Ok(AdminChange::NoSuchUser),
                Some((1,)) => return Ok(AdminChange::Unchanged),
                Some(_) => {}
            }
            let update = sqlx::query(sql).bind(id);
            let update = match role {
                Some(role) => update.bind(role),
                None => update,
            };
            if update.bind(&at).execute(&mut *tx).await?.rows_affected() == 0 {
                return Ok(AdminChange::LastAdmin);
            }
            bind_audit(&audit, &at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(AdminChange::Done)
        })
    }

    /// Writes one audit entry on its own.
    pub async fn audit(&self, audit: Audit<'_>) -> Result<(), AppError> {
        let at = now();
        on_writer!(self, pool => bind_audit(&audit, &at).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// The newest entries first, older than entry `before` when given.
    pub async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, AppError> {
        let sql = "SELECT a.id, a.actor_id, u.username AS actor, a.action, a.target_user, t.username AS target,
                          a.target_room, r.title AS target_room_title, a.target_number, a.detail, a.created_at
                   FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN users t ON t.id = a.target_user
                   LEFT JOIN rooms r ON r.id = a.target_room
                   WHERE $1 IS NULL OR a.id < $1
                   ORDER BY a.id DESC
                   LIMIT $2";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(before).bind(i64::from(limit)).fetch_all(pool).await?))
    }

    /// The newest audit entry's id (0 when there is none).
    pub async fn last_audit_id(&self) -> Result<i64, AppError> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM audit_log";
        let (id,): (i64,) = on_pool!(self, pool => sqlx::query_as(sql).fetch_one(pool).await?);
        Ok(id)
    }

    /// The accounts deactivated in audit entries `after` (exclusive) to
    /// `through` (inclusive) that are still deactivated, by an admin or from
    /// the command line. A range of the primary key, so its cost is what is
    /// new, not the log's length.
    pub async fn deactivations_between(&self, after: i64, through: i64) -> Result<Vec<UserId>, AppError> {
        let sql = "SELECT DISTINCT u.id FROM audit_log a JOIN users u ON u.id = a.target_user
                   WHERE a.id > $1 AND a.id <= $2 AND a.action = 'user.deactivate' AND u.deactivated_at IS NOT NULL";
        let rows: Vec<(UserId,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(after).bind(through).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(user,)| user).collect())
    }

    /// The accounts signed out everywhere from the command line (no actor)
    /// in audit entries `after` (exclusive) to `through` (inclusive), with
    /// each entry's id.
    pub async fn command_line_sign_outs_between(
        &self,
        after: i64,
        through: i64,
    ) -> Result<Vec<(i64, UserId)>, AppError> {
        let sql = "SELECT id, target_user FROM audit_log
                   WHERE id > $1 AND id <= $2 AND action = 'user.sign_out' AND actor_id IS NULL
                     AND target_user IS NOT NULL";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(after).bind(through).fetch_all(pool).await?))
    }

    /// An instance setting an admin has set, if any.
    pub async fn instance_setting(&self, key: &str) -> Result<Option<String>, AppError> {
        let sql = "SELECT value FROM instance_settings WHERE key = $1";
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(key).fetch_optional(pool).await?);
        Ok(row.map(|(v,)| v))
    }

    /// Sets an instance setting and writes its audit entry, in one transaction.
    pub async fn set_instance_setting(&self, key: &str, value: &str, audit: Audit<'_>) -> Result<(), AppError> {
        let sql = "INSERT INTO instance_settings (key, value) VALUES ($1, $2)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql).bind(key).bind(value).execute(&mut *tx).await?;
            bind_audit(&audit, &at).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The rooms new accounts join: open and not archived (one archived
    /// since it was picked keeps its row, but is left out).
    pub async fn default_rooms(&self) -> Result<Vec<DefaultRoom>, AppError> {
        let sql = "SELECT r.id, r.title, (SELECT count(*) FROM memberships mb WHERE mb.room_id = r.id) AS member_count
                   FROM default_rooms d JOIN rooms r ON r.id = d.room_id
                   WHERE r.kind = 'open' AND r.archived_at IS NULL
                   ORDER BY r.title, r.id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Only the ids of [`Self::default_rooms`], for an account being made
    /// (no member counts, which a big room would pay for on every sign-up).
    pub async fn default_room_ids(&self) -> Result<Vec<RoomId>, AppError> {
        let sql = "SELECT r.id FROM default_rooms d JOIN rooms r ON r.id = d.room_id
                   WHERE r.kind = 'open' AND r.archived_at IS NULL ORDER BY r.id";
        let rows: Vec<(RoomId,)> = on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Makes `room` one that new accounts join, or not, with its audit
    /// entry, in one transaction. Either is idempotent: when nothing
    /// changes, no audit entry is written.
    pub async fn set_default_room(&self, room: RoomId, on: bool, audit: Audit<'_>) -> Result<(), AppError> {
        let sql = if on {
            "INSERT INTO default_rooms (room_id) VALUES ($1) ON CONFLICT (room_id) DO NOTHING"
        } else {
            "DELETE FROM default_rooms WHERE room_id = $1"
        };
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if sqlx::query(sql).bind(room).execute(&mut *tx).await?.rows_affected() > 0 {
                bind_audit(&audit, &at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores an invitation (its token's hash) and its audit entry.
    pub async fn insert_invitation(
        &self,
        token_hash: &str,
        created_by: Option<UserId>,
        expires_at: &str,
        max_uses: i64,
    ) -> Result<Invitation, AppError> {
        let sql = format!(
            "INSERT INTO invitations (token_hash, created_by, created_at, expires_at, max_uses)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING {INVITATION_COLUMNS}"
        );
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let invitation: Invitation = sqlx::query_as(&sql)
                .bind(token_hash)
                .bind(created_by)
                .bind(&at)
                .bind(expires_at)
                .bind(max_uses)
                .fetch_one(&mut *tx)
                .await?;
            let audit = Audit {
                actor: created_by,
                action: "invitation.create",
                detail: Some(format!("invitation {}: {max_uses} use(s) until {expires_at}", invitation.id)),
                ..Audit::default()
            };
            bind_audit(&audit, &at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(invitation)
        })
    }

    /// Every invitation, newest first.
    pub async fn invitations(&self) -> Result<Vec<Invitation>, AppError> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations ORDER BY id DESC LIMIT 500");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    /// Whether a link with this token hash may be used now.
    pub async fn invitation_usable(&self, token_hash: &str) -> Result<bool, AppError> {
        let sql = "SELECT EXISTS (SELECT 1 FROM invitations
                   WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses)";
        let (usable,): (bool,) =
            on_pool!(self, pool => sqlx::query_as(sql).bind(token_hash).bind(now()).fetch_one(pool).await?);
        Ok(usable)
    }

    /// Revokes an invitation (again is fine, and audited once); false if
    /// there is none.
    pub async fn revoke_invitation(&self, id: i64, audit: Audit<'_>) -> Result<bool, AppError> {
        let sql = "UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if sqlx::query(sql).bind(id).bind(&at).execute(&mut *tx).await?.rows_affected() == 0 {
                let exists: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM invitations WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
                return Ok(exists.is_some());
            }
            bind_audit(&audit, &at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Stores a reset link for `user` (its token's hash), with its audit
    /// entry in the same transaction when an admin or the command line made
    /// it (`None`: the user asked for it by email).
    pub async fn insert_password_reset(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: &str,
        audit: Option<Audit<'_>>,
    ) -> Result<(), AppError> {
        let sql = "INSERT INTO password_resets (user_id, token_hash, created_by, created_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5)";
        let at = now();
        let made_by = audit.as_ref().and_then(|a| a.actor);
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql).bind(user).bind(token_hash).bind(made_by).bind(&at).bind(expires_at)
                .execute(&mut *tx).await?;
            if let Some(audit) = &audit {
                bind_audit(audit, &at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Spends a live reset link of an active account and sets its password
    /// (which ends every session: they are tied to the hash), and spends the
    /// account's other links, in one transaction; `None`
    /// when the link is unknown, used, expired or its account deactivated.
    pub async fn reset_password(&self, token_hash: &str, password_hash: &str) -> Result<Option<UserId>, AppError> {
        let spend = "UPDATE password_resets SET used_at = $2
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                       AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)
                     RETURNING user_id";
        let set = "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1";
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let spent: Option<(UserId,)> =
                sqlx::query_as(spend).bind(token_hash).bind(&at).fetch_optional(&mut *tx).await?;
            let Some((user,)) = spent else { return Ok(None) };
            sqlx::query(set).bind(user).bind(password_hash).bind(&at).execute(&mut *tx).await?;
            sqlx::query(SPEND_RESET_LINKS).bind(user).bind(&at).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(user))
        })
    }
}

/// Spends every live reset link of user `$1` at `$2`: once a password is
/// set, by a link or by its owner, an older link mailed or handed out
/// before must not set it again.
pub(super) const SPEND_RESET_LINKS: &str =
    "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";

const AUDIT_INSERT: &str =
    "INSERT INTO audit_log (actor_id, action, target_user, target_room, target_number, detail, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `AUDIT_INSERT` with `audit`'s values bound.
pub(super) fn bind_audit<'q, DB>(
    audit: &'q Audit<'q>,
    at: &'q str,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(AUDIT_INSERT)
        .bind(audit.actor.map(|u| u.0))
        .bind(audit.action)
        .bind(audit.target_user.map(|u| u.0))
        .bind(audit.target_room.map(|r| r.0))
        .bind(audit.target_number)
        .bind(audit.detail.as_deref())
        .bind(at)
}
