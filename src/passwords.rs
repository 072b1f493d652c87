//! Changing a password (issue 18, part 5): the current password is
//! required, the session that changed it stays signed in, and every other
//! session of the account ends (axum-login ties each session to the
//! password hash) and its sockets close.

use crate::Hearth;
use crate::accounts::NewPassword;
use crate::admin::Actor;
use crate::auth::{AccountKey, AuthSession, password};
use crate::error::{AppError, FieldError};
use crate::hub::UserSignal;
use crate::model::UserId;
use crate::store::Audit;

pub const WRONG_CURRENT: &str = "Current password is incorrect";
pub const BAD_RESET_LINK: &str = "This reset link is invalid, expired or already used";
pub const DEACTIVATED_NO_RESET: &str = "This account is deactivated: reactivate it before making a reset link";
/// A reset link lasts an hour.
pub const RESET_LINK_MINUTES: i64 = 60;

/// A reset link as made: its token (shown once), page path and expiry.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetLink {
    pub token: String,
    /// `/reset-password?token=…`
    pub path: String,
    pub expires_at: String,
}

impl Hearth {
    /// Checks `current` (spending one attempt of the account's sign-in
    /// budget, so this is no way around it), sets `new`, keeps this session
    /// and ends the others.
    pub async fn change_password(
        &self,
        session: &mut AuthSession,
        current: String,
        new: String,
    ) -> Result<(), AppError> {
        let me = session.user.as_ref().map(|u| u.id).ok_or_else(|| AppError::Unauthorized("Not signed in".into()))?;
        self.sign_in_limiter.check_account(&AccountKey::User(me))?;
        let new = NewPassword::parse(&new)?;
        let user = self.store.auth_user_by_id(me).await?.ok_or(AppError::NotFound("user"))?;
        if !password::verify(current, Some(user.password_hash)).await? {
            return Err(FieldError::new("current_password", WRONG_CURRENT).into());
        }
        let hash = password::hash(new.as_str().to_owned()).await?;
        self.store.set_password_hash(me, &hash).await?;
        self.forget_user(me);
        let user = self.store.auth_user_by_id(me).await?.ok_or(AppError::NotFound("user"))?;
        // This session takes the new hash; the others no longer match it.
        session.login(&user).await.map_err(AppError::internal)?;
        if let Some(id) = crate::auth::stored_session_id(&session.session) {
            self.hub.signal_user(me, UserSignal::SessionsEndedExcept(id.clone()));
            // The others no longer work: off the sessions list too.
            self.end_sessions_except(me, Some(&id)).await?;
        }
        Ok(())
    }

    /// A one-time link that sets `user`'s password, valid for an hour; only
    /// its hash is kept. Made by an admin (audited) or the command line.
    pub async fn create_reset_link(&self, actor: Actor, user: UserId) -> Result<ResetLink, AppError> {
        self.require_actor(actor).await?;
        let account = self.store.admin_user(user).await?.ok_or(AppError::NotFound("user"))?;
        if account.deactivated_at.is_some() {
            // The link could never be used: a reset refuses such accounts.
            return Err(AppError::Conflict(DEACTIVATED_NO_RESET.into()));
        }
        let audit =
            Audit { actor: actor.user(), action: "user.reset_link", target_user: Some(user), ..Audit::default() };
        self.new_reset_link(user, Some(audit)).await
    }

    /// Makes and stores a one-hour, single-use reset link for `user`, with
    /// its audit entry when given (none when the user asked by email).
    pub(crate) async fn new_reset_link(&self, user: UserId, audit: Option<Audit<'_>>) -> Result<ResetLink, AppError> {
        let token = crate::admin::new_invitation_token();
        let expires_at =
            crate::store::format_time(time::OffsetDateTime::now_utc() + time::Duration::minutes(RESET_LINK_MINUTES));
        self.store.insert_password_reset(user, &crate::admin::token_hash(&token), &expires_at, audit).await?;
        let path = format!("/reset-password?token={token}");
        Ok(ResetLink { token, path, expires_at })
    }

    /// Sets a new password through a reset link (once, within the hour);
    /// every session of the account ends. Nobody needs to be signed in.
    /// Spends the client's sign-in budget: each try costs an argon2 hash.
    pub async fn reset_password(&self, client: std::net::IpAddr, token: &str, new: &str) -> Result<(), AppError> {
        self.sign_in_limiter.check_ip(client)?;
        let new = NewPassword::parse(new)?;
        let hash = password::hash(new.as_str().to_owned()).await?;
        let user = self
            .store
            .reset_password(&crate::admin::token_hash(token), &hash)
            .await?
            .ok_or_else(|| AppError::invalid("token", BAD_RESET_LINK))?;
        self.forget_user(user);
        // Every session ends (no session keeps ""): its sockets close as
        // signed out, not as a deactivated account.
        self.hub.signal_user(user, UserSignal::SessionsEndedExcept(String::new()));
        self.end_sessions_except(user, None).await?;
        let audit = Audit {
            actor: Some(user),
            action: "user.reset_password",
            target_user: Some(user),
            detail: Some("with a one-time reset link".to_owned()),
            ..Audit::default()
        };
        self.audit_quietly(audit).await;
        Ok(())
    }
}
