//! A room's sends that the server has not confirmed yet. They are kept
//! under the frame, not the room page (as its uploads are), because a
//! message written offline must still go when I have moved on to another
//! room: each is sent from here, one at a time in the order written (a
//! message never overtakes an earlier one: a new one sends the failed ones
//! before it first), and when the link comes back the failed ones are sent
//! again by themselves, in order, whether the room is open or not (each is
//! idempotent by its client_id); the first that fails again stops the run,
//! and those after it wait with it. The room's window, while open,
//! shows them under its messages ([`Outbox::show`]).
//!
//! They are kept in localStorage too, per account and room as drafts are
//! (the first [`KEPT_MAX`], in a small form: [`to_stored`],
//! [`from_stored`]), so that a reload before the link returns loses none:
//! the frame brings back the signed-in user's after a reload
//! ([`Outbox::restore`]), and they are sent again as the failed ones are.
//! One the server saved already (the answer was lost with the page) is
//! not saved twice: the server answers a repeated client_id with the
//! message it has. Each is forgotten once confirmed or discarded, and all
//! of them at sign-out.

use std::collections::HashSet;

use hearth::model::{Attachment, Author, Message, ReplyTo, RoomId, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use super::browser::{load_kept_sends, save_kept_sends};
use super::paging::Paging;
use super::timeline::{Delivery, Entry, Timeline, discard, set_state};
use crate::api::send_message;
use crate::chat::Chat;
use crate::live::{LinkStatus, use_live};

/// The most unconfirmed sends of one room kept for a reload: the first
/// ones written, which go first. More than this many are sent all the same
/// while the page is open.
pub const KEPT_MAX: usize = 20;

/// A client_id longer than this is not one of ours (they are two hex
/// numbers and a dash).
const CLIENT_ID_MAX: usize = 64;

/// An unconfirmed send as a pending row shows it, by `author`, in `room`.
pub fn unsent(
    room: RoomId,
    author: Author,
    body: String,
    client_id: String,
    created_at: String,
    reply_to: Option<ReplyTo>,
    attachments: Vec<Attachment>,
) -> Message {
    Message {
        id: 0,
        conversation_id: room,
        number: 0,
        user_id: Some(author.id),
        user: Some(author),
        body: Some(body),
        client_id: Some(client_id),
        mentions: Vec::new(),
        application: None,
        created_at,
        edited_at: None,
        deleted: false,
        html: None,
        reply_to,
        reply_count: 0,
        reactions: Vec::new(),
        pinned: None,
        preview: None,
        attachments,
    }
}

/// One unconfirmed send as localStorage keeps it: what its row shows and
/// sending it again needs, no more (the room and the author are the key's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Kept {
    client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    body: String,
    #[serde(default)]
    created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyTo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
    /// Refused for good, and why: shown as it was, never sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
}

impl Kept {
    /// A send of ours with something in it.
    fn usable(&self) -> bool {
        !self.client_id.is_empty()
            && self.client_id.len() <= CLIENT_ID_MAX
            && (!self.body.trim().is_empty() || !self.attachments.is_empty())
    }
}

/// What localStorage keeps for the room after a change in this tab: the
/// unconfirmed sends among `entries`, and those of `stored` (as kept
/// before) that are not this tab's (`mine`: every send it has listed):
/// another tab of the same account keeps its own under the same key, and
/// writing only ours would drop them. In the order written, the first
/// [`KEPT_MAX`]; `None` when there are none (the key is removed). Two tabs
/// writing at once can keep a send that one of them has just seen
/// confirmed; sent again after a reload, the server answers it with the
/// message it has, so keeping too much never makes a second copy, where
/// keeping too little would lose one.
pub fn to_stored(entries: &[Entry], stored: Option<&str>, mine: &HashSet<String>) -> Option<String> {
    let ours = entries.iter().filter(|entry| !entry.is_confirmed()).filter_map(|entry| {
        let m = &entry.message;
        let kept = Kept {
            client_id: m.client_id.clone()?,
            body: m.body.clone().unwrap_or_default(),
            created_at: m.created_at.clone(),
            reply_to: m.reply_to.clone(),
            attachments: m.attachments.clone(),
            refused: match &entry.state {
                Delivery::Refused(why) => Some(why.clone()),
                _ => None,
            },
        };
        kept.usable().then_some(kept)
    });
    let mut kept: Vec<Kept> = ours.collect();
    let listed: HashSet<String> = kept.iter().map(|k| k.client_id.clone()).collect();
    let others = stored.map(read_kept).unwrap_or_default();
    kept.extend(others.into_iter().filter(|k| !mine.contains(&k.client_id) && !listed.contains(&k.client_id)));
    // Ours are in the order written already; the others go where their time puts them.
    kept.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    kept.truncate(KEPT_MAX);
    if kept.is_empty() { None } else { serde_json::to_string(&kept).ok() }
}

/// The usable sends `stored` holds, each once, the first [`KEPT_MAX`].
fn read_kept(stored: &str) -> Vec<Kept> {
    // From bytes, as the server's answers are read (`crate::codec`): one
    // copy of the decoding of a quote and a file.
    let Ok(items) = serde_json::from_slice::<Vec<Kept>>(stored.as_bytes()) else { return Vec::new() };
    let mut seen = HashSet::new();
    items.into_iter().filter(|kept| kept.usable() && seen.insert(kept.client_id.clone())).take(KEPT_MAX).collect()
}

/// The sends `stored` (by [`to_stored`]) holds, as `me`'s in `room`: each
/// to be sent again (failed, until it is), or refused as it was. A list
/// that cannot be read is no list (the storage is anyone's to change; read
/// item by item, through `serde_json::Value`, it cost 6.7 KB more of
/// gzipped WASM), and a send with nothing in it, a second copy of one, and
/// any past [`KEPT_MAX`] are left out.
pub fn from_stored(stored: &str, room: RoomId, me: &Author) -> Vec<Entry> {
    read_kept(stored)
        .into_iter()
        .map(|kept| Entry {
            state: kept.refused.map_or(Delivery::Failed, Delivery::Refused),
            message: unsent(
                room,
                me.clone(),
                kept.body,
                kept.client_id,
                kept.created_at,
                kept.reply_to,
                kept.attachments,
            ),
        })
        .collect()
}

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
    /// A run sending the listed sends in order is going: a send or a
    /// reconnect meanwhile starts no second one ([`Outbox::run`]).
    running: StoredValue<bool>,
    /// Whose sends these are, once known (a send, or [`Outbox::restore`]):
    /// the account they are kept under, whose kept ones are read in then.
    me: StoredValue<Option<UserId>>,
    /// Every send this tab has listed: what it keeps of the room's kept
    /// sends is its own ([`to_stored`]).
    mine: StoredValue<HashSet<String>>,
    link: RwSignal<LinkStatus>,
    chat: Chat,
}

impl Outbox {
    /// Made once per room, under the frame ([`Chat::outbox`]).
    pub fn new(room: RoomId, chat: Chat) -> Self {
        let live = use_live();
        let outbox = Self {
            room,
            entries: RwSignal::new(Vec::new()),
            shown: StoredValue::new(None),
            running: StoredValue::new(false),
            me: StoredValue::new(None),
            mine: StoredValue::new(HashSet::new()),
            link: live.status,
            chat,
        };
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

    /// Brings back `me`'s sends kept for this room (after a reload), before
    /// any written since, and sends them again if the link is up (else
    /// when it comes up). Once per account.
    pub fn restore(&self, me: &Author) {
        if self.adopt(me) && self.link.get_untracked() == LinkStatus::Online {
            self.resend_failed();
        }
    }

    /// These are `me`'s sends: the first time, their kept ones are read
    /// in, before any listed; true if there were any.
    fn adopt(&self, me: &Author) -> bool {
        if self.me.get_value() == Some(me.id) {
            return false;
        }
        self.me.set_value(Some(me.id));
        let Some(stored) = load_kept_sends(me.id.0, self.room.0) else { return false };
        let kept = from_stored(&stored, self.room, me);
        if kept.is_empty() {
            // Nothing in it could be read: it is not read again.
            save_kept_sends(me.id.0, self.room.0, None);
            return false;
        }
        self.change(|e| {
            let listed: HashSet<String> = e.iter().filter_map(|x| x.message.client_id.clone()).collect();
            let kept = kept.into_iter().filter(|x| x.message.client_id.as_ref().is_none_or(|c| !listed.contains(c)));
            let written = std::mem::take(e);
            e.extend(kept);
            e.extend(written);
        });
        true
    }

    /// Changes the list, and what is kept of it.
    fn change(&self, f: impl FnOnce(&mut Vec<Entry>)) {
        self.entries.update(f);
        self.entries.with_untracked(|e| {
            self.mine.update_value(|mine| mine.extend(e.iter().filter_map(|x| x.message.client_id.clone())))
        });
        if let Some(me) = self.me.get_value() {
            let before = load_kept_sends(me.0, self.room.0);
            let kept =
                self.mine.with_value(|mine| self.entries.with_untracked(|e| to_stored(e, before.as_deref(), mine)));
            save_kept_sends(me.0, self.room.0, kept.as_deref());
        }
    }

    /// Lists `entry` (on its way) and sends it, after the failed ones
    /// written before it.
    pub fn send(&self, entry: Entry) {
        if let Some(me) = &entry.message.user {
            self.adopt(me);
        }
        self.change(|e| {
            requeue_failed(e);
            e.push(entry);
        });
        self.run();
    }

    /// The send `client_id`, if it is still waiting.
    pub fn pending(&self, client_id: &str) -> Option<Entry> {
        self.entries
            .try_with_untracked(|e| e.iter().find(|x| x.message.client_id.as_deref() == Some(client_id)).cloned())
            .flatten()
    }

    /// Takes the send `client_id` out of the list.
    pub fn discard(&self, client_id: &str) {
        self.change(|e| discard(e, client_id));
    }

    /// Sends the failed send `client_id` again.
    pub fn retry(&self, client_id: &str) {
        if self.pending(client_id).is_some() {
            self.change(|e| set_state(e, client_id, Delivery::Sending));
            self.run();
        }
    }

    /// Drops them all, unsent, and what was kept of them (signed out).
    /// Quietly: a window that shows them is being taken down with the
    /// session, and redrawn now it could read what is already gone.
    pub fn forget(&self) {
        self.entries.update_untracked(Vec::clear);
        self.mine.update_value(HashSet::clear);
        if let Some(me) = self.me.get_value() {
            save_kept_sends(me.0, self.room.0, None);
        }
        self.me.set_value(None);
    }

    /// Sends the sends on their way one at a time, in the order listed,
    /// until none is left or one fails: those after it are failed with it
    /// (sent again, in order, when the link returns or with the next send).
    fn run(self) {
        if self.running.get_value() {
            return;
        }
        self.running.set_value(true);
        spawn_local(async move {
            loop {
                let next = self
                    .entries
                    .try_with_untracked(|e| e.iter().find(|x| x.state == Delivery::Sending).cloned())
                    .flatten();
                let Some(entry) = next else { break };
                let outcome = self.deliver_now(entry).await;
                if outcome == Outcome::Done {
                    continue;
                }
                if !self.entries.is_disposed() {
                    // Those after one sent too fast wait with it, saying so.
                    let held = if outcome == Outcome::Throttled { Delivery::Throttled } else { Delivery::Failed };
                    self.change(|e| {
                        for waiting in e.iter_mut().filter(|x| x.state == Delivery::Sending) {
                            waiting.state = held.clone();
                        }
                    });
                }
                if outcome == Outcome::Throttled {
                    // Again a moment later (the server takes a few more
                    // each second), or when the link returns if it goes.
                    set_timeout(
                        move || {
                            if !self.entries.is_disposed() && self.link.get_untracked() == LinkStatus::Online {
                                self.resend_failed();
                            }
                        },
                        std::time::Duration::from_millis(RETRY_THROTTLED_MS),
                    );
                }
                if outcome == Outcome::Stalled {
                    // Sent again (the same client_id: never twice) on a fresh
                    // request, while the link still looks up; when it is
                    // down, its return sends them.
                    set_timeout(
                        move || {
                            if !self.entries.is_disposed() && self.link.get_untracked() == LinkStatus::Online {
                                self.resend_failed();
                            }
                        },
                        std::time::Duration::from_millis(RETRY_STALLED_MS),
                    );
                }
                break;
            }
            // Signed out meanwhile: the frame, and this with it, are gone.
            let _ = self.running.try_update_value(|running| *running = false);
        });
    }

    /// Sends one entry: done if the server has it or refused it for good
    /// (either way it is done with); failed if it failed, or the list is
    /// gone; stalled if no answer came in [`SEND_WAIT_MS`]. A failed one
    /// stays listed, marked, until it is sent again; a refused one until it
    /// is taken back or discarded.
    async fn deliver_now(self, entry: Entry) -> Outcome {
        let client_id = entry.message.client_id.clone().unwrap_or_default();
        let body = entry.message.body.clone().unwrap_or_default();
        let reply_to = entry.message.reply_to.as_ref().map(|q| q.number);
        let files: Vec<i64> = entry.message.attachments.iter().map(|file| file.id).collect();
        let files = (!files.is_empty()).then_some(files);
        let author = entry.message.user_id.map(|id| id.0);
        let sent = send_message(self.room.0, body, Some(client_id.clone()), reply_to, files, author);
        let answer = crate::browser::within(SEND_WAIT_MS, sent).await;
        // Signed out while it was on its way: the frame, and this list with
        // it, are gone.
        if self.entries.is_disposed() {
            return Outcome::Failed;
        }
        let Some(answer) = answer else { return Outcome::Stalled };
        let shown = self.shown.get_value().filter(|(timeline, _)| !timeline.entries.is_disposed());
        match answer {
            Ok(message) => {
                self.discard(&client_id);
                if let Some((timeline, _)) = shown {
                    timeline.merge(vec![message]);
                }
                self.chat.refresh_rooms();
                Outcome::Done
            }
            Err(error) => {
                let follow = shown.filter(|(_, paging)| paging.near_bottom());
                let state = Delivery::after_error(error.status, error.to_string());
                let outcome = match state {
                    // A refusal is this message's alone: later ones may still go.
                    Delivery::Refused(_) => Outcome::Done,
                    Delivery::Throttled => Outcome::Throttled,
                    _ => Outcome::Failed,
                };
                self.change(|e| set_state(e, &client_id, state));
                if let Some((_, paging)) = follow {
                    paging.scroll_to_bottom();
                }
                outcome
            }
        }
    }

    /// The failed and held-back sends go again, in order (the link is
    /// back, or the server takes messages again).
    fn resend_failed(self) {
        if self.entries.with_untracked(|e| e.iter().any(|x| matches!(x.state, Delivery::Failed | Delivery::Throttled)))
        {
            self.change(|e| requeue_failed(e));
            self.run();
        }
    }
}

/// A send with no answer after this long is given up on and sent again
/// ([`RETRY_STALLED_MS`] later): the request may be stuck on a connection
/// that died under it, and never answer.
const SEND_WAIT_MS: u32 = 15_000;
const RETRY_STALLED_MS: u64 = 1_000;
/// How long a send refused as too fast (429) waits to go again.
const RETRY_THROTTLED_MS: u64 = 3_000;

/// How one send went ([`Outbox::deliver_now`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Confirmed, or refused for good: the next may go.
    Done,
    /// Failed (the network, the server): it and the ones after it wait.
    Failed,
    /// No answer in time: as failed, and tried again soon.
    Stalled,
    /// Too fast for the server (429): it and the ones after it wait, and
    /// go again a moment later.
    Throttled,
}

/// The failed and held-back sends in `entries` are on their way again (not
/// the refused).
fn requeue_failed(entries: &mut [Entry]) {
    for failed in entries.iter_mut().filter(|x| matches!(x.state, Delivery::Failed | Delivery::Throttled)) {
        failed.state = Delivery::Sending;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Author {
        Author::new(UserId(7), "me".into(), Some("Me".into()))
    }

    fn entry(client_id: &str, body: &str, state: Delivery) -> Entry {
        let message =
            unsent(RoomId(3), me(), body.into(), client_id.into(), "2026-12-06T10:00:00Z".into(), None, Vec::new());
        Entry { message, state }
    }

    fn bodies(entries: &[Entry]) -> Vec<(&str, &Delivery)> {
        entries.iter().map(|e| (e.message.body.as_deref().unwrap_or(""), &e.state)).collect()
    }

    #[test]
    fn unconfirmed_sends_come_back_in_order_failed_to_be_sent_again_and_a_refused_one_as_it_was() {
        let mut reply = entry("b", "second", Delivery::Failed);
        reply.message.reply_to = Some(ReplyTo {
            number: 4,
            user: Some(me()),
            snippet: Some("the original".into()),
            reply_count: 1,
            edited: false,
        });
        reply.message.attachments = vec![Attachment {
            id: 9,
            name: "notes.txt".into(),
            content_type: "text/plain; charset=utf-8".into(),
            size: 12,
            width: None,
            height: None,
            url: "/attachments/9/notes.txt".into(),
            thumbnail_url: None,
        }];
        let listed = vec![
            Entry::confirmed(unsent(RoomId(3), me(), "sent".into(), "z".into(), "t".into(), None, Vec::new())),
            entry("a", "first", Delivery::Sending),
            reply.clone(),
            entry("c", "third", Delivery::Refused("This room is archived.".into())),
        ];
        let stored = to_stored(&listed, None, &HashSet::new()).expect("something to keep");
        let back = from_stored(&stored, RoomId(3), &me());
        assert_eq!(
            bodies(&back),
            [
                ("first", &Delivery::Failed),
                ("second", &Delivery::Failed),
                ("third", &Delivery::Refused("This room is archived.".into()))
            ]
        );
        assert_eq!(back[1], reply, "a reply's quote and its files come back whole");
        assert_eq!(back[0].message.user_id, Some(UserId(7)));
        assert_eq!(back[0].message.conversation_id, RoomId(3));
        assert_eq!(back[0].message.number, 0);
        assert_eq!(back[0].message.client_id.as_deref(), Some("a"));
    }

    #[test]
    fn nothing_unconfirmed_is_nothing_kept_and_the_form_kept_is_small() {
        assert_eq!(to_stored(&[], None, &HashSet::new()), None);
        let sent = Entry::confirmed(unsent(RoomId(3), me(), "sent".into(), "z".into(), "t".into(), None, Vec::new()));
        assert_eq!(to_stored(&[sent], None, &HashSet::new()), None);
        let stored =
            to_stored(&[entry("a", "hi", Delivery::Failed)], None, &HashSet::new()).expect("a failed send is kept");
        assert_eq!(stored, r#"[{"client_id":"a","body":"hi","created_at":"2026-12-06T10:00:00Z"}]"#);
    }

    #[test]
    fn another_tabs_kept_sends_stay_and_ours_replace_what_we_kept_before() {
        let at = |client_id: &str, body: &str, time: &str| {
            let mut e = entry(client_id, body, Delivery::Failed);
            e.message.created_at = time.into();
            e
        };
        // Another tab of the same account kept "o1" and "o2"; this tab kept
        // "x", since confirmed, and "a", since refused.
        let before = to_stored(
            &[
                at("o1", "other first", "2026-12-06T10:00:01Z"),
                at("x", "ours, now confirmed", "2026-12-06T10:00:02Z"),
                at("a", "ours", "2026-12-06T10:00:03Z"),
                at("o2", "other second", "2026-12-06T10:00:04Z"),
            ],
            None,
            &HashSet::new(),
        );
        let mut refused = at("a", "ours", "2026-12-06T10:00:03Z");
        refused.state = Delivery::Refused("Too long.".into());
        let mine: HashSet<String> = ["x".to_owned(), "a".to_owned()].into();
        let now = to_stored(&[refused], before.as_deref(), &mine).expect("sends are kept");
        let back = from_stored(&now, RoomId(3), &me());
        assert_eq!(
            bodies(&back),
            [
                ("other first", &Delivery::Failed),
                ("ours", &Delivery::Refused("Too long.".into())),
                ("other second", &Delivery::Failed)
            ]
        );
        // With ours all confirmed, the other tab's are still kept; with
        // nothing left at all, nothing is.
        let others = to_stored(&[], Some(&now), &mine).expect("the other tab's stay");
        assert_eq!(from_stored(&others, RoomId(3), &me()).len(), 2);
        let every: HashSet<String> = ["o1", "o2", "a", "x"].map(str::to_owned).into();
        assert_eq!(to_stored(&[], Some(&now), &every), None);
        // A kept list that cannot be read leaves ours.
        assert!(to_stored(&[at("b", "mine", "t")], Some("{oops"), &mine).is_some());
    }

    #[test]
    fn at_most_the_first_few_are_kept() {
        let many: Vec<Entry> =
            (0..KEPT_MAX + 5).map(|n| entry(&format!("id{n}"), &format!("m{n}"), Delivery::Failed)).collect();
        let back = from_stored(&to_stored(&many, None, &HashSet::new()).expect("sends are kept"), RoomId(3), &me());
        assert_eq!(back.len(), KEPT_MAX);
        assert_eq!(back[0].message.body.as_deref(), Some("m0"));
        // A longer list written by hand is cut as it is read.
        let long: Vec<String> = (0..KEPT_MAX + 5).map(|n| format!(r#"{{"client_id":"x{n}","body":"b{n}"}}"#)).collect();
        assert_eq!(from_stored(&format!("[{}]", long.join(",")), RoomId(3), &me()).len(), KEPT_MAX);
    }

    #[test]
    fn a_list_that_cannot_be_read_is_no_list_and_empty_or_repeated_sends_are_left_out() {
        for bad in ["", "{oops", "null", "{}", "42", r#"{"client_id":"a","body":"b"}"#, "[1, 2"] {
            assert!(from_stored(bad, RoomId(3), &me()).is_empty(), "{bad}");
        }
        for bad_item in ["7", r#"{"body":"no id"}"#, r#"{"client_id":"c","body":"two","reply_to":"not a quote"}"#] {
            let list = format!(r#"[{{"client_id":"a","body":"one"}},{bad_item}]"#);
            assert!(from_stored(&list, RoomId(3), &me()).is_empty(), "{list}");
        }
        let mixed = r#"[
            {"client_id":"a","body":"one"},
            {"client_id":"","body":"empty id"},
            {"client_id":"b","body":"   "},
            {"client_id":"a","body":"a second copy"},
            {"client_id":"d","body":"three","extra":true}
        ]"#;
        let back = from_stored(mixed, RoomId(3), &me());
        assert_eq!(bodies(&back), [("one", &Delivery::Failed), ("three", &Delivery::Failed)]);
        let long_id = format!(r#"[{{"client_id":"{}","body":"x"}}]"#, "z".repeat(CLIENT_ID_MAX + 1));
        assert!(from_stored(&long_id, RoomId(3), &me()).is_empty());
    }
}
