//! The top bar's bell: pause my notifications for a while ("do not
//! disturb": no Web Push to my devices and no desktop notification in my
//! tabs until then, `hearth::pause`), or resume them. The bell is struck
//! through while they are paused, and its panel says until when. A pause
//! made in another tab shows here at once (`Auth::pause_changed`, set by
//! [`crate::alerts`] from the live event), and one that runs out while the
//! page is open turns the bell back by itself.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::pause_notifications;
use crate::auth::use_auth;
use crate::components::icons::{BellIcon, BellOffIcon};
use crate::components::stamp::Stamp;

/// The pauses offered, as (label, minutes); `None`: until 09:00 tomorrow.
const CHOICES: [(&str, Option<i64>); 4] = [
    ("For 30 minutes", Some(30)),
    ("For 1 hour", Some(60)),
    ("For 2 hours", Some(120)),
    ("Until tomorrow, 09:00", None),
];

#[component]
pub fn PauseMenu() -> impl IntoView {
    let auth = use_auth();
    let panel: NodeRef<leptos::html::Details> = NodeRef::new();
    // Read the clock again: bumped when a pause runs out.
    let tick = RwSignal::new(0_u32);
    let error = RwSignal::new(None::<String>);
    let until = move || {
        tick.track();
        auth.pause_holding()
    };
    let close = move || {
        if let Some(panel) = panel.try_get_untracked().flatten() {
            panel.set_open(false);
        }
    };
    #[cfg(feature = "hydrate")]
    {
        // A pause that runs out turns the bell back: wake then (or in a
        // day, the most a browser's timer waits, and look again).
        Effect::new(move |_| {
            tick.track();
            let Some(end) = auth.paused_until().and_then(|end| crate::browser::stamp_ms(&end)) else { return };
            let left = end - crate::browser::now_ms();
            if left > 0.0 {
                let wait = left.min(86_400_000.0) as u32 + 1_000;
                spawn_local(async move {
                    crate::browser::sleep(wait).await;
                    let _ = tick.try_update(|n| *n += 1);
                });
            }
        });
        // A press anywhere else closes the panel, as a menu does.
        crate::browser::close_on_press_outside(".pause-menu", close);
    }
    let choose = move |minutes: Option<i64>| {
        spawn_local(async move {
            match pause_notifications(minutes).await {
                Ok(pause) => {
                    let _ = auth.pause_changed.try_set(Some(pause.notifications_paused_until));
                    let _ = error.try_set(None);
                    close();
                }
                Err(refused) => {
                    let _ = error.try_set(Some(refused.to_string()));
                }
            }
        });
    };
    let label = move || if until().is_some() { "Notifications paused" } else { "Pause notifications" };
    view! {
        <details
            class="pause-menu"
            node_ref=panel
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <summary aria-label=label title=label class:paused=move || until().is_some()>
                {move || if until().is_some() { view! { <BellOffIcon /> }.into_any() } else { view! { <BellIcon /> }.into_any() }}
            </summary>
            <div class="pause-popover">
                {move || match until() {
                    Some(end) => view! {
                        <p class="paused-until">"Notifications are paused until " <Stamp stamp=end with_day=true /> "."</p>
                        <button type="button" class="resume" on:click=move |_| choose(None)>"Resume notifications"</button>
                    }
                    .into_any(),
                    None => view! {
                        <h2>"Pause notifications"</h2>
                        <p class="muted">"No desktop notifications or pushes until then. Messages are still counted."</p>
                        <ul class="pause-choices">
                            {CHOICES.into_iter().map(|(label, minutes)| view! {
                                <li><button type="button" class="link" on:click=move |_| choose(Some(minutes.unwrap_or_else(minutes_to_tomorrow_morning)))>{label}</button></li>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }}
                {move || error.get().map(|error| view! { <p class="form-error" role="alert">{error}</p> })}
            </div>
        </details>
    }
}

/// Minutes from now until 09:00 tomorrow in the browser's zone.
fn minutes_to_tomorrow_morning() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        let now = js_sys::Date::new_0();
        let morning = js_sys::Date::new_0();
        morning.set_date(morning.get_date() + 1);
        morning.set_hours(9);
        morning.set_minutes(0);
        morning.set_seconds(0);
        morning.set_milliseconds(0);
        ((morning.get_time() - now.get_time()) / 60_000.0).ceil() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        24 * 60
    }
}
