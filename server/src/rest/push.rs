//! Web Push subscriptions over JSON: `GET /push/key`,
//! `POST`/`DELETE /push/subscriptions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/push/key", get(key)).route("/push/subscriptions", post(subscribe).delete(unsubscribe))
}

async fn key(State(hearth): State<Hearth>, CurrentUser(_me): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(json!({ "public_key": hearth.push_public_key().await? })))
}

#[derive(Deserialize, Default)]
struct Keys {
    #[serde(default)]
    p256dh: String,
    #[serde(default)]
    auth: String,
}

/// The shape of the browser's `PushSubscription.toJSON()`.
#[derive(Deserialize)]
struct SubscriptionBody {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    keys: Keys,
}

async fn subscribe(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<SubscriptionBody>,
) -> ApiResult<impl IntoResponse> {
    let id = hearth.subscribe_push(me.id, &body.endpoint, &body.keys.p256dh, &body.keys.auth).await?;
    Ok((StatusCode::CREATED, JsonResponse(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct EndpointBody {
    #[serde(default)]
    endpoint: String,
}

async fn unsubscribe(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<EndpointBody>,
) -> ApiResult<impl IntoResponse> {
    hearth.unsubscribe_push(me.id, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}
