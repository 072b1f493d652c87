//! Optimistic sends: a message shows at once (pending), is confirmed by the
//! server's copy with the same `client_id`, or is marked "Not sent" with a
//! Retry. The sends themselves, and their resending when the link comes
//! back, are the room's [`Outbox`], which outlives this window: what I
//! wrote still goes, and still shows here, after a look at another room.
//! One the server refuses for good (`Delivery::Refused`) says why and is
//! not retried: it can be taken back to the composer or discarded.

use hearth::model::{Attachment, Author, ReplyTo, RoomId};
use leptos::prelude::*;

use super::browser::new_client_id;
use super::outbox::{Outbox, unsent};
use super::paging::Paging;
use super::timeline::{Delivery, Entry, Timeline};
use crate::browser::now_stamp;
use crate::chat::use_chat;

#[derive(Clone, Copy)]
pub struct Sender {
    room: RoomId,
    paging: Paging,
    outbox: Outbox,
    /// Me, as my pending messages show me.
    author: StoredValue<Author>,
}

impl Sender {
    /// The window's sender: `timeline` shows the room's unconfirmed sends
    /// (those from before it opened too) while the window is open.
    pub fn new(room: RoomId, author: Author, timeline: Timeline, paging: Paging) -> Self {
        let outbox = use_chat().outbox(room);
        outbox.show(timeline, paging);
        Self { room, paging, outbox, author: StoredValue::new(author) }
    }

    /// Sends `body` (trimmed) with the uploaded `files`, answering
    /// `reply_to`; nothing when both are empty.
    pub fn send(&self, body: &str, reply_to: Option<ReplyTo>, files: Vec<Attachment>) {
        if body.trim().is_empty() && files.is_empty() {
            return;
        }
        let message = unsent(
            self.room,
            self.author.get_value(),
            body.trim().to_owned(),
            new_client_id(),
            now_stamp(),
            reply_to,
            files,
        );
        let entry = Entry { message, state: Delivery::Sending };
        self.outbox.send(entry);
        self.paging.scroll_to_bottom();
    }

    /// Takes the refused message `client_id` out of the list; with
    /// `to_composer`, its text goes back to the composer to be changed.
    pub fn take_back(&self, client_id: &str, to_composer: Option<RwSignal<Option<String>>>) {
        if let (Some(entry), Some(refill)) = (self.outbox.pending(client_id), to_composer) {
            refill.set(entry.message.body.clone());
        }
        self.outbox.discard(client_id);
    }

    /// Sends the failed message `client_id` again.
    pub fn retry(&self, client_id: &str) {
        self.outbox.retry(client_id);
    }
}
