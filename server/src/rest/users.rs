//! Accounts over JSON, in ChatFlow's (Devise's) shapes: `POST /users`,
//! `POST /users/sign_in`, `DELETE /users/sign_out`, `GET|PUT /users/me`, and
//! the directory `GET /users`. Bodies may wrap their fields in `"user"` or not.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::accounts::{ProfileChanges, Registration};
use hearth::auth::AuthSession;
use hearth::{AppError, Hearth};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddr, CurrentUser, Json, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(register).get(directory))
        .route("/users/sign_in", post(sign_in))
        .route("/users/sign_out", delete(sign_out))
        .route("/users/me", get(me).put(update_me))
        .route("/users/me/password", put(change_password))
        .route("/users/password/reset", post(reset_password))
}

/// `{"user": {...}}` or the same fields bare.
#[derive(Deserialize)]
#[serde(untagged)]
enum MaybeWrapped<T> {
    Wrapped { user: T },
    Bare(T),
}

impl<T> MaybeWrapped<T> {
    fn into_inner(self) -> T {
        match self {
            Self::Wrapped { user } | Self::Bare(user) => user,
        }
    }
}

#[derive(Deserialize)]
struct RegisterBody {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    name: Option<String>,
    /// The invitation link's token (`/register?invitation=…`).
    invitation: Option<String>,
}

async fn register(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    mut session: AuthSession,
    Json(body): Json<MaybeWrapped<RegisterBody>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    let registration = Registration {
        email: body.email.unwrap_or_default(),
        username: body.username.unwrap_or_default(),
        password: body.password.unwrap_or_default(),
        name: body.name,
        invitation: body.invitation,
    };
    let profile = match hearth.register_and_sign_in(&mut session, client, registration).await {
        Ok(profile) => profile,
        Err(AppError::Validation(fields)) => {
            let errors: Vec<_> = fields.into_iter().map(|f| f.message).collect();
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                JsonResponse(json!({ "status": "error", "errors": errors })),
            )
                .into_response());
        }
        Err(other) => return Err(other.into()),
    };
    Ok((StatusCode::CREATED, JsonResponse(json!({ "status": "success", "user": profile }))).into_response())
}

#[derive(Deserialize)]
struct SignInBody {
    email: Option<String>,
    username: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

async fn sign_in(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    mut session: AuthSession,
    Json(body): Json<MaybeWrapped<SignInBody>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    let login = body.email.or(body.username).or(body.login).unwrap_or_default();
    let profile = hearth.sign_in(&mut session, client, &login, body.password.unwrap_or_default()).await?;
    Ok(JsonResponse(json!({ "status": "success", "user": profile })))
}

async fn sign_out(State(hearth): State<Hearth>, mut session: AuthSession) -> ApiResult<StatusCode> {
    hearth.sign_out(&mut session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(hearth): State<Hearth>, CurrentUser(user): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.profile(user.id).await?))
}

#[derive(Deserialize)]
struct ProfileBody {
    username: Option<String>,
    name: Option<String>,
    avatar_url: Option<String>,
}

async fn update_me(
    State(hearth): State<Hearth>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<MaybeWrapped<ProfileBody>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    let changes = ProfileChanges { username: body.username, name: body.name, avatar_url: body.avatar_url };
    let profile = hearth.update_profile(user.id, changes).await?;
    Ok(JsonResponse(json!({ "ok": true, "user": profile })))
}

#[derive(Deserialize)]
struct DirectoryQuery {
    query: Option<String>,
    limit: Option<u32>,
}

async fn directory(
    State(hearth): State<Hearth>,
    CurrentUser(_): CurrentUser,
    Query(q): Query<DirectoryQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(JsonResponse(hearth.directory(q.query.as_deref(), q.limit).await?))
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: Option<String>,
    password: Option<String>,
}

/// Changes the password: this session stays, every other one ends.
async fn change_password(
    State(hearth): State<Hearth>,
    CurrentUser(_): CurrentUser,
    mut session: AuthSession,
    Json(body): Json<MaybeWrapped<PasswordBody>>,
) -> ApiResult<StatusCode> {
    let body = body.into_inner();
    let (current, new) = (body.current_password.unwrap_or_default(), body.password.unwrap_or_default());
    hearth.change_password(&mut session, current, new).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ResetBody {
    token: Option<String>,
    password: Option<String>,
}

/// Sets a new password through an admin's reset link; no session needed.
async fn reset_password(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<MaybeWrapped<ResetBody>>,
) -> ApiResult<StatusCode> {
    let body = body.into_inner();
    let (token, password) = (body.token.unwrap_or_default(), body.password.unwrap_or_default());
    hearth.reset_password(client, &token, &password).await?;
    Ok(StatusCode::NO_CONTENT)
}
