//! `/saved`: the messages I saved for later, across my rooms, the most
//! recently saved first; each opens in its room, with the history around it
//! loaded, and Remove takes it off the list. It follows what my other tabs
//! save and remove (`message_saved`), and pages on with "Show older".

use hearth::model::{SavedMessage, SavedMessages};
use hearth::protocol::ServerEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::find::room_name;
use super::signed_in_with;
use crate::api::{archived_rooms, saved_messages, set_saved};
use crate::chat::use_chat;
use crate::components::avatar::Avatar;
use crate::components::rich::MessageText;
use crate::components::stamp::Stamp;

#[component]
pub fn SavedPage() -> impl IntoView {
    // The first page, and the archived rooms I am in (to name entries from
    // those: the live list has only the others), asked for only when
    // something is saved.
    let first = crate::codec::load(
        || (),
        |()| async move {
            let page = saved_messages(None).await;
            let archived = match &page {
                Ok(page) if !page.saved.is_empty() => archived_rooms().await.unwrap_or_default(),
                _ => Vec::new(),
            };
            (page, archived)
        },
    );
    let chat = use_chat();
    let page = signed_in_with(
        move || async move { (first.await, chat.rooms.await.unwrap_or_default()) },
        move |me, ((page, archived), live)| match page {
            Ok(page) => {
                let name =
                    move |entry: &SavedMessage| room_name(&live, &archived, entry.message.conversation_id, me.id);
                view! { <SavedList first=page name /> }.into_any()
            }
            Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
        },
    );
    view! {
        <Title text="Saved messages" />
        <section class="panel saved-page">
            <h1>"Saved messages"</h1>
            <p class="muted">"Only you see what you save."</p>
            {page}
        </section>
    }
}

/// The list as loaded, then as it changes here and in my other tabs.
#[component]
fn SavedList(first: SavedMessages, name: impl Fn(&SavedMessage) -> String + Send + Sync + 'static) -> impl IntoView {
    let entries = RwSignal::new(first.saved);
    let next = RwSignal::new(first.next_before);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let name = StoredValue::new(name);
    let older = move |_| {
        let Some(before) = next.get_untracked() else { return };
        busy.set(true);
        spawn_local(async move {
            let read = saved_messages(Some(before)).await;
            let _ = busy.try_set(false);
            match read {
                Ok(page) => {
                    let _ = entries.try_update(|list| {
                        let known: std::collections::HashSet<i64> = list.iter().map(|e| e.id).collect();
                        list.extend(page.saved.into_iter().filter(|e| !known.contains(&e.id)));
                    });
                    let _ = next.try_set(page.next_before);
                }
                Err(err) => _ = problem.try_set(Some(err.to_string())),
            }
        });
    };
    // Saved in another tab: the newest page again, for what is new on it;
    // removed anywhere: gone from here.
    let live = crate::live::use_live();
    let listening = live.on_event(move |event| {
        let ServerEvent::MessageSaved { room_id, number, saved_at } = event else { return };
        let (room_id, number) = (*room_id, *number);
        if saved_at.is_none() {
            let _ = entries.try_update(|list| {
                list.retain(|e| !(e.message.conversation_id == room_id && e.message.number == number))
            });
            return;
        }
        spawn_local(async move {
            if let Ok(page) = saved_messages(None).await {
                let _ = entries.try_update(|list| {
                    let newest = list.first().map_or(0, |e| e.id);
                    let fresh: Vec<SavedMessage> = page.saved.into_iter().filter(|e| e.id > newest).collect();
                    list.splice(0..0, fresh);
                });
            }
        });
    });
    on_cleanup(move || live.off_event(listening));
    let remove = move |room_id: i64, number: i64| {
        problem.set(None);
        spawn_local(async move {
            match set_saved(room_id, number, false).await {
                Ok(_) => {
                    let _ = entries.try_update(|list| {
                        list.retain(|e| !(e.message.conversation_id.0 == room_id && e.message.number == number))
                    });
                }
                Err(err) => _ = problem.try_set(Some(err.to_string())),
            }
        });
    };
    view! {
        {move || problem.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        <Show
            when=move || entries.with(|list| !list.is_empty())
            fallback=|| view! {
                <p class="muted no-saved">
                    "Nothing saved yet. Choose Save in a message's actions to keep it here, to come back to later."
                </p>
            }
        >
            <ul class="saved-list">
                {move || entries.get().into_iter().map(|entry| {
                    let room = name.with_value(|name| name(&entry));
                    view! { <Entry entry room remove /> }
                }).collect_view()}
            </ul>
        </Show>
        <Show when=move || next.get().is_some()>
            <button type="button" class="show-older" disabled=move || busy.get() on:click=older>
                "Show older"
            </button>
        </Show>
    }
}

/// One saved message: the room, who sent it and when, its text, and the
/// ways to open it in its room or take it off the list.
#[component]
fn Entry(entry: SavedMessage, room: String, remove: impl Fn(i64, i64) + Copy + Send + Sync + 'static) -> impl IntoView {
    let m = entry.message;
    let author = hearth::model::sender_name(m.user.as_ref(), m.application.as_deref());
    let avatar_id = crate::components::avatar::colour_id(m.user_id, &author);
    let (room_id, number) = (m.conversation_id.0, m.number);
    let href = format!("/rooms/{room_id}?around={number}");
    let label = format!("Remove {author}'s message from your saved messages");
    view! {
        <li class="saved-entry" data-room-id=room_id data-number=number>
            <Avatar id=avatar_id name=author.clone() url=String::new() />
            <div class="saved-meta">
                <span class="saved-room">{room}</span>
                <span class="saved-author">{author}</span>
                <Stamp stamp=m.created_at.clone() with_day=true />
            </div>
            <MessageText html=m.html body=m.body />
            <div class="saved-actions">
                <a href=href>"Open in conversation"</a>
                <button type="button" class="link" aria-label=label on:click=move |_| remove(room_id, number)>
                    "Remove"
                </button>
            </div>
        </li>
    }
}
