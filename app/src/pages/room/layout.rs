//! How the timeline is laid out: which messages start a group (one name,
//! one avatar and one time over consecutive messages by one author within
//! [`GROUP_SECONDS`]), where the day separators go and what they say
//! (Today, Yesterday, or the date), and the full timestamp a `<time>`'s
//! `title` carries. Plain Rust: dates are civil-day arithmetic on the
//! stamps the server writes (`2026-11-23T19:27:46.123456Z`), with unit tests.

use super::timeline::Entry;

/// How long after a group's first message a message by the same author still
/// joins the group.
pub const GROUP_SECONDS: i64 = 5 * 60;

/// What a row shows around its message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowLayout {
    /// A day separator above the row: the day (`2026-11-23`) and its label.
    pub separator: Option<(String, String)>,
    /// The first message of a group: it shows the name, avatar and time.
    pub starts_group: bool,
}

/// Who wrote a message, for grouping: a user, or an application by name.
fn author_key(entry: &Entry) -> Option<String> {
    let m = &entry.message;
    match (m.user_id, &m.application) {
        (Some(id), _) => Some(format!("u{}", id.0)),
        (None, Some(app)) => Some(format!("a{app}")),
        (None, None) => None,
    }
}

/// The layout of each entry, in order. `day_of` gives an entry's day
/// (`YYYY-MM-DD`, in the zone shown); `today` is that zone's day number
/// ([`day_number`]). A separator goes above the first confirmed message of
/// each day; a message continues the group above it when it has the same
/// author, the same day, and came at most [`GROUP_SECONDS`] after the
/// group's first message. The first unread message (`first_unread`, under
/// the "New messages" divider) always starts a group, so that what is new
/// says who wrote it.
pub fn lay_out(
    entries: &[Entry],
    day_of: impl Fn(&str) -> String,
    today: i64,
    first_unread: Option<i64>,
) -> Vec<RowLayout> {
    let mut previous_day = String::new();
    // The open group: its author, day and first message's time.
    let mut group: Option<(String, String, i64)> = None;
    entries
        .iter()
        .map(|entry| {
            let day = day_of(&entry.message.created_at);
            let separator =
                (day != previous_day && entry.is_confirmed()).then(|| (day.clone(), day_label(&day, today)));
            if entry.is_confirmed() {
                previous_day = day.clone();
            }
            let at = stamp_seconds(&entry.message.created_at);
            let author = author_key(entry);
            let unread_starts = first_unread == Some(entry.message.number) && entry.is_confirmed();
            let continues = separator.is_none()
                && !unread_starts
                && match (&group, &author, at) {
                    (Some((who, group_day, start)), Some(author), Some(at)) => {
                        who == author && *group_day == day && at >= *start && at - start <= GROUP_SECONDS
                    }
                    _ => false,
                };
            if !continues {
                group = author.zip(at).map(|(author, at)| (author, day, at));
            }
            RowLayout { separator, starts_group: !continues }
        })
        .collect()
}

/// Seconds since 1970-01-01T00:00:00Z of a stamp like
/// `2026-11-23T19:27:46.123456Z` (fractions ignored); `None` if it is not one.
pub fn stamp_seconds(stamp: &str) -> Option<i64> {
    let days = day_number(stamp.get(..10)?)?;
    let field = |range: std::ops::Range<usize>| stamp.get(range)?.parse::<i64>().ok();
    if stamp.get(10..11)? != "T" {
        return None;
    }
    let (h, m, s) = (field(11..13)?, field(14..16)?, field(17..19)?);
    Some(days * 86_400 + h * 3_600 + m * 60 + s)
}

/// The day number (days since 1970-01-01) of `YYYY-MM-DD`.
pub fn day_number(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The (year, month, day) of a day number.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

const WEEKDAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "Monday, 23 November 2026" for a day number.
pub fn long_date(days: i64) -> String {
    let (y, m, d) = civil(days);
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    format!("{weekday}, {d} {} {y}", MONTHS[m as usize - 1])
}

/// What a day separator says: Today, Yesterday, or the date (`day` as
/// `YYYY-MM-DD`; `today` a day number).
pub fn day_label(day: &str, today: i64) -> String {
    match day_number(day) {
        Some(n) if n == today => "Today".to_owned(),
        Some(n) if n == today - 1 => "Yesterday".to_owned(),
        Some(n) => long_date(n),
        None => day.to_owned(),
    }
}

/// The full time of `stamp` for a `<time>`'s title, shifted by
/// `offset_minutes` (the zone shown; 0 and " UTC" while it is UTC):
/// "Monday, 23 November 2026 at 19:27:46".
pub fn full_time(stamp: &str, offset_minutes: Option<i64>) -> String {
    let Some(seconds) = stamp_seconds(stamp) else { return stamp.to_owned() };
    let local = seconds + offset_minutes.unwrap_or(0) * 60;
    let (days, rest) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let zone = if offset_minutes.is_none() { " UTC" } else { "" };
    format!("{} at {:02}:{:02}:{:02}{zone}", long_date(days), rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::room::timeline::tests::message;
    use crate::pages::room::timeline::{Delivery, Entry};

    fn utc_day(stamp: &str) -> String {
        stamp.get(..10).unwrap_or(stamp).to_owned()
    }

    fn entries(rows: &[(i64, &str)]) -> Vec<Entry> {
        rows.iter().enumerate().map(|(i, (user, at))| Entry::confirmed(message(i as i64 + 1, *user, "m", at))).collect()
    }

    fn starts(layout: &[RowLayout]) -> Vec<bool> {
        layout.iter().map(|r| r.starts_group).collect()
    }

    const TODAY: &str = "2026-11-23";

    fn today() -> i64 {
        day_number(TODAY).expect("TODAY is a date")
    }

    #[test]
    fn quick_messages_by_one_author_make_one_group() {
        let list = entries(&[
            (1, "2026-11-23T10:00:00.000000Z"),
            (1, "2026-11-23T10:01:30.000000Z"),
            (1, "2026-11-23T10:05:00.000000Z"),
        ]);
        assert_eq!(starts(&lay_out(&list, utc_day, today(), None)), [true, false, false]);
    }

    #[test]
    fn another_author_or_more_than_five_minutes_after_the_group_began_starts_a_new_group() {
        let list = entries(&[
            (1, "2026-11-23T10:00:00.000000Z"),
            (2, "2026-11-23T10:01:00.000000Z"),
            (1, "2026-11-23T10:02:00.000000Z"),
            (1, "2026-11-23T10:06:00.000000Z"),
            (1, "2026-11-23T10:07:01.000000Z"),
        ]);
        // The last one is 5 min 1 s after its group's first (10:02), though
        // only a minute after the message above it.
        assert_eq!(starts(&lay_out(&list, utc_day, today(), None)), [true, true, true, false, true]);
    }

    #[test]
    fn the_first_unread_message_starts_a_group_under_the_new_messages_divider() {
        let list = entries(&[
            (1, "2026-11-23T10:00:00.000000Z"),
            (1, "2026-11-23T10:00:10.000000Z"),
            (1, "2026-11-23T10:00:20.000000Z"),
        ]);
        assert_eq!(starts(&lay_out(&list, utc_day, today(), Some(list[1].message.number))), [true, true, false]);
        assert_eq!(starts(&lay_out(&list, utc_day, today(), Some(99))), [true, false, false]);
    }

    #[test]
    fn a_new_day_starts_a_new_group_under_its_separator() {
        let list = entries(&[(1, "2026-11-22T23:59:00.000000Z"), (1, "2026-11-23T00:01:00.000000Z")]);
        let layout = lay_out(&list, utc_day, today(), None);
        assert_eq!(starts(&layout), [true, true]);
        assert_eq!(layout[0].separator, Some(("2026-11-22".into(), "Yesterday".into())));
        assert_eq!(layout[1].separator, Some(("2026-11-23".into(), "Today".into())));
    }

    #[test]
    fn a_pending_send_joins_the_group_but_never_gets_a_separator() {
        let mut list = entries(&[(1, "2026-11-23T10:00:00.000000Z")]);
        let mut mine = message(0, 1, "pending", "2026-11-24T10:00:30.000Z");
        mine.client_id = Some("c".into());
        list.push(Entry { message: mine, state: Delivery::Sending });
        let layout = lay_out(&list, utc_day, today(), None);
        assert_eq!(layout[1].separator, None);
        assert!(layout[1].starts_group, "another day: a group of its own");
        list[1].message.created_at = "2026-11-23T10:00:30.000Z".into();
        assert!(!lay_out(&list, utc_day, today(), None)[1].starts_group);
    }

    #[test]
    fn application_messages_group_by_application_name() {
        let mut list = entries(&[(1, "2026-11-23T10:00:00.000000Z"), (1, "2026-11-23T10:00:10.000000Z")]);
        for e in &mut list {
            e.message.user_id = None;
            e.message.user = None;
            e.message.application = Some("bot".into());
        }
        list[1].message.application = Some("other bot".into());
        assert_eq!(starts(&lay_out(&list, utc_day, today(), None)), [true, true]);
    }

    #[test]
    fn day_separators_say_today_yesterday_or_the_date() {
        assert_eq!(day_label("2026-11-23", today()), "Today");
        assert_eq!(day_label("2026-11-22", today()), "Yesterday");
        assert_eq!(day_label("2026-11-21", today()), "Saturday, 21 November 2026");
        assert_eq!(day_label("2024-02-29", today()), "Thursday, 29 February 2024");
        assert_eq!(day_label("not a day", today()), "not a day");
    }

    #[test]
    fn civil_days_round_trip_and_match_known_dates() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        for n in [-1_000, -1, 0, 59, 60, 11_016, 20_415, 40_000] {
            let (y, m, d) = civil(n);
            assert_eq!(day_number(&format!("{y:04}-{m:02}-{d:02}")), Some(n));
        }
        assert_eq!(day_number("2026-13-01"), None);
    }

    #[test]
    fn the_full_time_is_in_utc_or_shifted_to_the_zone_shown() {
        let stamp = "2026-11-23T19:27:46.123456Z";
        assert_eq!(stamp_seconds(stamp), Some(1_795_462_066));
        assert_eq!(full_time(stamp, None), "Monday, 23 November 2026 at 19:27:46 UTC");
        assert_eq!(full_time(stamp, Some(330)), "Tuesday, 24 November 2026 at 00:57:46");
        assert_eq!(full_time(stamp, Some(-480)), "Monday, 23 November 2026 at 11:27:46");
        assert_eq!(full_time("garbage", None), "garbage");
    }
}
