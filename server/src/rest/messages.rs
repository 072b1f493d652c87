//! Messages over JSON: ChatFlow's `/conversations/:id/messages` with
//! `before`/`after`/`limit`, edits and deletes by number, and the first
//! seed's `GET /messages?from_user&to_user` and `POST /message`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::messages::{HistoryParams, RepliesParams};
use hearth::model::{EmojiSuggestions, MarkedRead, Message, MessagePage, MessageVersions, PinnedMessages, Reaction};
use hearth::model::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, OptionalJson, Path, Query, RailsJson, RailsModel};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/messages", get(history).post(send))
        .route("/conversations/{id}/messages/{number}", patch(edit).delete(remove))
        .route("/conversations/{id}/messages/{number}/replies", get(replies))
        .route("/conversations/{id}/messages/{number}/edits", get(edits))
        .route("/conversations/{id}/read", put(mark_read))
        .route("/conversations/read", put(mark_all_read))
        .route("/emoji", get(emoji))
        .route("/conversations/{id}/messages/{number}/unread", put(mark_unread))
        .route("/conversations/{id}/messages/{number}/reactions", post(toggle_reaction))
        .route("/conversations/{id}/messages/{number}/reactions/{emoji}", put(add_reaction).delete(remove_reaction))
        .route("/conversations/{id}/messages/{number}/pin", put(pin).delete(unpin))
        .route("/conversations/{id}/pins", get(pins))
        .route("/messages", get(direct_history))
        .route("/message", post(send_direct))
}

/// A page of a room's history, oldest first.
#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), HistoryParams),
    responses((status = 200, description = "The page", body = MessagePage)))]
pub(super) async fn history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.history(me.id, RoomId(id), &params).await?))
}

/// A message's live replies, oldest first; page on with `after` the last
/// one's number. A deleted message's replies stay listed.
#[utoipa::path(get, path = "/conversations/{id}/messages/{number}/replies", tag = "messages",
    params(
        ("id" = i64, Path, description = "The conversation's id"),
        ("number" = i64, Path, description = "The message's number in the conversation"),
        RepliesParams),
    responses((status = 200, description = "The page of replies", body = MessagePage)))]
pub(super) async fn replies(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
    Query(params): Query<RepliesParams>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.replies(me.id, RoomId(id), number, &params).await?))
}

/// What a message said before its edits, the oldest first (at most the
/// last 20); empty when it was never edited. 404 once it is deleted: its
/// earlier texts went with it.
#[utoipa::path(get, path = "/conversations/{id}/messages/{number}/edits", tag = "messages",
    params(
        ("id" = i64, Path, description = "The conversation's id"),
        ("number" = i64, Path, description = "The message's number in the conversation")),
    responses((status = 200, description = "Its earlier texts", body = MessageVersions)))]
pub(super) async fn edits(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.message_versions(me.id, RoomId(id), number).await?))
}

/// A new message.
#[derive(Deserialize, ToSchema)]
pub(super) struct SendBody {
    /// Markdown, 1 to 10,000 characters after trimming.
    #[serde(default)]
    body: String,
    /// The sender's own id for the message: sending it again returns the
    /// first message (200) instead of a second one.
    client_id: Option<String>,
    /// The number of the message this one answers.
    reply_to: Option<i64>,
    /// My uploads to this conversation (`POST /conversations/{id}/attachments`)
    /// that it carries, at most 10; with files, `body` may be empty.
    #[serde(default)]
    attachment_ids: Vec<i64>,
}

impl RailsModel for SendBody {
    const KEY: &'static str = "message";
}

/// Sends a message to a room I belong to.
///
/// Rails clients may wrap the fields: `{"message": {...}}`.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = SendBody,
    responses(
        (status = 201, description = "Sent", body = Message),
        (status = 200, description = "Already sent with this `client_id`: the first message", body = Message)))]
pub(super) async fn send(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    RailsJson(body): RailsJson<SendBody>,
) -> ApiResult<impl IntoResponse> {
    let client_id = body.client_id.as_deref();
    let sent = hearth.post_reply(me.id, RoomId(id), &body.body, client_id, body.reply_to, &body.attachment_ids).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, JsonResponse(sent.message)))
}

/// How far I have read a room.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct ReadBody {
    /// The newest message read (by number); absent: every message there is.
    /// It only moves forward, and stops at the room's newest.
    number: Option<i64>,
}

/// My read marker in a room, as it is now.
#[derive(Serialize, ToSchema)]
pub(super) struct ReadMarker {
    /// Every message up to this number is read.
    read_up_to: i64,
}

/// Marks a room read up to a message (or all of it), as the web app does
/// while its messages are on screen: the unread and mention counts follow,
/// and the room's other members see "Seen".
#[utoipa::path(put, path = "/conversations/{id}/read", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body(content = ReadBody, description = "May be left out: everything is read"),
    responses((status = 200, description = "My read marker now", body = ReadMarker)))]
pub(super) async fn mark_read(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    OptionalJson(body): OptionalJson<ReadBody>,
) -> ApiResult<impl IntoResponse> {
    let marker = hearth.mark_read(me.id, RoomId(id), body.number.unwrap_or(i64::MAX)).await?;
    Ok(JsonResponse(ReadMarker { read_up_to: marker }))
}

/// "Mark all as read": every live conversation of mine with unread
/// messages is read up to its newest, as `PUT /conversations/{id}/read`
/// reads one (its members see "Seen", my sockets get the counts).
#[utoipa::path(put, path = "/conversations/read", tag = "messages",
    responses((status = 200, description = "The conversations it read", body = MarkedRead)))]
pub(super) async fn mark_all_read(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.mark_all_read(me.id).await?))
}

/// Marks a room unread from a message on: my read marker moves back to just
/// before it, so it and the others' messages after it count as unread again
/// (the unread and mention counts follow; my other tabs hear of it). From a
/// message that is unread already, nothing changes. The other members are
/// not told.
#[utoipa::path(put, path = "/conversations/{id}/messages/{number}/unread", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The first message to count as unread")),
    responses((status = 200, description = "My read marker now", body = ReadMarker)))]
pub(super) async fn mark_unread(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let marker = hearth.mark_unread(me.id, RoomId(id), number).await?;
    Ok(JsonResponse(ReadMarker { read_up_to: marker }))
}

/// A message's new text.
#[derive(Deserialize, ToSchema)]
pub(super) struct EditBody {
    #[serde(default)]
    body: String,
}

/// Edits my own message, within the edit window.
#[utoipa::path(patch, path = "/conversations/{id}/messages/{number}", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    request_body = EditBody,
    responses((status = 200, description = "Edited", body = Message)))]
pub(super) async fn edit(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
    Json(body): Json<EditBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.edit_message(me.id, RoomId(id), number, &body.body).await?))
}

/// Deletes a message: my own, or any as an admin. Its number stays.
#[utoipa::path(delete, path = "/conversations/{id}/messages/{number}", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    responses((status = 204, description = "Deleted")))]
pub(super) async fn remove(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    hearth.delete_message(me.id, RoomId(id), number).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An emoji to toggle.
#[derive(Deserialize, ToSchema)]
pub(super) struct ReactionBody {
    #[serde(default)]
    emoji: String,
}

/// A message's reactions after a change.
#[derive(Serialize, ToSchema)]
pub(super) struct Reactions {
    reactions: Vec<Reaction>,
}

fn reactions_reply(reactions: Vec<Reaction>) -> impl IntoResponse {
    JsonResponse(Reactions { reactions })
}

/// Pins a message to its conversation, as any member may (idempotent).
/// Every member gets the message again as a `message_edited` event, with
/// `pinned` set. A conversation holds at most 100 pins (409 past that).
#[utoipa::path(put, path = "/conversations/{id}/messages/{number}/pin", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    responses((status = 200, description = "The message, pinned", body = Message),
        (status = 409, description = "The conversation has 100 pinned messages already", body = super::openapi::Errors)))]
pub(super) async fn pin(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.pin(me.id, RoomId(id), number, true).await?))
}

/// Unpins a message (idempotent); members get it as a `message_edited`
/// event without `pinned`.
#[utoipa::path(delete, path = "/conversations/{id}/messages/{number}/pin", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    responses((status = 200, description = "The message, not pinned", body = Message)))]
pub(super) async fn unpin(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.pin(me.id, RoomId(id), number, false).await?))
}

/// The conversation's pinned messages, the most recently pinned first.
#[utoipa::path(get, path = "/conversations/{id}/pins", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses((status = 200, description = "The pinned messages", body = PinnedMessages)))]
pub(super) async fn pins(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.pinned_messages(me.id, RoomId(id)).await?))
}

/// The start of a shortcode, with or without its colons.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EmojiQuery {
    /// 1 to 32 of the letters, digits, `_`, `+` and `-` a shortcode holds.
    #[serde(default)]
    query: String,
}

/// The emoji whose shortcodes `query` begins (`tad` → 🎉 `tada`), or one of
/// whose words it begins, the likeliest first, at most 8: what the
/// composer suggests as one types `:tad`.
#[utoipa::path(get, path = "/emoji", tag = "messages",
    params(EmojiQuery),
    responses((status = 200, description = "The emoji it names", body = EmojiSuggestions)))]
pub(super) async fn emoji(
    CurrentUser(_me): CurrentUser,
    Query(asked): Query<EmojiQuery>,
) -> ApiResult<impl IntoResponse> {
    let emoji = hearth::emoji::suggestions(&asked.query).map_err(hearth::AppError::from)?;
    Ok(JsonResponse(EmojiSuggestions { emoji }))
}

/// Toggles my reaction on a message.
#[utoipa::path(post, path = "/conversations/{id}/messages/{number}/reactions", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room")),
    request_body = ReactionBody,
    responses((status = 200, description = "The message's reactions now", body = Reactions)))]
pub(super) async fn toggle_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
    Json(body): Json<ReactionBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &body.emoji, None).await?))
}

/// Puts my reaction on a message (idempotent).
#[utoipa::path(put, path = "/conversations/{id}/messages/{number}/reactions/{emoji}", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room"), ("emoji" = String, Path, description = "The emoji")),
    responses((status = 200, description = "The message's reactions now", body = Reactions)))]
pub(super) async fn add_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number, emoji)): Path<(i64, i64, String)>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &emoji, Some(true)).await?))
}

/// Takes my reaction off a message (idempotent).
#[utoipa::path(delete, path = "/conversations/{id}/messages/{number}/reactions/{emoji}", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), ("number" = i64, Path, description = "The message's number in the room"), ("emoji" = String, Path, description = "The emoji")),
    responses((status = 200, description = "The message's reactions now", body = Reactions)))]
pub(super) async fn remove_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number, emoji)): Path<(i64, i64, String)>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &emoji, Some(false)).await?))
}

/// The pair; the paging parameters are read from the same query string by
/// a second extractor (`#[serde(flatten)]` would make serde read numbers in
/// a query string as strings and reject them).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DirectQuery {
    /// One of the pair (one of them must be me).
    from_user: i64,
    /// The other.
    to_user: i64,
}

/// The first seed's history of a direct room, by its pair of users.
#[utoipa::path(get, path = "/messages", tag = "messages",
    params(DirectQuery, HistoryParams),
    responses((status = 200, description = "The page", body = MessagePage)))]
pub(super) async fn direct_history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<DirectQuery>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<impl IntoResponse> {
    let page = hearth.direct_history(me.id, UserId(q.from_user), UserId(q.to_user), &params).await?;
    Ok(JsonResponse(page))
}

/// The first seed's direct message.
#[derive(Deserialize, ToSchema)]
pub(super) struct DirectSend {
    from_user: i64,
    to_user: i64,
    #[serde(default)]
    body: String,
    /// Accepted for compatibility and ignored: the server's clock decides.
    #[allow(dead_code)]
    #[schema(value_type = Option<String>)]
    created_at: Option<serde_json::Value>,
}

/// The first seed's send: to the direct room of the pair (made if new).
#[utoipa::path(post, path = "/message", tag = "messages",
    request_body = DirectSend,
    responses((status = 201, description = "Sent", body = Message)))]
pub(super) async fn send_direct(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<DirectSend>,
) -> ApiResult<impl IntoResponse> {
    let message = hearth.post_direct(me.id, UserId(body.from_user), UserId(body.to_user), &body.body).await?;
    Ok((StatusCode::CREATED, JsonResponse(message)))
}
