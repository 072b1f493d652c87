//! The composer: the text being written, kept per room in localStorage (so
//! it survives switching rooms and a reload, and is forgotten once sent),
//! focused when the room opens; Enter sends, Shift+Enter is a new line (on
//! a touch screen Return is a new line and Send sends), Up
//! in an empty composer edits my last message; the
//! quote of the message being answered; typing notices; the `@` autocomplete
//! of the room's members and the `:shortcode` one of emoji, asked of the
//! server (a combobox: arrows move, Enter or Tab picks, Esc closes;
//! [`super::mentioning`] is its pure part); the files going with
//! the message (Attach, or a paste; [`super::uploads`]), which it waits for.
//! Without JavaScript it is a plain form that posts to the server function.

use hearth::mentions::EVERYONE_MAX_MEMBERS;
use hearth::model::{EmojiSuggestion, MESSAGE_BODY_MAX, Person, ReplyTo};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::browser::{COMPOSER_ID, focus_composer, load_draft, save_draft, touch_first};
use super::mentioning::{self, Query};
use super::timeline::last_of_mine;
use super::uploads::UploadList;
use super::use_room;
use crate::api::SendMessage;
use crate::components::form::keep_typed_text;
use crate::components::icons::PaperclipIcon;

/// The autocomplete's list id, and its options' id prefix.
const MENTION_LIST_ID: &str = "mention-list";
const COMPOSER_HINT_ID: &str = "composer-hint";
/// The note under a text too long to send.
const LIMIT_ID: &str = "composer-limit";
const KEYBOARD_HINT: &str = "Enter sends, Shift+Enter adds a new line.";
const TOUCH_HINT: &str = "Send sends; Return adds a new line.";

/// The composer's placeholder: "Message <room>", the room's name cut to fit
/// a phone's width.
fn placeholder(title: &str) -> String {
    const MAX: usize = 24;
    if title.chars().count() > MAX {
        let cut: String = title.chars().take(MAX - 1).collect();
        format!("Message {}…", cut.trim_end())
    } else {
        format!("Message {title}")
    }
}

/// One choice of the autocomplete: a member to mention, or an emoji.
#[derive(Clone, Debug, PartialEq)]
enum Suggestion {
    Person(Person),
    Emoji(EmojiSuggestion),
}

/// The open autocomplete: the query it answers, what matches, and which of
/// them the arrows point at.
#[derive(Clone, Debug, PartialEq)]
struct Picker {
    query: Query,
    matches: Vec<Suggestion>,
    active: usize,
}

impl Picker {
    /// Open on `matches`, unless there are none.
    fn open(query: Query, matches: Vec<Suggestion>) -> Option<Self> {
        (!matches.is_empty()).then_some(Self { query, matches, active: 0 })
    }

    fn of_emoji(&self) -> bool {
        matches!(self.matches.first(), Some(Suggestion::Emoji(_)))
    }
}

/// `members`: who may be mentioned (the room's members but me); `title`: the
/// room's name as its header shows it.
#[component]
pub fn Composer(members: Signal<Vec<Person>>, title: Signal<String>) -> impl IntoView {
    let room = use_room();
    let room_id = room.room_id;
    let replying = room.replying;
    let me = room.me_id.0;
    let draft = RwSignal::new(String::new());
    keep_typed_text(draft, COMPOSER_ID);
    // The draft as another tab just kept it: shown here, not written back
    // (which, racing that tab's next keystroke, would undo it).
    let from_elsewhere = StoredValue::new(None::<String>);
    // The first run (in the browser, after hydration) brings back this
    // room's draft unless something was typed already, and focuses the
    // composer; every change after that is kept.
    Effect::new(move |restored: Option<()>| {
        let text = draft.get();
        if restored.is_none() {
            if text.is_empty()
                && let Some(saved) = load_draft(me, room_id)
            {
                draft.set(saved);
            }
            focus_composer();
        } else if from_elsewhere.with_value(|kept| kept.as_deref() == Some(text.as_str())) {
            from_elsewhere.set_value(None);
        } else {
            save_draft(me, room_id, &text);
        }
    });
    // One draft per room across this browser's tabs: what another tab
    // types, sends or clears shows here too, so a message sent from one
    // is not left to be sent again from another.
    #[cfg(feature = "hydrate")]
    {
        let key = super::browser::draft_key(me, room_id);
        let synced = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().as_deref() == Some(key.as_str()) {
                let now = ev.new_value().unwrap_or_default();
                if draft.try_get_untracked().is_some_and(|mine| mine != now) {
                    from_elsewhere.set_value(Some(now.clone()));
                    draft.set(now);
                }
            }
        });
        on_cleanup(move || synced.remove());
    }
    // A refused message taken back: its text replaces the draft, to change.
    let refill = room.refill;
    Effect::new(move |_| {
        if let Some(text) = refill.get() {
            refill.set(None);
            draft.set(text);
            focus_composer();
        }
    });
    // Whether Return makes a new line (a touch screen) instead of sending:
    // known once hydrated; the server renders the keyboard's way.
    let touch = RwSignal::new(false);
    Effect::new(move |_| touch.set(touch_first()));
    let uploads = room.uploads;
    // @everyone in a room too big for it is plain text (the core's
    // EVERYONE_MAX_MEMBERS): said while it is written, not found out after.
    let everyone_ignored = Memo::new(move |_| {
        members.with(|people| people.len() + 1 > EVERYONE_MAX_MEMBERS)
            && draft.with(|text| hearth::mentions::tokens(text).everyone)
    });
    // How many characters the text is over what a message may hold: such a
    // text is not sent (the server would refuse it), and stays to be cut.
    let over = Memo::new(move |_| draft.with(|t| t.trim().chars().count().saturating_sub(MESSAGE_BODY_MAX)));
    // Enter while files are still on their way: the message goes once they
    // are up, unless one of them failed (that is for me to see first).
    let waiting = RwSignal::new(false);
    // Enter while a listed file has failed: the message is held, as it is
    // when one fails while it waits, and says why, until that file is
    // removed (sent without it, the file would look sent with it).
    let held = RwSignal::new(false);
    Effect::new(move |_| {
        uploads.list.track();
        if held.get_untracked() && !uploads.any_failed() {
            held.set(false);
        }
    });
    let send = move || {
        let body = draft.get_untracked();
        let busy = uploads.busy_untracked();
        if over.get_untracked() > 0 || (body.trim().is_empty() && !uploads.any_done() && !busy) {
            return;
        }
        held.set(uploads.any_failed());
        if held.get_untracked() {
            return;
        }
        waiting.set(busy);
        if busy {
            return;
        }
        draft.set(String::new());
        // Written while reading history with newer messages not loaded:
        // to the newest first, where it goes (as "Jump to the newest").
        if untrack(|| room.paging.gap_below()) {
            room.paging.jump_to_newest();
        }
        // One whose message was deleted meanwhile goes as a new message.
        let quote = replying.get_untracked().filter(|q| !room.timeline.is_deleted(q.number));
        replying.set(None);
        room.sender.send(&body, quote, uploads.take_done());
    };
    Effect::new(move |_| {
        if waiting.get() && !uploads.busy() {
            if uploads.any_failed() {
                waiting.set(false);
                held.set(true);
            } else {
                send();
            }
        }
    });
    // The composer grows and shrinks with what it holds (its text, a
    // reply's quote, files, a note), and the history above it with it: one
    // that was at its newest message stays there, not under the composer.
    let paging = room.paging;
    Effect::new(move |_| {
        draft.track();
        replying.track();
        uploads.list.track();
        over.track();
        held.track();
        waiting.track();
        paging.stay_at_bottom();
    });
    let picker = RwSignal::new(None::<Picker>);
    let textarea: NodeRef<leptos::html::Textarea> = NodeRef::new();
    // The emoji each `:query` named, as the server said (asked once each).
    let emoji_known = StoredValue::new(std::collections::HashMap::<String, Vec<EmojiSuggestion>>::new());
    // The query at the caret now: an `@query`, else a `:query`.
    let query_now = move || -> Option<(Query, bool)> {
        let area = textarea.try_get_untracked().flatten()?;
        let text = area.value();
        let caret = mentioning::byte_offset(&text, area.selection_start().ok().flatten()?);
        match mentioning::query_at(&text, caret) {
            Some(query) => Some((query, false)),
            None => mentioning::emoji_query_at(&text, caret).map(|query| (query, true)),
        }
    };
    let emoji_picker = |query: Query, found: Vec<EmojiSuggestion>| {
        Picker::open(query, found.into_iter().map(Suggestion::Emoji).collect())
    };
    // After each input: is the caret in an `@query` that matches someone,
    // or in a `:query` that names emoji?
    let look = move || match query_now() {
        None => picker.set(None),
        Some((query, false)) => {
            let matches = members.with_untracked(|people| {
                mentioning::matching(people, &query.text).into_iter().cloned().map(Suggestion::Person).collect()
            });
            picker.set(Picker::open(query, matches));
        }
        Some((query, true)) => {
            if let Some(found) = emoji_known.with_value(|known| known.get(&query.text).cloned()) {
                picker.set(emoji_picker(query, found));
                return;
            }
            picker.set(None);
            leptos::task::spawn_local(async move {
                let found = crate::api::emoji_suggestions(query.text.clone()).await.unwrap_or_default();
                emoji_known.try_update_value(|known| known.insert(query.text.clone(), found.clone()));
                // Only if the caret is still in that query (typing went on).
                if query_now().is_some_and(|(now, _)| now == query) {
                    let _ = picker.try_set(emoji_picker(query, found));
                }
            });
        }
    };
    // Puts `@username ` (or the emoji and a space) in place of the query,
    // the caret after it.
    let pick = move |index: usize| {
        let (Some(open), Some(area)) = (picker.get_untracked(), textarea.get_untracked()) else { return };
        let Some(choice) = open.matches.get(index) else { return };
        let (text, caret) = match choice {
            Suggestion::Person(person) => mentioning::insert(&area.value(), &open.query, &person.username),
            Suggestion::Emoji(found) => mentioning::replace(&area.value(), &open.query, &format!("{} ", found.emoji)),
        };
        let caret = mentioning::utf16_offset(&text, caret);
        area.set_value(&text);
        draft.set(text);
        let _ = area.set_selection_range(caret, caret);
        let _ = area.focus();
        picker.set(None);
    };
    // The arrows, Enter, Tab and Esc while the list is open; `true` when the
    // key was the list's.
    let steer = move |ev: &leptos::ev::KeyboardEvent| -> bool {
        let Some(open) = picker.get_untracked() else { return false };
        let count = open.matches.len();
        match ev.key().as_str() {
            "ArrowDown" => picker.update(|p| {
                if let Some(p) = p {
                    p.active = (p.active + 1) % count
                }
            }),
            "ArrowUp" => picker.update(|p| {
                if let Some(p) = p {
                    p.active = (p.active + count - 1) % count
                }
            }),
            "Enter" | "Tab" if !crate::browser::composing(ev) => pick(open.active),
            "Escape" => picker.set(None),
            _ => return false,
        }
        ev.prevent_default();
        true
    };
    let option_id = |index: usize| format!("{MENTION_LIST_ID}-{index}");
    // Not while newer messages than the loaded ones exist (a jump into
    // history): the last of mine loaded may not be my last.
    let last_editable = move || {
        if untrack(|| paging.gap_below()) {
            return None;
        }
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
                dir="auto"
                // Short enough for a phone's width; how to send is told
                // to screen readers by the hint below.
                placeholder=move || placeholder(&title.get())
                aria-label="Message"
                aria-describedby={move || if over.get() > 0 { format!("{COMPOSER_HINT_ID} {LIMIT_ID}") } else { COMPOSER_HINT_ID.to_owned() }}
                aria-invalid=move || (over.get() > 0).then_some("true")
                role="combobox"
                aria-autocomplete="list"
                aria-controls=MENTION_LIST_ID
                aria-expanded=move || picker.with(Option::is_some).to_string()
                aria-activedescendant=move || picker.with(|p| p.as_ref().map(|p| option_id(p.active)))
                node_ref=textarea
                bind:value=draft
                on:input=move |_| {
                    room.signals.announce_typing();
                    look();
                }
                // Later, not now: a blur can come from the composer being
                // taken away with the focus in it (the browser's Back), while
                // its signals are being disposed, and the list's attributes
                // run again by this one would read one already gone (a panic
                // that left the whole app dead). By then the signal is gone
                // too, and `try_set` does nothing.
                on:blur=move |_| set_timeout(move || drop(picker.try_set(None)), std::time::Duration::ZERO)
                // A pasted picture (or file) goes with the message.
                on:paste=move |ev| {
                    #[cfg(feature = "hydrate")]
                    {
                        let files = super::uploads::files_of(ev.clipboard_data());
                        if !files.is_empty() {
                            ev.prevent_default();
                            uploads.start(files);
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
                on:keydown=move |ev| {
                    if steer(&ev) {
                        return;
                    }
                    if ev.key() == "Enter" && !ev.shift_key() && !crate::browser::composing(&ev) && !touch.get_untracked() {
                        ev.prevent_default();
                        send();
                    } else if ev.key() == "Escape" && replying.with_untracked(Option::is_some) {
                        // Esc drops the reply being written (the text stays).
                        ev.prevent_default();
                        replying.set(None);
                    } else if ev.key() == "ArrowUp" && !ev.shift_key() && draft.with_untracked(String::is_empty) {
                        // Up in an empty composer edits my last message.
                        if let Some(number) = last_editable() {
                            ev.prevent_default();
                            room.editing.set(Some(number));
                        }
                    }
                }
            ></textarea>
            <span id=COMPOSER_HINT_ID class="visually-hidden">{move || if touch.get() { TOUCH_HINT } else { KEYBOARD_HINT }}</span>
            <ul
                id=MENTION_LIST_ID
                class="mention-list"
                role="listbox"
                aria-label=move || if picker.with(|p| p.as_ref().is_some_and(Picker::of_emoji)) { "Emoji" } else { "People to mention" }
                hidden=move || picker.with(Option::is_none)
            >
                {move || picker.get().map(|open| open.matches.into_iter().enumerate().map(|(index, choice)| {
                    let selected = index == open.active;
                    let label = match choice {
                        Suggestion::Person(person) => view! {
                            <span class="mention-name">{person.display_name().to_owned()}</span>
                            " " <span class="muted">"@"{person.username.clone()}</span>
                        }
                        .into_any(),
                        Suggestion::Emoji(found) => view! {
                            <span class="emoji-choice">{found.emoji}</span>
                            " " <span class="muted">":"{found.shortcode}":"</span>
                        }
                        .into_any(),
                    };
                    view! {
                        <li
                            id=option_id(index)
                            role="option"
                            aria-selected=selected.to_string()
                            class:active=selected
                            // Keeps the focus (and the caret) in the textarea.
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| pick(index)
                        >
                            {label}
                        </li>
                    }
                }).collect_view())}
            </ul>
            <p id=LIMIT_ID class="form-error composer-limit" role="status" hidden=move || over.get() == 0>
                {move || {
                    let over = over.get();
                    let unit = if over == 1 { "character" } else { "characters" };
                    format!("Too long by {} {unit}: a message holds at most {}.", thousands(over), thousands(MESSAGE_BODY_MAX))
                }}
            </p>
            <p class="hint everyone-note" role="status" hidden=move || !everyone_ignored.get()>
                {format!("@everyone and @here notify no one in a room of more than {EVERYONE_MAX_MEMBERS} people.")}
            </p>
            <UploadList uploads />
            <label class="attach" title="Attach files">
                <PaperclipIcon />
                <span class="visually-hidden">"Attach files"</span>
                <input
                    type="file"
                    multiple
                    class="visually-hidden"
                    on:change=move |ev| {
                        #[cfg(feature = "hydrate")]
                        {
                            use wasm_bindgen::JsCast;
                            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                if let Some(list) = input.files() {
                                    uploads.start((0..list.length()).filter_map(|i| list.get(i)).collect());
                                }
                                // The same file may be chosen again.
                                input.set_value("");
                            }
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = ev;
                    }
                />
            </label>
            <Show when=move || held.get()>
                <p class="form-error upload-held" role="alert">
                    "Not sent yet. Remove the file that could not be uploaded (or attach it again to retry), then send."
                </p>
            </Show>
            <Show when=move || waiting.get()>
                <span class="muted sends-when-uploaded" role="status">"Sends when the files are up"</span>
            </Show>
            <button type="submit" disabled={move || waiting.get() || over.get() > 0}>"Send"</button>
        </form>
    }
}

/// The quote of the message the next send answers, with a way out.
#[component]
fn Replying(quote: ReplyTo, replying: RwSignal<Option<ReplyTo>>) -> impl IntoView {
    let who = quote.user.as_ref().map(|u| u.display_name().to_owned()).unwrap_or_else(|| "Someone".into());
    let (number, snippet) = (quote.number, quote.snippet.unwrap_or_default());
    // Deleted while I write: its text is not shown again, and what I write
    // goes as a new message.
    let timeline = use_room().timeline;
    let deleted = Memo::new(move |_| timeline.is_deleted(number));
    view! {
        <div class="replying" role="status">
            <Show
                when=move || !deleted.get()
                fallback=|| view! {
                    <span class="muted">"The message you were replying to was deleted: this goes as a new message."</span>
                }
            >
                <input type="hidden" name="reply_to" value=number />
                <span class="muted">"Replying to " {who.clone()} ": "</span>
                <span class="reply-snippet">{snippet.clone()}</span>
            </Show>
            <button type="button" class="link" aria-label="Cancel the reply" on:click=move |_| {
                replying.set(None);
                focus_composer();
            }>"×"</button>
        </div>
    }
}

/// `n` with its thousands grouped by commas: 10000 → "10,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{placeholder, thousands};

    #[test]
    fn thousands_are_grouped_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_placeholder_names_the_room_and_cuts_a_long_name() {
        assert_eq!(placeholder("Launch crew"), "Message Launch crew");
        assert_eq!(placeholder("exactly twenty-four char"), "Message exactly twenty-four char");
        assert_eq!(placeholder("A very long room title for the quarterly planning"), "Message A very long room title…");
        // Cut by characters, not bytes.
        assert_eq!(placeholder(&"é".repeat(30)), format!("Message {}…", "é".repeat(23)));
    }
}
