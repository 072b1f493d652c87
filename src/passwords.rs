//! Changing a password (issue 18, part 5): the current password is
//! required, the session that changed it stays signed in, and every other
//! session of the account ends (axum-login ties each session to the
//! password hash) and its sockets close.

use crate::Hearth;
use crate::accounts::NewPassword;
use crate::auth::{AccountKey, AuthSession, password};
use crate::error::{AppError, FieldError};
use crate::hub::UserSignal;

pub const WRONG_CURRENT: &str = "Current password is incorrect";

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
        self.caches.users.invalidate(&me);
        let user = self.store.auth_user_by_id(me).await?.ok_or(AppError::NotFound("user"))?;
        // This session takes the new hash; the others no longer match it.
        session.login(&user).await.map_err(AppError::internal)?;
        if let Some(id) = session.session.id() {
            self.hub.signal_user(me, UserSignal::SessionsEndedExcept(id.to_string()));
        }
        Ok(())
    }
}
