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
use hearth::applications::{AppMessageView, ApplicationView, ChatHit, ChatView};
use hearth::auth::AuthSession;
use hearth::messages::HistoryParams;
use hearth::{AppError, Hearth};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddr, Json, OptionalJson, Path, Query};
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
            get(show_chat).post(create_message_in_chat).patch(patch_chat).put(put_chat),
        )
        .route("/api/applications/{token}/chats/{number}/messages", get(list_messages).post(create_message))
        .route(
            "/api/applications/{token}/chats/{number}/messages/{message}",
            get(show_message).patch(patch_message).put(put_message),
        )
        .route("/api/applications/{token}/chats/{number}/search", get(search_chat))
}

/// An application's name.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct ApplicationBody {
    #[serde(default, deserialize_with = "super::null_is_blank")]
    application_name: Option<String>,
}

/// Creates an application, owned by the signed-in user if any; the answer
/// carries its token, the only credential of the token API.
#[utoipa::path(post, path = "/api/applications", tag = "token API", security((), ("session" = [])),
    request_body = ApplicationBody,
    responses((status = 201, description = "Created", body = ApplicationView),
        (status = 401, description = "A session cookie was sent that no longer signs anyone in (send none to create an application without an owner)", body = super::openapi::Errors)))]
pub(super) async fn create_application(
    State(hearth): State<Hearth>,
    ClientAddr(client): ClientAddr,
    session: AuthSession,
    headers: axum::http::HeaderMap,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    let owner = session.user.map(|u| u.id);
    if owner.is_none() && crate::startup::carries_session_cookie(&headers) {
        return Err(AppError::Unauthorized(Hearth::SESSION_ENDED.into()).into());
    }
    let app = hearth.create_application(owner, client, body.application_name.as_deref()).await?;
    Ok((StatusCode::CREATED, JsonResponse(app)))
}

/// The signed-in owner's applications.
///
/// 401 without a session (see
/// `hearth::applications::LIST_NEEDS_OWNER`).
#[utoipa::path(get, path = "/api/applications", tag = "token API",
    responses((status = 200, description = "My applications", body = Vec<ApplicationView>)))]
pub(super) async fn list_applications(
    State(hearth): State<Hearth>,
    session: AuthSession,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.applications(session.user.map(|u| u.id)).await?))
}

/// An application.
#[utoipa::path(get, path = "/api/applications/{token}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token")),
    responses((status = 200, description = "The application", body = ApplicationView)))]
pub(super) async fn show_application(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.application(&token).await?))
}

/// Renames an application (the name is required).
#[utoipa::path(put, path = "/api/applications/{token}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token")),
    request_body = ApplicationBody,
    responses((status = 200, description = "The application now", body = ApplicationView)))]
pub(super) async fn put_application(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_application(&token, Update::Replace, body.application_name.as_deref()).await?))
}

/// Renames an application (an absent name changes nothing).
#[utoipa::path(patch, path = "/api/applications/{token}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token")),
    request_body = ApplicationBody,
    responses((status = 200, description = "The application now", body = ApplicationView)))]
pub(super) async fn patch_application(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    Json(body): Json<ApplicationBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_application(&token, Update::Merge, body.application_name.as_deref()).await?))
}

/// A chat's name.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct ChatBody {
    #[serde(default, deserialize_with = "super::null_is_blank")]
    chat_name: Option<String>,
}

/// A new chat's name: without one (or with `null`, or with no body at all)
/// it is called after its application; a blank one is a 422, as a blank
/// rename is.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct NewChatBody {
    #[serde(default)]
    chat_name: Option<String>,
}

/// Creates a chat, numbered 1, 2, 3… per application; it is a room in the web UI.
#[utoipa::path(post, path = "/api/applications/{token}/chats", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token")),
    request_body = NewChatBody,
    responses((status = 201, description = "Created", body = ChatView)))]
pub(super) async fn create_chat(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
    OptionalJson(body): OptionalJson<NewChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, JsonResponse(hearth.create_chat(&token, body.chat_name.as_deref()).await?)))
}

/// An application's chats.
#[utoipa::path(get, path = "/api/applications/{token}/chats", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token")),
    responses((status = 200, description = "The chats", body = Vec<ChatView>)))]
pub(super) async fn list_chats(
    State(hearth): State<Hearth>,
    Path(token): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.chats(&token).await?))
}

/// A chat.
#[utoipa::path(get, path = "/api/applications/{token}/chats/{number}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application")),
    responses((status = 200, description = "The chat", body = ChatView)))]
pub(super) async fn show_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.chat(&token, number).await?))
}

/// Renames a chat (the name is required).
#[utoipa::path(put, path = "/api/applications/{token}/chats/{number}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application")),
    request_body = ChatBody,
    responses((status = 200, description = "The chat now", body = ChatView)))]
pub(super) async fn put_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<ChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_chat(&token, number, Update::Replace, body.chat_name.as_deref()).await?))
}

/// Renames a chat (an absent name changes nothing).
#[utoipa::path(patch, path = "/api/applications/{token}/chats/{number}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application")),
    request_body = ChatBody,
    responses((status = 200, description = "The chat now", body = ChatView)))]
pub(super) async fn patch_chat(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<ChatBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_chat(&token, number, Update::Merge, body.chat_name.as_deref()).await?))
}

/// `{"message_content": …}`, or `{"body": …}`.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct MessageBody {
    #[serde(default, deserialize_with = "super::null_is_blank")]
    message_content: Option<String>,
    #[serde(default, deserialize_with = "super::null_is_blank")]
    body: Option<String>,
}

impl MessageBody {
    /// The text, by either name; both names with different texts are a 422,
    /// not one of them dropped without a word. A name given as `null` or
    /// blank beside the other is not a second text.
    fn content(&self) -> Result<Option<&str>, AppError> {
        fn given(text: Option<&str>) -> Option<&str> {
            text.filter(|t| !t.trim().is_empty())
        }
        match (self.message_content.as_deref(), self.body.as_deref()) {
            (Some(content), Some(body)) if content != body && given(Some(content)).and(given(Some(body))).is_some() => {
                Err(AppError::invalid("message_content", "Give message_content or body, not both"))
            }
            (content, body) => Ok(given(content).or(given(body)).or(content).or(body)),
        }
    }
}

/// Posts a message to a chat, numbered 1, 2, 3… per chat. Also at
/// `POST /api/applications/{token}/chats/{number}`, seed 003's "Create Message".
#[utoipa::path(post, path = "/api/applications/{token}/chats/{number}/messages", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application")),
    request_body = MessageBody,
    responses((status = 201, description = "Posted", body = AppMessageView)))]
pub(super) async fn create_message(
    State(hearth): State<Hearth>,
    Path((token, number)): Path<(String, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, JsonResponse(hearth.post_app_message(&token, number, body.content()?).await?)))
}

/// Seed 003's "Create Message": the same as `POST …/chats/{number}/messages`.
#[utoipa::path(post, path = "/api/applications/{token}/chats/{number}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application")),
    request_body = MessageBody,
    responses((status = 201, description = "Posted", body = AppMessageView)))]
pub(super) async fn create_message_in_chat(
    hearth: State<Hearth>,
    path: Path<(String, i64)>,
    body: Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    create_message(hearth, path, body).await
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct NumberPage {
    /// The messages after this number.
    after_number: Option<i64>,
    /// The messages before this number.
    before_number: Option<i64>,
    /// At most this many (1 to 200; 50 when absent).
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "hearth::error::any_limit")]
    limit: Option<u32>,
}

/// A chat's messages, oldest first.
#[utoipa::path(get, path = "/api/applications/{token}/chats/{number}/messages", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application"), NumberPage),
    responses((status = 200, description = "The messages", body = Vec<AppMessageView>)))]
pub(super) async fn list_messages(
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

/// A message of a chat.
#[utoipa::path(get, path = "/api/applications/{token}/chats/{number}/messages/{message}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application"), ("message" = i64, Path, description = "The message's number in the chat")),
    responses((status = 200, description = "The message", body = AppMessageView)))]
pub(super) async fn show_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.app_message(&token, number, message).await?))
}

/// Changes a message's text (the text is required).
#[utoipa::path(put, path = "/api/applications/{token}/chats/{number}/messages/{message}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application"), ("message" = i64, Path, description = "The message's number in the chat")),
    request_body = MessageBody,
    responses((status = 200, description = "The message now", body = AppMessageView)))]
pub(super) async fn put_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_app_message(&token, number, message, Update::Replace, body.content()?).await?))
}

/// Changes a message's text (absent text changes nothing).
#[utoipa::path(patch, path = "/api/applications/{token}/chats/{number}/messages/{message}", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application"), ("message" = i64, Path, description = "The message's number in the chat")),
    request_body = MessageBody,
    responses((status = 200, description = "The message now", body = AppMessageView)))]
pub(super) async fn patch_message(
    State(hearth): State<Hearth>,
    Path((token, number, message)): Path<(String, i64, i64)>,
    Json(body): Json<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.update_app_message(&token, number, message, Update::Merge, body.content()?).await?))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// The text to find, whole: any part of a word, or across words.
    query: Option<String>,
    /// The same, by the seed's name (also accepted as a JSON body on the GET).
    search_query: Option<String>,
    /// At most this many hits.
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "hearth::error::any_limit")]
    limit: Option<u32>,
}

/// Set to `true` when a one- or two-character query stopped at its scan
/// budget before the oldest message (the web search's `partial`).
pub const PARTIAL_HEADER: &str = "search-partial";

/// `?query=` or, as in the seed, a JSON body `{"search_query": …}` on the
/// GET. An empty body is no body; a malformed one is a JSON error.
#[utoipa::path(get, path = "/api/applications/{token}/chats/{number}/search", tag = "token API", security(()),
    params(("token" = String, Path, description = "The application's token"), ("number" = i64, Path, description = "The chat's number in the application"), SearchQuery),
    responses((status = 200, description = "The hits, newest first", body = Vec<ChatHit>,
        headers(("search-partial" = String, description = "`true` when a one- or two-character query stopped at its scan budget")))))]
pub(super) async fn search_chat(
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
