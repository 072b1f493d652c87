//! Pausing my notifications ("do not disturb"): until a time I choose, no
//! Web Push is sent for me (mentions included: the push rule in
//! [`crate::push::should_push`] hears of it through
//! `PushCandidate::paused`), and my tabs show no desktop notification
//! (they are told at once by [`ServerEvent::NotificationsPaused`]). What
//! arrives meanwhile is still counted unread; nothing is pushed late when
//! the pause ends. A pause ends by itself at its time, or when I resume.

use time::{Duration, OffsetDateTime};

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::model::{NotificationPause, UserId};
use crate::protocol::ServerEvent;
use crate::store::{format_time, parse_time};

/// The longest pause, in minutes (30 days: a holiday).
pub const PAUSE_MAX_MINUTES: i64 = 30 * 24 * 60;

/// How long to pause for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseFor {
    /// This many minutes from now.
    Minutes(i64),
    /// Until this time (RFC 3339).
    Until(String),
}

impl PauseFor {
    /// The one of `minutes` and `until` that was given; both or neither is
    /// refused.
    pub fn from_fields(minutes: Option<i64>, until: Option<String>) -> Result<Self, FieldError> {
        match (minutes, until) {
            (Some(minutes), None) => Ok(Self::Minutes(minutes)),
            (None, Some(until)) => Ok(Self::Until(until)),
            _ => Err(FieldError::new("minutes", "Give either minutes or until")),
        }
    }
}

/// The pause's end as stored, or why it is refused: it must end in the
/// future, within [`PAUSE_MAX_MINUTES`] of `now`.
pub fn pause_end(asked: &PauseFor, now: OffsetDateTime) -> Result<String, FieldError> {
    let latest = now + Duration::minutes(PAUSE_MAX_MINUTES);
    let (field, end) = match asked {
        PauseFor::Minutes(n) if *n < 1 => return Err(FieldError::new("minutes", "Minutes must be at least 1")),
        PauseFor::Minutes(n) if *n > PAUSE_MAX_MINUTES => {
            return Err(FieldError::new("minutes", format!("Minutes must be at most {PAUSE_MAX_MINUTES} (30 days)")));
        }
        PauseFor::Minutes(n) => ("minutes", format_time(now + Duration::minutes(*n))),
        PauseFor::Until(raw) => (
            "until",
            parse_time(raw.trim()).ok_or_else(|| {
                FieldError::new("until", "Until must be a time such as 2026-12-08T09:00:00Z (RFC 3339)")
            })?,
        ),
    };
    if end <= format_time(now) {
        return Err(FieldError::new(field, "The pause must end in the future"));
    }
    if end > format_time(latest) {
        return Err(FieldError::new(field, "A pause can last at most 30 days"));
    }
    Ok(end)
}

impl Hearth {
    /// Pauses my notifications as `asked`, replacing any pause I had.
    pub async fn pause_notifications(&self, me: UserId, asked: &PauseFor) -> Result<NotificationPause, AppError> {
        let end = pause_end(asked, OffsetDateTime::now_utc())?;
        self.set_pause(me, Some(end)).await
    }

    /// Resumes my notifications (a pause that had ended already is fine).
    pub async fn resume_notifications(&self, me: UserId) -> Result<NotificationPause, AppError> {
        self.set_pause(me, None).await
    }

    async fn set_pause(&self, me: UserId, until: Option<String>) -> Result<NotificationPause, AppError> {
        if !self.store.set_notifications_paused_until(me, until.as_deref()).await? {
            return Err(AppError::NotFound("user"));
        }
        self.hub.send_user(me, &ServerEvent::NotificationsPaused { until: until.clone() });
        Ok(NotificationPause { notifications_paused_until: until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> OffsetDateTime {
        OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).expect("a time")
    }

    #[test]
    fn a_pause_for_minutes_ends_that_long_from_now() {
        let now = at("2026-12-07T20:00:00Z");

        assert_eq!(pause_end(&PauseFor::Minutes(30), now).as_deref(), Ok("2026-12-07T20:30:00.000000Z"));
        assert_eq!(pause_end(&PauseFor::Minutes(PAUSE_MAX_MINUTES), now).as_deref(), Ok("2027-01-06T20:00:00.000000Z"));
        assert_eq!(pause_end(&PauseFor::Minutes(0), now).unwrap_err().field, "minutes");
        assert_eq!(pause_end(&PauseFor::Minutes(-5), now).unwrap_err().field, "minutes");
        assert_eq!(pause_end(&PauseFor::Minutes(PAUSE_MAX_MINUTES + 1), now).unwrap_err().field, "minutes");
    }

    #[test]
    fn a_pause_is_asked_for_by_minutes_or_by_a_time_never_both() {
        assert_eq!(PauseFor::from_fields(Some(5), None), Ok(PauseFor::Minutes(5)));
        assert_eq!(PauseFor::from_fields(None, Some("x".into())), Ok(PauseFor::Until("x".into())));
        assert!(PauseFor::from_fields(None, None).is_err());
        assert!(PauseFor::from_fields(Some(5), Some("x".into())).is_err());
    }

    #[test]
    fn a_pause_until_a_time_is_kept_in_utc_and_must_end_within_30_days() {
        let now = at("2026-12-07T20:00:00Z");
        let until = |raw: &str| pause_end(&PauseFor::Until(raw.into()), now);

        assert_eq!(until("2026-12-08T09:00:00+01:00").as_deref(), Ok("2026-12-08T08:00:00.000000Z"));
        assert_eq!(until(" 2026-12-07T20:00:01Z ").as_deref(), Ok("2026-12-07T20:00:01.000000Z"));
        for refused in ["2026-12-07T20:00:00Z", "2026-12-07T19:59:59Z", "2027-01-06T20:00:01Z", "tomorrow", ""] {
            let error = until(refused).expect_err(refused);
            assert_eq!(error.field, "until", "{refused}");
        }
    }

    #[test]
    fn a_pause_holds_until_its_end_and_not_after() {
        let end = "2026-12-07T21:00:00.000000Z";

        assert!(crate::model::paused_at(Some(end), "2026-12-07T20:59:59.999999Z"));
        assert!(crate::model::paused_at(Some(end), "2026-12-07T20:59:59.999Z"), "a browser's time, to the ms");
        assert!(!crate::model::paused_at(Some(end), end));
        assert!(!crate::model::paused_at(Some(end), "2026-12-07T21:00:00.001Z"));
        assert!(!crate::model::paused_at(None, "2026-12-07T20:00:00.000Z"));
    }
}
