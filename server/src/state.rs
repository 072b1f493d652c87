//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use hearth::Hearth;
use leptos::config::LeptosOptions;

use crate::serve::Shutdown;

/// The router's state. axum clones it for every request and each extractor
/// takes its part by [`FromRef`], so it is one `Arc`: a clone is one
/// reference count, and the Leptos options are copied only for the pages
/// that ask for them.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

/// What the state holds, reached through `Deref` or `FromRef`.
pub struct Parts {
    /// The core: store, rate limiter, settings.
    pub hearth: Hearth,
    /// Leptos site settings (site root, output name).
    pub leptos: LeptosOptions,
    /// Lets WebSockets see shutdown begin and close with 1012.
    pub shutdown: Shutdown,
}

impl AppState {
    pub fn new(hearth: Hearth, leptos: LeptosOptions, shutdown: Shutdown) -> Self {
        Self(Arc::new(Parts { hearth, leptos, shutdown }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl FromRef<AppState> for Hearth {
    fn from_ref(state: &AppState) -> Self {
        state.hearth.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Shutdown {
    fn from_ref(state: &AppState) -> Self {
        state.shutdown.clone()
    }
}
