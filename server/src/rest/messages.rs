//! Messages over JSON: ChatFlow's `/conversations/:id/messages` with
//! `before`/`after`/`limit`, edits and deletes by number, and the first
//! seed's `GET /messages?from_user&to_user` and `POST /message`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
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
        .route("/messages", get(direct_history))
        .route("/message", post(send_direct))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    before: Option<String>,
    after: Option<String>,
    before_number: Option<i64>,
    after_number: Option<i64>,
    around: Option<i64>,
    limit: Option<u32>,
}

impl From<PageQuery> for HistoryParams {
    fn from(q: PageQuery) -> Self {
        HistoryParams {
            before: q.before,
            after: q.after,
            before_number: q.before_number,
            after_number: q.after_number,
            around: q.around,
            limit: q.limit,
        }
    }
}

async fn history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.history(me.id, RoomId(id), &query.into()).await?))
}

#[derive(Deserialize)]
struct SendBody {
    #[serde(default)]
    body: String,
    client_id: Option<String>,
}

async fn send(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<SendBody>,
) -> ApiResult<impl IntoResponse> {
    let sent = hearth.post_message(me.id, RoomId(id), &body.body, body.client_id.as_deref()).await?;
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

/// Spelled out rather than `#[serde(flatten)]`ing `PageQuery`: flattening
/// makes serde read query-string numbers as strings and reject them.
#[derive(Deserialize)]
struct DirectQuery {
    from_user: i64,
    to_user: i64,
    before: Option<String>,
    after: Option<String>,
    before_number: Option<i64>,
    after_number: Option<i64>,
    around: Option<i64>,
    limit: Option<u32>,
}

async fn direct_history(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<DirectQuery>,
) -> ApiResult<impl IntoResponse> {
    let page_query = PageQuery {
        before: q.before,
        after: q.after,
        before_number: q.before_number,
        after_number: q.after_number,
        around: q.around,
        limit: q.limit,
    };
    let page = hearth.direct_history(me.id, UserId(q.from_user), UserId(q.to_user), &page_query.into()).await?;
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
