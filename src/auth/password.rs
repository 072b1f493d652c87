//! argon2id with OWASP's minimum (m=19456 KiB, t=2, p=1). Hashing costs tens
//! of milliseconds of CPU and 19 MiB of memory, so it runs in
//! `spawn_blocking`, never on a runtime worker, and at most one hash per core
//! runs at once: a burst of sign-ins or registrations queues for a slot
//! instead of driving memory up by 19 MiB each.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AppError;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 params are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A real hash of a password nobody has, verified when the account does not
/// exist so both failures take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("hearth-dummy-password-for-timing").expect("hashing a constant succeeds"));

/// One argon2 slot per core (at least two).
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(slots()));

fn slots() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2)
}

/// Hashes running now, and the most that ever ran at once (for the test
/// that holds the bound).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Runs `work` on the blocking pool once a slot is free.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let _slot = SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await
    .map_err(AppError::internal)?
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Hashes `password` into a PHC string, in Unicode's composed form: "ä"
/// typed as one character on one keyboard and as "a" and a mark on
/// another is one password.
pub async fn hash(password: String) -> Result<String, AppError> {
    with_slot(move || hash_blocking(&crate::text::composed(&password))).await
}

/// Checks `password` against `stored`, or against the dummy hash when there is
/// no account, so that timing does not reveal which accounts exist. Composed
/// first, as [`hash`] keeps it; a password hashed as typed before that rule
/// is also tried as typed.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    with_slot(move || {
        let exists = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&phc).map_err(|e| AppError::internal(e.to_string()))?;
        let composed = crate::text::composed(&password);
        let ok = argon2().verify_password(composed.as_bytes(), &parsed).is_ok()
            || (composed != password && argon2().verify_password(password.as_bytes(), &parsed).is_ok());
        Ok(exists && ok)
    })
    .await
}

/// Computes the dummy hash now rather than during the first sign-in.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash("correct horse".into()).await.expect("hashing runs");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse".into(), Some(phc.clone())).await.expect("hashing runs"));
        assert!(!verify("wrong horse".into(), Some(phc)).await.expect("hashing runs"));
    }

    #[tokio::test]
    async fn a_letter_and_its_accent_typed_either_way_are_one_password() {
        let composed = "p\u{e4}ssw\u{f6}rd";
        let decomposed = "pa\u{308}sswo\u{308}rd";
        let phc = hash(composed.into()).await.expect("hashing runs");
        assert!(verify(decomposed.into(), Some(phc.clone())).await.expect("hashing runs"));
        assert!(verify(composed.into(), Some(phc)).await.expect("hashing runs"));
        let phc = hash(decomposed.into()).await.expect("hashing runs");
        assert!(verify(composed.into(), Some(phc)).await.expect("hashing runs"));
        // One hashed as typed, before passwords were composed, still signs in.
        let before = hash_blocking(decomposed).expect("hashing runs");
        assert!(verify(decomposed.into(), Some(before.clone())).await.expect("hashing runs"));
        assert!(!verify("passwort".into(), Some(before)).await.expect("hashing runs"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        let tasks: Vec<_> = (0..12).map(|i| tokio::spawn(hash(format!("password {i}")))).collect();
        for task in tasks {
            task.await.expect("the task ran").expect("hashing runs");
        }
        let peak = PEAK.load(Ordering::SeqCst);
        assert!(peak >= 1 && peak <= slots(), "peak {peak} with {} slots", slots());
    }

    #[tokio::test]
    async fn a_missing_account_never_verifies() {
        assert!(!verify("hearth-dummy-password-for-timing".into(), None).await.expect("hashing runs"));
    }
}
