//! Messages over JSON: ChatFlow's `/conversations/:id/messages` with
//! `before`/`after`/`limit`, edits and deletes by number, and the first
//! seed's `GET /messages?from_user&to_user` and `POST /message`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::messages::HistoryParams;
use hearth::model::{RoomId, UserId};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversations/{id}/messages", get(history).post(send))
        .route("/conversations/{id}/messages/{number}", patch(edit).delete(remove))
        .route("/conversations/{id}/messages/{number}/reactions", post(toggle_reaction))
        .route("/conversations/{id}/messages/{number}/reactions/{emoji}", put(add_reaction).delete(remove_reaction))
        .route("/messages", get(direct_history))
        .route("/message", post(send_direct))
}

async fn history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.history(me.id, RoomId(id), &params).await?))
}

#[derive(Deserialize)]
struct SendBody {
    #[serde(default)]
    body: String,
    client_id: Option<String>,
    /// The number of the message this one answers.
    reply_to: Option<i64>,
}

async fn send(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<SendBody>,
) -> ApiResult<impl IntoResponse> {
    let sent = hearth.post_reply(me.id, RoomId(id), &body.body, body.client_id.as_deref(), body.reply_to).await?;
    let status = if sent.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, JsonResponse(sent.message)))
}

#[derive(Deserialize)]
struct EditBody {
    #[serde(default)]
    body: String,
}

async fn edit(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
    Json(body): Json<EditBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.edit_message(me.id, RoomId(id), number, &body.body).await?))
}

async fn remove(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    hearth.delete_message(me.id, RoomId(id), number).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ReactionBody {
    #[serde(default)]
    emoji: String,
}

/// `{"reactions": [...]}`: the message's reactions after the change.
fn reactions_reply(reactions: Vec<hearth::model::Reaction>) -> impl IntoResponse {
    JsonResponse(serde_json::json!({ "reactions": reactions }))
}

/// `POST …/reactions {"emoji"}`: toggles my reaction.
async fn toggle_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number)): Path<(i64, i64)>,
    Json(body): Json<ReactionBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &body.emoji, None).await?))
}

/// `PUT …/reactions/{emoji}`: puts my reaction on (idempotent).
async fn add_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number, emoji)): Path<(i64, i64, String)>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &emoji, Some(true)).await?))
}

/// `DELETE …/reactions/{emoji}`: takes my reaction off (idempotent).
async fn remove_reaction(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, number, emoji)): Path<(i64, i64, String)>,
) -> ApiResult<impl IntoResponse> {
    Ok(reactions_reply(hearth.react(me.id, RoomId(id), number, &emoji, Some(false)).await?))
}

/// The pair; the paging parameters are read from the same query string by
/// a second extractor (`#[serde(flatten)]` would make serde read numbers in
/// a query string as strings and reject them).
#[derive(Deserialize)]
struct DirectQuery {
    from_user: i64,
    to_user: i64,
}

async fn direct_history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<DirectQuery>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<impl IntoResponse> {
    let page = hearth.direct_history(me.id, UserId(q.from_user), UserId(q.to_user), &params).await?;
    Ok(JsonResponse(page))
}

#[derive(Deserialize)]
struct DirectSend {
    from_user: i64,
    to_user: i64,
    #[serde(default)]
    body: String,
    /// Accepted for compatibility and ignored: the server's clock decides.
    #[allow(dead_code)]
    created_at: Option<serde_json::Value>,
}

async fn send_direct(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<DirectSend>,
) -> ApiResult<impl IntoResponse> {
    let message = hearth.post_direct(me.id, UserId(body.from_user), UserId(body.to_user), &body.body).await?;
    Ok((StatusCode::CREATED, JsonResponse(message)))
}
