//! Rooms over JSON, in ChatFlow's shapes: `/conversations` (mine), `/rooms`
//! (open rooms), joining, leaving and group membership; renaming and
//! archiving (`PATCH`/`DELETE /conversations/:id`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::{RoomId, UserId};
use hearth::room_settings::RoomChanges;
use hearth::rooms::NewConversation;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list).post(create))
        .route("/conversations/{id}", get(show).patch(update).delete(archive))
        .route("/conversations/{id}/join", post(join))
        .route("/conversations/{id}/membership", delete(leave))
        .route("/conversations/{id}/participants", post(add_participants))
        .route("/conversations/{id}/participants/{user_id}", delete(remove_participant))
        .route("/rooms", get(open_rooms))
}

#[derive(Deserialize)]
struct ListQuery {
    /// `true`: the archived rooms, which the plain list leaves out.
    archived: Option<bool>,
}

async fn list(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if q.archived == Some(true) {
        Ok(JsonResponse(hearth.archived_conversations(me.id).await?))
    } else {
        Ok(JsonResponse(hearth.conversations(me.id).await?))
    }
}

#[derive(Deserialize)]
struct UpdateBody {
    title: Option<String>,
    topic: Option<String>,
}

async fn update(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let changes = RoomChanges { title: body.title, topic: body.topic };
    Ok(JsonResponse(hearth.update_room(me.id, RoomId(id), changes).await?))
}

async fn archive(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.archive_room(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    participant_ids: Vec<UserId>,
    title: Option<String>,
    kind: Option<String>,
}

async fn create(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let input = NewConversation { participant_ids: body.participant_ids, title: body.title, kind: body.kind };
    let opened = hearth.create_conversation(me.id, input).await?;
    let status = if opened.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, JsonResponse(json!({ "id": opened.id }))))
}

async fn show(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.conversation(me.id, RoomId(id)).await?))
}

async fn open_rooms(State(hearth): State<Hearth>, CurrentUser(me): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.open_rooms(me.id).await?))
}

async fn join(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    hearth.join(me.id, RoomId(id)).await?;
    Ok(JsonResponse(json!({ "id": id })))
}

async fn leave(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.leave(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ParticipantsBody {
    #[serde(default)]
    user_ids: Vec<UserId>,
}

async fn add_participants(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ParticipantsBody>,
) -> ApiResult<impl IntoResponse> {
    let participants = hearth.add_participants(me.id, RoomId(id), body.user_ids).await?;
    Ok(JsonResponse(json!({ "participants": participants })))
}

async fn remove_participant(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    hearth.remove_participant(me.id, RoomId(id), UserId(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
