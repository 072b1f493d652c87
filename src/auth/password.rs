//! argon2id with OWASP's minimum (m=19456 KiB, t=2, p=1). Hashing costs tens
//! of milliseconds of CPU, so it runs in `spawn_blocking`, never on a runtime
//! worker.

use std::sync::LazyLock;

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

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(AppError::internal)?
}

/// Checks `password` against `stored`, or against the dummy hash when there is
/// no account, so that timing does not reveal which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&phc).map_err(|e| AppError::internal(e.to_string()))?;
        let ok = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(exists && ok)
    })
    .await
    .map_err(AppError::internal)?
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
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify("wrong horse".into(), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_account_never_verifies() {
        assert!(!verify("hearth-dummy-password-for-timing".into(), None).await.unwrap());
    }
}
