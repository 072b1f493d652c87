//! `/rooms/:id`: the chat window. The newest 50 messages render on the
//! server (or those around `?around=N`, a search hit); scrolling to the top
//! loads older pages without the view jumping, and after a jump scrolling to
//! the bottom loads newer ones up to the live edge; sends show at once and
//! are reconciled by `client_id` when confirmed.

use std::collections::{HashMap, HashSet};

use hearth::model::{Author, ConversationDetail, Message, Profile, ReplyTo, RoomKind, UserId};
use hearth::protocol::{ClientEvent, ServerEvent};
use leptos::either::EitherOf3;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::signed_in_with;
use crate::api::{
    RoomView, SendMessage, delete_message, edit_message, load_messages, mark_read, room_detail, send_message,
};
use crate::chat::{day_and_time, use_chat, use_clock};
use crate::components::form::keep_typed_text;
use crate::components::rich::{MessageText, Reactions, ReplyCount, ReplyQuote};
use crate::live::{LinkStatus, use_live};

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let room_id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let around = move || query.read().get("around").and_then(|n| n.parse::<i64>().ok());
    let detail = Resource::new(move || (room_id(), around()), |(room, around)| room_detail(room, around));
    // A load that failed (offline, say) is tried again when the link returns.
    let live = use_live();
    Effect::new(move |was: Option<LinkStatus>| {
        let now = live.status.get();
        if now == LinkStatus::Online
            && was.is_some_and(|was| was != LinkStatus::Online)
            && detail.with_untracked(|d| matches!(d, Some(Err(e)) if !e.is_missing()))
        {
            detail.refetch();
        }
        now
    });
    // The title stays outside the Suspense boundary: leptos_meta inside one
    // can break hydration. It says "Conversation" until the browser knows
    // the room's name, then "(N) Room name", N counting unread messages in
    // all rooms. Effects run only in the browser, so server and hydration
    // agree on the first title.
    let tab_title = RwSignal::new(None::<String>);
    let chat = use_chat();
    let auth = crate::auth::use_auth();
    Effect::new(move |_| {
        let id = room_id();
        let me = auth.me.get().and_then(Result::ok).flatten();
        if let (Some(me), Some(Ok(rooms))) = (me, chat.rooms.get()) {
            let unread: i64 = rooms.iter().map(|room| room.unread_count).sum();
            if let Some(room) = rooms.iter().find(|room| room.id.0 == id) {
                let name = room.display_title(me.id);
                tab_title.set(Some(if unread > 0 { format!("({unread}) {name}") } else { name }));
            }
        }
    });
    let page = signed_in_with(
        move || async move { detail.await },
        move |me, loaded| match loaded {
            Ok(view) => EitherOf3::A(view! {
                <ChatWindow detail=view.detail me focus=around() edit_window_secs=view.edit_window_secs admin=view.admin />
            }),
            Err(error) if error.is_missing() => EitherOf3::B(view! {
                <section class="card"><h1>"Conversation not found"</h1><p>"It does not exist, or you are not in it."</p></section>
            }),
            Err(_) => EitherOf3::C(view! {
                <section class="card load-error" role="alert">
                    <h1>"Could not load this conversation"</h1>
                    <p>"The connection may be down. This page tries again by itself when it is back."</p>
                    <button type="button" on:click=move |_| detail.refetch()>"Retry"</button>
                </section>
            }),
        },
    );
    view! {
        <Title text=move || tab_title.get().unwrap_or_else(|| "Conversation".to_owned()) />
        {page}
    }
}

/// One line in the window: a confirmed message, or one still on its way.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    message: Message,
    state: Delivery,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    Confirmed,
    Sending,
    Failed,
}

impl Entry {
    fn confirmed(message: Message) -> Self {
        Self { message, state: Delivery::Confirmed }
    }

    /// Changes whenever what the row shows does, so the row is redrawn.
    fn key(&self) -> String {
        let m = &self.message;
        let reactions: Vec<String> = m
            .reactions
            .iter()
            .map(|r| format!("{}{}", r.emoji, r.users.iter().map(|u| format!(",{}", u.id)).collect::<String>()))
            .collect();
        format!(
            "{}|{}|{:?}|{:?}|{}|{:?}|{}|{:?}|{}",
            m.number,
            m.client_id.as_deref().unwrap_or(""),
            m.edited_at,
            m.deleted,
            m.id,
            self.state,
            m.reply_count,
            m.reply_to.as_ref().map(|q| &q.snippet),
            reactions.join(";")
        )
    }
}

/// Adds confirmed messages, replacing pending copies with the same client_id
/// and never holding one number twice; keeps confirmed ones in number order.
fn merge(entries: &mut Vec<Entry>, incoming: Vec<Message>) {
    for message in incoming {
        if let Some(cid) = &message.client_id {
            entries.retain(|e| !(e.state != Delivery::Confirmed && e.message.client_id.as_ref() == Some(cid)));
        }
        match entries.iter_mut().find(|e| e.state == Delivery::Confirmed && e.message.number == message.number) {
            Some(existing) => existing.message = message,
            None => entries.push(Entry::confirmed(message)),
        }
    }
    entries.sort_by_key(|e| (e.state != Delivery::Confirmed, e.message.number));
}

/// Message `number` was deleted: no text, no HTML, no reactions.
fn mark_deleted(entries: &mut [Entry], number: i64) {
    for x in entries.iter_mut().filter(|x| x.state == Delivery::Confirmed && x.message.number == number) {
        x.message.deleted = true;
        x.message.body = None;
        x.message.html = None;
        x.message.reactions.clear();
    }
}

/// The original `quote` names has `quote.reply_count` replies now.
fn set_reply_count(entries: &mut [Entry], quote: &ReplyTo) {
    for x in entries.iter_mut().filter(|x| x.state == Delivery::Confirmed && x.message.number == quote.number) {
        x.message.reply_count = quote.reply_count;
    }
}

/// Message `number` now reads `body` (`None`: deleted): the quotes of it in
/// replies follow.
fn quoted_changed(entries: &mut [Entry], number: i64, body: Option<&str>) {
    for x in entries.iter_mut() {
        if let Some(quote) = x.message.reply_to.as_mut().filter(|q| q.number == number) {
            quote.snippet = body.map(ReplyTo::snippet_of);
        }
    }
}

fn focus_composer() {
    #[cfg(feature = "hydrate")]
    if let Some(composer) = document().get_element_by_id("composer-body")
        && let Ok(composer) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(composer)
    {
        let _ = composer.focus();
    }
}

/// The quote a reply to `message` starts with.
fn quote_of(message: &Message) -> ReplyTo {
    ReplyTo {
        number: message.number,
        user: message.user.clone(),
        snippet: message.body.as_deref().map(ReplyTo::snippet_of),
        reply_count: message.reply_count + 1,
    }
}

/// Sets the delivery state of the unconfirmed entry `client_id`.
fn set_state(entries: RwSignal<Vec<Entry>>, client_id: &str, state: Delivery) {
    entries.update(|e| {
        for x in
            e.iter_mut().filter(|x| x.state != Delivery::Confirmed && x.message.client_id.as_deref() == Some(client_id))
        {
            x.state = state;
        }
    });
}

fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let now = js_sys::Date::now() as u64;
        let random = (js_sys::Math::random() * 1e12) as u64;
        format!("{now:x}-{random:x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// Whether the tab is in front (only then does reading mark messages read).
fn page_visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().visibility_state() == web_sys::VisibilityState::Visible
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// `2026-11-23T19:27:46.123456Z` in milliseconds since the epoch; `None` on
/// the server.
fn stamp_ms(stamp: &str) -> Option<f64> {
    #[cfg(feature = "hydrate")]
    {
        let seconds = stamp.get(..19)?;
        let ms = js_sys::Date::new(&js_sys::JsString::from(format!("{seconds}Z"))).get_time();
        (!ms.is_nan()).then_some(ms)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = stamp;
        None
    }
}

/// What to tell the user when the server refuses an edit or a delete.
fn refusal_text(error: &crate::error::UiError) -> String {
    if error.status.is_none() {
        return "Could not reach the server. Try again when the connection is back.".to_owned();
    }
    let text = error.to_string();
    if text.is_empty() { "The server refused this change.".to_owned() } else { text }
}

fn now_stamp() -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
fn ChatWindow(
    detail: ConversationDetail,
    me: Profile,
    focus: Option<i64>,
    edit_window_secs: u64,
    /// An admin may delete anyone's message (the core audits it).
    admin: bool,
) -> impl IntoView {
    let chat = use_chat();
    let room_id = detail.conversation.id.0;
    let title = match detail.conversation.kind {
        RoomKind::Direct => detail
            .participants
            .iter()
            .find(|p| p.id != me.id)
            .map(|p| p.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| p.username.clone()))
            .unwrap_or_else(|| "Direct message".into()),
        _ => detail.conversation.title.clone().unwrap_or_else(|| "Untitled room".into()),
    };
    let entries = RwSignal::new(detail.messages.into_iter().map(Entry::confirmed).collect::<Vec<_>>());
    let list: NodeRef<Div> = NodeRef::new();
    let loading_older = RwSignal::new(false);
    let oldest = move || entries.with(|e| e.iter().find(|x| x.state == Delivery::Confirmed).map(|x| x.message.number));
    let at_start = move || oldest().is_none_or(|n| n <= 1);
    let draft = RwSignal::new(String::new());
    keep_typed_text(draft, "composer-body");
    let editing = RwSignal::new(None::<i64>);
    // The message the composer's next send answers.
    let replying = RwSignal::new(None::<ReplyTo>);
    let me_id = me.id;
    let author = Author::new(me.id, me.username.clone(), me.name.clone());

    let scroll_to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    };
    // Start at the newest message, or at the one a search jumped to.
    Effect::new(move |_| {
        if let Some(el) = list.get() {
            match focus {
                Some(number) => request_animation_frame(move || {
                    if let Ok(Some(target)) = el.query_selector(&format!("[data-number=\"{number}\"]")) {
                        target.scroll_into_view();
                    }
                }),
                None => scroll_to_bottom(),
            }
        }
    });
    // After a jump, the messages between the loaded page and the room's
    // newest at page load (`last_number`) are missing until scrolled to; live
    // ones arrive after them. `loaded_up_to` is the newest message before
    // that gap.
    let last_number = detail.conversation.last_number;
    let loaded_up_to = RwSignal::new(match focus {
        Some(_) => entries.with_untracked(|e| e.iter().map(|x| x.message.number).max().unwrap_or(0)),
        None => last_number,
    });
    let loading_newer = RwSignal::new(false);
    let gap_below = move || loaded_up_to.get() < last_number;

    let load_older = move || {
        if loading_older.get_untracked() || at_start() {
            return;
        }
        let Some(before) = oldest() else { return };
        loading_older.set(true);
        spawn_local(async move {
            let before_size = list.get_untracked().map(|el| (el.scroll_height(), el.scroll_top()));
            if let Ok(page) = load_messages(room_id, Some(before), None, None).await {
                entries.update(|e| merge(e, page.messages));
                // Keep the message that was at the top where it was.
                if let (Some(el), Some((height, top))) = (list.get_untracked(), before_size) {
                    request_animation_frame(move || el.set_scroll_top(el.scroll_height() - height + top));
                }
            }
            loading_older.set(false);
        });
    };
    let load_newer = move || {
        let after = loaded_up_to.get_untracked();
        if loading_newer.get_untracked() || after >= last_number {
            return;
        }
        loading_newer.set(true);
        spawn_local(async move {
            if let Ok(page) = load_messages(room_id, None, Some(after), None).await {
                // An empty page means the gap is gone (say, deleted history).
                let newest = page.messages.iter().map(|m| m.number).max().unwrap_or(last_number);
                entries.update(|e| merge(e, page.messages));
                loaded_up_to.set(newest.max(after));
            }
            loading_newer.set(false);
        });
    };
    let near_bottom =
        move || list.get_untracked().is_none_or(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 200);
    let on_scroll = move |_| {
        if list.get_untracked().is_some_and(|el| el.scroll_top() < 120) {
            load_older();
        }
        if near_bottom() {
            load_newer();
        }
    };

    // Mark the room read up to the newest confirmed message while it is shown.
    let last_marked = StoredValue::new(0i64);
    let focused = RwSignal::new(0u32);
    let focus_listener = window_event_listener(leptos::ev::focus, move |_| focused.update(|n| *n += 1));
    on_cleanup(move || focus_listener.remove());
    Effect::new(move |_| {
        let newest =
            entries.with(|e| e.iter().filter(|x| x.state == Delivery::Confirmed).map(|x| x.message.number).max());
        focused.track();
        if let Some(newest) = newest
            && newest > last_marked.get_value()
            && page_visible()
        {
            last_marked.set_value(newest);
            // Deferred: refreshing the room list re-renders the sidebar, which
            // must not happen while the page is still hydrating.
            set_timeout(
                move || {
                    spawn_local(async move {
                        if mark_read(room_id, newest).await.is_ok() {
                            chat.refresh_rooms();
                        }
                    })
                },
                std::time::Duration::from_millis(300),
            );
        }
    });

    // Live: this room's changes, typing, presence and read markers.
    let live = use_live();
    let room = detail.conversation.id;
    let last_seq = detail.conversation.last_seq;
    let typing = RwSignal::new(Vec::<(Author, f64)>::new());
    let online = RwSignal::new(HashSet::<UserId>::new());
    let markers = RwSignal::new(detail.read_markers.iter().copied().collect::<HashMap<UserId, i64>>());
    let other = (detail.conversation.kind == RoomKind::Direct)
        .then(|| detail.participants.iter().find(|p| p.id != me_id).map(|p| p.id))
        .flatten();
    let subscribed = RwSignal::new(false);
    let on_event = move |event: &ServerEvent| match event {
        ServerEvent::Subscribed { .. } => subscribed.set(true),
        ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
            let follow = near_bottom();
            let author = message.user_id;
            entries.update(|e| {
                merge(e, vec![message.clone()]);
                quoted_changed(e, message.number, message.body.as_deref());
                if let Some(quote) = &message.reply_to {
                    set_reply_count(e, quote);
                }
            });
            typing.update(|t| t.retain(|(u, _)| Some(u.id) != author));
            if follow {
                scroll_to_bottom();
            }
        }
        ServerEvent::MessageDeleted { number, reply_to, .. } => entries.update(|e| {
            mark_deleted(e, *number);
            quoted_changed(e, *number, None);
            if let Some(quote) = reply_to {
                set_reply_count(e, quote);
            }
        }),
        ServerEvent::Reacted { number, reactions, .. } => entries.update(|e| {
            for x in e.iter_mut().filter(|x| x.state == Delivery::Confirmed && x.message.number == *number) {
                x.message.reactions.clone_from(reactions);
            }
        }),
        ServerEvent::Typing { user, .. } if user.id != me_id => {
            let until = now_ms() + 5_000.0;
            typing.update(|t| {
                t.retain(|(u, _)| u.id != user.id);
                t.push((user.clone(), until));
            });
        }
        ServerEvent::Presence { user_id, online: is_online } => online.update(|o| {
            if *is_online {
                o.insert(*user_id);
            } else {
                o.remove(user_id);
            }
        }),
        ServerEvent::Read { user_id, number, .. } => markers.update(|m| {
            let marker = m.entry(*user_id).or_insert(0);
            *marker = (*marker).max(*number);
        }),
        ServerEvent::Resync { .. } => spawn_local(async move {
            subscribed.set(false);
            if let Ok(RoomView { detail: fresh, .. }) = room_detail(room.0, None).await {
                // The newest page: no gap below it any more.
                loaded_up_to.set(fresh.conversation.last_number);
                entries.set(fresh.messages.into_iter().map(Entry::confirmed).collect());
                markers.set(fresh.read_markers.into_iter().collect());
                live.resubscribe(room, fresh.conversation.last_seq);
            }
        }),
        _ => {}
    };
    let watch_token = StoredValue::new(0u64);
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            watch_token.set_value(live.watch(room, last_seq, on_event));
        }
    });
    on_cleanup(move || live.unwatch(room, watch_token.get_value()));
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
    let last_typing_sent = StoredValue::new(0f64);
    let announce_typing = move || {
        let now = now_ms();
        if now - last_typing_sent.get_value() > 2_000.0 {
            last_typing_sent.set_value(now);
            live.send(ClientEvent::Typing { room_id: room });
        }
    };
    let typing_line = move || {
        typing.with(|t| {
            let names: Vec<String> = t
                .iter()
                .map(|(u, _)| u.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| u.username.clone()))
                .collect();
            match names.len() {
                0 => String::new(),
                1 => format!("{} is typing…", names[0]),
                _ => format!("{} are typing…", names.join(", ")),
            }
        })
    };
    // "Seen": under the last of my messages the other person has read.
    let seen_at = Memo::new(move |_| {
        let marker = markers.with(|m| other.and_then(|o| m.get(&o).copied()))?;
        entries.with(|e| {
            e.iter()
                .filter(|x| {
                    x.state == Delivery::Confirmed && x.message.user_id == Some(me_id) && x.message.number <= marker
                })
                .map(|x| x.message.number)
                .max()
        })
    });
    let member_list = detail.participants.clone();

    // Sends one entry; true if the server has it. A failed one stays in
    // the list, marked, until it is sent again.
    let deliver_now = move |entry: Entry| async move {
        let client_id = entry.message.client_id.clone().unwrap_or_default();
        let body = entry.message.body.clone().unwrap_or_default();
        let reply_to = entry.message.reply_to.as_ref().map(|q| q.number);
        match send_message(room_id, body, Some(client_id.clone()), reply_to).await {
            Ok(message) => {
                entries.update(|e| merge(e, vec![message]));
                chat.refresh_rooms();
                true
            }
            Err(_) => {
                let follow = near_bottom();
                set_state(entries, &client_id, Delivery::Failed);
                if follow {
                    scroll_to_bottom();
                }
                false
            }
        }
    };
    let deliver = move |entry: Entry| {
        spawn_local(async move {
            deliver_now(entry).await;
        })
    };
    // When the link comes back, the messages that failed are sent again by
    // themselves, one after another in the order they were written (each is
    // idempotent by its client_id); the first that fails again stops the run.
    let resending = StoredValue::new(false);
    let resend_failed = move || {
        if resending.get_value() {
            return;
        }
        let queue: Vec<Entry> =
            entries.with_untracked(|e| e.iter().filter(|x| x.state == Delivery::Failed).cloned().collect());
        if queue.is_empty() {
            return;
        }
        resending.set_value(true);
        for entry in &queue {
            set_state(entries, entry.message.client_id.as_deref().unwrap_or_default(), Delivery::Sending);
        }
        spawn_local(async move {
            let mut queue = queue.into_iter();
            for entry in queue.by_ref() {
                if !deliver_now(entry).await {
                    break;
                }
            }
            for entry in queue {
                set_state(entries, entry.message.client_id.as_deref().unwrap_or_default(), Delivery::Failed);
            }
            resending.set_value(false);
        });
    };
    Effect::new(move |was: Option<LinkStatus>| {
        let now = live.status.get();
        if now == LinkStatus::Online && was.is_some_and(|was| was != LinkStatus::Online) {
            resend_failed();
        }
        now
    });
    let send = {
        let author = author.clone();
        move || {
            let body = draft.get_untracked();
            if body.trim().is_empty() {
                return;
            }
            draft.set(String::new());
            let quote = replying.get_untracked();
            replying.set(None);
            let entry = Entry {
                message: Message {
                    id: 0,
                    conversation_id: detail.conversation.id,
                    number: 0,
                    user_id: Some(me_id),
                    user: Some(author.clone()),
                    body: Some(body.trim().to_owned()),
                    client_id: Some(new_client_id()),
                    mentions: Vec::new(),
                    application: None,
                    created_at: now_stamp(),
                    edited_at: None,
                    deleted: false,
                    html: None,
                    reply_to: quote,
                    reply_count: 0,
                    reactions: Vec::new(),
                },
                state: Delivery::Sending,
            };
            entries.update(|e| e.push(entry.clone()));
            scroll_to_bottom();
            deliver(entry);
        }
    };
    let send_on_submit = send.clone();
    let retry = move |client_id: String| {
        let entry =
            entries.with_untracked(|e| e.iter().find(|x| x.message.client_id.as_deref() == Some(&client_id)).cloned());
        if let Some(mut entry) = entry {
            entry.state = Delivery::Sending;
            set_state(entries, &client_id, Delivery::Sending);
            deliver(entry);
        }
    };

    // The browser's time, ticking, for the edit window: unknown (Edit shown
    // to the author) while rendering on the server and hydrating, so both
    // renders agree.
    let now = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        now.set(Some(now_ms()));
        if let Ok(handle) = set_interval_with_handle(move || now.set(Some(now_ms())), std::time::Duration::from_secs(5))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let edit_window_ms = edit_window_secs as f64 * 1000.0;

    let clock = use_clock();
    let rows = move || {
        let local = clock.local.get();
        let list = entries.get();
        let mut previous_day = String::new();
        list.into_iter()
            .map(|entry| {
                let (day, _) = day_and_time(&entry.message.created_at, local);
                let separator = (day != previous_day && entry.state == Delivery::Confirmed).then(|| day.clone());
                if entry.state == Delivery::Confirmed {
                    previous_day = day;
                }
                (entry, separator)
            })
            .collect::<Vec<_>>()
    };

    view! {
        <section class="chat" data-room-id=room_id data-live=move || (subscribed.get() && live.status.get() == LinkStatus::Online).to_string()>
            <header class="chat-header">
                <h1>{title}</h1>
                <Show when=move || subscribed.get() && live.status.get() == LinkStatus::Online>
                    <span class="live-badge" title="Receiving messages live">"● Live"</span>
                </Show>
                <p class="muted members">
                    {member_list.into_iter().map(|p| {
                        let id = p.id;
                        view! {
                            <span class="member" class:online=move || online.with(|o| o.contains(&id)) data-user-id=id.0>
                                {p.username}
                            </span>
                        }
                    }).collect_view()}
                </p>
            </header>
            <div class="messages" node_ref=list on:scroll=on_scroll>
                <Show
                    when=at_start
                    fallback=move || view! {
                        <button type="button" class="load-older" on:click=move |_| load_older() disabled=move || loading_older.get()>
                            {move || if loading_older.get() { "Loading…" } else { "Load older messages" }}
                        </button>
                    }
                >
                    <p class="start-of-history muted">"This is the start of the conversation."</p>
                </Show>
                <For each=rows key=|(entry, separator)| (entry.key(), separator.clone()) let:row>
                    <MessageRow entry=row.0 separator=row.1 me_id admin editing replying room_id entries retry seen_at focus now edit_window_ms />
                </For>
                <Show when=gap_below>
                    <button type="button" class="load-newer" on:click=move |_| load_newer() disabled=move || loading_newer.get()>
                        {move || if loading_newer.get() { "Loading…" } else { "Load newer messages" }}
                    </button>
                </Show>
            </div>
            <Show when=gap_below>
                <a class="jump-latest" href=format!("/rooms/{room_id}")>"Jump to the newest messages"</a>
            </Show>
            <p class="typing muted" aria-live="polite">{typing_line}</p>
            <form
                class="composer"
                method="post"
                action=SendMessage::url()
                on:submit=move |ev| {
                    ev.prevent_default();
                    send_on_submit();
                }
            >
                <input type="hidden" name="room_id" value=room_id />
                {move || replying.get().map(|quote| {
                    let who = quote
                        .user
                        .as_ref()
                        .map(|u| u.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| u.username.clone()))
                        .unwrap_or_else(|| "Someone".into());
                    view! {
                        <div class="replying" role="status">
                            <input type="hidden" name="reply_to" value=quote.number />
                            <span class="muted">"Replying to " {who} ": "</span>
                            <span class="reply-snippet">{quote.snippet.clone().unwrap_or_default()}</span>
                            <button type="button" class="link" aria-label="Cancel the reply" on:click=move |_| replying.set(None)>"×"</button>
                        </div>
                    }
                })}
                <textarea
                    id="composer-body"
                    name="body"
                    rows="2"
                    placeholder="Write a message — Enter sends, Shift+Enter for a new line"
                    aria-label="Message"
                    bind:value=draft
                    on:input=move |_| announce_typing()
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <button type="submit">"Send"</button>
            </form>
        </section>
    }
}

#[component]
fn MessageRow(
    entry: Entry,
    separator: Option<String>,
    me_id: hearth::model::UserId,
    admin: bool,
    editing: RwSignal<Option<i64>>,
    replying: RwSignal<Option<ReplyTo>>,
    room_id: i64,
    entries: RwSignal<Vec<Entry>>,
    retry: impl Fn(String) + Copy + Send + Sync + 'static,
    seen_at: Memo<Option<i64>>,
    focus: Option<i64>,
    now: RwSignal<Option<f64>>,
    edit_window_ms: f64,
) -> impl IntoView {
    let m = entry.message.clone();
    let number = m.number;
    let confirmed_live = entry.state == Delivery::Confirmed && !m.deleted;
    let quote = quote_of(&m);
    let shown = StoredValue::new(m.clone());
    let set_reactions = move |reactions: Vec<hearth::model::Reaction>| {
        entries.update(|e| {
            for x in e.iter_mut().filter(|x| x.state == Delivery::Confirmed && x.message.number == number) {
                x.message.reactions.clone_from(&reactions);
            }
        })
    };
    let clock = use_clock();
    let time = {
        let stamp = m.created_at.clone();
        move || day_and_time(&stamp, clock.local.get()).1
    };
    let author = m
        .user
        .as_ref()
        .map(|u| u.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| u.username.clone()))
        .or_else(|| m.application.clone())
        .unwrap_or_else(|| "Unknown".into());
    // Messages of a deactivated account stay, marked as theirs.
    let deactivated = m.user.as_ref().is_some_and(|u| u.deactivated);
    let mine = m.user_id == Some(me_id) && entry.state == Delivery::Confirmed && !m.deleted;
    // The author deletes their own; an admin anyone's.
    let deletable = (mine || admin) && entry.state == Delivery::Confirmed && !m.deleted;
    // Edit is offered while the edit window is open (by the browser's clock;
    // the server has the last word, and its refusal is shown).
    let sent_ms = stamp_ms(&m.created_at);
    let editable = move || {
        mine && match (now.get(), sent_ms) {
            (Some(now), Some(sent)) => now < sent + edit_window_ms,
            _ => true,
        }
    };
    let refusal = RwSignal::new(None::<String>);
    let draft = RwSignal::new(m.body.clone().unwrap_or_default());
    let client_id = m.client_id.clone().unwrap_or_default();
    let state_class = match entry.state {
        Delivery::Confirmed if focus == Some(number) => "message focused",
        Delivery::Confirmed => "message",
        Delivery::Sending => "message pending",
        Delivery::Failed => "message failed",
    };
    let save = move || {
        let body = draft.get_untracked();
        refusal.set(None);
        spawn_local(async move {
            match edit_message(room_id, number, body).await {
                Ok(updated) => {
                    entries.update(|e| merge(e, vec![updated]));
                    editing.set(None);
                }
                Err(error) => refusal.set(Some(refusal_text(&error))),
            }
        });
    };
    let remove = move |_| {
        refusal.set(None);
        spawn_local(async move {
            match delete_message(room_id, number).await {
                Ok(()) => entries.update(|e| mark_deleted(e, number)),
                Err(error) => refusal.set(Some(refusal_text(&error))),
            }
        });
    };
    view! {
        {separator.map(|day| view! { <div class="day-separator" role="separator"><span>{day}</span></div> })}
        <article class=state_class data-number=number data-client-id=client_id.clone()>
            <header>
                <span class="author">{author}</span>
                {deactivated.then(|| view! { <span class="deactivated-badge">"deactivated"</span> })}
                <time datetime=m.created_at.clone()>{time}</time>
                {m.edited_at.is_some().then(|| view! { <span class="edited muted">"(edited)"</span> })}
                {(entry.state == Delivery::Sending).then(|| view! { <span class="muted sending">"Sending…"</span> })}
            </header>
            {m.reply_to.clone().map(|quote| view! { <ReplyQuote quote room_id /> })}
            <Show
                when=move || editing.get() == Some(number) && mine
                fallback=move || shown.with_value(|m| view! { <MessageText html=m.html.clone() body=m.body.clone() /> })
            >
                <div class="edit">
                    <textarea aria-label="Edit message" bind:value=draft></textarea>
                    <button type="button" on:click=move |_| save()>"Save"</button>
                    <button type="button" class="link" on:click=move |_| {
                        refusal.set(None);
                        editing.set(None);
                    }>"Cancel"</button>
                </div>
            </Show>
            <ReplyCount count=m.reply_count />
            {(confirmed_live || !m.reactions.is_empty()).then(|| view! {
                <Reactions room_id number reactions=m.reactions.clone() me_id changed=set_reactions can_react=confirmed_live />
            })}
            {confirmed_live.then(|| view! {
                <div class="actions">
                    <button type="button" class="link reply" title="Reply to this message" on:click=move |_| {
                        replying.set(Some(quote.clone()));
                        focus_composer();
                    }>"Reply"</button>
                    {mine.then(|| view! {
                        <Show when=editable>
                            <button type="button" class="link" on:click=move |_| editing.set(Some(number))>"Edit"</button>
                        </Show>
                    })}
                    {deletable.then(|| view! {
                        <button type="button" class="link" on:click=remove>"Delete"</button>
                    })}
                </div>
            })}
            {move || refusal.get().map(|text| view! { <p class="form-error refusal" role="alert">{text}</p> })}
            <Show when=move || { seen_at.get() == Some(number) && number > 0 }>
                <p class="seen muted">"Seen"</p>
            </Show>
            {(entry.state == Delivery::Failed).then(|| {
                let client_id = client_id.clone();
                view! {
                    <p class="form-error">"Not sent. " <button type="button" class="link" on:click=move |_| retry(client_id.clone())>"Retry"</button></p>
                }
            })}
        </article>
    }
}
