//! Saved messages over JSON ("save for later"): `PUT`/`DELETE
//! /conversations/:id/messages/:number/save`, my saves in one room
//! (`GET /conversations/:id/saved`) and my whole list (`GET /users/me/saved`).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::{RoomId, SavedMark, SavedMessages, SavedNumbers};
use hearth::saved::SavedParams;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/messages/{number}/save", put(save).delete(unsave))
        .route("/conversations/{id}/saved", get(in_room))
        .route("/users/me/saved", get(list))
}

/// Saves a message to my list, which only I see (idempotent: saving it
/// again keeps its first time). Each of my sockets gets `message_saved`. At
/// most 1,000 saved messages (409 past that).
#[utoipa::path(put, path = "/conversations/{id}/messages/{number}/save", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    responses((status = 200, description = "Saved, and since when", body = SavedMark),
        (status = 409, description = "1,000 messages are saved already", body = super::openapi::Errors)))]
pub(super) async fn save(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.save_message(me.id, RoomId(id), number, true).await?))
}

/// Takes a message off my list (idempotent).
#[utoipa::path(delete, path = "/conversations/{id}/messages/{number}/save", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    responses((status = 200, description = "Not saved (`saved_at` is null)", body = SavedMark)))]
pub(super) async fn unsave(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.save_message(me.id, RoomId(id), number, false).await?))
}

/// The numbers of the messages I saved in a conversation, ascending.
#[utoipa::path(get, path = "/conversations/{id}/saved", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 200, description = "My saved messages' numbers", body = SavedNumbers)))]
pub(super) async fn in_room(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.saved_in_room(me.id, RoomId(id)).await?))
}

/// My saved messages across the conversations I am in, the most recently
/// saved first, each as it is now; page on with `before` the last entry's
/// `id` (`next_before`).
#[utoipa::path(get, path = "/users/me/saved", tag = "messages",
    params(SavedParams),
    responses((status = 200, description = "A page of my saved messages", body = SavedMessages)))]
pub(super) async fn list(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<SavedParams>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.saved_messages(me.id, &params).await?))
}
