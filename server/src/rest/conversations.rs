//! Rooms over JSON, in ChatFlow's shapes: `/conversations` (mine), `/rooms`
//! (open rooms), joining, leaving and group membership; renaming and
//! archiving (`PATCH`/`DELETE /conversations/:id`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::{Conversation, ConversationDetail, ConversationSummary, OpenRoom, Person};
use hearth::model::{RoomId, UserId};
use hearth::room_settings::RoomChanges;
use hearth::rooms::NewConversation;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path, Query, RailsJson, RailsModel};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations", get(list).post(create))
        .route("/conversations/{id}", get(show).patch(update).delete(archive))
        .route("/conversations/{id}/join", post(join))
        .route("/conversations/{id}/membership", delete(leave))
        .route("/conversations/{id}/closed", put(close).delete(reopen))
        .route("/conversations/{id}/participants", post(add_participants))
        .route("/conversations/{id}/participants/{user_id}", delete(remove_participant))
        .route("/rooms", get(open_rooms))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// `true`: the archived rooms, which the plain list leaves out.
    archived: Option<bool>,
}

/// My rooms, newest activity first, with unread and mention counts.
#[utoipa::path(get, path = "/conversations", tag = "conversations",
    params(ListQuery),
    responses((status = 200, description = "My rooms", body = Vec<ConversationSummary>)))]
pub(super) async fn list(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    if q.archived == Some(true) {
        Ok(JsonResponse(hearth.archived_conversations(me.id).await?).into_response())
    } else {
        let json = hearth.room_list(me.id).await?.json();
        Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
    }
}

/// A room's new name or topic; absent fields stay as they are. A blank (or
/// `null`) topic clears it; a blank or `null` title is refused.
#[derive(Deserialize, ToSchema)]
pub(super) struct UpdateBody {
    #[serde(default, deserialize_with = "super::null_is_blank")]
    title: Option<String>,
    #[serde(default, deserialize_with = "super::null_is_blank")]
    topic: Option<String>,
}

/// Renames a room or sets its topic: its creator or an admin; not a direct room.
#[utoipa::path(patch, path = "/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = UpdateBody,
    responses((status = 200, description = "The room as it is now", body = Conversation)))]
pub(super) async fn update(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<UpdateBody>,
) -> ApiResult<impl IntoResponse> {
    let changes = RoomChanges { title: body.title, topic: body.topic };
    Ok(JsonResponse(hearth.update_room(me.id, RoomId(id), changes).await?))
}

/// Archives a room (read-only from then on): its creator or an admin; not a direct room.
#[utoipa::path(delete, path = "/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 204, description = "Archived")))]
pub(super) async fn archive(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.archive_room(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new room: a direct room with one other person, a group, or an open room.
#[derive(Deserialize, ToSchema)]
pub(super) struct CreateBody {
    /// Ids as numbers, or as the strings of digits a form sends.
    #[serde(default, deserialize_with = "ids_or_digits")]
    participant_ids: Vec<UserId>,
    title: Option<String>,
    /// `direct`, `group` or `open`; from the number of participants when absent.
    kind: Option<String>,
}

impl RailsModel for CreateBody {
    const KEY: &'static str = "conversation";
}

/// User ids as JSON numbers or strings of digits (`[2]` or `["2"]`, as a
/// Rails form's params arrive).
fn ids_or_digits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<UserId>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(i64),
        Digits(String),
    }
    let ids = Vec::<Id>::deserialize(deserializer)?;
    ids.into_iter()
        .map(|id| match id {
            Id::Number(n) => Ok(UserId(n)),
            Id::Digits(text) => text
                .trim()
                .parse()
                .map(UserId)
                .map_err(|_| serde::de::Error::custom(format!("participant_ids: {text:?} is not a user id"))),
        })
        .collect()
}

/// The id of a room.
#[derive(Serialize, ToSchema)]
pub(super) struct RoomRef {
    id: RoomId,
}

/// Opens a room. A direct room with someone I already have one with is that room (200), and so is
/// an untitled group with exactly the same people (a titled group is always new; the default title, "Group Chat", is no title).
///
/// Rails clients may wrap the fields: `{"conversation": {...}}`.
#[utoipa::path(post, path = "/conversations", tag = "conversations",
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created", body = RoomRef),
        (status = 200, description = "The direct room, or untitled group, that already existed", body = RoomRef)))]
pub(super) async fn create(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    RailsJson(body): RailsJson<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let input = NewConversation { participant_ids: body.participant_ids, title: body.title, kind: body.kind };
    let opened = hearth.create_conversation(me.id, input).await?;
    let status = if opened.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, JsonResponse(RoomRef { id: opened.id })))
}

/// A room I belong to: its participants, newest messages and read markers.
#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 200, description = "The room", body = ConversationDetail)))]
pub(super) async fn show(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.conversation(me.id, RoomId(id)).await?))
}

/// The open rooms anyone may join.
#[utoipa::path(get, path = "/rooms", tag = "conversations",
    responses((status = 200, description = "The open rooms", body = Vec<OpenRoom>)))]
pub(super) async fn open_rooms(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.open_rooms(me.id).await?))
}

/// Joins an open room.
#[utoipa::path(post, path = "/conversations/{id}/join", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 200, description = "Joined (or already a member)", body = RoomRef)))]
pub(super) async fn join(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    hearth.join(me.id, RoomId(id)).await?;
    Ok(JsonResponse(RoomRef { id: RoomId(id) }))
}

/// Leaves a group or open room.
#[utoipa::path(delete, path = "/conversations/{id}/membership", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 204, description = "Left")))]
pub(super) async fn leave(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.leave(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes a direct conversation: it is read, and leaves my room list
/// until someone writes in it, or I start it again (`POST /conversations`
/// with the person) or reopen it. A group or open room is 422: leave it.
#[utoipa::path(put, path = "/conversations/{id}/closed", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 204, description = "Closed")))]
pub(super) async fn close(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.close_conversation(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts a conversation I closed back in my room list (idempotent).
#[utoipa::path(delete, path = "/conversations/{id}/closed", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 204, description = "Open")))]
pub(super) async fn reopen(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.reopen_conversation(me.id, RoomId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// People to add to a group.
#[derive(Deserialize, ToSchema)]
pub(super) struct ParticipantsBody {
    #[serde(default)]
    user_ids: Vec<UserId>,
}

/// Adds people to a group I belong to.
#[utoipa::path(post, path = "/conversations/{id}/participants", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = ParticipantsBody,
    responses((status = 200, description = "The participants now", body = Participants)))]
pub(super) async fn add_participants(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ParticipantsBody>,
) -> ApiResult<impl IntoResponse> {
    let participants = hearth.add_participants(me.id, RoomId(id), body.user_ids).await?;
    Ok(JsonResponse(Participants { participants }))
}

/// A group's participants.
#[derive(Serialize, ToSchema)]
pub(super) struct Participants {
    participants: Vec<Person>,
}

/// Removes someone from a group or open room: myself, anyone as its creator,
/// or anyone as an admin (audited); their sockets stop getting the room at once.
#[utoipa::path(delete, path = "/conversations/{id}/participants/{user_id}", tag = "conversations",
    params(("id" = i64, Path, description = "The conversation's id"), ("user_id" = i64, Path, description = "The person to remove")),
    responses((status = 204, description = "Removed")))]
pub(super) async fn remove_participant(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    hearth.remove_participant(me.id, RoomId(id), UserId(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
