//! Chat state shared by the sidebar and the chat window: the room list as a
//! resource that refetches on navigation and whenever a page asks.

use hearth::model::ConversationSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::list_conversations;
use crate::error::UiError;
use crate::live::{LinkStatus, use_live};
use hearth::protocol::ServerEvent;

#[derive(Clone, Copy)]
pub struct Chat {
    pub rooms: Resource<Result<Vec<ConversationSummary>, UiError>>,
    refresh: RwSignal<u32>,
}

impl Chat {
    /// Refetches the room list (after a send, a read, a join…).
    pub fn refresh_rooms(&self) {
        self.refresh.update(|n| *n += 1);
    }
}

pub fn provide_chat() {
    let refresh = RwSignal::new(0u32);
    let location = use_location();
    let rooms = Resource::new(move || (refresh.get(), location.pathname.get()), |_| list_conversations());
    let chat = Chat { rooms, refresh };
    provide_context(chat);

    // Live badges: follow every room of mine, and refetch the list (which
    // carries the server's unread counts) shortly after anything changes.
    let live = use_live();
    Effect::new(move |_| {
        if let Some(Ok(rooms)) = rooms.get() {
            live.follow(rooms.iter().map(|r| r.id));
        }
    });
    let pending = StoredValue::new(false);
    let refresh_soon = move || {
        if !pending.get_value() {
            pending.set_value(true);
            set_timeout(
                move || {
                    pending.set_value(false);
                    chat.refresh_rooms();
                },
                std::time::Duration::from_millis(250),
            );
        }
    };
    // Whatever happened while the link was down (or before it first came
    // up) is caught up by one refetch when it comes up.
    Effect::new(move |was: Option<LinkStatus>| {
        let now = live.status.get();
        if now == LinkStatus::Online && was != Some(LinkStatus::Online) && was.is_some() {
            refresh_soon();
        }
        now
    });
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            live.on_event(move |event| match event {
                // The open room marks itself read and refreshes the list then.
                ServerEvent::Message { room_id, .. }
                    if location.pathname.get_untracked() != format!("/rooms/{room_id}") =>
                {
                    refresh_soon()
                }
                ServerEvent::MessageDeleted { .. } | ServerEvent::Room { .. } => refresh_soon(),
                _ => {}
            });
        }
    });
}

pub fn use_chat() -> Chat {
    expect_context::<Chat>()
}

/// `2026-11-23T19:27:46.123456Z` → (`2026-11-23`, `19:27`), in UTC so the
/// server's render and the browser's agree.
pub fn day_and_time(stamp: &str) -> (String, String) {
    let day = stamp.get(..10).unwrap_or(stamp).to_owned();
    let time = stamp.get(11..16).unwrap_or("").to_owned();
    (day, time)
}

/// A short preview of a message body for the room list.
pub fn preview(body: &str, max: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}
