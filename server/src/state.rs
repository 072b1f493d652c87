//! What every handler can reach.

use axum::extract::FromRef;
use hearth::Hearth;
use leptos::config::LeptosOptions;

use crate::serve::Shutdown;

#[derive(Clone, FromRef)]
pub struct AppState {
    /// The core: store, rate limiter, settings.
    pub hearth: Hearth,
    /// Leptos site settings (site root, output name).
    pub leptos: LeptosOptions,
    /// Lets WebSockets see shutdown begin and close with 1012.
    pub shutdown: Shutdown,
}
