//! Authentication: who you are, checked once per request by axum-login.
//!
//! - [`password`]: argon2id hashing and verification, off the async threads.
//! - [`Backend`]: the axum-login backend over the store.
//! - [`SignInLimiter`]: attempt budgets per client IP and per account.

mod backend;
mod limiter;
pub mod password;

pub use backend::{AuthSession, AuthUser, Backend, Credentials, end_session, start_session};
pub use limiter::{AccountKey, IpLimiter, Limiter, SignInLimiter};

/// The one answer to a failed sign-in, whether the account exists or not.
pub const INVALID_LOGIN: &str = "Invalid email or password";
