//! Attempt budgets, on `governor`'s keyed GCRA limiters. Every attempt
//! counts before any work is done for it, so a guesser learns nothing and
//! pays nothing in argon2 time past the budget.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppError;
use crate::model::UserId;

/// Past this many tracked keys, forget the ones whose budget has refilled.
const PRUNE_AT: usize = 10_000;

/// A budget of `n` attempts a minute per key (`n` at once, refilling evenly).
/// A budget of 0 is no limit, as for every rate setting.
pub struct Limiter<K: Hash + Eq + Clone> {
    /// `None`: no limit.
    inner: Option<Arc<DefaultKeyedRateLimiter<K>>>,
}

impl<K: Hash + Eq + Clone> Clone for Limiter<K> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `n` attempts a minute per key; 0: no limit.
    pub fn per_minute(n: u32) -> Self {
        Self { inner: NonZeroU32::new(n).map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)))) }
    }

    /// A budget of `n` attempts an hour per key (`n` at once, refilling
    /// evenly); 0: no limit.
    pub fn per_hour(n: u32) -> Self {
        Self { inner: NonZeroU32::new(n).map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_hour(n)))) }
    }

    /// Spends one attempt for `key` without asking whether it was allowed
    /// (an attempt counted on another instance).
    fn spend(&self, key: &K) {
        if let Some(inner) = &self.inner {
            let _ = inner.check_key(key);
        }
    }

    /// Spends one attempt for `key`, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        let Some(inner) = &self.inner else { return Ok(()) };
        if inner.len() > PRUNE_AT {
            inner.retain_recent();
        }
        let now = DefaultClock::default().now();
        inner.check_key(key).map_err(|not_until| {
            crate::metrics::rate_limited();
            AppError::RateLimited { retry_after_secs: not_until.wait_time_from(now).as_secs().max(1) }
        })
    }
}

/// Per client IP (one office behind a NAT shares it).
pub type IpLimiter = Limiter<IpAddr>;

/// Whose sign-in budget an attempt spends: the account it names, however it
/// was typed (`bob` and `bob@example.com` are one budget), or the typed login
/// when no account has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AccountKey {
    User(UserId),
    Unknown(String),
}

impl AccountKey {
    pub fn unknown(login: &str) -> Self {
        Self::Unknown(login.trim().to_lowercase())
    }
}

/// The sign-in and registration budgets, shared by the REST API and the
/// forms so the two doors count against one budget.
#[derive(Clone, Debug)]
pub struct SignInLimiter {
    /// Sign-ins and registrations per client IP.
    per_ip: IpLimiter,
    /// Sign-ins per account, from anywhere: stops a botnet on one account.
    per_account: Limiter<AccountKey>,
}

impl SignInLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        Self {
            per_ip: Limiter::per_minute(per_ip_per_minute),
            per_account: Limiter::per_minute(per_account_per_minute),
        }
    }

    /// Spends what an attempt counted on another instance spent there, so
    /// that spreading attempts over instances buys nothing.
    pub(crate) fn spend_elsewhere(&self, attempt: &crate::bus::Attempt) {
        match attempt {
            crate::bus::Attempt::Ip(ip) => self.per_ip.spend(ip),
            crate::bus::Attempt::Account(account) => self.per_account.spend(account),
        }
    }

    /// Spends one attempt of `ip`'s budget (every sign-in and registration).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), AppError> {
        self.per_ip.check(&ip)
    }

    /// Spends one attempt of the account's budget.
    pub fn check_account(&self, account: &AccountKey) -> Result<(), AppError> {
        self.per_account.check(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_from_any_ip_whatever_its_login() {
        let limiter = SignInLimiter::new(100, 2);
        let alice = AccountKey::User(UserId(1));
        assert!(limiter.check_account(&alice).is_ok());
        assert!(limiter.check_account(&alice).is_ok());
        let err = limiter.check_account(&alice).unwrap_err();
        assert!(matches!(err, AppError::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        assert!(limiter.check_account(&AccountKey::User(UserId(2))).is_ok());
        assert_eq!(AccountKey::unknown(" Nobody "), AccountKey::unknown("nobody"));
    }

    #[test]
    fn a_budget_of_zero_is_no_limit() {
        let limiter = SignInLimiter::new(0, 0);
        let ip = IpAddr::from([10, 0, 0, 7]);
        for _ in 0..1_000 {
            assert!(limiter.check_ip(ip).is_ok());
            assert!(limiter.check_account(&AccountKey::User(UserId(1))).is_ok());
        }
        let hourly = Limiter::<u8>::per_hour(0);
        assert!((0..1_000).all(|_| hourly.check(&1).is_ok()));
        let one = Limiter::<u8>::per_minute(1);
        assert!(one.check(&1).is_ok() && one.check(&1).is_err());
    }

    #[test]
    fn an_ip_is_limited_across_accounts() {
        let limiter = SignInLimiter::new(2, 100);
        let ip = IpAddr::from([10, 0, 0, 9]);
        assert!(limiter.check_ip(ip).is_ok());
        assert!(limiter.check_ip(ip).is_ok());
        assert!(limiter.check_ip(ip).is_err());
        assert!(limiter.check_ip(IpAddr::from([10, 0, 0, 8])).is_ok());
    }
}
