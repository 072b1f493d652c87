//! Authentication: who you are, checked once per request by axum-login.
//!
//! - [`password`]: argon2id hashing and verification, off the async threads.
//! - [`Backend`]: the axum-login backend over the store.
//! - [`SignInLimiter`]: attempt budgets per client IP and per account.
//! - [`stored_id`]: what a session is known by at rest (never its cookie).

mod backend;
mod limiter;
pub mod password;

pub use backend::{AuthSession, AuthUser, Backend, Credentials, end_session, start_session};
pub use limiter::{AccountKey, IpLimiter, Limiter, SignInLimiter};

/// The one answer to a failed sign-in, whether the account exists or not.
pub const INVALID_LOGIN: &str = "Invalid email or password";

/// What a session is known by in the database, in the sessions list and on
/// the bus: a SHA-256 of its cookie's id (which has 128 random bits, so no
/// salt or stretching is needed), cut to the 128 bits an `Id` holds. The
/// cookie's value itself is never stored, so a copy of the database or a
/// backup signs no one in.
pub fn stored_id(cookie: tower_sessions::session::Id) -> tower_sessions::session::Id {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(b"hearth session\0").chain_update(cookie.0.to_le_bytes()).finalize();
    let mut half = [0u8; 16];
    half.copy_from_slice(&digest[..16]);
    tower_sessions::session::Id(i128::from_le_bytes(half))
}

/// The stored id of `session` as the database spells it (see [`stored_id`]);
/// none before its first save.
pub fn stored_session_id(session: &tower_sessions::Session) -> Option<String> {
    session.id().map(|id| stored_id(id).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session::Id;

    #[test]
    fn a_session_is_stored_under_a_hash_of_its_cookie_not_the_cookie() {
        let cookie = Id(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let stored = stored_id(cookie);
        assert_ne!(stored, cookie);
        assert_eq!(stored, stored_id(cookie), "the same cookie always finds its session");
        assert_ne!(stored_id(Id(cookie.0 + 1)), stored, "another cookie, another row");
        // A stored id presented as a cookie finds nothing: it is hashed again.
        assert_ne!(stored_id(stored), stored);
    }
}
