//! Scrolling through history: the list's element, where the window opens
//! (the newest message, a search hit, or the "New messages" divider), older
//! pages loaded at the top without the view jumping, and after a jump newer
//! pages loaded at the bottom up to the live edge (the gap below); whether
//! the reader is scrolled up, with the count of messages that arrived below
//! meanwhile, and the jump back to the newest.

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::{focus_is_on, focus_message_in_place};
use super::timeline::Timeline;
use crate::api::load_messages;

/// Where the window opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At the newest message.
    Newest,
    /// At message N, a search hit.
    Message(i64),
    /// At the "New messages" divider, above message N, the first unread.
    Unread(i64),
}

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
    /// The room's newest message: at page load, then each that arrives.
    last_number: RwSignal<i64>,
    /// The reader is away from the newest message (tracked by the view).
    pub scrolled_up: RwSignal<bool>,
    /// Messages by others that arrived while scrolled up, not yet scrolled to.
    pub new_below: RwSignal<u32>,
    /// Bumped on every scroll, for whoever watches what is on screen.
    pub scrolled: RwSignal<u32>,
    /// The reader asked for the newest messages ("Jump to the newest"), so
    /// unread ones never loaded above them may be marked read.
    pub skipped_ahead: RwSignal<bool>,
    /// The list was at its very bottom when last looked at (a scroll, or a
    /// scroll to the bottom): when its height changes under it (the
    /// composer grows), it is put back there ([`Paging::stay_at_bottom`]).
    pinned: StoredValue<bool>,
}

/// The most messages the list holds: scrolling back past them drops the
/// newest (and live ones are then not listed until scrolled back to), so a
/// long way back stays as quick as the first page.
pub const MAX_LOADED: usize = 300;

impl Paging {
    /// `start`: where the window opens; `jumped`: the loaded page is not the
    /// newest (it is around a search hit or the first unread), so newer
    /// messages are missing below it; `last_number`: the room's newest
    /// message when the page loaded.
    pub fn new(room_id: i64, timeline: Timeline, start: Start, jumped: bool, last_number: i64) -> Self {
        let loaded_up_to = match jumped {
            true => timeline.entries.with_untracked(|e| e.iter().map(|x| x.message.number).max().unwrap_or(0)),
            false => last_number,
        };
        let paging = Self {
            list: NodeRef::new(),
            room_id,
            timeline,
            loading_older: RwSignal::new(false),
            loading_newer: RwSignal::new(false),
            loaded_up_to: RwSignal::new(loaded_up_to),
            last_number: RwSignal::new(last_number),
            scrolled_up: RwSignal::new(false),
            new_below: RwSignal::new(0),
            scrolled: RwSignal::new(0),
            skipped_ahead: RwSignal::new(false),
            pinned: StoredValue::new(false),
        };
        Effect::new(move |_| {
            if let Some(el) = paging.list.get() {
                let selector = match start {
                    Start::Newest => return paging.scroll_to_bottom(),
                    Start::Message(number) => format!("[data-number=\"{number}\"]"),
                    Start::Unread(_) => ".unread-divider".to_owned(),
                };
                request_animation_frame(move || {
                    if let Ok(Some(target)) = el.query_selector(&selector) {
                        target.scroll_into_view();
                        // A jump (a search hit, a reply's original) starts
                        // the keyboard and a screen reader at the message,
                        // not in the composer. Not on a touch screen, where
                        // a row with focus opens its toolbar.
                        if matches!(start, Start::Message(_)) && !super::browser::touch_first() {
                            super::browser::focus_in_place(&target);
                        }
                    }
                    paging.note_position();
                });
            }
        });
        paging
    }

    /// Whether the room's page has been left (its signals disposed): a
    /// frame or timer queued before that must then do nothing, as reading
    /// a disposed signal panics the whole page.
    pub fn gone(&self) -> bool {
        self.scrolled.is_disposed()
    }

    /// Whether the first message of the room is loaded (tracked).
    pub fn at_start(&self) -> bool {
        self.timeline.oldest().is_none_or(|n| n <= 1)
    }

    /// Whether messages are missing below the loaded ones (tracked).
    pub fn gap_below(&self) -> bool {
        self.loaded_up_to.get() < self.last_number.get()
    }

    /// Message `number` arrived live; `listed`: it went into the list (no
    /// gap below), else it is past the gap, loaded when scrolled to.
    pub fn arrived(&self, number: i64, listed: bool) {
        self.last_number.update(|n| *n = (*n).max(number));
        if listed {
            self.loaded_up_to.update(|n| *n = (*n).max(number));
        }
    }

    /// The newest page is loaded again (a resync): no gap below, and it is
    /// shown at its bottom, as a live room would have kept it. What is read
    /// there may be marked read, as after "Jump to the newest": the changes
    /// missed were too many to replay, and the count would otherwise stay.
    pub fn caught_up(&self, newest: i64) {
        self.last_number.update(|n| *n = (*n).max(newest));
        self.loaded_up_to.set(newest);
        self.skipped_ahead.set(true);
        self.scroll_to_bottom();
    }

    pub fn scroll_to_bottom(&self) {
        if let Some(el) = self.list.get_untracked() {
            let this = *self;
            request_animation_frame(move || {
                el.set_scroll_top(el.scroll_height());
                this.note_position();
            });
        }
    }

    /// Whether the reader is at (or near) the newest message, so new ones
    /// should scroll into view.
    pub fn near_bottom(&self) -> bool {
        !self.gone()
            && self
                .list
                .get_untracked()
                .is_none_or(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 200)
    }

    /// The list is getting shorter or taller from below (the composer
    /// grows with its text, a reply's quote or files): if it was at its
    /// bottom, it stays there, its newest message not hidden under the
    /// composer. The list itself scrolls nowhere when it shrinks: it keeps
    /// its scroll top (`overflow-anchor: none`), so its bottom goes out of
    /// view.
    pub fn stay_at_bottom(&self) {
        if self.gone() || !self.pinned.get_value() {
            return;
        }
        let (this, Some(el)) = (*self, self.list.get_untracked()) else { return };
        // After the frame's changes are drawn, and only if they moved it.
        request_animation_frame(move || {
            if !this.gone() && el.scroll_height() - el.scroll_top() - el.client_height() > 2 {
                el.set_scroll_top(el.scroll_height());
                this.note_position();
            }
        });
    }

    /// Records whether the reader is scrolled up; back at the newest with
    /// nothing missing below, the count of new ones below is done.
    fn note_position(&self) {
        if self.gone() {
            return;
        }
        // A scroll top can be a fraction of a pixel short of the bottom.
        let pinned =
            self.list.get_untracked().is_some_and(|el| el.scroll_height() - el.scroll_top() - el.client_height() <= 2);
        self.pinned.set_value(pinned);
        let up = !self.near_bottom() || untrack(|| self.gap_below());
        if self.scrolled_up.get_untracked() != up {
            self.scrolled_up.set(up);
        }
        if !up && self.new_below.get_untracked() != 0 {
            self.new_below.set(0);
        }
        self.scrolled.update(|n| *n = n.wrapping_add(1));
    }

    /// A message by someone else arrived while the reader is scrolled up.
    pub fn one_more_below(&self) {
        self.new_below.update(|n| *n += 1);
    }

    /// "↓ 3 new messages", or "↓ Jump to the newest" (tracked).
    pub fn jump_label(&self) -> String {
        match self.new_below.get() {
            0 => "↓ Jump to the newest".to_owned(),
            1 => "↓ 1 new message".to_owned(),
            n => format!("↓ {n} new messages"),
        }
    }

    /// Scrolls the list as `wheel` would have, had it been over the list.
    pub fn scroll_by_wheel(&self, wheel: &web_sys::WheelEvent) {
        #[cfg(feature = "hydrate")]
        if let Some(list) = self.list.get_untracked() {
            let step = match wheel.delta_mode() {
                web_sys::WheelEvent::DOM_DELTA_LINE => 16.0,
                web_sys::WheelEvent::DOM_DELTA_PAGE => f64::from(list.client_height()),
                _ => 1.0,
            };
            list.scroll_by_with_x_and_y(0.0, wheel.delta_y() * step);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = wheel;
    }

    /// Back to the newest message: the newest page first if a gap is
    /// below the loaded ones.
    pub fn jump_to_newest(&self) {
        let this = *self;
        super::browser::forget_jump_in_address();
        self.skipped_ahead.set(true);
        if !untrack(|| self.gap_below()) {
            return this.scroll_to_bottom();
        }
        this.loading_newer.set(true);
        spawn_local(async move {
            let page = load_messages(this.room_id, None, None, None).await;
            if this.gone() {
                return;
            }
            if let Ok(page) = page {
                let last = this.last_number.get_untracked();
                let newest = page.messages.iter().map(|m| m.number).max().unwrap_or(last);
                this.timeline.reset(page.messages);
                this.loaded_up_to.set(newest.max(last));
                this.scroll_to_bottom();
            }
            this.loading_newer.set(false);
        });
    }

    /// Where message `number`'s row starts on screen (px from the top of
    /// the viewport), if it is drawn.
    fn row_top(&self, number: i64) -> Option<f64> {
        let list = self.list.get_untracked()?;
        let row = list.query_selector(&format!("article.message[data-number=\"{number}\"]")).ok()??;
        Some(row.get_bounding_client_rect().top())
    }

    /// The newest confirmed message whose top is on screen (what reading
    /// may mark read).
    pub fn last_on_screen(&self) -> Option<i64> {
        use wasm_bindgen::JsCast;
        if self.gone() {
            return None;
        }
        let list = self.list.get_untracked()?;
        let bottom = list.get_bounding_client_rect().bottom();
        let rows = list.query_selector_all("article.message[data-number]").ok()?;
        (0..rows.length()).rev().find_map(|i| {
            let row = rows.item(i)?.dyn_into::<web_sys::Element>().ok()?;
            let number = row.get_attribute("data-number")?.parse::<i64>().ok().filter(|n| *n > 0)?;
            (row.get_bounding_client_rect().top() < bottom - 4.0).then_some(number)
        })
    }

    pub fn on_scroll(&self) {
        // A scroll can be dispatched after the room was left: the list
        // scrolls as it is taken out.
        if self.gone() {
            return;
        }
        // Focus moved onto "Load older messages" (or "newer") scrolls the
        // list to it, and that is no cue to load: the button is there to be
        // pressed, and a load started by focus alone would take the page
        // away from under the keyboard.
        if self.list.get_untracked().is_some_and(|el| el.scroll_top() < 120) && !focus_is_on(".load-older") {
            self.load_older();
        }
        if self.near_bottom() && !focus_is_on(".load-newer") {
            self.load_newer();
        }
        self.note_position();
    }

    pub fn load_older(&self) {
        if self.loading_older.get_untracked() || untrack(|| self.at_start()) {
            return;
        }
        let Some(before) = untrack(|| self.timeline.oldest()) else { return };
        let this = *self;
        this.loading_older.set(true);
        spawn_local(async move {
            let page = load_messages(this.room_id, Some(before), None, None).await;
            // The reader may have left the room meanwhile.
            if this.gone() {
                return;
            }
            if let Ok(page) = page {
                let pressed = Pressed::now(".load-older");
                // Where the message that was at the top is on screen, to keep it there.
                let anchor = this.row_top(before);
                this.timeline.merge(page.messages);
                // The list stays at most MAX_LOADED messages long: the newest,
                // far below, go (loaded again when scrolled back to), so
                // each older page costs the same however far back it is.
                if let Some(newest) = this.timeline.keep_oldest(MAX_LOADED) {
                    this.loaded_up_to.set(newest);
                }
                if let (Some(el), Some(was)) = (this.list.get_untracked(), anchor) {
                    request_animation_frame(move || {
                        if let Some(now) = this.row_top(before) {
                            el.set_scroll_top(el.scroll_top() + (now - was).round() as i32);
                        }
                        pressed.follow(".load-older", before);
                    });
                }
            }
            this.loading_older.set(false);
        });
    }

    pub fn load_newer(&self) {
        let after = self.loaded_up_to.get_untracked();
        if self.loading_newer.get_untracked() || after >= self.last_number.get_untracked() {
            return;
        }
        let this = *self;
        this.loading_newer.set(true);
        spawn_local(async move {
            let page = load_messages(this.room_id, None, Some(after), None).await;
            if this.gone() {
                return;
            }
            if let Ok(page) = page {
                let pressed = Pressed::now(".load-newer");
                // An empty page means the gap is gone (say, deleted history).
                let newest = page.messages.iter().map(|m| m.number).max().unwrap_or(this.last_number.get_untracked());
                let anchor = this.row_top(after);
                this.timeline.merge(page.messages);
                this.loaded_up_to.set(newest.max(after));
                // At most MAX_LOADED, as going back: the oldest, far above, go,
                // and the message that was at the bottom stays where it was.
                let trimmed = this.timeline.keep_newest(MAX_LOADED);
                request_animation_frame(move || {
                    if let (true, Some(el), Some(was), Some(now)) =
                        (trimmed, this.list.get_untracked(), anchor, this.row_top(after))
                    {
                        el.set_scroll_top(el.scroll_top() + (now - was).round() as i32);
                    }
                    pressed.follow(".load-newer", after);
                });
            }
            this.loading_newer.set(false);
            this.note_position();
        });
    }
}

/// Whether "Load older messages" (or "newer") had focus as its page came
/// in: it keeps focus while it loads (it is never `disabled`, which would
/// drop focus to the page), so it was pressed, or Tab stopped there.
#[derive(Clone, Copy, PartialEq)]
enum Pressed {
    No,
    /// With the keyboard (focus shows on it).
    Keyboard,
    /// With a pointer (a click or a tap focuses a button, unmarked).
    Pointer,
}

impl Pressed {
    fn now(button: &str) -> Self {
        if focus_is_on(&format!("{button}:focus-visible")) {
            Self::Keyboard
        } else if focus_is_on(button) {
            Self::Pointer
        } else {
            Self::No
        }
    }

    /// Once the page is drawn: from the keyboard, focus goes on to message
    /// `edge`, the one that was first (last, for newer), which stays where
    /// it was, so the arrows go on into what loaded. From a pointer, the
    /// button keeps focus if it is still there; if it is gone (the start is
    /// reached), focus goes to the message too rather than drop to the
    /// page, but on a touch screen, where a message with focus opens its
    /// toolbar.
    fn follow(self, button: &str, edge: i64) {
        let moved = match self {
            Self::No => false,
            Self::Keyboard => true,
            Self::Pointer => !focus_is_on(button) && !super::browser::touch_first(),
        };
        if moved {
            focus_message_in_place(edge);
        }
    }
}
