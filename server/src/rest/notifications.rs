//! Notifications over JSON: my level per room (`GET`/`PUT
//! /conversations/:id/notifications`), and pausing all of them for a while
//! (`PUT`/`DELETE /users/me/notifications/pause`).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::{NotificationPause, NotificationSettings, RoomId};
use hearth::pause::PauseFor;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/notifications", get(show).put(update))
        .route("/users/me/notifications/pause", put(pause).delete(resume))
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

/// How long to pause for: `minutes` from now, or `until` a time; one of
/// the two.
#[derive(Deserialize, ToSchema)]
pub(super) struct PauseBody {
    /// 1 to 43200 (30 days).
    minutes: Option<i64>,
    /// An RFC 3339 time, in the future and within 30 days.
    until: Option<String>,
}

/// Pauses my notifications: until it ends, no Web Push is sent to my
/// devices (not even for a mention) and my open tabs show no desktop
/// notification. Messages are still counted unread. A new pause replaces
/// the one I had.
#[utoipa::path(put, path = "/users/me/notifications/pause", tag = "users",
    request_body = PauseBody,
    responses((status = 200, description = "Paused until", body = NotificationPause)))]
pub(super) async fn pause(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<PauseBody>,
) -> ApiResult<impl IntoResponse> {
    let asked = PauseFor::from_fields(body.minutes, body.until).map_err(hearth::AppError::from)?;
    Ok(JsonResponse(hearth.pause_notifications(me.id, &asked).await?))
}

/// Resumes my notifications (fine when they were not paused).
#[utoipa::path(delete, path = "/users/me/notifications/pause", tag = "users",
    responses((status = 200, description = "Not paused", body = NotificationPause)))]
pub(super) async fn resume(State(hearth): State<Hearth>, CurrentUser(me): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.resume_notifications(me.id).await?))
}
