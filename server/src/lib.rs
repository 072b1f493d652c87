//! # The `hearth` binary's library
//!
//! A thin adapter: it turns HTTP into calls on the [`hearth`] core and back.
//!
//! # Layout
//!
//! - [`config`]: flags and environment (clap), and the Leptos site settings.
//! - [`cli`]: the subcommands `serve`, `migrate` and `seed-demo`.
//! - [`startup`]: [`startup::Application`] builds the router, binds, and runs
//!   until SIGTERM/Ctrl-C.
//! - [`state`]: what every handler can reach.
//! - [`error`]: [`error::ApiError`], the one mapping from core errors to HTTP.
//! - [`extract`]: a JSON extractor whose rejections are JSON too.
//! - [`middleware`]: the cross-site write guard and the sign-in redirect for pages.
//! - [`rest`]: the JSON API, one module (and one `router()`) per feature.
//! - [`ws`]: the WebSocket endpoint `/ws` (protocol in `docs/protocol.md`).
//!
//! Integration tests live in `tests/api/`, one binary, using
//! [`startup::Application`] on a random port.

pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod negotiate;
pub mod rest;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ws;
