//! Web Push subscriptions over JSON: `GET /push/key`,
//! `POST`/`DELETE /push/subscriptions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::auth::AuthSession;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/push/key", get(key)).route("/push/subscriptions", post(subscribe).delete(unsubscribe))
}

/// The server's VAPID public key, for `PushManager.subscribe`.
#[utoipa::path(get, path = "/push/key", tag = "push",
    responses((status = 200, description = "The key", body = PushKey)))]
pub(super) async fn key(State(hearth): State<Hearth>, CurrentUser(_me): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(PushKey { public_key: hearth.push_public_key().await? }))
}

/// The VAPID public key, base64url (an uncompressed P-256 point).
#[derive(Serialize, ToSchema)]
pub(super) struct PushKey {
    public_key: String,
}

/// A push subscription's id.
#[derive(Serialize, ToSchema)]
pub(super) struct SubscriptionRef {
    id: i64,
}

/// The subscription's keys, base64url.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct Keys {
    #[serde(default)]
    p256dh: String,
    #[serde(default)]
    auth: String,
}

/// The shape of the browser's `PushSubscription.toJSON()`.
#[derive(Deserialize, ToSchema)]
pub(super) struct SubscriptionBody {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    keys: Keys,
}

/// Registers this device's push subscription (one per endpoint).
#[utoipa::path(post, path = "/push/subscriptions", tag = "push",
    request_body = SubscriptionBody,
    responses((status = 201, description = "Registered", body = SubscriptionRef)))]
pub(super) async fn subscribe(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    session: AuthSession,
    Json(body): Json<SubscriptionBody>,
) -> ApiResult<impl IntoResponse> {
    let session = hearth::auth::stored_session_id(&session.session);
    let id =
        hearth.subscribe_push(me.id, session.as_deref(), &body.endpoint, &body.keys.p256dh, &body.keys.auth).await?;
    Ok((StatusCode::CREATED, JsonResponse(SubscriptionRef { id })))
}

/// The endpoint of a subscription to remove.
#[derive(Deserialize, ToSchema)]
pub(super) struct EndpointBody {
    #[serde(default)]
    endpoint: String,
}

/// Removes one of my push subscriptions.
#[utoipa::path(delete, path = "/push/subscriptions", tag = "push",
    request_body = EndpointBody,
    responses((status = 204, description = "Removed")))]
pub(super) async fn unsubscribe(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<EndpointBody>,
) -> ApiResult<impl IntoResponse> {
    hearth.unsubscribe_push(me.id, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}
