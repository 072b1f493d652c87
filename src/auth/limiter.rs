//! Sign-in attempt budgets. Every attempt counts, before the password is
//! checked, so a guesser learns nothing and pays nothing in argon2 time past
//! the budget. The `governor` crate's keyed GCRA limiters do the counting.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppError;

/// Past this many tracked keys, forget the ones whose budget has refilled.
const PRUNE_AT: usize = 10_000;

#[derive(Clone)]
pub struct SignInLimiter {
    /// Attempts per client IP (one office behind a NAT shares it).
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Attempts per lower-cased login, from anywhere: stops a botnet on one account.
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for SignInLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimiter").finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("max(1) is non-zero"))
}

impl SignInLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        Self {
            per_ip: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(per_ip_per_minute))),
            per_account: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(per_account_per_minute))),
        }
    }

    /// Spends one attempt for `ip` and for `login`, or says how long to wait.
    pub fn check(&self, ip: IpAddr, login: &str) -> Result<(), AppError> {
        if self.per_ip.len() > PRUNE_AT {
            self.per_ip.retain_recent();
        }
        if self.per_account.len() > PRUNE_AT {
            self.per_account.retain_recent();
        }
        let now = DefaultClock::default().now();
        let wait = |not_until: governor::NotUntil<_>| AppError::RateLimited {
            retry_after_secs: not_until.wait_time_from(now).as_secs().max(1),
        };
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_account.check_key(&login.trim().to_lowercase()).map_err(wait)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_from_any_ip() {
        let limiter = SignInLimiter::new(100, 2);
        let ip = |n| IpAddr::from([10, 0, 0, n]);
        assert!(limiter.check(ip(1), "alice").is_ok());
        assert!(limiter.check(ip(2), "ALICE").is_ok());
        let err = limiter.check(ip(3), "alice").unwrap_err();
        assert!(matches!(err, AppError::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        assert!(limiter.check(ip(3), "bob").is_ok());
    }

    #[test]
    fn an_ip_is_limited_across_accounts() {
        let limiter = SignInLimiter::new(2, 100);
        let ip = IpAddr::from([10, 0, 0, 9]);
        assert!(limiter.check(ip, "a").is_ok());
        assert!(limiter.check(ip, "b").is_ok());
        assert!(limiter.check(ip, "c").is_err());
    }
}

/// A per-client-IP budget for one kind of request (anonymous application
/// creation).
#[derive(Clone)]
pub struct IpLimiter {
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for IpLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpLimiter").finish_non_exhaustive()
    }
}

impl IpLimiter {
    pub fn new(per_minute_quota: u32) -> Self {
        Self { per_ip: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(per_minute_quota))) }
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        if self.per_ip.len() > PRUNE_AT {
            self.per_ip.retain_recent();
        }
        let now = DefaultClock::default().now();
        self.per_ip.check_key(&ip).map_err(|not_until| AppError::RateLimited {
            retry_after_secs: not_until.wait_time_from(now).as_secs().max(1),
        })
    }
}
