//! Marking the room read up to the newest confirmed message while it is
//! shown (the tab in front), then refreshing the room list's counts.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::page_visible;
use super::timeline::Timeline;
use crate::api::mark_read;
use crate::chat::use_chat;

pub fn mark_read_while_shown(room_id: i64, timeline: Timeline) {
    let chat = use_chat();
    let last_marked = StoredValue::new(0i64);
    // The tab coming to the front counts as reading.
    let focused = RwSignal::new(0u32);
    let focus_listener = window_event_listener(leptos::ev::focus, move |_| focused.update(|n| *n += 1));
    on_cleanup(move || focus_listener.remove());
    Effect::new(move |_| {
        let newest = timeline.newest();
        focused.track();
        if let Some(newest) = newest
            && newest > last_marked.get_value()
            && page_visible()
        {
            last_marked.set_value(newest);
            // Deferred: refreshing the room list re-renders the sidebar, which
            // must not happen while the page is still hydrating.
            set_timeout(
                move || {
                    spawn_local(async move {
                        if mark_read(room_id, newest).await.is_ok() {
                            chat.refresh_rooms();
                        }
                    })
                },
                std::time::Duration::from_millis(300),
            );
        }
    });
}
