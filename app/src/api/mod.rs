//! Server functions: the UI's door into the core. Each one extracts the
//! session, calls one core method and maps its error; no rules live here.

mod account;
mod admin;
mod chat;
mod notifications;
mod rooms;
mod security;

pub use account::*;
pub use admin::*;
pub use chat::*;
pub use notifications::*;
pub use rooms::*;
pub use security::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use axum_client_ip::ClientIp;
    use hearth::auth::AuthSession;
    use hearth::{AppError, Hearth};
    use leptos::prelude::*;

    use crate::error::UiError;

    use hearth::auth::AuthUser;

    pub fn hearth() -> Result<Hearth, UiError> {
        use_context::<Hearth>().ok_or_else(|| internal("Hearth missing from context"))
    }

    pub async fn session() -> Result<AuthSession, UiError> {
        leptos_axum::extract::<AuthSession>().await.map_err(internal)
    }

    /// The client's address as the configured source (`HEARTH_CLIENT_IP_SOURCE`)
    /// gives it, or the peer's when that header is missing.
    pub async fn client_ip() -> std::net::IpAddr {
        if let Ok(ClientIp(ip)) = leptos_axum::extract::<ClientIp>().await {
            return ip;
        }
        leptos_axum::extract::<ConnectInfo<SocketAddr>>()
            .await
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))
    }

    /// Wraps an error whose cause stays in the logs.
    pub fn internal(err: impl std::fmt::Display) -> UiError {
        UiError::from(AppError::internal(err.to_string()))
    }

    /// The signed-in user, or the error a signed-out caller gets.
    pub async fn user() -> Result<(Hearth, AuthUser), UiError> {
        let user =
            session().await?.user.ok_or_else(|| UiError::from(AppError::Unauthorized("Sign in first".into())))?;
        Ok((hearth()?, user))
    }
}
