//! # The `hearth` binary's library
//!
//! A thin adapter: it turns HTTP into calls on the [`hearth`] core and back.
//!
//! # Layout
//!
//! - [`config`]: flags and environment (clap), and the Leptos site settings.
//! - [`cli`]: the subcommands `serve`, `migrate`, `seed-demo`, `copy-data` and `backup`
//!   (`copy_data`: its progress and report).
//! - [`startup`]: [`startup::Application`] builds the router, binds, and runs
//!   until SIGTERM/Ctrl-C.
//! - [`serve`]: the accept loop: header timeout, per-IP connection limit,
//!   shutdown with a deadline.
//! - [`limits`]: 414/431 for oversized request heads, 408 for stalled bodies.
//! - [`state`]: what every handler can reach.
//! - [`error`]: [`error::ApiError`], the one mapping from core errors to HTTP.
//! - [`extract`]: a JSON extractor whose rejections are JSON too.
//! - [`middleware`]: the cross-site write guard and the sign-in redirect for pages.
//! - [`negotiate`]: JSON bodies for the errors the framework makes itself
//!   (404, 405, 413) where JSON is wanted.
//! - [`origin`]: what counts as this server's origin (scheme, host, port),
//!   for the guard and the WebSocket alike.
//! - [`headers`]: security headers on every response, and the per-response
//!   Content-Security-Policy nonce the pages use.
//! - [`rest`]: the JSON API, one module (and one `router()`) per feature.
//! - [`ws`]: the WebSocket endpoint `/ws` (protocol in `docs/protocol.md`).
//! - [`metrics`]: `/metrics` for Prometheus (behind a token or on its own
//!   address), and the per-route HTTP series.
//! - [`outbound`]: reqwest behind the core's SSRF guard: the resolver every
//!   outbound client uses, and the link-preview fetcher (`hearth::previews`).
//! - [`push`]: the HTTP client that POSTs Web Push requests for the core's
//!   push worker (`hearth::push_queue`).
//! - [`cable`]: `/cable`, ChatFlow's ActionCable endpoint over the same hub
//!   (a compatibility protocol, also in `docs/protocol.md`).
//!
//! Integration tests live in `tests/api/`, one binary, using
//! [`startup::Application`] on a random port.

pub mod blobs;
pub mod cable;
pub mod cli;
pub mod config;
mod copy_data;
pub mod error;
pub mod extract;
pub mod headers;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod origin;
pub mod outbound;
pub mod push;
pub mod rest;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ws;
