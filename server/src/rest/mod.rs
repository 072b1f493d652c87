//! The JSON API, one module per feature, each with its own `router()`.

mod health;
mod users;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).merge(users::router())
}
