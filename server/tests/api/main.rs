//! One test binary for the whole HTTP surface (as zero2prod's `tests/api/`):
//! each test spawns the real application on a random port over a database
//! of its own: a fresh SQLite file, or with `HEARTH_TEST_BACKEND=postgres` a
//! Postgres database copied from a migrated template (`hearth::testing`).
//! `make test` runs the binary once for each.

mod access;
mod account;
mod account_security;
mod accounts;
mod admin;
mod admin_membership;
mod admin_pages;
mod application_chats;
mod application_logs;
mod application_messages;
mod applications;
mod attachments;
mod backup;
mod blobs_s3;
mod cable;
mod caches;
mod chatflow;
mod cluster;
mod cluster_support;
mod compat;
mod connections;
mod contracts;
mod conversations;
mod copy_data;
mod default_rooms;
mod durability;
mod edit_history;
mod hardening;
mod headers;
mod health;
mod helpers;
mod ingest;
mod malformed;
mod mark_unread;
mod membership;
mod mentions;
mod message_limits;
mod messages;
mod metrics;
mod numbering;
mod openapi;
mod operator;
mod pages;
mod paging;
mod pause;
mod pins;
mod postgres;
mod previews;
mod push;
mod rich;
mod room_management;
mod saved;
mod search;
mod search_web;
mod security;
mod upgrade;
mod ws;
mod ws_load;
mod ws_presence;
mod ws_replay;
mod ws_resume;
mod ws_support;
