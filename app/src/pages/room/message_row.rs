//! One message in the window: its day separator if it opens a day; the
//! avatar, name and time if it opens a group (a continuing one keeps its
//! time in the gutter, shown on hover and focus); the text or its editor;
//! the reply quote, replies and reactions; its actions (the toolbar and the
//! delete confirmation of [`super::actions`]); its delivery state. The row
//! is focusable (Tab reaches it), and focus inside it shows its toolbar.
//! It reads the window through [`RoomContext`] and changes the list only
//! through the [`Timeline`](super::timeline::Timeline) handle.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::actions::{ConfirmDelete, Reacting, Toolbar};
use super::browser::{self, focus_composer, focus_message};
use super::edits::EditHistory;
use super::layout::RowLayout;
use super::timeline::{Delivery, Entry, quote_of};
use super::use_room;
use crate::api::{delete_message, edit_message, mark_unread, set_pin, set_saved};
use crate::components::avatar::Avatar;
use crate::components::icons::{BookmarkIcon, PinIcon};
use crate::components::rich::{Files, LinkCard, MessageText, Reactions, ReplyCount, ReplyQuote};
use crate::components::stamp::Stamp;
use crate::live::{LinkStatus, use_live};

/// What to tell the user when the server refuses an edit or a delete.
fn refusal_text(error: &crate::error::UiError) -> String {
    if error.status.is_none() {
        return "Could not reach the server. Try again when the connection is back.".to_owned();
    }
    let text = error.to_string();
    if text.is_empty() { "The server refused this change.".to_owned() } else { text }
}

/// The editor of one's own message: focused at once; Enter saves,
/// Shift+Enter is a new line, Esc cancels. On a touch screen, whose keyboard
/// has no Shift+Return, Return is a new line and Save saves, as in the
/// composer.
#[component]
fn Editor(
    draft: RwSignal<String>,
    save: impl Fn() + Clone + Send + Sync + 'static,
    cancel: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let field: NodeRef<leptos::html::Textarea> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(field) = field.get() {
            // The caret at the end, where a correction usually goes.
            let end = field.value().encode_utf16().count() as u32;
            let _ = field.focus();
            let _ = field.set_selection_range(end, end);
        }
    });
    let (save_on_key, cancel_on_key, save_on_click) = (save.clone(), cancel.clone(), save);
    let touch = RwSignal::new(false);
    Effect::new(move |_| touch.set(super::browser::touch_first()));
    view! {
        <div class="edit">
            <textarea
                aria-label="Edit message"
                dir="auto"
                node_ref=field
                bind:value=draft
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !crate::browser::composing(&ev) && !touch.get_untracked() {
                        ev.prevent_default();
                        save_on_key();
                    } else if ev.key() == "Escape" {
                        ev.prevent_default();
                        cancel_on_key();
                    }
                }
            ></textarea>
            <button type="button" on:click=move |_| save_on_click()>"Save"</button>
            <button type="button" class="link" on:click=move |_| cancel()>"Cancel"</button>
        </div>
    }
}

#[component]
pub fn MessageRow(entry: Entry, layout: RowLayout) -> impl IntoView {
    let room = use_room();
    let (room_id, editing, timeline) = (room.room_id, room.editing, room.timeline);
    let m = entry.message.clone();
    let number = m.number;
    let confirmed_live = entry.state == Delivery::Confirmed && !m.deleted;
    let shown = StoredValue::new(m.clone());
    let set_reactions =
        Callback::new(move |reactions: Vec<hearth::model::Reaction>| timeline.set_reactions(number, &reactions));
    let author = hearth::model::sender_name(m.user.as_ref(), m.application.as_deref());
    // A user's avatar is their picture if the room knows one; an
    // application's is its initials, coloured by its name.
    let avatar_id = crate::components::avatar::colour_id(m.user_id, &author);
    let avatar_url = m.user_id.and_then(|id| room.people.with_value(|p| p.get(&id).cloned().flatten()));
    // A member's name and picture as the room's members have them now, so
    // that a rename or a new picture shows on their messages live; someone
    // no longer in the room, or an application, as the message was sent.
    let (members, author_id) = (room.members, m.user_id);
    let sent_as = (author.clone(), avatar_url.clone());
    let shown_as = move || {
        author_id
            .and_then(|id| {
                members.with(|people| {
                    people.iter().find(|p| p.id == id).map(|p| (p.display_name().to_owned(), p.avatar_url.clone()))
                })
            })
            .unwrap_or_else(|| sent_as.clone())
    };
    // Messages of a deactivated account stay, marked as theirs.
    let deactivated = m.user.as_ref().is_some_and(|u| u.deactivated);
    let mine = m.user_id == Some(room.me_id) && confirmed_live;
    // The message mentions me (its stored ids, not its text): the row
    // stands out.
    let mentions_me = m.mentions.contains(&room.me_id);
    // The author deletes their own; an admin anyone's.
    let deletable = (mine || room.admin) && confirmed_live;
    // Edit is offered while the edit window is open (by the browser's clock;
    // the server has the last word, and its refusal is shown).
    let editable = {
        let created_at = m.created_at.clone();
        move || mine && room.in_edit_window(&created_at)
    };
    let refusal = RwSignal::new(None::<String>);
    let original = m.body.clone().unwrap_or_default();
    // A row drawn again while it is edited opens with what was typed.
    let edit_text = room.edit_text;
    let typed = edit_text.with_value(|kept| match kept {
        Some((kept_number, text)) if *kept_number == number && editing.get_untracked() == Some(number) => {
            Some(text.clone())
        }
        _ => None,
    });
    let draft = RwSignal::new(typed.unwrap_or_else(|| original.clone()));
    Effect::new(move |_| {
        let text = draft.get();
        if editing.get() == Some(number) {
            edit_text.set_value(Some((number, text)));
        }
    });
    // Cancel (or Esc) drops the changes and goes back to the composer.
    let cancel = move || {
        refusal.set(None);
        draft.set(original.clone());
        editing.set(None);
        focus_composer();
    };
    let client_id = m.client_id.clone().unwrap_or_default();
    let state_class = match entry.state {
        Delivery::Confirmed if room.focus == Some(number) => "message focused",
        Delivery::Confirmed => "message",
        Delivery::Sending | Delivery::Throttled => "message pending",
        Delivery::Failed | Delivery::Refused(_) => "message failed",
    };
    let save = move || {
        let body = draft.get_untracked();
        refusal.set(None);
        spawn_local(async move {
            match edit_message(room_id, number, body).await {
                // Not if the room was left meanwhile (its signals are gone).
                Ok(_) if editing.is_disposed() => {}
                Ok(updated) => {
                    timeline.merge(vec![updated]);
                    editing.set(None);
                    focus_composer();
                }
                // The row may have been drawn again meanwhile (its
                // signals gone): the refusal then goes to no one.
                Err(error) => _ = refusal.try_set(Some(refusal_text(&error))),
            }
        });
    };
    // Delete asks first; focus goes to the row after either answer.
    let deleting = room.deleting;
    let confirming = Signal::derive(move || deleting.get() == Some(number));
    let remove = move || {
        deleting.set(None);
        refusal.set(None);
        spawn_local(async move {
            match delete_message(room_id, number).await {
                Ok(()) if editing.is_disposed() => {}
                Ok(()) => timeline.mark_deleted(number),
                Err(error) => _ = refusal.try_set(Some(refusal_text(&error))),
            }
            focus_message(number);
        });
    };
    let keep = move || {
        deleting.set(None);
        focus_message(number);
    };
    // Pinned (for everyone) or unpinned: the row shows the message as the
    // server answers; the other members hear of it as an edit.
    let pinned = m.pinned.is_some();
    let flip_pin = move || {
        refusal.set(None);
        spawn_local(async move {
            match set_pin(room_id, number, !pinned).await {
                Ok(_) if editing.is_disposed() => {}
                Ok(updated) => timeline.merge(vec![updated]),
                Err(error) => _ = refusal.try_set(Some(refusal_text(&error))),
            }
        });
    };
    // "Mark unread" (someone else's message): the room list counts it and
    // those after it again, and this window stops marking them read.
    let others = confirmed_live && m.user_id != Some(room.me_id);
    let marked_unread = RwSignal::new(false);
    let hold_read = room.hold_read;
    let chat = crate::chat::use_chat();
    let unread_from_here = move || {
        hold_read.set(true);
        refusal.set(None);
        spawn_local(async move {
            match mark_unread(room_id, number).await {
                Ok(_) => {
                    let _ = marked_unread.try_set(true);
                    chat.refresh_rooms();
                }
                Err(error) => _ = refusal.try_set(Some(refusal_text(&error))),
            }
        });
    };
    // Saved for later (for me alone): each of my tabs hears of it.
    let saved_set = room.signals.saved;
    let saved = Signal::derive(move || saved_set.with(|saved| saved.contains(&number)));
    let flip_save = move || {
        refusal.set(None);
        let on = !saved.get_untracked();
        spawn_local(async move {
            match set_saved(room_id, number, on).await {
                Ok(_) if editing.is_disposed() => {}
                Ok(now) => saved_set.update(|saved| {
                    if now.is_some() {
                        saved.insert(number);
                    } else {
                        saved.remove(&number);
                    }
                }),
                Err(error) => _ = refusal.try_set(Some(refusal_text(&error))),
            }
        });
    };
    let pinned_by = m.pinned.as_ref().map(|p| p.by.as_ref().map_or("Someone", |by| by.display_name()).to_owned());
    // The quote is made when Reply is chosen, not for every row drawn (it
    // reads the message's text from its HTML).
    let reply = Callback::new(move |()| {
        room.replying.set(Some(shown.with_value(quote_of)));
        focus_composer();
    });
    let editable = Signal::derive(editable);
    let toolbar = move || {
        view! {
            <Toolbar
                reply
                react=Some(Reacting { room_id, number, changed: set_reactions, open_for: room.picking })
                edit=mine.then_some((editable, Callback::new(move |()| editing.set(Some(number)))))
                delete=deletable.then_some(Callback::new(move |()| deleting.set(Some(number))))
                pin=Some((pinned, Callback::new(move |()| flip_pin())))
                unread=others.then_some(Callback::new(move |()| unread_from_here()))
                save=Some((saved, Callback::new(move |()| flip_save())))
            />
        }
    };
    let seen_at = room.signals.seen_at;
    // Read-only: archived, or no longer mine to write in.
    let (archived, left) = (room.signals.archived, room.signals.left);
    let archived = move || archived.get() || left.get();
    let starts_group = layout.starts_group;
    let (tab_stop, roving, open_replies) = (room.tab_stop, room.roving, room.open_replies);
    let replies_open = Signal::derive(move || open_replies.with(|open| open.contains(&number)));
    // While its replies are listed: the edits and deletes of those this
    // window holds, so the list follows them.
    let replies_changed = Memo::new(move |_| {
        if !replies_open.get() {
            return 0;
        }
        timeline.entries.with(|entries| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            for x in entries.iter().filter(|x| x.message.reply_to.as_ref().is_some_and(|q| q.number == number)) {
                (x.message.number, &x.message.edited_at, x.message.deleted).hash(&mut hasher);
            }
            hasher.finish()
        })
    });
    let replies_changed = Signal::from(replies_changed);
    let toggle_replies = Callback::new(move |()| {
        open_replies.update(|open| {
            if !open.remove(&number) {
                open.insert(number);
            }
        });
    });
    // "(edited)" and "Sending…": beside the name and time, or under the text.
    // A deleted message's text is gone, and so is what its edits changed.
    let (edited, sending) = (m.edited_at.is_some() && !m.deleted, entry.state == Delivery::Sending);
    let marks = move || {
        view! {
            {edited.then(|| view! { <EditHistory room_id number /> })}
            {sending.then(|| view! { <span class="muted sending">"Sending…"</span> })}
        }
    };
    view! {
        {layout.separator.map(|(day, label)| view! {
            <div class="day-separator" role="separator"><time datetime=day>{label}</time></div>
        })}
        {(room.first_unread == Some(number) && entry.state == Delivery::Confirmed).then(|| view! {
            <div class="unread-divider" role="separator" aria-label="New messages"><span>"New messages"</span></div>
        })}
        <article
            class=state_class
            class:continued=!starts_group
            class:mentions-me=mentions_me
            class:pinned=pinned
            tabindex=move || if tab_stop.get() == Some(number) { "0" } else { "-1" }
            on:focusin=move |ev| {
                if number > 0 && roving.get_untracked() != Some(number) {
                    roving.set(Some(number));
                }
                browser::reveal_actions(&ev);
            }
            on:mouseenter=|ev| browser::place_toolbar(&ev)
            data-number=number
            data-client-id=client_id.clone()
        >
            <div class="gutter">
                {if starts_group {
                    let shown_as = shown_as.clone();
                    (move || {
                        let (name, url) = shown_as();
                        view! { <Avatar id=avatar_id name url=url.unwrap_or_default() /> }
                    })
                    .into_any()
                } else {
                    view! { <Stamp stamp=m.created_at.clone() class="gutter-time" /> }.into_any()
                }}
            </div>
            <div class="message-main">
                {pinned_by.map(|who| view! {
                    <p class="pinned-by"><PinIcon />"Pinned by "<bdi>{who}</bdi></p>
                })}
                {confirmed_live.then(|| view! {
                    <Show when=move || saved.get()>
                        <p class="saved-mark"><BookmarkIcon />"Saved for later"</p>
                    </Show>
                })}
                // A later message of a group shows no name, but a screen
                // reader moving through messages one by one still says whose.
                {(!starts_group).then(|| {
                    let shown_as = shown_as.clone();
                    view! { <span class="visually-hidden sr-author">{move || shown_as().0}</span> }
                })}
                {starts_group.then(|| view! {
                    <header>
                        <span class="author">{move || shown_as().0}</span>
                        {deactivated.then(|| view! { <span class="deactivated-badge">"deactivated"</span> })}
                        <Stamp stamp=m.created_at.clone() />
                        {marks()}
                    </header>
                })}
                {m.reply_to.clone().map(|quote| view! { <ReplyQuote quote room_id /> })}
                <Show
                    when=move || editing.get() == Some(number) && mine
                    fallback=move || shown.with_value(|m| view! { <MessageText html=m.html.clone() body=m.body.clone() /> })
                >
                    <Editor draft save=move || save() cancel=cancel.clone() />
                </Show>
                // In a group's later message, under its text, not on a
                // line of their own above it.
                {(!starts_group && (edited || sending)).then(|| view! { <div class="marks">{marks()}</div> })}
                {(!m.attachments.is_empty()).then(|| view! { <Files files=m.attachments.clone() /> })}
                {m.preview.clone().map(|preview| view! { <LinkCard preview /> })}
                {(!m.reactions.is_empty()).then(|| view! {
                    <Reactions room_id number reactions=m.reactions.clone() me_id=room.me_id changed=set_reactions />
                })}
                <ReplyCount room_id number count=m.reply_count open=replies_open toggle=toggle_replies changed=replies_changed />
                // The toolbar overlays the row; it steps aside while the row
                // is edited or asks to confirm a delete, and in an archived
                // (read-only) room.
                {confirmed_live.then(|| view! {
                    <Show when=move || !confirming.get() && editing.get() != Some(number) && !archived()>{toolbar}</Show>
                    <Show when=move || confirming.get()>
                        <ConfirmDelete number confirm=Callback::new(move |()| remove()) cancel=Callback::new(move |()| keep()) />
                    </Show>
                })}
                {move || refusal.get().map(|text| view! { <p class="form-error refusal" role="alert">{text}</p> })}
                <Show when=move || marked_unread.get()>
                    <p class="muted marked-unread" role="status">"Unread from here"</p>
                </Show>
                <Show when=move || { seen_at.get() == Some(number) && number > 0 }>
                    <p class="seen muted">"Seen"</p>
                </Show>
                // Offline, it waits: it is sent by itself when the link is
                // back, so there is nothing to retry yet.
                {(entry.state == Delivery::Failed).then(|| {
                    let client_id = client_id.clone();
                    let sender = room.sender;
                    let link = use_live().status;
                    move || {
                        let client_id = client_id.clone();
                        if link.get() == LinkStatus::Online {
                            view! {
                                <p class="form-error">"Not sent. " <button type="button" class="link" on:click=move |_| sender.retry(&client_id)>"Retry"</button></p>
                            }
                            .into_any()
                        } else {
                            view! { <p class="form-error waiting">"Waiting for the connection: it is sent when you are back online."</p> }.into_any()
                        }
                    }
                })}
                {(entry.state == Delivery::Throttled).then(|| view! {
                    <p class="form-error waiting" role="status">"Sending faster than this server allows: it goes again in a moment."</p>
                })}
                // Refused for good: the server's reason, and no Retry. Edit
                // takes the text back to the composer, so it is offered only
                // while there is one (not in an archived room).
                {match &entry.state {
                    Delivery::Refused(reason) => {
                        let (edit_id, discard_id) = (client_id.clone(), client_id.clone());
                        let (sender, refill) = (room.sender, room.refill);
                        let edit = move || {
                            let edit_id = edit_id.clone();
                            (!archived()).then(|| view! {
                                <button type="button" class="link" on:click=move |_| sender.take_back(&edit_id, Some(refill))>"Edit"</button>
                                " "
                            })
                        };
                        Some(view! {
                            <p class="form-error refused" role="alert">
                                {format!("Not sent: {reason} ")}
                                {edit}
                                <button type="button" class="link" on:click=move |_| sender.take_back(&discard_id, None)>"Discard"</button>
                            </p>
                        })
                    }
                    _ => None,
                }}
            </div>
        </article>
    }
}
