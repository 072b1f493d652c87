//! The axum-login backend: sessions store the user id; each request loads the
//! user and compares `session_auth_hash`, so changing a password ends every
//! other session. The user comes from a short-lived cache (`cache.rs`) that
//! the use cases changing a user invalidate.

use crate::cache::Bounded;
use crate::model::UserId;
use crate::store::Store;
use crate::{AppError, auth::password};

pub use crate::store::AuthUser;

impl axum_login::AuthUser for AuthUser {
    type Id = UserId;

    fn id(&self) -> UserId {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.auth_hash.as_bytes()
    }
}

/// What a user types to sign in: an email or a username, and a password.
#[derive(Clone)]
pub struct Credentials {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("login", &self.login).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Backend {
    store: Store,
    users: Bounded<UserId, AuthUser>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Backend {
    /// Made by `Hearth::auth_backend`, which shares the users cache.
    pub(crate) fn new(store: Store, users: Bounded<UserId, AuthUser>) -> Self {
        Self { store, users }
    }
}

pub type AuthSession = axum_login::AuthSession<Backend>;

impl axum_login::AuthnBackend for Backend {
    type User = AuthUser;
    type Credentials = Credentials;
    type Error = AppError;

    #[tracing::instrument(skip_all, fields(login = %creds.login))]
    async fn authenticate(&self, creds: Credentials) -> Result<Option<AuthUser>, AppError> {
        let user = self.store.auth_user_by_login(creds.login.trim()).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = password::verify(creds.password, stored).await?;
        Ok(user.filter(|u| ok && u.deactivated_at.is_none()))
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<AuthUser>, AppError> {
        self.users.get_or_load(*id, self.store.auth_user_by_id(*id)).await
    }
}

/// Signs `user` in on a fresh session id, whatever the session held before:
/// axum-login cycles the id only for sessions that were anonymous, and a
/// sign-in should never reuse an id that existed before it.
pub async fn start_session(session: &mut AuthSession, user: &AuthUser) -> Result<(), AppError> {
    session.session.cycle_id().await.map_err(AppError::internal)?;
    session.login(user).await.map_err(AppError::internal)
}

/// Ends the session: its row is deleted, so the old cookie is dead everywhere.
pub async fn end_session(session: &mut AuthSession) -> Result<(), AppError> {
    session.logout().await.map(drop).map_err(AppError::internal)
}
