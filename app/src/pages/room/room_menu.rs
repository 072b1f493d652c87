//! The room header's actions: for every room, my notification level; for a
//! group or open room, its details (kind and members; for its creator or an
//! admin, removing members, its name, topic and archiving), adding people,
//! and leaving
//! (asked first). Direct rooms have none of those: they can neither
//! grow nor be left.

use hearth::model::{NotificationSettings, NotifyLevel, Person, RoomKind, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::{
    add_people, archive_room, change_room, leave_room, remove_person, search_people, set_notification_level,
};
use crate::chat::use_chat;
use crate::components::avatar::Avatar;

#[component]
pub fn RoomMenu(
    room_id: i64,
    kind: RoomKind,
    /// Who is in the room, shared with the header (adding someone here
    /// shows there at once).
    members: RwSignal<Vec<Person>>,
    me_id: UserId,
    /// Archived (read-only): no one is added any more.
    archived: RwSignal<bool>,
    /// The room's topic, as the header shows it (cut to one line there;
    /// whole here, for every member).
    topic: RwSignal<Option<String>>,
    /// The header's name and topic, when I may change them (the room's
    /// creator or an admin): Room details then offers to, and to archive it.
    manage: Option<(RwSignal<String>, RwSignal<Option<String>>)>,
) -> impl IntoView {
    let menu: NodeRef<leptos::html::Div> = NodeRef::new();
    // "Leave this room?" is open: a panel too, though no `details`.
    let leaving = RwSignal::new(false);
    // Whose removal is being asked about, and why the last one failed.
    let removing: RwSignal<Option<(UserId, Option<String>)>> = RwSignal::new(None);
    // One panel at a time (details sharing a `name` are exclusive), and Esc
    // or a press anywhere else (Archive this room… asking first included)
    // closes it, as a menu does.
    #[cfg(feature = "hydrate")]
    crate::browser::close_on_press_outside(".room-menu", move || {
        if let Some(menu) = menu.get_untracked() {
            close_panels(&menu, false);
            leaving.set(false);
        }
    });
    // The question and the other panels exclude each other too: asking
    // closes the open panel, and a panel opening (by click or key: its
    // `toggle`, which does not bubble, is caught on its way down) closes
    // the question, so that neither covers the other.
    Effect::new(move |_| {
        if leaving.get()
            && let Some(menu) = menu.get_untracked()
        {
            close_panels(&menu, false);
        }
    });
    let panel_toggled = move |ev: leptos::ev::Event| {
        let opened = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|panel| panel.has_attribute("open"));
        if opened {
            leaving.set(false);
        }
    };
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape"
            && let Some(menu) = menu.get_untracked()
        {
            close_panels(&menu, true);
            leaving.set(false);
        }
    };
    view! {
        <div class="room-menu" node_ref=menu on:keydown=escape on:toggle:capture=panel_toggled>
            <details class="room-details" name="room-menu">
                <summary>"Room details"</summary>
                <div class="room-popover">
                    <p class="room-kind">
                        {match kind {
                            RoomKind::Open => "Open room: anyone can find and join it.",
                            _ => "Private group: only its members see it.",
                        }}
                    </p>
                    {move || topic.get().map(|topic| view! { <p class="room-topic">{topic}</p> })}
                    <h2>{move || members.with(|m| if m.len() == 1 { "1 member".to_owned() } else { format!("{} members", m.len()) })}</h2>
                    <ul class="room-members">
                        {move || members.get().into_iter().map(|p| {
                            let name = p.display_name().to_owned();
                            // Its creator or an admin may remove the others.
                            let removable = manage.is_some() && p.id != me_id;
                            view! {
                                <li data-user-id=p.id.0>
                                    <Avatar id=p.id name=name.clone() url=p.avatar_url.clone().unwrap_or_default() />
                                    {name.clone()} " " <span class="muted">"@"{p.username.clone()}</span>
                                    {removable.then(|| view! {
                                        <Show when=move || !archived.get()>
                                            <RemovePerson room_id user=p.id name=name.clone() members removing />
                                        </Show>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {move || removing.get().and_then(|(_, failed)| failed).map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
                    {manage.map(|(title, topic)| view! {
                        <Show when=move || !archived.get()>
                            <RoomSettings room_id title topic archived />
                        </Show>
                    })}
                </div>
            </details>
            <Show when=move || !archived.get()>
                <AddPeople room_id members me_id />
            </Show>
            <Leave room_id asking=leaving />
        </div>
    }
}

/// Remove beside a member in Room details, asked first ("Remove Dave?").
/// The removed person's window hears of it as a room event, the other
/// members' as a change of the room.
#[component]
fn RemovePerson(
    room_id: i64,
    user: UserId,
    name: String,
    members: RwSignal<Vec<Person>>,
    removing: RwSignal<Option<(UserId, Option<String>)>>,
) -> impl IntoView {
    let asking = move || removing.with(|r| r.as_ref().is_some_and(|(who, _)| *who == user));
    // Focus follows the question: onto "Remove" when it is asked, back to
    // the row's Remove on Cancel.
    let confirm: NodeRef<leptos::html::Button> = NodeRef::new();
    let opener: NodeRef<leptos::html::Button> = NodeRef::new();
    let back = StoredValue::new(false);
    crate::browser::focus_when_shown(confirm, None);
    crate::browser::focus_when_shown(opener, Some(back));
    let remove = move |_| {
        spawn_local(async move {
            match remove_person(room_id, user.0).await {
                Ok(()) => {
                    members.try_update(|m| m.retain(|p| p.id != user));
                    let _ = removing.try_set(None);
                }
                Err(err) => {
                    let _ = removing.try_set(Some((user, Some(err.to_string()))));
                }
            }
        });
    };
    let label = format!("Remove {name}");
    view! {
        <Show
            when=asking
            fallback=move || view! {
                <button type="button" class="link remove-person" node_ref=opener aria-label=label.clone() on:click=move |_| removing.set(Some((user, None)))>
                    "Remove"
                </button>
            }
        >
            <span
                class="confirm-remove"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        ev.stop_propagation();
                        back.set_value(true);
                        removing.set(None);
                    }
                }
            >
                {format!("Remove {name}? ")}
                <button type="button" class="danger" node_ref=confirm on:click=remove>"Remove"</button>
                " "
                <button type="button" class="link" on:click=move |_| { back.set_value(true); removing.set(None); }>"Cancel"</button>
            </span>
        </Show>
    }
}

/// The room's name and topic, saved together, and Archive (asked first),
/// for its creator or an admin. The header shows a saved change at once;
/// every other member's list hears of it as a room event.
#[component]
fn RoomSettings(
    room_id: i64,
    title: RwSignal<String>,
    topic: RwSignal<Option<String>>,
    archived: RwSignal<bool>,
) -> impl IntoView {
    let new_title = RwSignal::new(title.get_untracked());
    let new_topic = RwSignal::new(topic.get_untracked().unwrap_or_default());
    let status = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);
    let asking = RwSignal::new(false);
    let confirm: NodeRef<leptos::html::Button> = NodeRef::new();
    let opener: NodeRef<leptos::html::Button> = NodeRef::new();
    let back = StoredValue::new(false);
    crate::browser::focus_when_shown(confirm, None);
    crate::browser::focus_when_shown(opener, Some(back));
    let chat = use_chat();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        status.set(None);
        failed.set(None);
        spawn_local(async move {
            match change_room(room_id, new_title.get_untracked(), new_topic.get_untracked()).await {
                Ok(room) => {
                    let _ = title.try_set(room.title.clone().unwrap_or_default());
                    let _ = topic.try_set(room.topic.clone().filter(|t| !t.trim().is_empty()));
                    let _ = status.try_set(Some("Saved.".to_owned()));
                    chat.refresh_rooms();
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not save: {error}"))),
            }
        });
    };
    let archive = move |_| {
        failed.set(None);
        spawn_local(async move {
            match archive_room(room_id).await {
                Ok(()) => {
                    let _ = asking.try_set(false);
                    let _ = archived.try_set(true);
                    chat.refresh_rooms();
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not archive: {error}"))),
            }
        });
    };
    view! {
        <form class="room-settings" on:submit=save>
            <h2>"Room settings"</h2>
            <label>"Name" <input name="title" required maxlength="100" bind:value=new_title /></label>
            <label>"Topic " <small>"(optional)"</small> <input name="topic" maxlength="250" bind:value=new_topic /></label>
            <button type="submit">"Save"</button>
            <p class="added" role="status">{move || status.get()}</p>
        </form>
        <div class="room-archive">
            <Show
                when=move || asking.get()
                fallback=move || view! { <button type="button" class="link danger" node_ref=opener on:click=move |_| asking.set(true)>"Archive this room…"</button> }
            >
                <p>"Archive it for everyone? It stays, to read, but nobody can write in it any more."</p>
                <button type="button" class="danger archive-confirm" node_ref=confirm on:click=archive>"Archive"</button>
                " "
                <button type="button" on:click=move |_| { back.set_value(true); asking.set(false); }>"Cancel"</button>
            </Show>
        </div>
        {move || failed.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
    }
}

/// Closes the menu's open panel; with `refocus`, focus goes back to its
/// summary (Esc pressed inside it).
fn close_panels(menu: &web_sys::HtmlElement, refocus: bool) {
    let Ok(Some(open)) = menu.query_selector("details[open]") else { return };
    let _ = open.remove_attribute("open");
    if refocus
        && let Ok(Some(summary)) = open.query_selector("summary")
        && let Ok(summary) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(summary)
    {
        let _ = summary.focus();
    }
}

/// "Notify me": everything, mentions only, nothing, or the room kind's
/// default, saved as soon as it is picked. The room list carries the level
/// too (the tab's desktop notifications read it there), so it is refetched.
#[component]
pub fn NotifyLevelPicker(room_id: i64, kind: RoomKind, settings: NotificationSettings) -> impl IntoView {
    let chosen = RwSignal::new(if settings.default { "default" } else { settings.level.as_str() });
    let failed = RwSignal::new(None::<String>);
    let chat = use_chat();
    let label = |level: NotifyLevel| match level {
        NotifyLevel::Everything => "Everything",
        NotifyLevel::Mentions => "Mentions only",
        NotifyLevel::Nothing => "Nothing",
    };
    let default_label = format!("Default ({})", label(NotifyLevel::default_for(kind)));
    let pick = move |ev: leptos::ev::Event| {
        let level = event_target_value(&ev);
        failed.set(None);
        spawn_local(async move {
            match set_notification_level(room_id, level).await {
                Ok(now) => {
                    let _ = chosen.try_set(if now.default { "default" } else { now.level.as_str() });
                    chat.refresh_rooms();
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not change notifications: {error}"))),
            }
        });
    };
    let options = [("default", default_label)].into_iter().chain(
        [NotifyLevel::Everything, NotifyLevel::Mentions, NotifyLevel::Nothing]
            .map(|l| (l.as_str(), label(l).to_owned())),
    );
    view! {
        <label class="notify-level">
            "Notify me "
            <select name="level" prop:value=move || chosen.get() on:change=pick>
                {options.map(|(value, text)| view! { <option value=value selected=move || chosen.get() == value>{text}</option> }).collect_view()}
            </select>
        </label>
        {move || failed.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
    }
}

/// A search for people who are not in the room yet, each with an Add
/// button. Searches only in the browser, as the user types.
#[component]
fn AddPeople(room_id: i64, members: RwSignal<Vec<Person>>, me_id: UserId) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<Person>::new());
    let status = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);
    // The Add button pressed is gone once its person is in: focus goes back
    // to the search, and the status says who was added.
    let finder: NodeRef<leptos::html::Input> = NodeRef::new();
    let search = move |text: String| {
        query.set(text.clone());
        spawn_local(async move {
            let people = if text.trim().is_empty() { Ok(Vec::new()) } else { search_people(text.clone()).await };
            // Only the answer to what is typed now, and only while the
            // search is still open.
            if query.try_get_untracked().is_some_and(|now| now == text) {
                let _ = found.try_set(people.unwrap_or_default());
            }
        });
    };
    let add = move |person: Person| {
        status.set(None);
        failed.set(None);
        spawn_local(async move {
            match add_people(room_id, person.id.0.to_string()).await {
                Ok(now) => {
                    let _ = members.try_set(now);
                    let _ = status.try_set(Some(format!("Added {} to the room.", person.display_name())));
                    if let Some(input) = finder.get_untracked() {
                        let _ = input.focus();
                    }
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not add {}: {error}", person.display_name()))),
            }
        });
    };
    let candidates = move || {
        let inside = members.with(|m| m.iter().map(|p| p.id).collect::<Vec<_>>());
        found.get().into_iter().filter(|p| p.id != me_id && !inside.contains(&p.id)).collect::<Vec<_>>()
    };
    view! {
        <details class="add-people" name="room-menu">
            <summary>"Add people"</summary>
            <div class="room-popover">
                <input
                    type="search"
                    placeholder="Name or username"
                    aria-label="Find people to add"
                    node_ref=finder
                    prop:value=move || query.get()
                    on:input=move |ev| search(event_target_value(&ev))
                />
                <ul class="add-candidates">
                    {move || candidates().into_iter().map(|person| {
                        let label = format!("Add {}", person.display_name());
                        let username = person.username.clone();
                        let face = view! {
                            <Avatar id=person.id name=person.display_name().to_owned() url=person.avatar_url.clone().unwrap_or_default() />
                        };
                        view! {
                            <li>
                                {face}
                                <button type="button" class="link" on:click=move |_| add(person.clone())>{label}</button>
                                " " <span class="muted">"@"{username}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="added" role="status">{move || status.get()}</p>
                {move || failed.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            </div>
        </details>
    }
}

/// "Close" in a direct room's header: the conversation is read and leaves
/// my room list until someone writes in it (or I start it again from New
/// message); then home. Nothing to confirm: nothing is lost.
#[component]
pub fn CloseConversation(room_id: i64) -> impl IntoView {
    let failed = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let chat = use_chat();
    let close = move |_| {
        let navigate = navigate.clone();
        failed.set(None);
        spawn_local(async move {
            match crate::api::close_conversation(room_id).await {
                Ok(()) => {
                    chat.refresh_rooms();
                    navigate("/", Default::default());
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not close: {error}"))),
            }
        });
    };
    view! {
        <button
            type="button"
            class="link close-conversation"
            title="Close this conversation: it leaves your list until someone writes in it"
            on:click=close
        >
            "Close"
        </button>
        {move || failed.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
    }
}

/// Leave, after "Leave this room?" (`asking`: the question is open); then
/// home, and the room is gone from the sidebar.
#[component]
fn Leave(room_id: i64, asking: RwSignal<bool>) -> impl IntoView {
    let failed = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let chat = use_chat();
    let confirm: NodeRef<leptos::html::Button> = NodeRef::new();
    let opener: NodeRef<leptos::html::Button> = NodeRef::new();
    // Cancel or Esc: focus back where the question came from.
    let keep = move || {
        asking.set(false);
        if let Some(button) = opener.get_untracked() {
            let _ = button.focus();
        }
    };
    crate::browser::focus_when_shown(confirm, None);
    let leave = move |_| {
        let navigate = navigate.clone();
        failed.set(None);
        spawn_local(async move {
            match leave_room(room_id).await {
                Ok(()) => {
                    let _ = asking.try_set(false);
                    chat.refresh_rooms();
                    navigate("/", Default::default());
                }
                Err(error) => _ = failed.try_set(Some(format!("Could not leave: {error}"))),
            }
        });
    };
    view! {
        <button type="button" class="leave-room" node_ref=opener aria-expanded=move || asking.get().to_string() on:click=move |_| asking.update(|a| *a = !*a)>
            "Leave"
        </button>
        <Show when=move || asking.get()>
            <div
                class="confirm-leave room-popover"
                role="group"
                aria-label="Leave this room?"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        keep();
                    }
                }
            >
                <p>"Leave this room?"</p>
                <button type="button" class="danger" node_ref=confirm on:click=leave.clone()>"Leave"</button>
                <button type="button" class="link" on:click=move |_| keep()>"Cancel"</button>
                {move || failed.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            </div>
        </Show>
    }
}
