//! Account security over JSON (issue 18, part 5): `PUT /users/me/email`,
//! `GET /users/me/sessions`, `DELETE /users/me/sessions/:id`,
//! `POST /users/password/forgot`; and the middleware that keeps each
//! signed-in session's last request for the sessions list. The rules are the
//! core's (`hearth::account`).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::account::{NO_RESET_BY_MAIL, RESET_MAIL_SENT};
use hearth::auth::{AuthSession, stored_id};
use hearth::devices::ActiveSession;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::openapi::Errors;
use super::users::{MaybeWrapped, ProfileUpdated};
use crate::error::ApiResult;
use crate::extract::{ClientAddr, CurrentUser, Json, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/me/email", put(change_email))
        .route("/users/me/sessions", get(sessions))
        .route("/users/me/sessions/{id}", delete(end_session))
        .route("/users/password/forgot", post(forgot_password))
}

/// `PUT /users/me/email`: the new address and the account's password.
#[derive(Deserialize, ToSchema)]
pub struct EmailChange {
    /// The new address.
    pub email: Option<String>,
    /// The account's current password.
    pub password: Option<String>,
}

/// Changes my email; my password is required.
///
/// 422 on a wrong password, an invalid address or one already taken.
#[utoipa::path(put, path = "/users/me/email", tag = "users",
    request_body = MaybeWrapped<EmailChange>,
    responses((status = 200, description = "Changed", body = ProfileUpdated)))]
pub(super) async fn change_email(
    State(hearth): State<Hearth>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<MaybeWrapped<EmailChange>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    let profile =
        hearth.change_email(user.id, body.password.unwrap_or_default(), body.email.as_deref().unwrap_or("")).await?;
    Ok(JsonResponse(ProfileUpdated::new(profile)))
}

/// My signed-in sessions, the most recently seen first.
#[utoipa::path(get, path = "/users/me/sessions", tag = "users",
    responses((status = 200, description = "My sessions", body = Vec<ActiveSession>)))]
pub(super) async fn sessions(
    State(hearth): State<Hearth>,
    CurrentUser(_): CurrentUser,
    session: AuthSession,
) -> ApiResult<JsonResponse<Vec<ActiveSession>>> {
    Ok(JsonResponse(hearth.sessions_of(&session).await?))
}

/// Signs out one of my sessions (this one too), at once: its next request is
/// refused and its sockets close.
#[utoipa::path(delete, path = "/users/me/sessions/{id}", tag = "users",
    params(("id" = String, Path, description = "The session's id in the list")),
    responses((status = 204, description = "Signed out")))]
pub(super) async fn end_session(
    State(hearth): State<Hearth>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    hearth.end_session_of(user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/password/forgot`: the address to send a reset link to.
#[derive(Deserialize, ToSchema)]
pub struct ForgotPassword {
    /// The account's email address.
    pub email: Option<String>,
}

/// The answer to a forgotten-password request, the same for every address.
#[derive(Serialize, ToSchema)]
pub struct ForgotAnswer {
    /// [`RESET_MAIL_SENT`].
    pub message: &'static str,
}

/// Mails a one-time reset link, when the server has SMTP.
///
/// The same answer whether or not the address has an account (the link is
/// made and mailed after answering); 404 when the server has no SMTP.
#[utoipa::path(post, path = "/users/password/forgot", tag = "users", security(()),
    request_body = MaybeWrapped<ForgotPassword>,
    responses(
        (status = 202, description = "Accepted: a link is on its way if the address has an account", body = ForgotAnswer),
        (status = 404, description = "This server sends no mail (no SMTP configured)", body = Errors)))]
pub(super) async fn forgot_password(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<MaybeWrapped<ForgotPassword>>,
) -> ApiResult<Response> {
    if !hearth.reset_by_mail() {
        return Ok((StatusCode::NOT_FOUND, JsonResponse(json!({ "errors": [NO_RESET_BY_MAIL] }))).into_response());
    }
    let body = body.into_inner();
    hearth.forgot_password(client, body.email.as_deref().unwrap_or("")).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(ForgotAnswer { message: RESET_MAIL_SENT })).into_response())
}

/// Notes each signed-in session's request (device and time, at most once a
/// minute) for the sessions list. A failure to note it is logged; the
/// request goes on.
pub(crate) async fn touch_session(
    State(hearth): State<Hearth>,
    session: AuthSession,
    request: Request,
    next: Next,
) -> Response {
    let agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let before = session.session.id();
    if let (Some(user), Some(id)) = (session.user.as_ref(), before)
        && let Err(err) = hearth.touch_session(&stored_id(id).to_string(), user.id, agent.as_deref()).await
    {
        tracing::warn!(error = %err, "noting a session's request failed");
    }
    let response = next.run(request).await;
    // A sign-in gave the session a new id (recorded by the core): its device.
    if let Some(id) = session.session.id().filter(|id| Some(*id) != before)
        && let Err(err) = hearth.note_device(&stored_id(id).to_string(), agent.as_deref()).await
    {
        tracing::warn!(error = %err, "noting a new session's device failed");
    }
    response
}
