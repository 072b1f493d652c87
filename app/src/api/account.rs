//! Session and profile server functions.

use hearth::model::{DemoAccount, Profile, SignUpPolicy};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

/// The signed-in user's profile, or `None` when signed out.
#[server(prefix = "/fn")]
pub async fn get_me() -> Result<Option<Profile>, UiError> {
    let session = ssr::session().await?;
    match session.user {
        Some(user) => Ok(Some(ssr::hearth()?.profile(user.id).await?)),
        None => Ok(None),
    }
}

/// The demo accounts offered on the login page, when demo mode is on.
#[server(prefix = "/fn")]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, UiError> {
    let hearth = ssr::hearth()?;
    Ok(hearth.demo_accounts().await?)
}

/// Who may sign up now, so that the sign-up page says so before the form is
/// filled in (the first account of an instance may always); with an
/// invitation link's token while sign-up is by invitation, whether that
/// invitation is still good.
#[server(prefix = "/fn")]
pub async fn who_may_sign_up(invitation: Option<String>) -> Result<(SignUpPolicy, Option<bool>), UiError> {
    Ok(ssr::hearth()?.sign_up_offer(invitation.as_deref()).await?)
}

#[server(prefix = "/fn")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), UiError> {
    let hearth = ssr::hearth()?;
    let mut session = ssr::session().await?;
    hearth.sign_in(&mut session, ssr::client_ip().await, &login, password).await?;
    leptos_axum::redirect(&hearth::redirect::safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/fn")]
pub async fn register(
    email: String,
    username: String,
    password: String,
    name: Option<String>,
    next: Option<String>,
    invitation: Option<String>,
) -> Result<(), UiError> {
    use hearth::accounts::Registration;
    let hearth = ssr::hearth()?;
    let mut session = ssr::session().await?;
    let registration = Registration { email, username, password, password_confirmation: None, name, invitation };
    hearth.register_and_sign_in(&mut session, ssr::client_ip().await, registration).await?;
    leptos_axum::redirect(&hearth::redirect::safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/fn")]
pub async fn logout() -> Result<(), UiError> {
    let mut session = ssr::session().await?;
    ssr::hearth()?.sign_out(&mut session).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/fn")]
pub async fn update_profile(username: String, name: String, avatar_url: String) -> Result<Profile, UiError> {
    use hearth::accounts::ProfileChanges;
    let session = ssr::session().await?;
    let user = session.user.ok_or_else(|| UiError::from(hearth::AppError::Unauthorized("Sign in first".into())))?;
    let changes = ProfileChanges { username: Some(username), name: Some(name), avatar_url: Some(avatar_url) };
    Ok(ssr::hearth()?.update_profile(user.id, changes).await?)
}

/// Sets a new password through an admin's reset link, then sends the
/// visitor to sign in with it.
#[server(prefix = "/fn")]
pub async fn reset_password(token: String, password: String) -> Result<(), UiError> {
    ssr::hearth()?.reset_password(ssr::client_ip().await, &token, &password).await?;
    leptos_axum::redirect("/login");
    Ok(())
}
