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
use hearth::model::{Person, Profile};
use hearth::{AppError, Hearth};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

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
#[derive(ToSchema)]
#[serde(untagged)]
pub(super) enum MaybeWrapped<T> {
    Wrapped { user: T },
    Bare(T),
}

/// A body with a `user` key is the wrapped form, whose fields must then be
/// right: `{"user":{"email":5}}` is a 422, where an untagged derive would
/// fall back to reading it bare, find no fields and answer 401. A field
/// beside `user` that it does not name itself counts as its own: Rails
/// puts only the model's fields in `user`, and a client may well send
/// `{"user":{…},"invitation":"…"}`.
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for MaybeWrapped<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let (fields, wrapped) = crate::extract::unwrap_model(serde_json::Value::deserialize(deserializer)?, "user");
        let user = serde_json::from_value(fields).map_err(D::Error::custom)?;
        Ok(if wrapped { Self::Wrapped { user } } else { Self::Bare(user) })
    }
}

impl<T> MaybeWrapped<T> {
    pub(super) fn into_inner(self) -> T {
        match self {
            Self::Wrapped { user } | Self::Bare(user) => user,
        }
    }
}

/// A new account: an email, a username (letters, digits, `_`, `.` and `-`)
/// and a password of at least 8 characters, each required.
#[derive(Deserialize, ToSchema)]
pub(super) struct RegisterBody {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    /// The password again, as Devise's sign-up form sends it: when given,
    /// it must match (422 otherwise).
    password_confirmation: Option<String>,
    name: Option<String>,
    /// The invitation link's token (`/register?invitation=…`).
    invitation: Option<String>,
}

/// Creates an account (as the sign-up policy allows) and signs it in.
#[utoipa::path(post, path = "/users", tag = "users", security(()),
    request_body = MaybeWrapped<RegisterBody>,
    responses((status = 201, description = "Registered and signed in (sets the session cookie)", body = SignedIn)))]
pub(super) async fn register(
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
        password_confirmation: body.password_confirmation,
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
    Ok((StatusCode::CREATED, JsonResponse(SignedIn::new(profile))).into_response())
}

/// `{"status": "success", "user": …}`, ChatFlow's answer to a sign-up or sign-in.
#[derive(Serialize, ToSchema)]
pub(super) struct SignedIn {
    /// Always `success`.
    status: &'static str,
    user: Profile,
}

impl SignedIn {
    fn new(user: Profile) -> Self {
        Self { status: "success", user }
    }
}

/// Credentials: the email or username (as `email`, `username` or `login`) and the password.
#[derive(Deserialize, ToSchema)]
pub(super) struct SignInBody {
    email: Option<String>,
    username: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

/// Signs in and sets the session cookie.
#[utoipa::path(post, path = "/users/sign_in", tag = "users", security(()),
    request_body = MaybeWrapped<SignInBody>,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 401, description = "Wrong email, username or password, or a deactivated account", body = crate::rest::openapi::Errors)))]
pub(super) async fn sign_in(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    mut session: AuthSession,
    Json(body): Json<MaybeWrapped<SignInBody>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    let login = body.email.or(body.username).or(body.login).unwrap_or_default();
    let profile = hearth.sign_in(&mut session, client, &login, body.password.unwrap_or_default()).await?;
    Ok(JsonResponse(SignedIn::new(profile)))
}

/// Ends this session (nothing happens without one).
#[utoipa::path(delete, path = "/users/sign_out", tag = "users", security((), ("session" = [])),
    responses((status = 204, description = "Signed out")))]
pub(super) async fn sign_out(State(hearth): State<Hearth>, mut session: AuthSession) -> ApiResult<StatusCode> {
    hearth.sign_out(&mut session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My account.
#[utoipa::path(get, path = "/users/me", tag = "users",
    responses((status = 200, description = "My account", body = Profile)))]
pub(super) async fn me(State(hearth): State<Hearth>, CurrentUser(user): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.profile(user.id).await?))
}

/// Profile changes; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
pub(super) struct ProfileBody {
    username: Option<String>,
    /// My display name; empty or `null` clears it.
    #[serde(default, deserialize_with = "super::null_is_blank")]
    name: Option<String>,
    /// A picture on the web (http or https) to copy as my avatar: fetched
    /// once and served from this server, so `avatar_url` then reads as
    /// `/users/{id}/avatar?v=…`. Empty or `null` clears it; my current value
    /// keeps it.
    #[serde(default, deserialize_with = "super::null_is_blank")]
    avatar_url: Option<String>,
    /// Not changed here: an email change needs the password
    /// (`PUT /users/me/email`), so one sent here is refused, never ignored.
    #[schema(ignore)]
    email: Option<serde::de::IgnoredAny>,
    /// Not changed here either (`PUT /users/me/password`).
    #[schema(ignore)]
    password: Option<serde::de::IgnoredAny>,
}

/// Changes my username, display name or avatar (copied from a URL).
#[utoipa::path(put, path = "/users/me", tag = "users",
    request_body = MaybeWrapped<ProfileBody>,
    responses((status = 200, description = "Changed", body = ProfileUpdated)))]
pub(super) async fn update_me(
    State(hearth): State<Hearth>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<MaybeWrapped<ProfileBody>>,
) -> ApiResult<impl IntoResponse> {
    let body = body.into_inner();
    // A field this route does not change is refused by name, not answered
    // `"ok": true` with nothing changed.
    if body.email.is_some() {
        return Err(AppError::invalid("email", "Email is changed at PUT /users/me/email, with your password").into());
    }
    if body.password.is_some() {
        return Err(AppError::invalid(
            "password",
            "Password is changed at PUT /users/me/password, with your current one",
        )
        .into());
    }
    let changes = ProfileChanges { username: body.username, name: body.name, avatar_url: body.avatar_url };
    let profile = hearth.update_profile(user.id, changes).await?;
    Ok(JsonResponse(ProfileUpdated::new(profile)))
}

/// `{"ok": true, "user": …}`.
#[derive(Serialize, ToSchema)]
pub(super) struct ProfileUpdated {
    ok: bool,
    user: Profile,
}

impl ProfileUpdated {
    pub(super) fn new(user: Profile) -> Self {
        Self { ok: true, user }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DirectoryQuery {
    /// A part of a username or display name.
    query: Option<String>,
    /// At most this many people (capped by the server).
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "hearth::error::any_limit")]
    limit: Option<u32>,
}

/// The people on the instance (never their emails, nor deactivated accounts), to start a conversation with.
#[utoipa::path(get, path = "/users", tag = "users",
    params(DirectoryQuery),
    responses((status = 200, description = "People", body = Vec<Person>)))]
pub(super) async fn directory(
    State(hearth): State<Hearth>,
    CurrentUser(_): CurrentUser,
    Query(q): Query<DirectoryQuery>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(JsonResponse(hearth.directory(q.query.as_deref(), q.limit).await?))
}

/// My current password and the new one.
#[derive(Deserialize, ToSchema)]
pub(super) struct PasswordBody {
    current_password: Option<String>,
    password: Option<String>,
}

/// Changes my password: this session stays, every other one ends.
#[utoipa::path(put, path = "/users/me/password", tag = "users",
    request_body = MaybeWrapped<PasswordBody>,
    responses((status = 204, description = "Changed")))]
pub(super) async fn change_password(
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

/// A reset link's token and the new password.
#[derive(Deserialize, ToSchema)]
pub(super) struct ResetBody {
    token: Option<String>,
    password: Option<String>,
}

/// Sets a new password through a one-time reset link; no session needed.
#[utoipa::path(post, path = "/users/password/reset", tag = "users", security(()),
    request_body = MaybeWrapped<ResetBody>,
    responses((status = 204, description = "The password is set; every session of the account ended")))]
pub(super) async fn reset_password(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<MaybeWrapped<ResetBody>>,
) -> ApiResult<StatusCode> {
    let body = body.into_inner();
    let (token, password) = (body.token.unwrap_or_default(), body.password.unwrap_or_default());
    hearth.reset_password(client, &token, &password).await?;
    Ok(StatusCode::NO_CONTENT)
}
