//! One test binary for the whole HTTP surface (as zero2prod's `tests/api/`):
//! each test spawns the real application on a random port over a fresh
//! SQLite file.

mod access;
mod accounts;
mod chatflow;
mod compat;
mod conversations;
mod health;
mod helpers;
mod membership;
mod messages;
mod pages;
mod paging;
mod security;
