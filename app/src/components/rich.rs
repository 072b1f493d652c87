//! The parts of a message that issue 16 added, for the chat window
//! (`pages/room.rs`): its text (the server's sanitised HTML), the quote of
//! the message it answers, its reply count, and its reactions with the
//! picker. Each is a small component with no state of the window's own:
//! the window passes what to show and what to call.

use hearth::model::{Reaction, ReplyTo, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::toggle_reaction;
use crate::components::icons::PaperclipIcon;

/// The emoji the picker offers (the API takes any emoji).
pub const PICKER: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

/// A message's text: the HTML the server rendered and sanitised
/// (`hearth::markdown`), the same in the page, after hydration and live;
/// plain text while a send is on its way (no HTML yet); a notice once
/// deleted.
///
/// A long one (a pasted log, a wall of text) is shown cut, with "Show more":
/// one message must not fill several screens of the room.
#[component]
pub fn MessageText(html: Option<String>, body: Option<String>) -> impl IntoView {
    // Each message's direction from its own first letters: Arabic or Hebrew
    // reads right to left, whatever the page's language.
    let dir = body.as_deref().map_or("auto", direction);
    let long = body.as_deref().is_some_and(is_long);
    let text = match (html, body) {
        (Some(html), _) => view! { <div class="body markdown" dir=dir inner_html=html></div> }.into_any(),
        (None, Some(body)) => view! { <p class="body plain" dir=dir>{body}</p> }.into_any(),
        (None, None) => view! { <p class="body deleted muted">"This message was deleted."</p> }.into_any(),
    };
    if !long {
        return text;
    }
    let whole = RwSignal::new(false);
    view! {
        <div class="long-body" class:cut=move || !whole.get()>{text}</div>
        <button type="button" class="link show-more" aria-expanded=move || whole.get().to_string() on:click=move |_| whole.update(|w| *w = !*w)>
            {move || if whole.get() { "Show less" } else { "Show more" }}
        </button>
    }
    .into_any()
}

/// Whether a message's text is long enough to be shown cut: more than
/// [`LONG_CHARS`] characters or [`LONG_LINES`] lines.
pub fn is_long(body: &str) -> bool {
    body.lines().count() > LONG_LINES || body.chars().count() > LONG_CHARS
}

const LONG_LINES: usize = 20;
const LONG_CHARS: usize = 1_500;

/// A message's direction: `rtl` when its first letters after any leading
/// `@mentions` (and the punctuation around them) are Hebrew, Arabic or
/// another right-to-left script, as in "@rahel: תודה", where the browser's
/// own `auto` would go by the Latin username; else `auto`.
pub fn direction(body: &str) -> &'static str {
    let mut rest = body;
    loop {
        let before = rest.len();
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '@'));
        if let Some(mention) = rest.strip_prefix('@') {
            let end = mention.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
            rest = &mention[end.unwrap_or(mention.len())..];
        }
        if rest.len() == before {
            break;
        }
    }
    let right_to_left = |c: char| matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}' | '\u{10800}'..='\u{10FFF}' | '\u{1E800}'..='\u{1EFFF}');
    if rest.chars().next().is_some_and(right_to_left) { "rtl" } else { "auto" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_of_many_lines_or_many_characters_is_long() {
        use super::is_long;
        assert!(!is_long("short"));
        assert!(!is_long(&"line\n".repeat(20)));
        assert!(is_long(&"line\n".repeat(21)));
        assert!(!is_long(&"é".repeat(1_500)), "characters, not bytes");
        assert!(is_long(&"x".repeat(1_501)));
    }

    #[test]
    fn a_message_that_opens_with_a_mention_reads_in_the_direction_of_its_words() {
        use super::direction;
        assert_eq!(direction("@rahel: תודה"), "rtl");
        assert_eq!(direction("@amira، شكرا"), "rtl");
        assert_eq!(direction("  @a @b.c - שלום"), "rtl");
        assert_eq!(direction("**שלום** world"), "rtl");
        assert_eq!(direction("@rahel thanks"), "auto");
        assert_eq!(direction("hello שלום"), "auto");
        assert_eq!(direction("@"), "auto");
        assert_eq!(direction(""), "auto");
    }
}

/// The preview of a message's first link, as the server found it: plain
/// text (escaped like all text), the whole card a link that opens in a new
/// tab. No image: the reader's browser never fetches from the linked site.
#[component]
pub fn LinkCard(preview: hearth::model::LinkPreview) -> impl IntoView {
    let hearth::model::LinkPreview { url, title, description, site_name } = preview;
    view! {
        <a class="link-card" href=url target="_blank" rel="noopener noreferrer nofollow">
            {site_name.map(|site| view! { <span class="link-site muted">{site}</span> })}
            <strong class="link-title">{title}</strong>
            {description.map(|text| view! { <span class="link-description">{text}</span> })}
        </a>
    }
}

/// A message's files: images as their thumbnails (each a link to the whole
/// picture), other files as links that download them, with their size.
/// Only the room's members can load either (the server checks).
#[component]
pub fn Files(files: Vec<hearth::model::Attachment>) -> impl IntoView {
    let (images, others): (Vec<_>, Vec<_>) = files.into_iter().partition(hearth::model::Attachment::is_image);
    view! {
        <div class="files">
            {(!images.is_empty()).then(|| view! {
                <div class="file-images">
                    {images.into_iter().map(|file| {
                        let label = format!("{} ({}), open the full picture", file.name, file.size_label());
                        // The size it is shown at: the picture fitted into
                        // 320 × 256 (the thumbnail is at most 480 a side), so
                        // the row keeps its height before it loads and its
                        // frame is the picture's own size.
                        // At least 24 px each way, so a sliver (1 × 16000)
                        // or a dot (1 × 1) is still there to see and click,
                        // letterboxed inside (`object-fit: contain`).
                        let (width, height) = match (file.width, file.height) {
                            (Some(w), Some(h)) if w > 0 && h > 0 => {
                                let scale = (320.0 / w as f64).min(256.0 / h as f64).min(1.0);
                                let side = |n: i64| Some(((n as f64 * scale).round() as i64).max(24));
                                (side(w), side(h))
                            }
                            _ => (None, None),
                        };
                        view! {
                            <a class="file-image" href=file.url.clone() target="_blank" rel="noopener" aria-label=label>
                                <img
                                    src=file.thumbnail_url.clone().unwrap_or_default()
                                    alt=file.name.clone()
                                    width=width
                                    height=height
                                    loading="lazy"
                                    decoding="async"
                                />
                            </a>
                        }
                    }).collect_view()}
                </div>
            })}
            {others.into_iter().map(|file| view! {
                <a class="file-link" href=file.url.clone() download=file.name.clone()>
                    <PaperclipIcon />
                    " " <span class="file-name">{file.name.clone()}</span>
                    " " <span class="muted">{file.size_label()}</span>
                </a>
            }).collect_view()}
        </div>
    }
}

/// Scrolls to message `number` if it is on the page and marks it; false if
/// it is not loaded (the link's `?around=` then loads the page around it).
fn jump_to(number: i64) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Ok(Some(target)) = document().query_selector(&format!("article.message[data-number=\"{number}\"]")) else {
            return false;
        };
        if let Ok(Some(old)) = document().query_selector("article.message.focused") {
            let _ = old.class_list().remove_1("focused");
        }
        let _ = target.class_list().add_1("focused");
        target.scroll_into_view();
        // Keyboard focus goes with the eye.
        if let Some(target) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&target) {
            let _ = target.focus();
        }
        true
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = number;
        false
    }
}

/// A reply's quote of its original: who wrote it and how it began, a link to
/// it that scrolls there when it is loaded and otherwise opens the page
/// around it (as a search hit does).
#[component]
pub fn ReplyQuote(quote: ReplyTo, room_id: i64) -> impl IntoView {
    quote_link(quote, room_id, "Reply to")
}

/// A pinned message in the room's list of pins: who wrote it and how it
/// begins, a link to it (as a reply's quote is), and who pinned it.
#[component]
pub fn PinnedLink(message: hearth::model::Message, room_id: i64) -> impl IntoView {
    let quote = ReplyTo {
        number: message.number,
        user: message.user.clone(),
        snippet: crate::browser::message_text(&message).as_deref().map(ReplyTo::snippet_of),
        reply_count: 0,
        // The list is of what the messages say now.
        edited: false,
    };
    let by = message.pinned.as_ref().and_then(|p| p.by.as_ref()).map(|by| by.display_name().to_owned());
    view! {
        {quote_link(quote, room_id, "Pinned message from")}
        {by.map(|by| view! { <span class="muted pinned-note">"Pinned by "<bdi>{by}</bdi></span> })}
    }
}

/// A quoted message as a link to it: `said` names the link for screen
/// readers ("Reply to Ann: …" above a reply, "Reply from Bob: …" in a list
/// of replies).
fn quote_link(quote: ReplyTo, room_id: i64, said: &'static str) -> impl IntoView {
    let number = quote.number;
    let who = quote.user.as_ref().map(|u| u.display_name().to_owned()).unwrap_or_else(|| "Someone".into());
    let text = quote.snippet.clone().unwrap_or_else(|| "This message was deleted.".into());
    let edited = quote.edited && quote.snippet.is_some();
    let label = format!("{said} {who}: {text}{}", if edited { " (edited)" } else { "" });
    view! {
        <a
            class="reply-quote"
            href=format!("/rooms/{room_id}?around={number}")
            data-reply-to=number
            aria-label=label
            on:click=move |ev| {
                if jump_to(number) {
                    ev.prevent_default();
                }
            }
        >
            <span class="reply-author">{who}</span>
            <span class="reply-snippet" class:muted=quote.snippet.is_none()>{text}</span>
            {edited.then(|| view! { <span class="reply-edited muted">" (edited)"</span> })}
        </a>
    }
}

/// "N replies" under a message that has any: a button that lists them
/// under it (the first [`crate::api::REPLIES_LISTED`], oldest first), each
/// a link to the reply, fetched when opened.
/// Whether it is open is the window's (`open`, flipped by `toggle`), so
/// that it stays open when the row is drawn again; it is read afresh each
/// time it opens or is drawn open, and while open each time `changed`
/// moves (a reply the window shows was edited or deleted).
#[component]
pub fn ReplyCount(
    room_id: i64,
    number: i64,
    count: i64,
    open: Signal<bool>,
    toggle: Callback<()>,
    changed: Signal<u64>,
) -> impl IntoView {
    (count > 0).then(|| {
        let text = if count == 1 { "1 reply".to_owned() } else { format!("{count} replies") };
        let replies = RwSignal::new(None::<Result<Vec<ReplyTo>, ()>>);
        Effect::new(move |was_open: Option<bool>| {
            let is_open = open.get();
            // Read, not only tracked: a memo computes (and so follows what
            // it reads) only when its value is asked for.
            let _ = changed.get();
            if is_open {
                // "Loading…" only as it opens; a refresh keeps the list.
                if was_open != Some(true) {
                    replies.set(None);
                }
                spawn_local(async move {
                    let fetched = crate::api::message_replies(room_id, number).await.map_err(drop);
                    // The row may have been drawn again meanwhile: its list
                    // then fetches its own, and this answer goes to no one.
                    let _ = replies.try_set(Some(fetched));
                });
            }
            is_open
        });
        // Opened by a click here (not kept open through a redraw of the
        // row): the list is scrolled into view once it has loaded, since
        // under the newest message it opens below the history's edge.
        let opened_here = StoredValue::new(false);
        let listed: NodeRef<leptos::html::Ol> = NodeRef::new();
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if let Some(list) = listed.get()
                && opened_here.get_value()
            {
                opened_here.set_value(false);
                crate::browser::reveal(&list);
            }
        });
        let toggle = move |_| {
            opened_here.set_value(!open.get_untracked());
            toggle.run(());
        };
        let more = count > i64::from(crate::api::REPLIES_LISTED);
        view! {
            <div class="replies">
                <button type="button" class="link reply-count" aria-expanded=move || open.get().to_string() on:click=toggle>
                    {text}
                </button>
                <Show when=move || open.get()>
                    {move || match replies.get() {
                        None => view! { <p class="muted reply-list-note">"Loading…"</p> }.into_any(),
                        Some(Err(())) => {
                            view! { <p class="form-error reply-list-note" role="alert">"The replies could not be loaded."</p> }
                                .into_any()
                        }
                        Some(Ok(list)) => view! {
                            <ol class="reply-list" aria-label="Replies" node_ref=listed>
                                {list.into_iter().map(|quote| view! { <li>{quote_link(quote, room_id, "Reply from")}</li> }).collect_view()}
                            </ol>
                            {more.then(|| {
                                let note = format!("The first {} are listed.", crate::api::REPLIES_LISTED);
                                view! { <p class="muted reply-list-note">{note}</p> }
                            })}
                        }
                        .into_any(),
                    }}
                </Show>
            </div>
        }
    })
}

/// Toggles my `emoji` on a message; `changed` gets its reactions after,
/// `failed` is raised when the server refuses or cannot be reached.
///
/// The live `reacted` event often arrives before the answer, and it redraws
/// the message: the button that asked, with `changed` and `failed`, is then
/// gone. So the answer is dropped (the event showed the same reactions)
/// rather than handed to a disposed callback, which would panic the page.
fn toggle_on(room_id: i64, number: i64, changed: Callback<Vec<Reaction>>, failed: RwSignal<bool>, emoji: String) {
    failed.set(false);
    spawn_local(async move {
        match toggle_reaction(room_id, number, emoji).await {
            Ok(reactions) => {
                let _ = changed.try_run(reactions);
            }
            Err(_) => {
                let _ = failed.try_set(true);
            }
        }
    });
}

/// A message's reactions as toggle buttons (pressed when mine; the hover
/// text and the accessible name say who). Nothing when it has none: the
/// picker that adds one is in the message's toolbar ([`ReactionPicker`]).
#[component]
pub fn Reactions(
    room_id: i64,
    number: i64,
    reactions: Vec<Reaction>,
    me_id: UserId,
    changed: Callback<Vec<Reaction>>,
) -> impl IntoView {
    let failed = RwSignal::new(false);
    let buttons = reactions
        .into_iter()
        .map(|reaction| {
            let mine = reaction.users.iter().any(|u| u.id == me_id);
            let label = reaction.label();
            let emoji = reaction.emoji.clone();
            view! {
                <button
                    type="button"
                    class="reaction"
                    class:mine=mine
                    aria-pressed=mine.to_string()
                    title=label.clone()
                    aria-label=label
                    data-emoji=reaction.emoji.clone()
                    on:click=move |_| toggle_on(room_id, number, changed, failed, emoji.clone())
                >
                    <span aria-hidden="true">{reaction.emoji.clone()} " " {reaction.count}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="reactions">
            {buttons}
            <Show when=move || failed.get()>
                <span class="form-error" role="alert">"Could not react. Try again."</span>
            </Show>
        </div>
    }
}

/// While it is drawn, a press anywhere but on `inside` (a menu's button and
/// its panel) calls `close`. Listens only while the menu is open,
/// so a history of rows costs no listener each.
#[component]
fn ClosedByAPressOutside(
    close: Callback<()>,
    inside: (NodeRef<leptos::html::Button>, NodeRef<leptos::html::Span>),
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            let holds = |node: Option<&web_sys::Node>| node.is_some_and(|node| node.contains(target.as_ref()));
            let (opener, panel) = (inside.0.get_untracked(), inside.1.get_untracked());
            if !holds(opener.as_ref().map(AsRef::as_ref)) && !holds(panel.as_ref().map(AsRef::as_ref)) {
                close.run(());
            }
        });
        on_cleanup(move || outside.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (close, inside);
}

/// Whether message `number`'s picker is the open one, as a boolean signal.
#[derive(Clone, Copy)]
struct OpenFor {
    open_for: RwSignal<Option<i64>>,
    number: i64,
}

impl OpenFor {
    fn get(&self) -> bool {
        self.open_for.get() == Some(self.number)
    }

    fn get_untracked(&self) -> bool {
        self.open_for.get_untracked() == Some(self.number)
    }

    /// Opens this one (closing any other) or closes it; a row that is gone
    /// by then changes nothing.
    fn set(&self, open: bool) {
        let number = self.number;
        _ = self.open_for.try_update(|now| match (open, *now) {
            (true, _) => *now = Some(number),
            (false, Some(n)) if n == number => *now = None,
            (false, _) => {}
        });
    }
}

/// "Add a reaction": opens the emoji the picker offers, and a field that
/// finds any other by its name (`tada`, asked of the server: Enter takes the
/// first found); picking one toggles it on the message. Esc or a press
/// elsewhere closes it. `open_for` is the
/// message whose picker is open (one at a time), kept by the caller so that
/// the picker outlives a redraw of its row.
#[component]
pub fn ReactionPicker(
    room_id: i64,
    number: i64,
    changed: Callback<Vec<Reaction>>,
    open_for: RwSignal<Option<i64>>,
) -> impl IntoView {
    let picking = OpenFor { open_for, number };
    let failed = RwSignal::new(false);
    // Opened under the toolbar: in view, though that was the history's
    // bottom edge (the newest message on a phone).
    let picker: NodeRef<leptos::html::Span> = NodeRef::new();
    let opener: NodeRef<leptos::html::Button> = NodeRef::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(picker) = picker.get() {
            crate::browser::reveal(&picker);
        }
    });
    // The emoji found by name, for what the field holds now.
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(Vec::<hearth::model::EmojiSuggestion>::new());
    let find = move |typed: String| {
        query.set(typed.clone());
        let name = typed.trim().trim_matches(':').to_owned();
        if name.is_empty() {
            found.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            // A name no shortcode could have finds nothing.
            let list = crate::api::emoji_suggestions(name.clone()).await.unwrap_or_default();
            if query.try_with_untracked(|now| now.trim().trim_matches(':') == name) == Some(true) {
                let _ = found.try_set(list);
            }
        });
    };
    let pick = move |emoji: String| {
        picking.set(false);
        query.set(String::new());
        found.set(Vec::new());
        toggle_on(room_id, number, changed, failed, emoji);
    };
    // Esc closes it, as every menu of the page, and gives focus back.
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && picking.get_untracked() {
            ev.prevent_default();
            ev.stop_propagation();
            picking.set(false);
            if let Some(opener) = opener.get_untracked() {
                let _ = opener.focus();
            }
        }
    };
    view! {
        <button
            type="button"
            class="react-open"
            title="Add a reaction"
            aria-label="Add a reaction"
            aria-expanded=move || picking.get().to_string()
            node_ref=opener
            on:click=move |_| picking.set(!picking.get_untracked())
            on:keydown=escape
        >"☺+"</button>
        <Show when=move || picking.get()>
            <ClosedByAPressOutside close=Callback::new(move |()| picking.set(false)) inside=(opener, picker) />
            <span class="react-picker" role="group" aria-label="Pick a reaction" node_ref=picker on:keydown=escape>
                {PICKER.iter().map(|emoji| {
                    let emoji = (*emoji).to_owned();
                    let label = format!("React with {emoji}");
                    let chosen = emoji.clone();
                    view! {
                        <button type="button" class="pick" title=label.clone() aria-label=label on:click=move |_| pick(chosen.clone())>
                            {emoji}
                        </button>
                    }
                }).collect_view()}
                <input
                    type="search"
                    class="react-search"
                    placeholder="Find an emoji"
                    aria-label="Find an emoji by name"
                    maxlength="32"
                    autocomplete="off"
                    prop:value=query
                    on:input=move |ev| find(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            if let Some(first) = found.with_untracked(|list| list.first().map(|f| f.emoji.clone())) {
                                pick(first);
                            }
                        }
                    }
                />
                {move || found.get().into_iter().map(|choice| {
                    let label = format!("React with {} :{}:", choice.emoji, choice.shortcode);
                    let chosen = choice.emoji.clone();
                    view! {
                        <button type="button" class="pick found" title=label.clone() aria-label=label on:click=move |_| pick(chosen.clone())>
                            {choice.emoji}
                        </button>
                    }
                }).collect_view()}
            </span>
        </Show>
        <Show when=move || failed.get()>
            <span class="form-error" role="alert">"Could not react. Try again."</span>
        </Show>
    }
}
