//! Chat state shared by the sidebar and the chat window: the room list as a
//! resource that refetches on navigation and whenever a page asks.

use hearth::model::ConversationSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::list_conversations;
use crate::error::UiError;

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
    provide_context(Chat { rooms, refresh });
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
