//! Notification levels over JSON: `GET`/`PUT /conversations/:id/notifications`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::NotificationSettings;
use hearth::model::RoomId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/conversations/{id}/notifications", get(show).put(update))
}

/// My notification level for a room.
#[utoipa::path(get, path = "/conversations/{id}/notifications", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 200, description = "My level", body = NotificationSettings)))]
pub(super) async fn show(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.notification_settings(me.id, RoomId(id)).await?))
}

/// A level: `everything`, `mentions` or `nothing`.
#[derive(Deserialize, ToSchema)]
pub(super) struct LevelBody {
    #[serde(default)]
    level: String,
}

/// Sets my notification level for a room.
#[utoipa::path(put, path = "/conversations/{id}/notifications", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = LevelBody,
    responses((status = 200, description = "My level now", body = NotificationSettings)))]
pub(super) async fn update(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<LevelBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.set_notification_level(me.id, RoomId(id), &body.level).await?))
}
