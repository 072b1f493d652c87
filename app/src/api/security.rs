//! Account security server functions (issue 18): change email, the sessions
//! list, and the forgotten password by email. Each calls one core method.

use hearth::devices::ActiveSession;
use hearth::model::Profile;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

/// Sets the signed-in user's email; the password is required.
#[server(prefix = "/fn")]
pub async fn change_email(email: String, password: String) -> Result<Profile, UiError> {
    let (hearth, user) = ssr::user().await?;
    Ok(hearth.change_email(user.id, password, &email).await?)
}

/// Changes the signed-in user's password, the current one first: this
/// session stays signed in, every other one of the account ends.
#[server(prefix = "/fn")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), UiError> {
    let mut session = ssr::session().await?;
    // The profile page has another "password" field (the email form's).
    let changed = ssr::hearth()?.change_password(&mut session, current_password, new_password).await;
    changed.map_err(|error| UiError::from(error).with_field_renamed("password", "new_password"))
}

/// The signed-in user's sessions, the current one marked.
#[server(prefix = "/fn")]
pub async fn my_sessions() -> Result<Vec<ActiveSession>, UiError> {
    let session = ssr::session().await?;
    Ok(ssr::hearth()?.sessions_of(&session).await?)
}

/// Signs out one of the signed-in user's sessions.
#[server(prefix = "/fn")]
pub async fn end_session(id: String) -> Result<(), UiError> {
    let (hearth, user) = ssr::user().await?;
    Ok(hearth.end_session_of(user.id, &id).await?)
}

/// Whether this server mails reset links (it has SMTP).
#[server(prefix = "/fn")]
pub async fn reset_by_mail() -> Result<bool, UiError> {
    Ok(ssr::hearth()?.reset_by_mail())
}

/// Mails a reset link to `email` if an account has it; the same answer
/// either way.
#[server(prefix = "/fn")]
pub async fn forgot_password(email: String) -> Result<(), UiError> {
    Ok(ssr::hearth()?.forgot_password(ssr::client_ip().await, &email).await?)
}
