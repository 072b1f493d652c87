//! Scrolling through history: the list's element, older pages loaded at the
//! top without the view jumping, and after a jump (`?around=N`) newer pages
//! loaded at the bottom up to the live edge (the gap below).

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::timeline::Timeline;
use crate::api::load_messages;

#[derive(Clone, Copy)]
pub struct Paging {
    pub list: NodeRef<Div>,
    room_id: i64,
    timeline: Timeline,
    pub loading_older: RwSignal<bool>,
    pub loading_newer: RwSignal<bool>,
    /// After a jump, the messages between the loaded page and the room's
    /// newest at page load (`last_number`) are missing until scrolled to;
    /// live ones arrive after them. This is the newest message before that
    /// gap.
    loaded_up_to: RwSignal<i64>,
    last_number: i64,
}

impl Paging {
    /// `focus`: the message a search jumped to, if any; `last_number`: the
    /// room's newest message when the page loaded.
    pub fn new(room_id: i64, timeline: Timeline, focus: Option<i64>, last_number: i64) -> Self {
        let loaded_up_to = match focus {
            Some(_) => timeline.entries.with_untracked(|e| e.iter().map(|x| x.message.number).max().unwrap_or(0)),
            None => last_number,
        };
        let paging = Self {
            list: NodeRef::new(),
            room_id,
            timeline,
            loading_older: RwSignal::new(false),
            loading_newer: RwSignal::new(false),
            loaded_up_to: RwSignal::new(loaded_up_to),
            last_number,
        };
        // Start at the newest message, or at the one a search jumped to.
        Effect::new(move |_| {
            if let Some(el) = paging.list.get() {
                match focus {
                    Some(number) => request_animation_frame(move || {
                        if let Ok(Some(target)) = el.query_selector(&format!("[data-number=\"{number}\"]")) {
                            target.scroll_into_view();
                        }
                    }),
                    None => paging.scroll_to_bottom(),
                }
            }
        });
        paging
    }

    /// Whether the first message of the room is loaded (tracked).
    pub fn at_start(&self) -> bool {
        self.timeline.oldest().is_none_or(|n| n <= 1)
    }

    /// Whether messages are missing below the loaded ones (tracked).
    pub fn gap_below(&self) -> bool {
        self.loaded_up_to.get() < self.last_number
    }

    /// The newest page is loaded again (a resync): no gap below.
    pub fn caught_up(&self, newest: i64) {
        self.loaded_up_to.set(newest);
    }

    pub fn scroll_to_bottom(&self) {
        if let Some(el) = self.list.get_untracked() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    }

    /// Whether the reader is at (or near) the newest message, so new ones
    /// should scroll into view.
    pub fn near_bottom(&self) -> bool {
        self.list.get_untracked().is_none_or(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 200)
    }

    pub fn on_scroll(&self) {
        if self.list.get_untracked().is_some_and(|el| el.scroll_top() < 120) {
            self.load_older();
        }
        if self.near_bottom() {
            self.load_newer();
        }
    }

    pub fn load_older(&self) {
        if self.loading_older.get_untracked() || untrack(|| self.at_start()) {
            return;
        }
        let Some(before) = untrack(|| self.timeline.oldest()) else { return };
        let this = *self;
        this.loading_older.set(true);
        spawn_local(async move {
            let before_size = this.list.get_untracked().map(|el| (el.scroll_height(), el.scroll_top()));
            if let Ok(page) = load_messages(this.room_id, Some(before), None, None).await {
                this.timeline.merge(page.messages);
                // Keep the message that was at the top where it was.
                if let (Some(el), Some((height, top))) = (this.list.get_untracked(), before_size) {
                    request_animation_frame(move || el.set_scroll_top(el.scroll_height() - height + top));
                }
            }
            this.loading_older.set(false);
        });
    }

    pub fn load_newer(&self) {
        let after = self.loaded_up_to.get_untracked();
        if self.loading_newer.get_untracked() || after >= self.last_number {
            return;
        }
        let this = *self;
        this.loading_newer.set(true);
        spawn_local(async move {
            if let Ok(page) = load_messages(this.room_id, None, Some(after), None).await {
                // An empty page means the gap is gone (say, deleted history).
                let newest = page.messages.iter().map(|m| m.number).max().unwrap_or(this.last_number);
                this.timeline.merge(page.messages);
                this.loaded_up_to.set(newest.max(after));
            }
            this.loading_newer.set(false);
        });
    }
}
