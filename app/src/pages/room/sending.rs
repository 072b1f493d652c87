//! Optimistic sends: a message shows at once (pending), is confirmed by the
//! server's copy with the same `client_id`, or is marked "Not sent" with a
//! Retry. When the link comes back, the failed ones are sent again by
//! themselves, in the order they were written (each is idempotent by its
//! client_id); the first that fails again stops the run. One the server
//! refuses for good (`Delivery::Refused`) says why and is not retried: it
//! can be taken back to the composer or discarded.

use hearth::model::{Attachment, Author, Message, ReplyTo, RoomId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::new_client_id;
use super::paging::Paging;
use super::timeline::{Delivery, Entry, Timeline};
use crate::api::send_message;
use crate::browser::now_stamp;
use crate::chat::{Chat, use_chat};
use crate::live::{LinkStatus, use_live};

#[derive(Clone, Copy)]
pub struct Sender {
    room: RoomId,
    timeline: Timeline,
    paging: Paging,
    chat: Chat,
    /// Me, as my pending messages show me.
    author: StoredValue<Author>,
    resending: StoredValue<bool>,
}

impl Sender {
    pub fn new(room: RoomId, author: Author, timeline: Timeline, paging: Paging) -> Self {
        let sender = Self {
            room,
            timeline,
            paging,
            chat: use_chat(),
            author: StoredValue::new(author),
            resending: StoredValue::new(false),
        };
        let live = use_live();
        Effect::new(move |was: Option<LinkStatus>| {
            let now = live.status.get();
            if now == LinkStatus::Online && was.is_some_and(|was| was != LinkStatus::Online) {
                sender.resend_failed();
            }
            now
        });
        sender
    }

    /// Sends `body` (trimmed) with the uploaded `files`, answering
    /// `reply_to`; nothing when both are empty.
    pub fn send(&self, body: &str, reply_to: Option<ReplyTo>, files: Vec<Attachment>) {
        if body.trim().is_empty() && files.is_empty() {
            return;
        }
        let entry = Entry {
            message: Message {
                id: 0,
                conversation_id: self.room,
                number: 0,
                user_id: Some(self.author.with_value(|a| a.id)),
                user: Some(self.author.get_value()),
                body: Some(body.trim().to_owned()),
                client_id: Some(new_client_id()),
                mentions: Vec::new(),
                application: None,
                created_at: now_stamp(),
                edited_at: None,
                deleted: false,
                html: None,
                reply_to,
                reply_count: 0,
                reactions: Vec::new(),
                preview: None,
                attachments: files,
            },
            state: Delivery::Sending,
        };
        self.timeline.push(entry.clone());
        self.paging.scroll_to_bottom();
        self.deliver(entry);
    }

    /// Takes the refused message `client_id` out of the list; with
    /// `to_composer`, its text goes back to the composer to be changed.
    pub fn take_back(&self, client_id: &str, to_composer: Option<RwSignal<Option<String>>>) {
        if let (Some(entry), Some(refill)) = (self.timeline.pending(client_id), to_composer) {
            refill.set(entry.message.body.clone());
        }
        self.timeline.discard(client_id);
    }

    /// Sends the failed message `client_id` again.
    pub fn retry(&self, client_id: &str) {
        if let Some(mut entry) = self.timeline.pending(client_id) {
            entry.state = Delivery::Sending;
            self.timeline.set_state(client_id, Delivery::Sending);
            self.deliver(entry);
        }
    }

    fn deliver(self, entry: Entry) {
        spawn_local(async move {
            self.deliver_now(entry).await;
        })
    }

    /// Sends one entry; true if the server has it or refused it for good
    /// (either way it is done with). A failed one stays in the list,
    /// marked, until it is sent again; a refused one until it is taken back
    /// or discarded.
    async fn deliver_now(self, entry: Entry) -> bool {
        let client_id = entry.message.client_id.clone().unwrap_or_default();
        let body = entry.message.body.clone().unwrap_or_default();
        let reply_to = entry.message.reply_to.as_ref().map(|q| q.number);
        let files: Vec<i64> = entry.message.attachments.iter().map(|file| file.id).collect();
        let files = (!files.is_empty()).then_some(files);
        let answer = send_message(self.room.0, body, Some(client_id.clone()), reply_to, files).await;
        // The room may have been left while it was on its way: the server
        // has it or not, and no list is left to show which.
        if self.timeline.entries.is_disposed() {
            return false;
        }
        match answer {
            Ok(message) => {
                self.timeline.merge(vec![message]);
                self.chat.refresh_rooms();
                true
            }
            Err(error) => {
                let follow = self.paging.near_bottom();
                let state = Delivery::after_error(error.status, error.to_string());
                let refused = matches!(state, Delivery::Refused(_));
                self.timeline.set_state(&client_id, state);
                if follow {
                    self.paging.scroll_to_bottom();
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
        let queue = self.timeline.failed();
        if queue.is_empty() {
            return;
        }
        self.resending.set_value(true);
        for entry in &queue {
            self.timeline.set_state(entry.message.client_id.as_deref().unwrap_or_default(), Delivery::Sending);
        }
        spawn_local(async move {
            let mut queue = queue.into_iter();
            for entry in queue.by_ref() {
                if !self.deliver_now(entry).await {
                    break;
                }
            }
            if self.timeline.entries.is_disposed() {
                return;
            }
            for entry in queue {
                self.timeline.set_state(entry.message.client_id.as_deref().unwrap_or_default(), Delivery::Failed);
            }
            self.resending.set_value(false);
        });
    }
}
