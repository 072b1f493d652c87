//! A room's sends that the server has not confirmed yet. They are kept
//! under the frame, not the room page (as its uploads are), because a
//! message written offline must still go when I have moved on to another
//! room: each is sent from here, and when the link comes back the failed
//! ones are sent again by themselves, in the order they were written,
//! whether the room is open or not (each is idempotent by its client_id);
//! the first that fails again stops the run. The room's window, while open,
//! shows them under its messages ([`Outbox::show`]).

use hearth::model::RoomId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::paging::Paging;
use super::timeline::{Delivery, Entry, Timeline, discard, set_state};
use crate::api::send_message;
use crate::chat::Chat;
use crate::live::{LinkStatus, use_live};

#[derive(Clone, Copy)]
pub struct Outbox {
    room: RoomId,
    /// The sends not confirmed yet, in the order written: on their way,
    /// failed (sent again when the link returns, or by Retry), or refused
    /// for good (kept until taken back or discarded).
    entries: RwSignal<Vec<Entry>>,
    /// The room's open window: a confirmed send goes into its list at once,
    /// and a failed one keeps it scrolled to the bottom.
    shown: StoredValue<Option<(Timeline, Paging)>>,
    /// A resend run is going: a reconnect meanwhile starts no second one.
    resending: StoredValue<bool>,
    chat: Chat,
}

impl Outbox {
    /// Made once per room, under the frame ([`Chat::outbox`]).
    pub fn new(room: RoomId, chat: Chat) -> Self {
        let outbox = Self {
            room,
            entries: RwSignal::new(Vec::new()),
            shown: StoredValue::new(None),
            resending: StoredValue::new(false),
            chat,
        };
        let live = use_live();
        Effect::new(move |was: Option<LinkStatus>| {
            let now = live.status.get();
            if now == LinkStatus::Online && was.is_some_and(|was| was != LinkStatus::Online) {
                outbox.resend_failed();
            }
            now
        });
        outbox
    }

    /// The room's window is open with `timeline`: until it goes, the list
    /// shows these sends after its messages, as they change.
    pub fn show(&self, timeline: Timeline, paging: Paging) {
        let this = *self;
        this.shown.set_value(Some((timeline, paging)));
        Effect::new(move |_| timeline.show_pending(this.entries.get()));
        on_cleanup(move || {
            // Not if the room's next window has taken its place already.
            this.shown.update_value(|shown| {
                if shown.is_some_and(|(now, _)| now == timeline) {
                    *shown = None;
                }
            })
        });
    }

    /// Lists `entry` (on its way) and sends it.
    pub fn send(&self, entry: Entry) {
        self.entries.update(|e| e.push(entry.clone()));
        self.deliver(entry);
    }

    /// The send `client_id`, if it is still waiting.
    pub fn pending(&self, client_id: &str) -> Option<Entry> {
        self.entries
            .try_with_untracked(|e| e.iter().find(|x| x.message.client_id.as_deref() == Some(client_id)).cloned())
            .flatten()
    }

    /// Takes the send `client_id` out of the list.
    pub fn discard(&self, client_id: &str) {
        self.entries.update(|e| discard(e, client_id));
    }

    /// Sends the failed send `client_id` again.
    pub fn retry(&self, client_id: &str) {
        if let Some(entry) = self.pending(client_id) {
            self.entries.update(|e| set_state(e, client_id, Delivery::Sending));
            self.deliver(entry);
        }
    }

    /// Drops them all, unsent (signed out). Quietly: a window that shows
    /// them is being taken down with the session, and redrawn now it could
    /// read what is already gone.
    pub fn forget(&self) {
        self.entries.update_untracked(Vec::clear);
    }

    fn deliver(self, entry: Entry) {
        spawn_local(async move {
            self.deliver_now(entry).await;
        })
    }

    /// Sends one entry; true if the server has it or refused it for good
    /// (either way it is done with). A failed one stays listed, marked,
    /// until it is sent again; a refused one until it is taken back or
    /// discarded.
    async fn deliver_now(self, entry: Entry) -> bool {
        let client_id = entry.message.client_id.clone().unwrap_or_default();
        let body = entry.message.body.clone().unwrap_or_default();
        let reply_to = entry.message.reply_to.as_ref().map(|q| q.number);
        let files: Vec<i64> = entry.message.attachments.iter().map(|file| file.id).collect();
        let files = (!files.is_empty()).then_some(files);
        let answer = send_message(self.room.0, body, Some(client_id.clone()), reply_to, files).await;
        // Signed out while it was on its way: the frame, and this list with
        // it, are gone.
        if self.entries.is_disposed() {
            return false;
        }
        let shown = self.shown.get_value().filter(|(timeline, _)| !timeline.entries.is_disposed());
        match answer {
            Ok(message) => {
                self.discard(&client_id);
                if let Some((timeline, _)) = shown {
                    timeline.merge(vec![message]);
                }
                self.chat.refresh_rooms();
                true
            }
            Err(error) => {
                let follow = shown.filter(|(_, paging)| paging.near_bottom());
                let state = Delivery::after_error(error.status, error.to_string());
                let refused = matches!(state, Delivery::Refused(_));
                self.entries.update(|e| set_state(e, &client_id, state));
                if let Some((_, paging)) = follow {
                    paging.scroll_to_bottom();
                }
                // A refusal is this message's alone: later ones may still go.
                refused
            }
        }
    }

    fn resend_failed(self) {
        if self.resending.get_value() {
            return;
        }
        let queue: Vec<Entry> =
            self.entries.with_untracked(|e| e.iter().filter(|x| x.state == Delivery::Failed).cloned().collect());
        if queue.is_empty() {
            return;
        }
        self.resending.set_value(true);
        self.mark(&queue, Delivery::Sending);
        spawn_local(async move {
            let mut queue = queue.into_iter();
            for entry in queue.by_ref() {
                // Not one discarded meanwhile (or forgotten at a sign-out).
                let listed = entry.message.client_id.as_deref().is_some_and(|cid| self.pending(cid).is_some());
                if listed && !self.deliver_now(entry).await {
                    break;
                }
            }
            if self.entries.is_disposed() {
                return;
            }
            self.mark(&queue.collect::<Vec<_>>(), Delivery::Failed);
            self.resending.set_value(false);
        });
    }

    fn mark(&self, queue: &[Entry], state: Delivery) {
        self.entries.update(|e| {
            for entry in queue {
                set_state(e, entry.message.client_id.as_deref().unwrap_or_default(), state.clone());
            }
        });
    }
}
