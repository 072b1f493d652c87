//! What every handler can reach.

use axum::extract::FromRef;
use hearth::Hearth;
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    /// The core: store, rate limiter, settings.
    pub hearth: Hearth,
    /// Leptos site settings (site root, output name).
    pub leptos: LeptosOptions,
}
