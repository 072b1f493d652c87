//! One test binary for the whole HTTP surface (as zero2prod's `tests/api/`):
//! each test spawns the real application on a random port over a fresh
//! SQLite file.

mod accounts;
mod health;
mod helpers;
mod pages;
mod security;
