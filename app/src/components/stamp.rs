//! A moment in time as people read it: a `<time>` whose text is in the
//! zone shown (UTC from the server, the browser's own once it runs) and
//! whose title, for hover and screen readers, is the full timestamp.

use leptos::prelude::*;

use crate::browser::{day_and_time, today, utc_offset_minutes};
use crate::chat::use_clock;
use crate::pages::room::layout::{day_label, full_time};

/// `stamp` (`2026-11-23T19:27:46.123456Z`) as its time of day ("19:27"),
/// or with `with_day` after its day as well ("Today, 19:27", "Yesterday,
/// 08:02", "Monday, 23 November 2026, 19:27").
#[component]
pub fn Stamp(stamp: String, #[prop(optional)] class: &'static str, #[prop(optional)] with_day: bool) -> impl IntoView {
    let clock = use_clock();
    let text = {
        let stamp = stamp.clone();
        move || {
            let local = clock.local.get();
            let (day, time) = day_and_time(&stamp, local);
            if with_day { format!("{}, {time}", day_label(&day, today(local))) } else { time }
        }
    };
    let title = {
        let stamp = stamp.clone();
        move || full_time(&stamp, if clock.local.get() { utc_offset_minutes(&stamp) } else { None })
    };
    view! { <time class=class datetime=stamp title=title>{text}</time> }
}
