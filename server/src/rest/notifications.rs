//! Notification levels over JSON: `GET`/`PUT /conversations/:id/notifications`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::RoomId;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/conversations/{id}/notifications", get(show).put(update))
}

async fn show(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.notification_settings(me.id, RoomId(id)).await?))
}

#[derive(Deserialize)]
struct LevelBody {
    #[serde(default)]
    level: String,
}

async fn update(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<LevelBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.set_notification_level(me.id, RoomId(id), &body.level).await?))
}
