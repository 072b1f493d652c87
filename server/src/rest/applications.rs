//! The token API, in the Chat System seeds' shapes:
//! `/api/applications[/:token[/chats[/:number[/messages[/:number]|/search]]]]`.
//! The token in the path is the only credential; it is redacted from logs
//! (see `crate::telemetry`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::applications::Update;
use hearth::auth::AuthSession;
use hearth::messages::HistoryParams;
use hearth::{AppError, Hearth};
use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddr, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/applications", get(list_applications).post(create_application))
        .route("/api/applications/{token}", get(show_application).patch(patch_application).put(put_application))
        .route("/api/applications/{token}/chats", get(list_chats).post(create_chat))
        // Seed 003's "Create Message" posts to the chat itself; it is the
        // same call as `POST …/messages`.
        .route(
            "/api/applications/{token}/chats/{number}",
            get(show_chat).post(create_message).patch(patch_chat).put(put_chat),
        )
        .route("/api/applications/{token}/chats/{number}/messages", get(list_messages).post(create_message))
        .route(
            "/api/applications/{token}/chats/{number}/messages/{message}",
            get(show_message).patch(patch_message).put(put_message),
        )
        .route("/api/applications/{token}/chats/{number}/search", get(search_chat))
}

/// A field sent as `null` reads as given and blank, not as absent, so that
/// `PATCH {"chat_name": null}` is a 422 rather than a silent no-op.
fn null_is_blank<'de, D: Deserializer<'de>>(field: D) -> Result<Option<String>, D::Error> {
    Ok(Some(Option::<String>::deserialize(field)?.unwrap_or_default()))
}

#[derive(Deserialize, Default)]
struct ApplicationBody {
    #[serde(default, deserialize_with = "null_is_blank")]
    application_name: Option<String>,
}

async fn create_application(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    session: AuthSession,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    let owner = session.user.map(|u| u.id);
    let app = hearth.create_application(owner, client, body.application_name.as_deref()).await?;
    Ok((StatusCode::CREATED, JsonResponse(app)))
}

/// The signed-in owner's applications; 401 without a session (see
/// `hearth::applications::LIST_NEEDS_OWNER`).
async fn list_applications(State(hearth): State<Hearth>, session: AuthSession) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.applications(session.user.map(|u| u.id)).await?))
}

async fn show_application(State(hearth): State<Hearth>, Path(token): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.application(&token).await?))
}

async fn put_application(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_application(&token, Update::Replace, body.application_name.as_deref()).await?))
}

async fn patch_application(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_application(&token, Update::Merge, body.application_name.as_deref()).await?))
}

#[derive(Deserialize, Default)]
struct ChatBody {
    #[serde(default, deserialize_with = "null_is_blank")]
    chat_name: Option<String>,
}

async fn create_chat(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    Json(body): Json<ChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, JsonResponse(hearth.create_chat(&token, body.chat_name.as_deref()).await?)))
}

async fn list_chats(State(hearth): State<Hearth>, Path(token): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.chats(&token).await?))
}

async fn show_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.chat(&token, number).await?))
}

async fn put_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<ChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_chat(&token, number, Update::Replace, body.chat_name.as_deref()).await?))
}

async fn patch_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<ChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_chat(&token, number, Update::Merge, body.chat_name.as_deref()).await?))
}

/// `{"message_content": …}`, or `{"body": …}`.
#[derive(Deserialize, Default)]
struct MessageBody {
    #[serde(default, deserialize_with = "null_is_blank")]
    message_content: Option<String>,
    #[serde(default, deserialize_with = "null_is_blank")]
    body: Option<String>,
}

impl MessageBody {
    fn content(&self) -> Option<&str> {
        self.message_content.as_deref().or(self.body.as_deref())
    }
}

async fn create_message(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, JsonResponse(hearth.post_app_message(&token, number, body.content()).await?)))
}

#[derive(Deserialize, Default)]
struct NumberPage {
    after_number: Option<i64>,
    before_number: Option<i64>,
    limit: Option<u32>,
}

async fn list_messages(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Query(page): Query<NumberPage>,
) -> ApiResult<impl IntoResponse> {
    let params = HistoryParams {
        after_number: page.after_number,
        before_number: page.before_number,
        limit: page.limit,
        ..Default::default()
    };
    Ok(JsonResponse(hearth.app_messages(&token, number, &params).await?))
}

async fn show_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.app_message(&token, number, message).await?))
}

async fn put_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_app_message(&token, number, message, Update::Replace, body.content()).await?))
}

async fn patch_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_app_message(&token, number, message, Update::Merge, body.content()).await?))
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    query: Option<String>,
    search_query: Option<String>,
    limit: Option<u32>,
}

/// Set to `true` when a one- or two-character query stopped at its scan
/// budget before the oldest message (the web search's `partial`).
pub const PARTIAL_HEADER: &str = "search-partial";

/// `?query=` or, as in the seed, a JSON body `{"search_query": …}` on the
/// GET. An empty body is no body; a malformed one is a JSON error.
async fn search_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Query(q): Query<SearchQuery>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let from_body: SearchQuery = if body.iter().all(u8::is_ascii_whitespace) {
        SearchQuery::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                ApiError::from(AppError::invalid("search_query", format!("Invalid request body: {e}")))
            }
            _ => ApiError::BadRequest(format!("Invalid JSON: {e}")),
        })?
    };
    let query = q.query.or(q.search_query).or(from_body.search_query).or(from_body.query);
    let found = hearth.search_chat(&token, number, query.as_deref(), q.limit.or(from_body.limit)).await?;
    // The body keeps the seed's bare array; a scan cut short says so here.
    let partial = [(PARTIAL_HEADER, if found.partial { "true" } else { "false" })];
    Ok((partial, JsonResponse(found.hits)))
}
