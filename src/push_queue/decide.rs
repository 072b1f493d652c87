//! Who gets a message's push: [`should_push`] for each member the one query
//! found, and a budget per device.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::model::{NotifyLevel, RoomKind, UserId};
use crate::push::{PushFacts, should_push};
use crate::store::PushCandidate;

/// A budget of pushes per device: `n` a minute, as a burst that refills
/// evenly (governor's GCRA).
pub struct DeviceBudget(DefaultKeyedRateLimiter<i64>);

impl DeviceBudget {
    pub fn per_minute(n: u32) -> Self {
        Self(DefaultKeyedRateLimiter::keyed(Quota::per_minute(NonZeroU32::new(n.max(1)).expect("max(1) > 0"))))
    }

    /// Spends one push for `device`; false when its budget is spent.
    pub fn spend(&self, device: i64) -> bool {
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&device).is_ok()
    }
}

/// The level a candidate's row gives (its kind's default when unset).
fn level_of(candidate: &PushCandidate) -> NotifyLevel {
    let kind = RoomKind::parse(&candidate.room_kind).unwrap_or(RoomKind::Group);
    candidate.notify_level.as_deref().and_then(NotifyLevel::parse).unwrap_or(NotifyLevel::default_for(kind))
}

/// The members to push message `number` to, by [`should_push`], each once.
pub fn decide(candidates: &[PushCandidate], number: i64) -> Vec<UserId> {
    let mut users: Vec<UserId> = candidates
        .iter()
        .filter(|c| {
            should_push(PushFacts {
                level: level_of(c),
                mentioned: c.mentioned,
                read_in_time: c.last_read_number >= number,
                room_visible: c.visible,
                paused: c.paused,
            })
        })
        .map(|c| c.user_id)
        .collect();
    users.dedup();
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(user: i64, level: Option<&str>, read: i64, mentioned: bool, visible: bool) -> PushCandidate {
        PushCandidate {
            subscription_id: user * 10,
            user_id: UserId(user),
            endpoint: format!("https://push.example.net/{user}"),
            p256dh: String::new(),
            auth: String::new(),
            notify_level: level.map(str::to_owned),
            room_kind: "group".into(),
            last_read_number: read,
            mentioned,
            visible,
            paused: false,
        }
    }

    #[test]
    fn a_device_gets_its_budget_at_once_and_no_more_within_the_minute() {
        let budget = DeviceBudget::per_minute(3);

        let first: Vec<bool> = (0..4).map(|_| budget.spend(1)).collect();
        let other = budget.spend(2);

        assert_eq!(first, [true, true, true, false], "a burst of three, then dropped");
        assert!(other, "another device has its own budget");
    }

    #[test]
    fn the_decision_applies_the_rule_to_each_member_once_whatever_their_devices() {
        let mut two_devices = candidate(1, Some("everything"), 4, false, false);
        two_devices.subscription_id = 11;
        let candidates = [
            candidate(1, Some("everything"), 4, false, false),
            two_devices,
            candidate(2, None, 4, false, false), // a group's default: mentions only
            candidate(3, None, 4, true, false),  // mentioned
            candidate(4, Some("everything"), 5, false, false), // read in time
            candidate(5, Some("everything"), 4, false, true), // a tab shows the room
            candidate(6, Some("nothing"), 4, true, false),
            PushCandidate { paused: true, ..candidate(7, Some("everything"), 4, true, false) },
        ];

        assert_eq!(decide(&candidates, 5), [UserId(1), UserId(3)]);
    }
}
