//! Marking the room read while it is shown (the tab in front): up to the
//! newest confirmed message that has been on screen, so messages that
//! arrive while the reader is scrolled up, or below the "New messages"
//! divider, stay unread until scrolled to; then refreshing the room list's
//! counts. The marker is one number (everything up to it is read), so it
//! does not move while unread messages above the loaded ones (a jump to a
//! search hit) have not been loaded, unless the reader chose to skip them
//! ("Jump to the newest"): a mention among them would be lost unseen. Nor
//! does it move after "Mark unread" (`hold`) until the room is opened again.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::paging::Paging;
use super::timeline::Timeline;
use crate::api::mark_read;
use crate::chat::use_chat;

/// Whether reading may move the marker: not while `first_unread` (the
/// first unread message when the window opened) lies above the oldest
/// loaded message, so that unread messages nobody has been shown would be
/// marked read with the ones on screen, unless the reader `skipped` them.
pub fn may_mark(first_unread: Option<i64>, oldest_loaded: Option<i64>, skipped: bool) -> bool {
    skipped || first_unread.zip(oldest_loaded).is_none_or(|(first, oldest)| oldest <= first)
}

pub fn mark_read_while_shown(
    room_id: i64,
    first_unread: Option<i64>,
    timeline: Timeline,
    paging: Paging,
    hold: RwSignal<bool>,
) {
    let chat = use_chat();
    let last_marked = StoredValue::new(0i64);
    // The tab coming to the front counts as reading: focus, or shown again
    // (a covered window uncovered, which need not take focus).
    let focused = RwSignal::new(0u32);
    let focus_listener = window_event_listener(leptos::ev::focus, move |_| focused.update(|n| *n += 1));
    let shown_listener = window_event_listener(leptos::ev::visibilitychange, move |_| focused.update(|n| *n += 1));
    on_cleanup(move || {
        focus_listener.remove();
        shown_listener.remove();
    });
    // The first unread message has been in the list (it may have gone since,
    // scrolled far past, when the list dropped its oldest).
    let reached_first_unread = StoredValue::new(false);
    // The newest message when "Mark unread" held the marker, then the newest
    // since: what arrives after is counted in the room list, as another
    // room's messages are (the list refreshes when the window marks read,
    // which it no longer does).
    let held_newest = StoredValue::new(None::<i64>);
    Effect::new(move |_| {
        let newest = timeline.newest();
        if hold.get() {
            let before = held_newest.get_value();
            held_newest.set_value(newest);
            if before.is_some() && newest > before {
                chat.refresh_rooms();
            }
            return;
        }
        focused.track();
        paging.scrolled.track();
        let oldest = timeline.oldest();
        if oldest.is_some() && may_mark(first_unread, oldest, false) {
            reached_first_unread.set_value(true);
        }
        // Nothing newer than what is marked: no need to measure the rows
        // (this runs on every scroll).
        if newest.is_none_or(|newest| newest <= last_marked.get_value()) {
            return;
        }
        if !may_mark(first_unread, oldest, paging.skipped_ahead.get() || reached_first_unread.get_value()) {
            return;
        }
        // Measured once the list has been drawn.
        request_animation_frame(move || {
            let Some(seen) = paging.last_on_screen() else { return };
            let Some(marked) = last_marked.try_get_value() else { return };
            if seen <= marked || !crate::browser::tab_shown() {
                return;
            }
            last_marked.set_value(seen);
            // Deferred: refreshing the room list re-renders the sidebar,
            // which must not happen while the page is still hydrating.
            set_timeout(
                move || {
                    // Marked unread meanwhile: that stands.
                    if hold.try_get_untracked() != Some(false) {
                        return;
                    }
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

#[cfg(test)]
mod tests {
    use super::may_mark;

    #[test]
    fn unread_messages_above_the_loaded_ones_hold_the_marker_until_loaded_or_skipped() {
        // Opened at the first unread (5), or with nothing unread: reading marks.
        assert!(may_mark(Some(5), Some(3), false));
        assert!(may_mark(Some(5), Some(5), false));
        assert!(may_mark(None, Some(46), false));
        assert!(may_mark(Some(5), None, false));
        // A search hit's page (46..60) with 5..45 unread and never loaded.
        assert!(!may_mark(Some(5), Some(46), false));
        // Jump to the newest: the reader chose to skip them.
        assert!(may_mark(Some(5), Some(46), true));
    }
}
