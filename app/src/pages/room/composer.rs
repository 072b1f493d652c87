//! The composer: the text being written, kept per room in localStorage (so
//! it survives switching rooms and a reload, and is forgotten once sent),
//! focused when the room opens; Enter sends, Shift+Enter is a new line, Up
//! in an empty composer edits my last message; the
//! quote of the message being answered; typing notices. Without JavaScript
//! it is a plain form that posts to the server function.

use hearth::model::ReplyTo;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::browser::{COMPOSER_ID, focus_composer, load_draft, save_draft};
use super::timeline::last_of_mine;
use super::use_room;
use crate::api::SendMessage;
use crate::components::form::keep_typed_text;

#[component]
pub fn Composer() -> impl IntoView {
    let room = use_room();
    let room_id = room.room_id;
    let replying = room.replying;
    let draft = RwSignal::new(String::new());
    keep_typed_text(draft, COMPOSER_ID);
    // The first run (in the browser, after hydration) brings back this
    // room's draft unless something was typed already, and focuses the
    // composer; every change after that is kept.
    Effect::new(move |restored: Option<()>| {
        let text = draft.get();
        if restored.is_none() {
            if text.is_empty()
                && let Some(saved) = load_draft(room_id)
            {
                draft.set(saved);
            }
            focus_composer();
        } else {
            save_draft(room_id, &text);
        }
    });
    let send = move || {
        let body = draft.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let quote = replying.get_untracked();
        replying.set(None);
        room.sender.send(&body, quote);
    };
    let last_editable = move || {
        let last = room
            .timeline
            .entries
            .with_untracked(|e| last_of_mine(e, room.me_id).map(|m| (m.number, m.created_at.clone())));
        last.filter(|(_, at)| untrack(|| room.in_edit_window(at))).map(|(number, _)| number)
    };
    view! {
        <form
            class="composer"
            method="post"
            action=SendMessage::url()
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <input type="hidden" name="room_id" value=room_id />
            {move || replying.get().map(|quote| view! { <Replying quote replying /> })}
            <textarea
                id=COMPOSER_ID
                name="body"
                rows="2"
                placeholder="Write a message — Enter sends, Shift+Enter for a new line"
                aria-label="Message"
                bind:value=draft
                on:input=move |_| room.signals.announce_typing()
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    } else if ev.key() == "ArrowUp" && !ev.shift_key() && draft.with_untracked(String::is_empty) {
                        // Up in an empty composer edits my last message.
                        if let Some(number) = last_editable() {
                            ev.prevent_default();
                            room.editing.set(Some(number));
                        }
                    }
                }
            ></textarea>
            <button type="submit">"Send"</button>
        </form>
    }
}

/// The quote of the message the next send answers, with a way out.
#[component]
fn Replying(quote: ReplyTo, replying: RwSignal<Option<ReplyTo>>) -> impl IntoView {
    let who = quote.user.as_ref().map(|u| u.display_name().to_owned()).unwrap_or_else(|| "Someone".into());
    view! {
        <div class="replying" role="status">
            <input type="hidden" name="reply_to" value=quote.number />
            <span class="muted">"Replying to " {who} ": "</span>
            <span class="reply-snippet">{quote.snippet.clone().unwrap_or_default()}</span>
            <button type="button" class="link" aria-label="Cancel the reply" on:click=move |_| replying.set(None)>"×"</button>
        </div>
    }
}
