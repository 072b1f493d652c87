//! # Hearth core
//!
//! The chat domain with no HTTP in it: the browser UI (`app/`) and the REST
//! and WebSocket server (`server/`) are two thin adapters over this crate, so
//! each rule ("only members read a room", "usernames are unique") lives in one
//! place.
//!
//! # Layout
//!
//! - [`model`]: the types shared with the browser (they compile to WASM).
//! - [`error`]: [`AppError`], the one error type every adapter maps.
//! - [`protocol`]: the WebSocket events, `ClientEvent` and `ServerEvent`.
//! - [`mentions`]: `@username` tokens and what a notification level lets
//!   through (pure, shared with the browser).
//! - [`redirect`]: which `next` paths a sign-in may send a user to.
//! - [`accounts`] *(server)*: self-validating inputs and the account use cases
//!   (register, update a profile, browse the directory).
//! - [`auth`] *(server)*: argon2id hashing, the axum-login backend and the
//!   sign-in rate limiter.
//! - [`store`] *(server)*: the only module that holds SQL.
//! - [`cache`] *(server)*: sessions, users and memberships in memory, with
//!   short, bounded lives and invalidation where they change.
//! - [`rooms`] *(server)*: direct, group and open rooms, and membership, the
//!   one check every read, write and subscription passes.
//! - [`markdown`] *(server)*: a message's Markdown rendered and sanitised
//!   to the HTML that `Message::html` carries.
//! - [`messages`] *(server)*: numbered, idempotent sends, history pages,
//!   edits and soft deletes.
//! - [`bus`] *(server)*: the seam between instances (NATS, or none); the
//!   `cluster` module applies what it brings.
//! - [`hub`] *(server)*: in-process fan-out of room changes to sockets; the
//!   `realtime` module holds the use cases that publish (save first, then
//!   publish) and the subscribe/replay logic.
//! - [`applications`] *(server)*: the token API: applications, numbered
//!   chats (which are rooms) and their search.
//! - [`outbound`] *(server)*: the SSRF guard: which addresses the server
//!   may connect to on a user's behalf (public unicast only), resolved once.
//! - [`previews`] *(server)*: link previews: which link, the page's `<head>`
//!   read, the cache and the edit-like event; the server's `PageFetcher`
//!   fetches through the guard.
//! - [`push`] *(server)*: Web Push: the rule for sending one, RFC 8291
//!   payload encryption and VAPID tokens; [`push_queue`] *(server)*: the
//!   durable queue's worker that decides, encrypts and sends them.
//! - [`pause`] *(server)*: pausing my notifications until a time ("do not
//!   disturb"): no push, no desktop notification meanwhile.
//! - [`search`] *(server)*: message search for the web UI.
//! - [`text`] *(server)*: what counts as blank in typed text, and the
//!   direction controls a name or title may not hold.
//! - `sessions` *(server)*: sign-in and register-then-sign-in, with their
//!   rate limits, for both adapters.
//! - [`demo`] *(server)*: the idempotent demo seed.
//! - `fuzz_checks` *(server, hidden)*: the properties the fuzz targets in
//!   `fuzz/` check, replayed over the committed corpus by `tests/fuzz_corpus.rs`.
//! - `testing` *(server, hidden)*: a database of its own for each
//!   integration test, on SQLite or Postgres (`HEARTH_TEST_BACKEND`).
//! - [`Hearth`] *(server)*: the cheap-to-clone handle that bundles the above
//!   for the adapters.
//!
//! Everything but `model` and `error` sits behind the `server` feature, which
//! the WASM build leaves off.

pub mod devices;
pub mod error;
pub mod mentions;
pub mod model;
pub mod protocol;
pub mod redirect;

#[cfg(feature = "server")]
pub mod account;
#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod admin;
#[cfg(feature = "server")]
pub mod applications;
#[cfg(feature = "server")]
pub mod attachments;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod blobs;
#[cfg(feature = "server")]
pub mod bus;
#[cfg(feature = "server")]
pub mod cache;
#[cfg(feature = "server")]
mod cluster;
#[cfg(feature = "server")]
pub mod demo;
#[cfg(feature = "server")]
pub mod emoji;
#[cfg(feature = "server")]
#[doc(hidden)]
pub mod fuzz_checks;
#[cfg(feature = "server")]
mod hearth;
#[cfg(feature = "server")]
pub mod hub;
#[cfg(feature = "server")]
pub mod images;
#[cfg(feature = "server")]
mod ingest;
#[cfg(feature = "server")]
pub mod mail;
#[cfg(feature = "server")]
pub mod markdown;
#[cfg(feature = "server")]
pub mod messages;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod outbound;
#[cfg(feature = "server")]
pub mod passwords;
#[cfg(feature = "server")]
pub mod pause;
#[cfg(feature = "server")]
pub mod previews;
#[cfg(feature = "server")]
pub mod push;
#[cfg(feature = "server")]
pub mod push_queue;
#[cfg(feature = "server")]
mod realtime;
#[cfg(feature = "server")]
pub mod room_lists;
#[cfg(feature = "server")]
pub mod room_settings;
#[cfg(feature = "server")]
pub mod rooms;
#[cfg(feature = "server")]
pub mod saved;
#[cfg(feature = "server")]
pub mod search;
#[cfg(feature = "server")]
mod sessions;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
#[doc(hidden)]
pub mod testing;
#[cfg(feature = "server")]
pub mod text;

pub use error::{AppError, FieldError};
#[cfg(feature = "server")]
pub use hearth::{Hearth, Settings};
#[cfg(feature = "server")]
pub use ingest::POSTGRES_WRITERS;
