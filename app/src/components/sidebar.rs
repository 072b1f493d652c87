//! The room list beside every signed-in page: direct rooms by the other
//! person's name, a preview of the newest message, unread badges, ordered by
//! activity, with the current room highlighted.

use hearth::model::{ConversationSummary, Profile};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::chat::{preview, use_chat};
use crate::error::UiError;

/// Rendered by the frame once the user and their rooms are loaded (one
/// Suspense boundary for both: nested boundaries break hydration). A list
/// that could not be loaded (offline, say) is an error with a retry above
/// the last list that did load, never an empty list; it is fetched again by
/// itself when the link returns.
#[component]
pub fn Sidebar(me: Profile, rooms: Result<Vec<ConversationSummary>, UiError>) -> impl IntoView {
    let chat = use_chat();
    let (rooms, error) = chat.rooms_or_known(rooms);
    view! {
        <aside class="sidebar">
            <form method="get" action="/find" class="sidebar-search">
                <input type="search" name="q" placeholder="Search messages" aria-label="Search messages" />
            </form>
            <nav class="sidebar-links">
                <a href="/people" class="new-message">"New message"</a>
                <a href="/browse">"Open rooms"</a>
            </nav>
            <h2>"Conversations"</h2>
            {error.map(|_| view! {
                <div class="load-error" role="alert">
                    <p>"Could not load your conversations."</p>
                    <button type="button" on:click=move |_| chat.refresh_rooms()>"Retry"</button>
                </div>
            })}
            {match rooms {
                None => ().into_any(),
                Some(rooms) if rooms.is_empty() => {
                    view! { <p class="muted empty-rooms">"No conversations yet."</p> }.into_any()
                }
                Some(rooms) => view! {
                    <ul class="room-list">
                        {rooms.into_iter().map(|room| view! { <RoomLink room me=me.clone() /> }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </aside>
    }
}

#[component]
fn RoomLink(room: ConversationSummary, me: Profile) -> impl IntoView {
    let location = use_location();
    let href = format!("/rooms/{}", room.id);
    let current = {
        let href = href.clone();
        move || location.pathname.get() == href
    };
    let title = room.display_title(me.id);
    let last = room.last_message.as_ref().map(|m| match &m.body {
        Some(body) => {
            let who = if m.user_id == Some(me.id) { "You: " } else { "" };
            format!("{who}{}", preview(body, 60))
        }
        None => "Message deleted".to_owned(),
    });
    let unread = room.unread_count;
    let mentions = room.unread_mentions;
    view! {
        <li>
            <a href=href class="room-link" class:current=current data-room-id=room.id.0 data-kind=room.kind.as_str()>
                <span class="room-title">{title}</span>
                <span class="badges">
                    {(mentions > 0).then(|| view! { <span class="mentions" aria-label="unread mentions">"@"{mentions}</span> })}
                    {(unread > 0).then(|| view! { <span class="unread" aria-label="unread messages">{unread}</span> })}
                </span>
                <span class="room-preview">{last.unwrap_or_else(|| "No messages yet".to_owned())}</span>
            </a>
        </li>
    }
}
