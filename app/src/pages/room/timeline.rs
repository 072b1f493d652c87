//! The room's messages as a list of [`Entry`]s, and the pure functions that
//! change it: merging a page, applying a live event, marking a delete, the
//! quote and reply-count bookkeeping. No Leptos here (but the [`Timeline`]
//! handle at the end, which wraps the list in a signal): everything above it
//! is plain Rust with unit tests that run on the host.

use hearth::model::{Message, Reaction, ReplyTo, UserId};
use hearth::protocol::ServerEvent;
use leptos::prelude::*;

/// One line in the window: a confirmed message, or one still on its way.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub message: Message,
    pub state: Delivery,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Confirmed,
    Sending,
    /// Not sent, for now (no answer, a server error): it is sent again by
    /// Retry, and by itself when the link comes back.
    Failed,
    /// Not sent yet: faster than the server takes my messages (429), or
    /// behind one that was. Sent again by itself a moment later.
    Throttled,
    /// Refused by the server for good, with its reason (an archived room,
    /// a room I am no longer in): sending it again cannot work, so it is
    /// not retried; it can be taken back to the composer or discarded.
    Refused(String),
}

impl Delivery {
    /// How the answer to a send that failed with `status` leaves it: held
    /// back for too many requests, a refusal for any other 4xx but a
    /// timeout, else a failure to try again (no answer at all is one too).
    pub fn after_error(status: Option<u16>, reason: String) -> Self {
        match status {
            Some(429) => Self::Throttled,
            Some(408) => Self::Failed,
            Some(400..=499) => Self::Refused(reason),
            _ => Self::Failed,
        }
    }
}

impl Entry {
    pub fn confirmed(message: Message) -> Self {
        Self { message, state: Delivery::Confirmed }
    }

    pub fn is_confirmed(&self) -> bool {
        self.state == Delivery::Confirmed
    }

    /// Changes whenever what the row shows does, so the row is redrawn.
    pub fn key(&self) -> String {
        let m = &self.message;
        let reactions: Vec<String> = m
            .reactions
            .iter()
            .map(|r| format!("{}{}", r.emoji, r.users.iter().map(|u| format!(",{}", u.id)).collect::<String>()))
            .collect();
        let state = match self.state {
            Delivery::Confirmed => 'c',
            Delivery::Sending => 's',
            Delivery::Failed => 'f',
            Delivery::Throttled => 't',
            Delivery::Refused(_) => 'r',
        };
        // No `Debug` here: the WASM is built without its formatting code.
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            m.number,
            m.client_id.as_deref().unwrap_or(""),
            m.edited_at.as_deref().unwrap_or(""),
            m.deleted,
            m.id,
            state,
            m.reply_count,
            m.reply_to.as_ref().map_or("-".to_owned(), |q| format!(
                "{}{}",
                u8::from(q.edited),
                q.snippet.as_deref().unwrap_or("")
            )),
            reactions.join(";"),
            // A link preview arriving changes the row.
            m.preview.as_ref().map_or("", |p| p.url.as_str()),
            // So does a pin, put on or taken off.
            m.pinned.as_ref().map_or("", |p| p.at.as_str()),
        )
    }
}

/// Adds confirmed messages, replacing pending copies with the same client_id
/// and never holding one number twice; keeps confirmed ones in number order,
/// the pending ones after them in the order they were written.
pub fn merge(entries: &mut Vec<Entry>, incoming: Vec<Message>) {
    for message in incoming {
        if let Some(cid) = &message.client_id {
            entries.retain(|e| !(e.state != Delivery::Confirmed && e.message.client_id.as_ref() == Some(cid)));
        }
        match entries.iter_mut().find(|e| e.is_confirmed() && e.message.number == message.number) {
            Some(existing) => existing.message = message,
            None => entries.push(Entry::confirmed(message)),
        }
    }
    entries.sort_by_key(|e| (!e.is_confirmed(), e.message.number));
}

/// [`Timeline::keep_oldest`] on `entries` (confirmed ones are in number order).
pub fn keep_oldest(entries: &mut Vec<Entry>, max: usize) -> Option<i64> {
    let cutoff = entries.iter().filter(|x| x.is_confirmed()).nth(max.checked_sub(1)?)?.message.number;
    let before = entries.len();
    entries.retain(|x| !x.is_confirmed() || x.message.number <= cutoff);
    (entries.len() < before).then_some(cutoff)
}

/// [`Timeline::keep_newest`] on `entries`.
pub fn keep_newest(entries: &mut Vec<Entry>, max: usize) -> bool {
    let confirmed = entries.iter().filter(|x| x.is_confirmed()).count();
    let Some(extra) = confirmed.checked_sub(max).filter(|n| *n > 0) else { return false };
    let Some(cutoff) = entries.iter().filter(|x| x.is_confirmed()).nth(extra).map(|x| x.message.number) else {
        return false;
    };
    entries.retain(|x| !x.is_confirmed() || x.message.number >= cutoff);
    true
}

/// Message `number` was deleted: no text, no HTML, no reactions, files,
/// link preview or mentions, as a fresh page load shows it.
pub fn mark_deleted(entries: &mut [Entry], number: i64) {
    for x in confirmed_mut(entries, number) {
        x.message.deleted = true;
        x.message.body = None;
        x.message.html = None;
        x.message.reactions.clear();
        x.message.attachments.clear();
        x.message.preview = None;
        x.message.mentions.clear();
        x.message.pinned = None;
    }
}

/// Message `number`'s reactions are `reactions` now.
pub fn set_reactions(entries: &mut [Entry], number: i64, reactions: &[Reaction]) {
    for x in confirmed_mut(entries, number) {
        x.message.reactions = reactions.to_vec();
    }
}

/// The original `quote` names has `quote.reply_count` replies now.
pub fn set_reply_count(entries: &mut [Entry], quote: &ReplyTo) {
    for x in confirmed_mut(entries, quote.number) {
        x.message.reply_count = quote.reply_count;
    }
}

/// Message `number` now shows `text` (`None`: deleted), edited since it was
/// sent or not: the quotes of it in replies follow.
pub fn quoted_changed(entries: &mut [Entry], number: i64, text: Option<&str>, edited: bool) {
    for x in entries.iter_mut() {
        if let Some(quote) = x.message.reply_to.as_mut().filter(|q| q.number == number) {
            quote.snippet = text.map(ReplyTo::snippet_of);
            quote.edited = edited && text.is_some();
        }
    }
}

/// Sets the delivery state of the unconfirmed entry `client_id`.
pub fn set_state(entries: &mut [Entry], client_id: &str, state: Delivery) {
    for x in entries.iter_mut().filter(|x| !x.is_confirmed() && x.message.client_id.as_deref() == Some(client_id)) {
        x.state = state.clone();
    }
}

/// Takes the unconfirmed entry `client_id` out of the list.
pub fn discard(entries: &mut Vec<Entry>, client_id: &str) {
    entries.retain(|x| x.is_confirmed() || x.message.client_id.as_deref() != Some(client_id));
}

/// Shows `pending` (the room's unconfirmed sends, in the order written)
/// after the confirmed messages, in place of the unconfirmed ones shown;
/// one whose confirmed copy is listed already is left out (the server's
/// copy came live before the answer to the send).
pub fn show_pending(entries: &mut Vec<Entry>, pending: Vec<Entry>) {
    entries.retain(Entry::is_confirmed);
    let shown = |cid: &str| entries.iter().any(|x| x.message.client_id.as_deref() == Some(cid));
    let pending: Vec<Entry> =
        pending.into_iter().filter(|p| !p.message.client_id.as_deref().is_some_and(shown)).collect();
    entries.extend(pending);
}

/// Applies a live event about the room's messages (new, edited, deleted,
/// reacted); false for any other event, which leaves the list alone.
pub fn apply_event(entries: &mut Vec<Entry>, event: &ServerEvent, past_a_gap: bool) -> bool {
    match event {
        ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
            let new = matches!(event, ServerEvent::Message { .. });
            if new && !past_a_gap {
                merge(entries, vec![message.clone()]);
            } else {
                // An edit changes a message that is listed, and lists none:
                // one not loaded (above the oldest, or in a gap) is shown as
                // it is now when its page loads; put in the list, it would
                // stand beside messages it does not follow, and the pages
                // between would never load. So is a new one past a gap.
                for listed in confirmed_mut(entries, message.number) {
                    listed.message = message.clone();
                }
            }
            let edited = message.edited_at.is_some() && !message.deleted;
            quoted_changed(entries, message.number, crate::browser::message_text(message).as_deref(), edited);
            if let Some(quote) = &message.reply_to {
                set_reply_count(entries, quote);
            }
            true
        }
        ServerEvent::MessageDeleted { number, reply_to, .. } => {
            mark_deleted(entries, *number);
            quoted_changed(entries, *number, None, false);
            if let Some(quote) = reply_to {
                set_reply_count(entries, quote);
            }
            true
        }
        ServerEvent::Reacted { number, reactions, .. } => {
            set_reactions(entries, *number, reactions);
            true
        }
        _ => false,
    }
}

/// The quote a reply to `message` starts with.
pub fn quote_of(message: &Message) -> ReplyTo {
    ReplyTo {
        number: message.number,
        user: message.user.clone(),
        snippet: crate::browser::message_text(message).as_deref().map(ReplyTo::snippet_of),
        reply_count: message.reply_count + 1,
        edited: message.edited_at.is_some() && !message.deleted,
    }
}

/// "Seen": the newest of `me`'s confirmed messages at or before the other
/// person's read `marker`.
pub fn seen_at(entries: &[Entry], me: UserId, marker: i64) -> Option<i64> {
    entries
        .iter()
        .filter(|x| x.is_confirmed() && x.message.user_id == Some(me) && x.message.number <= marker)
        .map(|x| x.message.number)
        .max()
}

/// The newest of `me`'s messages that can still be edited (confirmed, not
/// deleted), for Up-arrow in an empty composer.
pub fn last_of_mine(entries: &[Entry], me: UserId) -> Option<&Message> {
    entries.iter().rev().filter(|x| x.is_confirmed()).map(|x| &x.message).find(|m| m.user_id == Some(me) && !m.deleted)
}

/// Whether message `number` is in `entries`, confirmed.
pub fn confirmed(entries: &[Entry], number: i64) -> bool {
    entries.iter().any(|x| x.is_confirmed() && x.message.number == number)
}

fn confirmed_mut(entries: &mut [Entry], number: i64) -> impl Iterator<Item = &mut Entry> {
    entries.iter_mut().filter(move |x| x.is_confirmed() && x.message.number == number)
}

/// The room's list in a signal, with the changes the window makes to it.
/// Rows get this handle, never the raw list.
#[derive(Clone, Copy, PartialEq)]
pub struct Timeline {
    /// The confirmed messages, then the room's unconfirmed sends as its
    /// [`super::outbox::Outbox`] has them (it owns those: they outlive the
    /// window).
    pub entries: RwSignal<Vec<Entry>>,
}

impl Timeline {
    pub fn new(messages: Vec<Message>) -> Self {
        Self { entries: RwSignal::new(messages.into_iter().map(Entry::confirmed).collect()) }
    }

    /// Replaces the confirmed messages (a resync); the unconfirmed sends stay.
    pub fn reset(&self, messages: Vec<Message>) {
        self.entries.update(|e| {
            let pending = e.drain(..).filter(|x| !x.is_confirmed()).collect();
            *e = messages.into_iter().map(Entry::confirmed).collect();
            show_pending(e, pending);
        });
    }

    /// Shows `pending`, the room's unconfirmed sends, after the messages.
    pub fn show_pending(&self, pending: Vec<Entry>) {
        self.entries.update(|e| show_pending(e, pending));
    }

    pub fn merge(&self, messages: Vec<Message>) {
        self.entries.update(|e| merge(e, messages));
    }

    /// Applies a live change; `past_a_gap`: newer messages than the loaded
    /// ones are missing, so a new one is not listed (see [`apply_event`]).
    pub fn apply(&self, event: &ServerEvent, past_a_gap: bool) {
        // Only events about messages change the list (and notify its readers).
        if matches!(
            event,
            ServerEvent::Message { .. }
                | ServerEvent::MessageEdited { .. }
                | ServerEvent::MessageDeleted { .. }
                | ServerEvent::Reacted { .. }
        ) {
            self.entries.update(|e| {
                apply_event(e, event, past_a_gap);
            });
        }
    }

    /// Keeps the `max` oldest confirmed messages (and the unconfirmed
    /// sends); the newest of those kept when any went.
    pub fn keep_oldest(&self, max: usize) -> Option<i64> {
        let mut kept = None;
        self.entries.update(|e| kept = keep_oldest(e, max));
        kept
    }

    /// Keeps the `max` newest confirmed messages (and the unconfirmed
    /// sends); whether any went.
    pub fn keep_newest(&self, max: usize) -> bool {
        let mut dropped = false;
        self.entries.update(|e| dropped = keep_newest(e, max));
        dropped
    }

    pub fn mark_deleted(&self, number: i64) {
        self.entries.update(|e| mark_deleted(e, number));
    }

    pub fn set_reactions(&self, number: i64, reactions: &[Reaction]) {
        self.entries.update(|e| set_reactions(e, number, reactions));
    }

    /// Whether message `number` is in the list, confirmed (untracked).
    pub fn has(&self, number: i64) -> bool {
        self.entries.with_untracked(|e| confirmed(e, number))
    }

    /// Whether message `number` is shown deleted (tracked).
    pub fn is_deleted(&self, number: i64) -> bool {
        self.entries.with(|e| e.iter().any(|x| x.is_confirmed() && x.message.number == number && x.message.deleted))
    }

    /// The oldest confirmed message's number (tracked).
    pub fn oldest(&self) -> Option<i64> {
        self.entries.with(|e| e.iter().find(|x| x.is_confirmed()).map(|x| x.message.number))
    }

    /// The newest confirmed message's number (tracked).
    pub fn newest(&self) -> Option<i64> {
        self.entries.with(|e| e.iter().filter(|x| x.is_confirmed()).map(|x| x.message.number).max())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hearth::model::{Author, RoomId};

    pub fn message(number: i64, user: i64, body: &str, at: &str) -> Message {
        Message {
            id: number * 10,
            conversation_id: RoomId(1),
            number,
            user_id: Some(UserId(user)),
            user: Some(Author::new(UserId(user), format!("user{user}"), None)),
            body: Some(body.to_owned()),
            client_id: None,
            mentions: Vec::new(),
            application: None,
            created_at: at.to_owned(),
            edited_at: None,
            deleted: false,
            html: Some(format!("<p>{body}</p>")),
            reply_to: None,
            reply_count: 0,
            reactions: Vec::new(),
            pinned: None,
            preview: None,
            attachments: Vec::new(),
        }
    }

    fn at(n: i64) -> String {
        format!("2026-11-23T10:{n:02}:00.000000Z")
    }

    fn numbers(entries: &[Entry]) -> Vec<(i64, Delivery)> {
        entries.iter().map(|e| (e.message.number, e.state.clone())).collect()
    }

    fn pending(client_id: &str, body: &str) -> Entry {
        let mut m = message(0, 1, body, &at(59));
        m.client_id = Some(client_id.to_owned());
        m.html = None;
        Entry { message: m, state: Delivery::Sending }
    }

    #[test]
    fn a_number_is_known_once_confirmed_and_a_pending_copy_does_not_count() {
        let entries = vec![Entry::confirmed(message(4, 2, "seen", &at(4))), pending("x", "mine")];
        assert!(confirmed(&entries, 4));
        assert!(!confirmed(&entries, 5));
        assert!(!confirmed(&entries, 0), "a pending send has no number yet");
    }

    #[test]
    fn an_older_page_merges_in_number_order_before_what_was_there() {
        let mut entries: Vec<Entry> = vec![Entry::confirmed(message(3, 1, "c", &at(3)))];
        merge(&mut entries, vec![message(1, 1, "a", &at(1)), message(2, 2, "b", &at(2))]);
        assert_eq!(numbers(&entries), [(1, Delivery::Confirmed), (2, Delivery::Confirmed), (3, Delivery::Confirmed)]);
    }

    #[test]
    fn a_page_that_overlaps_never_holds_one_number_twice_and_the_newer_copy_wins() {
        let mut entries =
            vec![Entry::confirmed(message(1, 1, "a", &at(1))), Entry::confirmed(message(2, 1, "b", &at(2)))];
        merge(&mut entries, vec![message(2, 1, "b edited", &at(2)), message(3, 1, "c", &at(3))]);
        assert_eq!(numbers(&entries).len(), 3);
        assert_eq!(entries[1].message.body.as_deref(), Some("b edited"));
    }

    #[test]
    fn a_confirmed_send_replaces_its_pending_copy_and_other_pending_ones_stay_last() {
        let mut entries =
            vec![Entry::confirmed(message(1, 2, "a", &at(1))), pending("x", "mine"), pending("y", "next")];
        let mut confirmed = message(2, 1, "mine", &at(2));
        confirmed.client_id = Some("x".into());
        merge(&mut entries, vec![confirmed]);
        assert_eq!(numbers(&entries), [(1, Delivery::Confirmed), (2, Delivery::Confirmed), (0, Delivery::Sending)]);
        assert_eq!(entries[2].message.client_id.as_deref(), Some("y"));
    }

    #[test]
    fn a_delete_event_empties_the_message_and_the_quotes_of_it() {
        let mut entries = vec![Entry::confirmed(message(1, 1, "original", &at(1)))];
        let mut reply = message(2, 2, "answer", &at(2));
        reply.reply_to = Some(quote_of(&entries[0].message));
        merge(&mut entries, vec![reply]);
        entries[0].message.reactions =
            vec![Reaction { emoji: "👍".into(), count: 1, users: vec![Author::new(UserId(2), "b".into(), None)] }];
        let event =
            ServerEvent::MessageDeleted { room_id: RoomId(1), seq: 9, number: 1, message_id: 10, reply_to: None };
        assert!(apply_event(&mut entries, &event, false));
        let gone = &entries[0].message;
        assert!(gone.deleted && gone.body.is_none() && gone.html.is_none() && gone.reactions.is_empty());
        assert_eq!(entries[1].message.reply_to.as_ref().and_then(|q| q.snippet.clone()), None);
    }

    #[test]
    fn a_new_reply_event_adds_the_reply_and_moves_the_original_reply_count() {
        let mut entries = vec![Entry::confirmed(message(1, 1, "original", &at(1)))];
        let mut reply = message(2, 2, "answer", &at(2));
        reply.reply_to = Some(quote_of(&entries[0].message));
        let event = ServerEvent::Message { room_id: RoomId(1), seq: 2, message: reply };
        assert!(apply_event(&mut entries, &event, false));
        assert_eq!(numbers(&entries).len(), 2);
        assert_eq!(entries[0].message.reply_count, 1);
    }

    #[test]
    fn an_edit_event_changes_the_text_and_the_quotes_of_it() {
        let mut entries = vec![Entry::confirmed(message(1, 1, "original", &at(1)))];
        let mut reply = message(2, 2, "answer", &at(2));
        reply.reply_to = Some(quote_of(&entries[0].message));
        merge(&mut entries, vec![reply]);
        let mut edited = message(1, 1, "changed   words", &at(1));
        edited.edited_at = Some(at(5));
        assert!(apply_event(
            &mut entries,
            &ServerEvent::MessageEdited { room_id: RoomId(1), seq: 3, message: edited },
            false
        ));
        assert_eq!(entries[0].message.body.as_deref(), Some("changed   words"));
        assert_eq!(entries[1].message.reply_to.as_ref().and_then(|q| q.snippet.as_deref()), Some("changed words"));
        assert!(entries[1].message.reply_to.as_ref().is_some_and(|q| q.edited), "the quote says (edited)");
        // A pin comes as the message again, unedited: the quote is as it was.
        let mut pinned = message(3, 1, "fresh", &at(3));
        pinned.pinned = Some(hearth::model::Pin { by: None, at: at(6) });
        let mut fresh_reply = message(4, 2, "answer", &at(4));
        fresh_reply.reply_to = Some(quote_of(&message(3, 1, "fresh", &at(3))));
        merge(&mut entries, vec![message(3, 1, "fresh", &at(3)), fresh_reply]);
        assert!(apply_event(
            &mut entries,
            &ServerEvent::MessageEdited { room_id: RoomId(1), seq: 4, message: pinned },
            false
        ));
        assert!(
            entries[3].message.reply_to.as_ref().is_some_and(|q| !q.edited && q.snippet.as_deref() == Some("fresh"))
        );
    }

    #[test]
    fn the_list_keeps_its_oldest_messages_and_the_sends_on_their_way() {
        let mut entries: Vec<Entry> = (1..=5).map(|n| Entry::confirmed(message(n, 1, "m", &at(n)))).collect();
        entries.push(Entry { message: message(0, 1, "pending", &at(9)), state: Delivery::Sending });
        assert_eq!(keep_oldest(&mut entries, 10), None, "short enough");
        assert_eq!(keep_oldest(&mut entries, 3), Some(3));
        let listed: Vec<i64> = entries.iter().map(|e| e.message.number).collect();
        assert_eq!(listed, [1, 2, 3, 0]);
        assert_eq!(keep_oldest(&mut entries, 3), None, "nothing more to drop");
        assert!(keep_newest(&mut entries, 2));
        let listed: Vec<i64> = entries.iter().map(|e| e.message.number).collect();
        assert_eq!(listed, [2, 3, 0]);
        assert!(!keep_newest(&mut entries, 2));
    }

    #[test]
    fn an_edit_of_a_message_not_loaded_or_a_new_one_past_a_gap_lists_nothing() {
        // 71..72 loaded; message 5, far above, is edited; and one arrives
        // past a gap below.
        let mut entries =
            vec![Entry::confirmed(message(71, 1, "a", &at(71))), Entry::confirmed(message(72, 1, "b", &at(72)))];
        let edited = message(5, 1, "changed", &at(5));
        assert!(apply_event(
            &mut entries,
            &ServerEvent::MessageEdited { room_id: RoomId(1), seq: 80, message: edited },
            false
        ));
        let listed = |entries: &[Entry]| entries.iter().map(|e| e.message.number).collect::<Vec<_>>();
        assert_eq!(listed(&entries), [71, 72], "the oldest loaded is still 71: its page above loads 70 down");
        let mut reply = message(120, 2, "late", &at(120));
        reply.reply_to = Some(quote_of(&entries[1].message));
        let event = ServerEvent::Message { room_id: RoomId(1), seq: 81, message: reply };
        assert!(apply_event(&mut entries, &event, true));
        assert_eq!(listed(&entries), [71, 72], "not beside 72, which it does not follow");
        assert_eq!(entries[1].message.reply_count, 1, "its original still counts it");
    }

    #[test]
    fn a_reaction_event_replaces_the_reactions_and_other_events_change_nothing() {
        let mut entries = vec![Entry::confirmed(message(1, 1, "a", &at(1)))];
        let reactions =
            vec![Reaction { emoji: "🎉".into(), count: 1, users: vec![Author::new(UserId(2), "b".into(), None)] }];
        let event = ServerEvent::Reacted { room_id: RoomId(1), seq: 4, number: 1, message_id: 10, reactions };
        assert!(apply_event(&mut entries, &event, false));
        assert_eq!(entries[0].message.reactions[0].emoji, "🎉");
        let before = entries.clone();
        assert!(!apply_event(&mut entries, &ServerEvent::Presence { user_id: UserId(2), online: true }, false));
        assert_eq!(entries, before);
    }

    #[test]
    fn a_failed_send_is_marked_and_discarded_by_its_client_id_only() {
        let mut entries = vec![pending("x", "one"), pending("y", "two")];
        set_state(&mut entries, "y", Delivery::Failed);
        assert_eq!(entries[0].state, Delivery::Sending);
        assert_eq!(entries[1].state, Delivery::Failed);
        discard(&mut entries, "x");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].message.client_id.as_deref(), Some("y"));
    }

    #[test]
    fn pending_sends_show_after_the_messages_unless_their_confirmed_copy_is_listed() {
        let mut confirmed = message(2, 1, "mine", &at(2));
        confirmed.client_id = Some("x".into());
        let mut entries = vec![Entry::confirmed(message(1, 2, "a", &at(1))), pending("old", "gone")];
        let mut failed = pending("y", "next");
        failed.state = Delivery::Failed;
        show_pending(&mut entries, vec![pending("x", "mine"), failed.clone()]);
        assert_eq!(entries.len(), 3, "the old pending row is replaced");
        assert_eq!(entries[1].message.client_id.as_deref(), Some("x"));
        assert_eq!(entries[2], failed);
        merge(&mut entries, vec![confirmed]);
        show_pending(&mut entries, vec![pending("x", "mine"), failed]);
        assert_eq!(numbers(&entries), [(1, Delivery::Confirmed), (2, Delivery::Confirmed), (0, Delivery::Failed)]);
    }

    #[test]
    fn a_deleted_message_keeps_no_files_preview_mentions_or_pin() {
        let mut shown = message(1, 1, "see https://example.com @bob", &at(1));
        shown.attachments = vec![
            serde_json::from_value(serde_json::json!({
                "id": 7, "name": "a.png", "content_type": "image/png", "size": 3,
                "url": "/attachments/7/a.png", "thumbnail_url": "/attachments/thumbnails/7"
            }))
            .expect("an attachment"),
        ];
        shown.preview = Some(hearth::model::LinkPreview {
            url: "https://example.com".into(),
            title: "Example".into(),
            description: None,
            site_name: None,
        });
        shown.mentions = vec![UserId(2)];
        shown.pinned = Some(hearth::model::Pin { by: None, at: at(2) });
        let mut entries = vec![Entry::confirmed(shown)];
        let pinned_key = entries[0].key();

        mark_deleted(&mut entries, 1);

        let gone = &entries[0].message;
        assert!(gone.deleted && gone.body.is_none() && gone.html.is_none());
        assert!(gone.attachments.is_empty(), "{:?}", gone.attachments);
        assert_eq!(gone.preview, None);
        assert!(gone.mentions.is_empty());
        assert_eq!(gone.pinned, None);
        assert_ne!(entries[0].key(), pinned_key, "the row is drawn again");
    }

    #[test]
    fn a_pin_put_on_or_taken_off_draws_the_row_again() {
        let mut entry = Entry::confirmed(message(1, 1, "the plan", &at(1)));
        let plain = entry.key();
        entry.message.pinned = Some(hearth::model::Pin { by: None, at: at(2) });
        assert_ne!(entry.key(), plain);
        entry.message.pinned = None;
        assert_eq!(entry.key(), plain);
    }

    #[test]
    fn the_last_of_my_messages_skips_others_deleted_and_pending_ones() {
        let mut entries: Vec<Entry> =
            [(1, 1), (2, 1), (3, 2)].into_iter().map(|(n, u)| Entry::confirmed(message(n, u, "m", &at(n)))).collect();
        entries.push(pending("x", "on its way"));
        assert_eq!(last_of_mine(&entries, UserId(1)).map(|m| m.number), Some(2));
        mark_deleted(&mut entries, 2);
        assert_eq!(last_of_mine(&entries, UserId(1)).map(|m| m.number), Some(1));
        assert_eq!(last_of_mine(&entries, UserId(3)).map(|m| m.number), None);
    }

    #[test]
    fn seen_is_under_my_newest_message_the_other_has_read() {
        let entries: Vec<Entry> = [(1, 1), (2, 2), (3, 1), (4, 1)]
            .into_iter()
            .map(|(n, u)| Entry::confirmed(message(n, u, "m", &at(n))))
            .collect();
        assert_eq!(seen_at(&entries, UserId(1), 3), Some(3));
        assert_eq!(seen_at(&entries, UserId(1), 2), Some(1));
        assert_eq!(seen_at(&entries, UserId(1), 0), None);
    }

    #[test]
    fn only_a_4xx_that_is_not_a_timeout_or_a_rate_limit_refuses_a_send_for_good() {
        let refused =
            |status| matches!(Delivery::after_error(status, "why".into()), Delivery::Refused(why) if why == "why");
        for status in [400, 403, 404, 409, 413, 422] {
            assert!(refused(Some(status)), "{status}");
        }
        for status in [None, Some(408), Some(500), Some(502), Some(503)] {
            assert_eq!(Delivery::after_error(status, "why".into()), Delivery::Failed, "{status:?}");
        }
        assert_eq!(Delivery::after_error(Some(429), "why".into()), Delivery::Throttled, "sent again by itself");
    }
}
