//! The room list beside every signed-in page, in two sections: "Rooms"
//! (groups and open rooms) and "Direct messages" (by the other person's
//! name, with whether they are online). Each entry shows a preview of the
//! newest message and unread badges whose accessible names say the count;
//! entries are ordered by activity, and the current room is marked
//! (`aria-current="page"`) and scrolled into view. Above the list, desktop notifications are
//! offered once, and a "Jump to…" field (Ctrl+K or ⌘K from anywhere)
//! narrows the list to the conversations whose name holds what is typed;
//! Enter opens the first, Escape empties it.

use hearth::model::{ConversationSummary, Profile, RoomKind, UserId};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::chat::use_chat;
use crate::components::avatar::Avatar;
use crate::components::desktop_notifications::NotificationOffer;
use crate::components::form::shown_for;
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
    // Those I closed are followed (the frame's `follow`), not listed.
    let rooms = rooms.map(|rooms| rooms.into_iter().filter(|room| !room.closed).collect::<Vec<_>>());
    let filter = chat.filter;
    let keys: Vec<String> = rooms.iter().flatten().map(|room| filter_key(room, me.id)).collect();
    let matching = Memo::new(move |_| filter.with(|f| keys.iter().filter(|key| shown_for(key, f)).count()));
    let filtering = move || filter.with(|f| !f.trim().is_empty());
    let any_unread = rooms.iter().flatten().any(|room| room.unread_count > 0);
    #[cfg(feature = "hydrate")]
    {
        // Ctrl+K (⌘K) from anywhere: to the field, its text selected.
        let shortcut = window_event_listener(leptos::ev::keydown, |ev| {
            if (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key() && ev.key().eq_ignore_ascii_case("k") {
                ev.prevent_default();
                if let Some(field) = document().get_element_by_id("room-filter") {
                    let field: web_sys::HtmlInputElement = wasm_bindgen::JsCast::unchecked_into(field);
                    let _ = field.focus();
                    field.select();
                }
            }
        });
        on_cleanup(move || shortcut.remove());
    }
    // Enter opens the first conversation shown (as a click on it would);
    // Escape empties the field.
    let keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            if let Some(first) = document().query_selector(".sidebar li:not([hidden]) > a.room-link").ok().flatten() {
                let first: web_sys::HtmlElement = wasm_bindgen::JsCast::unchecked_into(first);
                first.click();
            }
        }
        "Escape" => filter.set(String::new()),
        _ => {}
    };
    view! {
        <aside class="sidebar">
            <form method="get" action="/find" class="sidebar-search">
                <input type="search" name="q" placeholder="Search messages" aria-label="Search messages" />
            </form>
            <nav class="sidebar-links" aria-label="Shortcuts">
                <a href="/people" class="new-message">"New message"</a>
                <a href="/browse">"Open rooms"</a>
                <a href="/saved" class="saved-link">"Saved messages"</a>
            </nav>
            <NotificationOffer />
            <div class="room-filter">
                <input
                    type="search"
                    id="room-filter"
                    placeholder="Jump to…"
                    aria-label="Jump to a conversation"
                    aria-keyshortcuts="Control+K Meta+K"
                    autocomplete="off"
                    spellcheck="false"
                    bind:value=filter
                    on:keydown=keydown
                />
                <p class="visually-hidden" role="status">
                    {move || filtering().then(|| match matching.get() {
                        0 => "No conversation matches".to_owned(),
                        1 => "1 conversation matches".to_owned(),
                        n => format!("{n} conversations match"),
                    })}
                </p>
            </div>
            {any_unread.then(|| view! { <MarkAllRead /> })}
            {error.map(|_| view! {
                <div class="load-error" role="alert">
                    <p>"Could not load your conversations."</p>
                    <button type="button" on:click=move |_| chat.refresh_rooms()>"Retry"</button>
                </div>
            })}
            {rooms.map(|rooms| {
                let twins = same_names(&rooms, me.id);
                let (direct, shared): (Vec<_>, Vec<_>) = rooms.into_iter().partition(|r| r.kind == RoomKind::Direct);
                view! {
                    <Section id="rooms" heading="Rooms" empty="No rooms yet." rooms=shared me=me.clone() twins=twins.clone() />
                    <Section id="direct" heading="Direct messages" empty="No direct messages yet." rooms=direct me=me.clone() twins />
                }
            })}
            <p class="muted no-match" hidden=move || !(filtering() && matching.get() == 0)>
                "No conversation's name holds “"{move || filter.get().trim().to_owned()}"”."
            </p>
        </aside>
    }
}

/// "Mark all as read", while any room counts unread messages: every room's
/// marker to its newest message. The list is read again at once (my other
/// tabs hear of each room's count); a refusal is said beside it.
#[component]
fn MarkAllRead() -> impl IntoView {
    let chat = use_chat();
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let mark = move |_| {
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let done = crate::api::mark_all_read().await;
            let _ = busy.try_set(false);
            match done {
                Ok(_) => chat.refresh_rooms(),
                Err(err) => _ = problem.try_set(Some(err.to_string())),
            }
        });
    };
    view! {
        <div class="mark-all-read">
            <button type="button" class="link" disabled=move || busy.get() on:click=mark>"Mark all as read"</button>
            {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </div>
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
    twins: Vec<String>,
) -> impl IntoView {
    let heading_id = format!("sidebar-{id}");
    let labelled_by = heading_id.clone();
    // While the list is narrowed, a section with nothing that matches is
    // left out.
    let filter = use_chat().filter;
    let keys: Vec<String> = rooms.iter().map(|room| filter_key(room, me.id)).collect();
    let left_out = move || filter.with(|f| !f.trim().is_empty() && !keys.iter().any(|key| shown_for(key, f)));
    view! {
        <section class="room-section" data-section=id aria-labelledby=labelled_by hidden=left_out>
            <h2 id=heading_id>{heading}</h2>
            {if rooms.is_empty() {
                view! { <p class="muted empty-rooms">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="room-list">
                        {rooms.into_iter().map(|room| {
                            let twin = twins.contains(&room.display_title(me.id));
                            view! { <RoomLink room me=me.clone() twin /> }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// What "Jump to…" looks in for `room`: the name the list shows, and for a
/// direct room the other person's username too, in lower case.
fn filter_key(room: &ConversationSummary, me: UserId) -> String {
    let mut key = room.display_title(me);
    if room.kind == RoomKind::Direct
        && let Some(other) = room.users.iter().find(|u| u.id != me)
    {
        key.push(' ');
        key.push_str(&other.username);
    }
    key.to_lowercase()
}

/// "3 unread messages", "1 unread mention": a badge's accessible name.
fn count_label(count: i64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The names the list shows more than once: a direct room by one of them
/// says whose @username it is (a display name is anyone's to take).
fn same_names(rooms: &[ConversationSummary], me: UserId) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut twins: Vec<String> = Vec::new();
    for title in rooms.iter().map(|room| room.display_title(me)) {
        if !seen.insert(title.clone()) && !twins.contains(&title) {
            twins.push(title);
        }
    }
    twins
}

#[component]
fn RoomLink(room: ConversationSummary, me: Profile, twin: bool) -> impl IntoView {
    let location = use_location();
    let href = format!("/rooms/{}", room.id);
    let current = {
        let href = href.clone();
        move || location.pathname.get() == href
    };
    let title = room.display_title(me.id);
    let filter = use_chat().filter;
    let key = filter_key(&room, me.id);
    let left_out = move || filter.with(|f| !shown_for(&key, f));
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
    let handle = other_person.as_ref().filter(|_| twin).map(|person| format!(" @{}", person.username));
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
        <li hidden=left_out>
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
                // Found and opened: the list is whole again.
                on:click=move |_| {
                    if filter.with_untracked(|f| !f.is_empty()) {
                        filter.set(String::new());
                    }
                }
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
                    {handle.map(|handle| view! { <span class="room-handle">{handle}</span> })}
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

#[cfg(test)]
mod tests {
    use super::*;
    use hearth::model::{NotifyLevel, Person, RoomId};

    const ME: UserId = UserId(1);

    fn room(kind: RoomKind, title: Option<&str>) -> ConversationSummary {
        let person = |id: i64, username: &str, name: &str| Person {
            id: UserId(id),
            username: username.into(),
            name: Some(name.into()),
            avatar_url: None,
            deactivated: false,
        };
        ConversationSummary {
            id: RoomId(7),
            title: title.map(Into::into),
            topic: None,
            group: kind != RoomKind::Direct,
            kind,
            updated_at: String::new(),
            archived_at: None,
            users: vec![person(1, "me", "Me Myself"), person(2, "zoe_k", "Zoë Kowalska")],
            last_message: None,
            unread_count: 0,
            unread_mentions: 0,
            notify_level: NotifyLevel::Mentions,
            closed_at: None,
            closed: false,
        }
    }

    #[test]
    fn a_direct_room_is_found_by_the_other_persons_name_or_username_in_any_case() {
        let key = filter_key(&room(RoomKind::Direct, None), ME);
        for typed in ["zoë", "KOWAL", "zoe_k", " ska ", ""] {
            assert!(shown_for(&key, typed), "{typed:?} finds {key:?}");
        }
        for typed in ["me", "myself", "zoe k", "launch"] {
            assert!(!shown_for(&key, typed), "{typed:?} does not find {key:?}");
        }
    }

    #[test]
    fn a_room_is_found_by_its_title_and_not_by_its_members() {
        let key = filter_key(&room(RoomKind::Open, Some("Launch Crew")), ME);
        assert!(shown_for(&key, "launch c") && shown_for(&key, "CREW"));
        assert!(!shown_for(&key, "zoe_k"), "{key:?}");
        // A group without a title is called by its members' names.
        let key = filter_key(&room(RoomKind::Group, None), ME);
        assert!(shown_for(&key, "zoë"), "{key:?}");
    }
}
