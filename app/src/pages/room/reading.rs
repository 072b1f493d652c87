//! Marking the room read while it is shown (the tab in front): up to the
//! newest confirmed message that has been on screen, so messages that
//! arrive while the reader is scrolled up, or below the "New messages"
//! divider, stay unread until scrolled to; then refreshing the room list's
//! counts.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::page_visible;
use super::paging::Paging;
use super::timeline::Timeline;
use crate::api::mark_read;
use crate::chat::use_chat;

pub fn mark_read_while_shown(room_id: i64, timeline: Timeline, paging: Paging) {
    let chat = use_chat();
    let last_marked = StoredValue::new(0i64);
    // The tab coming to the front counts as reading.
    let focused = RwSignal::new(0u32);
    let focus_listener = window_event_listener(leptos::ev::focus, move |_| focused.update(|n| *n += 1));
    on_cleanup(move || focus_listener.remove());
    Effect::new(move |_| {
        let newest = timeline.newest();
        focused.track();
        paging.scrolled.track();
        // Nothing newer than what is marked: no need to measure the rows
        // (this runs on every scroll).
        if newest.is_none_or(|newest| newest <= last_marked.get_value()) {
            return;
        }
        // Measured once the list has been drawn.
        request_animation_frame(move || {
            let Some(seen) = paging.last_on_screen() else { return };
            let Some(marked) = last_marked.try_get_value() else { return };
            if seen <= marked || !page_visible() {
                return;
            }
            last_marked.set_value(seen);
            // Deferred: refreshing the room list re-renders the sidebar,
            // which must not happen while the page is still hydrating.
            set_timeout(
                move || {
                    spawn_local(async move {
                        if mark_read(room_id, seen).await.is_ok() {
                            chat.refresh_rooms();
                        }
                    })
                },
                std::time::Duration::from_millis(300),
            );
        });
    });
}
