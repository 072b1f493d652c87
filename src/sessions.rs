//! Signing in and registering: rate limit, authenticate, start the session.
//! The REST API and the forms both call these, so the order of the steps
//! and the budgets they spend are decided once.

use std::net::IpAddr;

use crate::Hearth;
use crate::accounts::Registration;
use crate::auth::{AccountKey, AuthSession, AuthUser, INVALID_LOGIN, password, start_session};
use crate::bus::Attempt;
use crate::error::AppError;
use crate::model::Profile;

/// The answer to a right password for a deactivated account.
pub const DEACTIVATED: &str = "This account has been deactivated";

impl Hearth {
    /// Spends one attempt of the client's budget and of the account's (the
    /// account the login names however it was typed, or the typed login when
    /// none has it), checks the password (against a dummy hash when there is
    /// no account, so both failures take as long), then signs in on a fresh
    /// session id.
    #[tracing::instrument(skip_all, fields(login = %login))]
    pub async fn sign_in(
        &self,
        session: &mut AuthSession,
        client: IpAddr,
        login: &str,
        secret: String,
    ) -> Result<Profile, AppError> {
        self.spend_ip(client)?;
        let user = self.store.auth_user_by_login(login.trim()).await?;
        let account = user.as_ref().map_or_else(|| AccountKey::unknown(login), |u| AccountKey::User(u.id));
        self.sign_in_limiter.check_account(&account)?;
        self.hub.bus().attempt(Attempt::Account(account));
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let user = match (password::verify(secret, stored).await?, user) {
            (true, Some(user)) => user,
            _ => {
                crate::metrics::sign_in_failed();
                return Err(AppError::Unauthorized(INVALID_LOGIN.into()));
            }
        };
        // Said only to whoever knows the password.
        if user.deactivated_at.is_some() {
            return Err(AppError::Forbidden(DEACTIVATED.into()));
        }
        self.start(session, &user).await
    }

    /// Registers and signs the new account in. Registration spends the same
    /// per-client budget as signing in: it answers whether an email is taken,
    /// so it must not be a free oracle, and each one costs an argon2 hash.
    pub async fn register_and_sign_in(
        &self,
        session: &mut AuthSession,
        client: IpAddr,
        registration: Registration,
    ) -> Result<Profile, AppError> {
        self.spend_ip(client)?;
        let profile = self.register(registration).await?;
        let user = self.store.auth_user_by_id(profile.id).await?.ok_or(AppError::NotFound("user"))?;
        start_session(session, &user).await?;
        self.record_sign_in(session, user.id).await?;
        Ok(profile)
    }

    /// Spends one attempt of the client's budget, here and (through the
    /// bus) on every other instance.
    fn spend_ip(&self, client: IpAddr) -> Result<(), AppError> {
        self.sign_in_limiter.check_ip(client)?;
        self.hub.bus().attempt(Attempt::Ip(client));
        Ok(())
    }

    async fn start(&self, session: &mut AuthSession, user: &AuthUser) -> Result<Profile, AppError> {
        start_session(session, user).await?;
        self.record_sign_in(session, user.id).await?;
        self.profile(user.id).await
    }
}
