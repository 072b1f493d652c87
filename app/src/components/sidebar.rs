//! The room list beside every signed-in page, in two sections: "Rooms"
//! (groups and open rooms) and "Direct messages" (by the other person's
//! name, with whether they are online). Each entry shows a preview of the
//! newest message and unread badges whose accessible names say the count;
//! entries are ordered by activity, and the current room is marked
//! (`aria-current="page"`) and scrolled into view. Above the list, desktop notifications are
//! offered once.

use hearth::model::{ConversationSummary, Profile, RoomKind, UserId};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::chat::use_chat;
use crate::components::avatar::Avatar;
use crate::components::desktop_notifications::NotificationOffer;
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
            <nav class="sidebar-links" aria-label="Start a conversation">
                <a href="/people" class="new-message">"New message"</a>
                <a href="/browse">"Open rooms"</a>
            </nav>
            <NotificationOffer />
            {error.map(|_| view! {
                <div class="load-error" role="alert">
                    <p>"Could not load your conversations."</p>
                    <button type="button" on:click=move |_| chat.refresh_rooms()>"Retry"</button>
                </div>
            })}
            {rooms.map(|rooms| {
                let (direct, shared): (Vec<_>, Vec<_>) = rooms.into_iter().partition(|r| r.kind == RoomKind::Direct);
                view! {
                    <Section id="rooms" heading="Rooms" empty="No rooms yet." rooms=shared me=me.clone() />
                    <Section id="direct" heading="Direct messages" empty="No direct messages yet." rooms=direct me=me.clone() />
                }
            })}
        </aside>
    }
}

/// One section: its heading and its list, or a line saying it is empty.
#[component]
fn Section(
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    rooms: Vec<ConversationSummary>,
    me: Profile,
) -> impl IntoView {
    let heading_id = format!("sidebar-{id}");
    let labelled_by = heading_id.clone();
    view! {
        <section class="room-section" data-section=id aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            {if rooms.is_empty() {
                view! { <p class="muted empty-rooms">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="room-list">
                        {rooms.into_iter().map(|room| view! { <RoomLink room me=me.clone() /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// "3 unread messages", "1 unread mention": a badge's accessible name.
fn count_label(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
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
    // The message as it reads, its Markdown's markup taken out on the server.
    let last = room.last_message.as_ref().map(|m| match m.text.as_ref().or(m.body.as_ref()) {
        Some(text) => {
            // Who said it: "You", or in a room of several people its sender
            // (a direct room has only the other person to say it).
            let who = if m.user_id == Some(me.id) {
                "You: ".to_owned()
            } else if room.kind == RoomKind::Direct {
                String::new()
            } else {
                m.user_id
                    .and_then(|id| room.users.iter().find(|u| u.id == id))
                    .map(|u| format!("{}: ", u.display_name()))
                    .unwrap_or_default()
            };
            format!("{who}{}", hearth::model::cut_line(text, 60))
        }
        None => "Message deleted".to_owned(),
    });
    let unread = room.unread_count;
    let mentions = room.unread_mentions;
    // A room I muted still counts what I have not read, quieter, and the
    // tab's total leaves it out.
    let muted = room.notify_level == hearth::model::NotifyLevel::Nothing;
    // A direct room shows the other person's avatar, and on it whether
    // they are online.
    let other_person =
        (room.kind == RoomKind::Direct).then(|| room.users.iter().find(|u| u.id != me.id).cloned()).flatten();
    let other = other_person.as_ref().map(|p| p.id);
    // The current room is scrolled into the list's view (a long list would
    // otherwise hide it), on opening and whenever the list is drawn again.
    let link = NodeRef::<leptos::html::A>::new();
    #[cfg(feature = "hydrate")]
    Effect::new({
        let current = current.clone();
        move |_| {
            if current()
                && let Some(link) = link.get()
            {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                link.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
    });
    view! {
        <li>
            <a
                node_ref=link
                href=href
                class="room-link"
                class:current=current.clone()
                aria-current=move || current().then_some("page")
                data-room-id=room.id.0
                data-kind=room.kind.as_str()
                class:with-avatar=other.is_some()
                class:muted-room=muted
            >
                {other_person.map(|person| {
                    let (id, name, url) = (person.id, person.display_name().to_owned(), person.avatar_url.unwrap_or_default());
                    view! {
                        <span class="room-avatar">
                            <Avatar id name url />
                            <PresenceDot user=id />
                        </span>
                    }
                })}
                <span class="room-title">
                    {title}
                    {other.map(|other| view! { <PresenceText user=other /> })}
                    {muted.then(|| view! { <span class="muted-mark" title="Muted">" (muted)"</span> })}
                </span>
                <span class="badges">
                    {(mentions > 0).then(|| view! {
                        <span class="mentions" role="img" aria-label=count_label(mentions, "unread mention", "unread mentions")>"@"{mentions}</span>
                    })}
                    {(unread > 0).then(|| view! {
                        <span class="unread" role="img" aria-label=count_label(unread, "unread message", "unread messages")>{unread}</span>
                    })}
                </span>
                <span class="room-preview">{last.unwrap_or_else(|| "No messages yet".to_owned())}</span>
            </a>
        </li>
    }
}

/// A dot before a direct room's name: filled when the other person is
/// online, hollow when not (a shape, not colour alone), with
/// [`PresenceText`] saying the same after the name for screen readers.
/// Offline until the browser hears otherwise, so the server's render and
/// hydration agree. Both read the frame's presence directly, not a signal
/// made for the row: a presence change and the list being redrawn come
/// together on a reconnect, and an update already queued for a row being
/// dropped would read that row's signal after it was gone (a panic).
#[component]
fn PresenceDot(user: UserId) -> impl IntoView {
    let chat = use_chat();
    let online = move || chat.is_online(user);
    view! { <span class="presence" class:online=online data-online=move || online().to_string() aria-hidden="true"></span> }
}

#[component]
fn PresenceText(user: UserId) -> impl IntoView {
    let chat = use_chat();
    view! { <span class="visually-hidden presence-text">{move || if chat.is_online(user) { ", online" } else { ", offline" }}</span> }
}
