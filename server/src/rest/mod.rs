//! The JSON API, one module per feature, each with its own `router()`.

mod account;
mod admin;
mod admin_rooms;
mod applications;
mod attachments;
mod conversations;
mod health;
mod messages;
mod notifications;
pub mod openapi;
mod push;
mod saved;
mod search;
mod users;

use axum::Router;

use crate::state::AppState;

pub(crate) use account::touch_session;
pub use attachments::{is_upload, upload_router};

/// A field sent as `null` reads as given and blank, not as absent, so that
/// `PATCH {"chat_name": null}` is a 422 (or, where blank is allowed, clears
/// the field) rather than a silent no-op.
fn null_is_blank<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<String>, D::Error> {
    Ok(Some(<Option<String> as serde::Deserialize>::deserialize(field)?.unwrap_or_default()))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(admin::router())
        .merge(admin_rooms::router())
        .merge(users::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(attachments::router())
        .merge(applications::router())
        .merge(saved::router())
        .merge(search::router())
        .merge(notifications::router())
        .merge(push::router())
        .merge(openapi::router())
        .merge(account::router())
}
