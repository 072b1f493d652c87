//! The room's live state besides its messages: the subscription, who is
//! typing, who is online, how far each member has read ("Seen"); and the
//! routing of the room's live events (message events go to the
//! [`Timeline`]).

use std::collections::{HashMap, HashSet};

use hearth::model::{Author, RoomId, UserId};
use hearth::protocol::{ClientEvent, RoomChange, ServerEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::paging::Paging;
use super::timeline::{Timeline, seen_at};
use crate::api::{RoomView, room_detail};
use crate::browser::now_ms;
use crate::live::{LinkStatus, Live, use_live};

#[derive(Clone, Copy)]
pub struct RoomSignals {
    /// The server confirmed the subscription (the replay is done).
    pub subscribed: RwSignal<bool>,
    /// The newest message from someone else, as a screen reader announces
    /// it ("Alice: see you at ten").
    pub announcement: RwSignal<String>,
    /// The room is archived (read-only): as loaded, then as the live link
    /// says.
    pub archived: RwSignal<bool>,
    /// I am no longer a member (removed, or I left in another tab): the
    /// room is not followed any more, and nothing can be sent to it.
    pub left: RwSignal<bool>,
    /// The messages I saved for later: as loaded, then as each of my tabs
    /// saves or unsaves (`message_saved`), and read again after the link
    /// comes back (what it said while down is not replayed).
    pub saved: RwSignal<HashSet<i64>>,
    /// Who is typing, each until a time (ms).
    typing: RwSignal<Vec<(Author, f64)>>,
    /// Who is online: the frame's one list for every room ([`crate::chat::Chat::is_online`]),
    /// which this room's presence news reaches too, and which is emptied
    /// while the link is down (no one shown online from stale news).
    chat: crate::chat::Chat,
    /// "Seen": under the last of my messages the other person (in a direct
    /// room) has read.
    pub seen_at: Memo<Option<i64>>,
    room: RoomId,
    last_typing_sent: StoredValue<f64>,
    live: Live,
}

impl RoomSignals {
    /// Follows room `room` from `last_seq` for as long as the window is
    /// shown. `other`: the other person of a direct room, whose read marker
    /// makes "Seen"; `saved`: the messages I saved in it.
    #[allow(clippy::too_many_arguments)]
    pub fn follow(
        room: RoomId,
        last_seq: i64,
        read_markers: Vec<(UserId, i64)>,
        saved: Vec<i64>,
        me: UserId,
        other: Option<UserId>,
        timeline: Timeline,
        paging: Paging,
    ) -> Self {
        let live = use_live();
        let chat = crate::chat::use_chat();
        let typing = RwSignal::new(Vec::<(Author, f64)>::new());
        let markers = RwSignal::new(read_markers.into_iter().collect::<HashMap<UserId, i64>>());
        let subscribed = RwSignal::new(false);
        let announcement = RwSignal::new(String::new());
        let archived = RwSignal::new(false);
        let left = RwSignal::new(false);
        let saved = RwSignal::new(saved.into_iter().collect::<HashSet<i64>>());
        let seen = Memo::new(move |_| {
            let marker = markers.with(|m| other.and_then(|o| m.get(&o).copied()))?;
            timeline.entries.with(|e| seen_at(e, me, marker))
        });
        // What a new socket replays (a laptop woken: up to thousands of
        // changes, each its own frame) is held and put in the list at once
        // when the replay ends, not one redraw per message.
        let held = StoredValue::new(Vec::<ServerEvent>::new());
        let flush_held = move || {
            let events = held.try_update_value(std::mem::take).unwrap_or_default();
            if !events.is_empty() {
                catch_up(&events, me, timeline, paging, typing, chat);
            }
        };
        Effect::new(move |_| {
            if live.status.get() != LinkStatus::Online {
                flush_held();
            }
        });
        // Subscribed again after the link came back (a laptop woken): what
        // no replay carries, being archived or taken out of the room
        // meanwhile, is asked for.
        let subscriptions = StoredValue::new(0u32);
        let recheck = move || {
            spawn_local(async move {
                match room_detail(room.0, None, false).await {
                    Err(error) if error.is_missing() => {
                        let _ = left.try_set(true);
                    }
                    Ok(view) => {
                        if view.detail.conversation.archived_at.is_some() {
                            let _ = archived.try_set(true);
                        }
                        let _ = saved.try_set(view.saved.into_iter().collect());
                    }
                    Err(_) => {}
                }
            })
        };
        let on_live_event = move |event: &ServerEvent| match event {
            ServerEvent::Subscribed { .. } => {
                subscribed.set(true);
                if subscriptions.try_update_value(|n| std::mem::replace(n, n.saturating_add(1))).unwrap_or(0) > 0 {
                    recheck();
                }
            }
            // No longer mine to follow (removed while the tab slept).
            ServerEvent::Error { room_id: Some(refused), code, .. } if *refused == room && code == "not_found" => {
                left.set(true);
            }
            ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
                let new = matches!(event, ServerEvent::Message { .. });
                // Newer messages than the loaded ones are missing (a jump
                // into history): a new one is not listed past them.
                let past_a_gap = new && untrack(|| paging.gap_below()) && !timeline.has(message.number);
                let follow = paging.near_bottom() && !past_a_gap;
                let author = message.user_id;
                // Someone else's new message (not a replay of one shown).
                let news = new && author != Some(me) && !timeline.has(message.number);
                timeline.apply(event, past_a_gap);
                if new {
                    paging.arrived(message.number, !past_a_gap);
                }
                typing.update(|t| t.retain(|(u, _)| Some(u.id) != author));
                if news {
                    announcement.update(|now| *now = crate::browser::next_announcement(now, announce(message)));
                }
                if follow {
                    paging.scroll_to_bottom();
                } else if news {
                    paging.one_more_below();
                    // Not read until seen, but the room list shows it (its
                    // preview, its count) as any other room's would.
                    chat.refresh_soon();
                }
            }
            ServerEvent::MessageDeleted { .. } | ServerEvent::Reacted { .. } => timeline.apply(event, false),
            ServerEvent::Room { change: RoomChange::Archived, .. } => archived.set(true),
            ServerEvent::Room { change: RoomChange::Removed, .. } => left.set(true),
            ServerEvent::MessageSaved { number, saved_at, .. } => saved.update(|saved| {
                if saved_at.is_some() {
                    saved.insert(*number);
                } else {
                    saved.remove(number);
                }
            }),
            ServerEvent::Typing { user, .. } if user.id != me => {
                let until = now_ms() + 5_000.0;
                typing.update(|t| {
                    t.retain(|(u, _)| u.id != user.id);
                    t.push((user.clone(), until));
                });
            }
            ServerEvent::Read { user_id, number, .. } => markers.update(|m| {
                let marker = m.entry(*user_id).or_insert(0);
                *marker = (*marker).max(*number);
            }),
            ServerEvent::Resync { .. } => spawn_local(async move {
                subscribed.set(false);
                let fetched = room_detail(room.0, None, false).await;
                // Not if the room was left meanwhile (its signals are gone).
                if subscribed.is_disposed() {
                    return;
                }
                if let Ok(RoomView { detail: fresh, saved: mine, .. }) = fetched {
                    saved.set(mine.into_iter().collect());
                    // The newest page: no gap below it any more.
                    paging.caught_up(fresh.conversation.last_number);
                    timeline.reset(fresh.messages);
                    markers.set(fresh.read_markers.into_iter().collect());
                    live.resubscribe(room, fresh.conversation.last_seq);
                }
            }),
            _ => {}
        };
        let on_event = move |event: &ServerEvent| {
            let about_messages = matches!(
                event,
                ServerEvent::Message { .. }
                    | ServerEvent::MessageEdited { .. }
                    | ServerEvent::MessageDeleted { .. }
                    | ServerEvent::Reacted { .. }
            );
            if about_messages && live.replaying(room) {
                held.update_value(|held| held.push(event.clone()));
                return;
            }
            flush_held();
            on_live_event(event);
        };
        let watch_token = StoredValue::new(0u64);
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                watch_token.set_value(live.watch(room, last_seq, on_event));
            }
        });
        on_cleanup(move || live.unwatch(room, watch_token.get_value()));
        // This tab shows the room (for Web Push), until the page goes.
        Effect::new(move |_| live.show_room(room, true));
        on_cleanup(move || live.show_room(room, false));
        // Typing notices fade after five seconds.
        Effect::new(move |_| {
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    let now = now_ms();
                    if typing.with_untracked(|t| t.iter().any(|(_, until)| *until < now)) {
                        typing.update(|t| t.retain(|(_, until)| *until >= now));
                    }
                },
                std::time::Duration::from_secs(1),
            ) {
                on_cleanup(move || handle.clear());
            }
        });
        Self {
            subscribed,
            announcement,
            archived,
            saved,
            left,
            typing,
            chat,
            seen_at: seen,
            room,
            last_typing_sent: StoredValue::new(0.0),
            live,
        }
    }

    /// Subscribed, still a member, and the link up: messages arrive as
    /// they are sent (tracked).
    pub fn is_live(&self) -> bool {
        self.subscribed.get() && !self.left.get() && self.live.status.get() == LinkStatus::Online
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.chat.is_online(user)
    }

    /// Who is typing, in words ([`typing_words`]), or nothing (tracked).
    pub fn typing_line(&self) -> String {
        self.typing.with(|t| typing_words(&t.iter().map(|(u, _)| u.display_name()).collect::<Vec<_>>()))
    }

    /// Tells the room I am typing, at most every two seconds.
    pub fn announce_typing(&self) {
        let now = now_ms();
        if now - self.last_typing_sent.get_value() > 2_000.0 {
            self.last_typing_sent.set_value(now);
            self.live.send(ClientEvent::Typing { room_id: self.room });
        }
    }
}

/// What a screen reader says for a new message: who, and the start of it.
pub fn announce(message: &hearth::model::Message) -> String {
    let who = message.user.as_ref().map(|u| u.display_name().to_owned()).or_else(|| message.application.clone());
    // As it reads on screen, not its Markdown ("**" is no word to hear).
    let text = crate::browser::listed_text(message, 140).unwrap_or_default();
    format!("{}: {text}", who.unwrap_or_else(|| "Someone".to_owned()))
}

/// "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and Carol
/// are typing…", and past three "Alice, Bob and 10 others are typing…": a
/// line that stays one line in a room of hundreds.
fn typing_words(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [first, second] => format!("{first} and {second} are typing…"),
        [first, second, third] => format!("{first}, {second} and {third} are typing…"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} others are typing…", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::announce;
    use crate::browser::next_announcement;

    #[test]
    fn the_same_announcement_twice_changes_the_live_region_each_time() {
        let first = next_announcement("", "Alice: ok".into());
        let second = next_announcement(&first, "Alice: ok".into());
        let third = next_announcement(&second, "Alice: ok".into());
        assert_eq!(first, "Alice: ok");
        assert_ne!(second, first);
        assert_ne!(third, second);
        assert_eq!(third, "Alice: ok", "back and forth, never growing");
        assert_eq!(next_announcement(&second, "Bob: hi".into()), "Bob: hi");
    }
    use crate::pages::room::timeline::tests::message;

    #[test]
    fn an_announcement_names_the_author_and_reads_the_start_of_the_message() {
        let mut m = message(3, 7, "see you at ten", "2026-11-23T10:00:00.000000Z");
        m.user.as_mut().expect("a user's message").name = Some("Alice Liddell".into());
        assert_eq!(announce(&m), "Alice Liddell: see you at ten");
        m.body = Some("x".repeat(500));
        assert!(announce(&m).chars().count() < 160, "long messages are cut");
    }
}

#[cfg(test)]
mod typing_tests {
    use super::typing_words;

    #[test]
    fn who_is_typing_reads_as_a_sentence_and_past_three_as_a_count() {
        assert_eq!(typing_words(&[]), "");
        assert_eq!(typing_words(&["Alice"]), "Alice is typing…");
        assert_eq!(typing_words(&["Alice", "Bob"]), "Alice and Bob are typing…");
        assert_eq!(typing_words(&["Alice", "Bob", "Carol"]), "Alice, Bob and Carol are typing…");
        let twelve = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
        assert_eq!(typing_words(&twelve), "A, B and 10 others are typing…");
    }
}

/// Puts the changes a new socket replayed into the list in one go, then
/// does once what each would have done: the newest in view if the reader
/// was there, else the count of new ones below, and the typing line
/// without their authors. Nothing is announced: it is what happened while
/// the tab was away, not news.
fn catch_up(
    events: &[ServerEvent],
    me: UserId,
    timeline: Timeline,
    paging: Paging,
    typing: RwSignal<Vec<(Author, f64)>>,
    chat: crate::chat::Chat,
) {
    let follow = paging.near_bottom();
    let gap = untrack(|| paging.gap_below());
    let mut arrived = Vec::new();
    let mut news = 0;
    timeline.entries.update(|entries| {
        for event in events {
            let ServerEvent::Message { message, .. } = event else {
                super::timeline::apply_event(entries, event, false);
                continue;
            };
            let listed = entries.iter().any(|e| e.is_confirmed() && e.message.number == message.number);
            let past_a_gap = gap && !listed;
            if message.user_id != Some(me) && !listed {
                news += 1;
            }
            super::timeline::apply_event(entries, event, past_a_gap);
            arrived.push((message.number, !past_a_gap, message.user_id));
        }
    });
    let past_a_gap = arrived.iter().any(|(_, listed, _)| !listed);
    for (number, listed, _) in &arrived {
        paging.arrived(*number, *listed);
    }
    typing.update(|t| t.retain(|(u, _)| !arrived.iter().any(|(_, _, author)| *author == Some(u.id))));
    if follow && !past_a_gap {
        paging.scroll_to_bottom();
    } else if news > 0 {
        for _ in 0..news {
            paging.one_more_below();
        }
        chat.refresh_soon();
    }
}
