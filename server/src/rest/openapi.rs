//! The OpenAPI 3.1 contract of the JSON API (issue 19), generated from the
//! handlers' `#[utoipa::path]` attributes and the wire types' `ToSchema`
//! derives, served at `GET /api/openapi.json` and kept in the repository as
//! `docs/openapi.json` (a test fails when the two differ).
//!
//! The errors every operation of a kind can answer are added here once
//! ([`CommonErrors`]), each with the `{"errors": [...]}` body of
//! `crate::error::ApiError`, rather than repeated on sixty handlers.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Spec, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{
    account, admin, admin_rooms, applications, attachments, conversations, health, messages, notifications, push,
    saved, search, users,
};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(spec()) }))
}

/// The contract as served.
pub fn spec() -> Spec {
    ApiDoc::openapi()
}

/// `{"errors": ["…"]}`: the body of every 4xx and 5xx.
#[derive(Serialize, ToSchema)]
pub struct Errors {
    /// What went wrong, one sentence each, for people.
    pub errors: Vec<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth",
        description = "Hearth's JSON API: accounts, rooms and messages in ChatFlow's shapes \
            (cookie sessions), admin routes, Web Push subscriptions, and the token API of the \
            Chat System seeds. Live updates are on the WebSocket (`/ws`, `/cable`), described in \
            docs/protocol.md. Writes with a session cookie from a browser must be same-origin \
            (Sec-Fetch-Site or Origin); curl sends neither and is let through.",
        license(name = "MIT"),
    ),
    paths(
        health::health,
        users::register, users::sign_in, users::sign_out, users::me, users::update_me,
        users::directory, users::change_password, users::reset_password,
        account::change_email, account::sessions, account::end_session, account::forgot_password,
        conversations::list, conversations::create, conversations::show, conversations::update,
        conversations::archive, conversations::join, conversations::leave, conversations::close, conversations::reopen,
        conversations::add_participants, conversations::remove_participant, conversations::open_rooms,
        notifications::show, notifications::update, notifications::pause, notifications::resume,
        messages::history, messages::replies, messages::edits, messages::send, messages::edit, messages::remove,
        messages::toggle_reaction, messages::add_reaction, messages::remove_reaction, messages::mark_read, messages::mark_all_read,
        messages::pin, messages::unpin, messages::pins, messages::mark_unread, messages::emoji,
        saved::save, saved::unsave, saved::in_room, saved::list,
        messages::direct_history, messages::send_direct,
        attachments::upload, attachments::download, attachments::thumbnail,
        attachments::upload_avatar, attachments::avatar,
        search::search,
        push::key, push::subscribe, push::unsubscribe,
        admin::users, admin::set_role, admin::deactivate, admin::reactivate, admin::sign_out, admin::reset_link, admin_rooms::conversations,
        admin::policy, admin::set_policy, admin::default_rooms, admin::add_default_room, admin::remove_default_room,
        admin::invitations, admin::invite, admin::revoke, admin::audit,
        applications::list_applications, applications::create_application, applications::show_application,
        applications::put_application, applications::patch_application,
        applications::list_chats, applications::create_chat, applications::show_chat,
        applications::put_chat, applications::patch_chat, applications::create_message_in_chat,
        applications::list_messages, applications::create_message, applications::show_message,
        applications::put_message, applications::patch_message, applications::search_chat,
    ),
    components(schemas(Errors)),
    security(("session" = [])),
    modifiers(&SessionCookie, &CommonErrors),
)]
struct ApiDoc;

/// The session cookie that `POST /users/sign_in` sets.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "hearth_session",
                "The session cookie set by `POST /users/sign_in` or `POST /users`.",
            ))),
        );
    }
}

/// Adds to each operation the errors that every operation of its kind can
/// answer, unless the handler documents that status itself.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, spec: &mut Spec) {
        let components = spec.components.get_or_insert_with(Default::default);
        for (name, _, description) in ERRORS {
            components.responses.insert(name.to_owned(), RefOr::T(error_response(description)));
        }
        for (path, item) in spec.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    add_common_errors(path, method, has_path_params, operation);
                }
            }
        }
    }
}

/// The shared error responses, by name: (name, status, description).
const ERRORS: [(&str, &str, &str); 8] = [
    ("BadRequest", "400", "Malformed: the body is not JSON of the expected shape, or a parameter is not of its type"),
    ("Unauthorized", "401", "Not signed in, or the session has ended"),
    ("Forbidden", "403", "Not allowed: a cross-site write, or a rule of the instance or the room"),
    ("NotFound", "404", "No such resource, or not one I may see"),
    ("PayloadTooLarge", "413", "The body is over the server's limit"),
    ("UnsupportedMediaType", "415", "The body is not `Content-Type: application/json`"),
    ("Unprocessable", "422", "Invalid: the `errors` say which field and why"),
    ("TooManyRequests", "429", "Too many requests; `Retry-After` says when to try again"),
];

fn add_common_errors(path: &str, method: HttpMethod, has_path_params: bool, operation: &mut Operation) {
    if path == "/healthz" {
        return;
    }
    let anonymous = operation.security.as_ref().is_some_and(|s| s.iter().any(is_anonymous));
    let has_body = operation.request_body.is_some();
    let has_query = operation
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)));
    let write = !matches!(method, HttpMethod::Get);
    let applies = |status: &str| match status {
        "400" | "422" => has_body || has_query || has_path_params,
        "401" => !anonymous,
        "403" => write || !anonymous,
        "404" => has_path_params || !anonymous,
        "413" | "415" => has_body,
        _ => true,
    };
    for (name, status, _) in ERRORS {
        if applies(status) {
            let reference = RefOr::Ref(Ref::new(format!("#/components/responses/{name}")));
            operation.responses.responses.entry(status.to_owned()).or_insert(reference);
        }
    }
}

fn is_anonymous(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    requirement == &utoipa::openapi::security::SecurityRequirement::default()
}

fn error_response(description: &str) -> Response {
    let errors = ContentBuilder::new().schema(Some(Ref::from_schema_name("Errors"))).build();
    ResponseBuilder::new().description(description).content("application/json", errors).build()
}
