//! `/find?q=`: search every room I am in (`&room_id=`: one of them, as the
//! room header's Search leads here); each hit links to the message in its
//! room, with the history around it loaded.

use hearth::model::{ConversationSummary, RoomId, SearchHit, UserId};
use leptos::prelude::*;
use leptos_meta::Title;

use super::query::use_query_value;
use super::signed_in_with;
use crate::api::{archived_rooms, search_messages};
use crate::chat::use_chat;
use crate::components::avatar::Avatar;
use crate::components::stamp::Stamp;

#[component]
pub fn FindPage() -> impl IntoView {
    let q = use_query_value("q");
    let in_room = use_query_value("room_id");
    let scope = move || in_room().trim().parse::<i64>().ok();
    // The hits, and the archived rooms I am in (to name hits from those: the
    // live list has only the others), asked for only when there are hits.
    let hits = crate::codec::load(
        move || (q(), scope()),
        |(q, scope)| async move {
            let found = search_messages(q, scope).await;
            let archived = match &found {
                Ok(found) if !found.results.is_empty() => archived_rooms().await.unwrap_or_default(),
                _ => Vec::new(),
            };
            (found, archived)
        },
    );
    let chat = use_chat();
    let page = signed_in_with(
        move || async move { (hits.await, chat.rooms.await.unwrap_or_default()) },
        move |me, ((found, archived), rooms)| {
            let scoped = scope().map(|room| {
                let name = rooms.iter().find(|r| r.id == RoomId(room)).map(|r| r.display_title(me.id));
                let everywhere =
                    format!("/find?q={}", form_urlencoded::byte_serialize(q().as_bytes()).collect::<String>());
                view! {
                    <p class="search-scope">
                        {match name {
                            Some(name) => format!("In {name} only. "),
                            None => "In one room only. ".to_owned(),
                        }}
                        <a href=everywhere>"Search all my rooms"</a>
                    </p>
                }
            });
            if q().trim().is_empty() {
                return view! { {scoped} <p class="muted">"Type something to search for."</p> }.into_any();
            }
            let (hits, partial, ignored) = match found {
                Ok(found) => (found.results, found.partial, found.ignored),
                Err(err) => return view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
            };
            // A one- or two-character query reads only the newest messages.
            let partial_note = partial.then(|| view! {
                <p class="muted partial-results">"Showing matches among recent messages only. Type more to search everything."</p>
            });
            // Short words beside longer ones: say they were not looked for.
            let ignored_note = (!ignored.is_empty()).then(|| {
                let words = ignored.iter().map(|w| format!("“{w}”")).collect::<Vec<_>>().join(", ");
                view! {
                    <p class="muted ignored-words">
                        {format!("Not searched for: {words}. Words under three characters count only when every word is that short.")}
                    </p>
                }
            });
            if hits.is_empty() {
                return view! { {scoped} {ignored_note} <p class="muted no-results">"No messages match."</p> {partial_note} }
                    .into_any();
            }
            // The newest SEARCH_PAGE only: say so, rather than seem to be all.
            let capped = (hits.len() >= crate::api::SEARCH_PAGE as usize).then(|| view! {
                <p class="muted capped-results">
                    {format!("Showing the {} newest matches. Add a word to narrow the search.", crate::api::SEARCH_PAGE)}
                </p>
            });
            view! {
                {scoped}
                {ignored_note}
                {partial_note}
                {capped}
                <ul class="hits">
                    {hits.into_iter().map(|hit| {
                        let room = room_name(&rooms, &archived, hit.room_id, me.id);
                        view! { <Hit hit room /> }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        },
    );
    view! {
        <Title text="Search" />
        <section class="panel find">
            <h1>"Search messages"</h1>
            <form method="get" action="/find" class="search">
                <input type="search" name="q" value=q aria-label="Search messages" placeholder="Find text in your rooms" />
                {move || scope().map(|room| view! { <input type="hidden" name="room_id" value=room /> })}
            </form>
            {page}
        </section>
    }
}

/// The name a hit's room is listed by: its title, marked "(archived)" for an
/// archived room; never empty.
pub(super) fn room_name(
    live: &[ConversationSummary],
    archived: &[ConversationSummary],
    room: RoomId,
    me: UserId,
) -> String {
    if let Some(found) = live.iter().find(|r| r.id == room) {
        return found.display_title(me);
    }
    match archived.iter().find(|r| r.id == room) {
        Some(found) => format!("{} (archived)", found.display_title(me)),
        None => "Another room".to_owned(),
    }
}

/// How much of a hit's text is shown around its match: at most this many
/// characters before it (on its own line), and after it at most this many
/// characters and this many more lines. A long message is listed as a few
/// lines with the match in the first of them, not as the whole text.
const BEFORE_MATCH: usize = 60;
const AFTER_MATCH: usize = 200;
const LINES_AFTER_MATCH: usize = 2;

/// The part of `text` a hit shows: (before, matched, after), with "…" where
/// text was left out. `matched` is `start..end` in characters; without it
/// (a match in the markup only) the text's start is shown.
fn snippet(text: &str, matched: Option<(usize, usize)>) -> (String, String, String) {
    let chars: Vec<char> = text.chars().collect();
    let (start, end) = match matched {
        Some((start, end)) if start <= end && end <= chars.len() => (start, end),
        _ => (0, 0),
    };
    let line_start = chars[..start].iter().rposition(|&c| c == '\n').map_or(0, |at| at + 1);
    let from = line_start.max(start.saturating_sub(BEFORE_MATCH));
    let mut before: String = chars[from..start].iter().collect();
    if from > 0 {
        before.insert(0, '…');
    }
    let mut to = chars.len().min(end + AFTER_MATCH);
    if let Some(at) =
        chars[end..to].iter().enumerate().filter(|(_, c)| **c == '\n').nth(LINES_AFTER_MATCH).map(|(at, _)| at)
    {
        to = end + at;
    }
    let mut after: String = chars[end..to].iter().collect();
    if to < chars.len() {
        after.push('…');
    }
    (before, chars[start..end].iter().collect(), after)
}

/// One hit: the sender's avatar, the room, who sent it and when, and the
/// message's text (its Markdown's markup taken out, on the server) with the
/// match marked. The parts are text nodes, so the text is escaped like
/// every other user text.
#[component]
fn Hit(hit: SearchHit, room: String) -> impl IntoView {
    let author = hearth::model::sender_name(hit.user.as_ref(), hit.application.as_deref());
    let avatar_id = crate::components::avatar::colour_id(hit.user.as_ref().map(|u| u.id), &author);
    let (before, matched, after) = snippet(&hit.text, hit.match_start.zip(hit.match_end));
    let href = format!("/rooms/{}?around={}", hit.room_id, hit.number);
    view! {
        <li class="hit">
            <a href=href>
                <Avatar id=avatar_id name=author.clone() url=hit.avatar_url.unwrap_or_default() />
                <span class="hit-meta">
                    <span class="hit-room">{room}</span>
                    <span class="hit-author">{author}</span>
                    <Stamp stamp=hit.created_at with_day=true />
                </span>
                // No mark where the query matched only markup (a link's
                // target, `**`): nothing of the text shown is the match.
                <span class="hit-body">{before}{(!matched.is_empty()).then(|| view! { <mark>{matched}</mark> })}{after}</span>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    fn shown(text: &str, matched: Option<(usize, usize)>) -> String {
        let (before, matched, after) = snippet(text, matched);
        format!("{before}[{matched}]{after}")
    }

    #[test]
    fn a_short_message_is_shown_whole() {
        assert_eq!(shown("we are 100% sure", Some((7, 11))), "we are [100%] sure");
        assert_eq!(shown("line one\nline two", Some((0, 4))), "[line] one\nline two");
        assert_eq!(shown("only markup matched", None), "[]only markup matched");
        assert_eq!(shown("", None), "[]");
    }

    #[test]
    fn a_long_message_is_cut_around_its_match() {
        let text = format!("{}needle{}", "a".repeat(5000), "b".repeat(5000));
        let (before, matched, after) = snippet(&text, Some((5000, 5006)));
        assert_eq!(before, format!("…{}", "a".repeat(60)));
        assert_eq!(matched, "needle");
        assert_eq!(after, format!("{}…", "b".repeat(200)));
        // Without a match, its start.
        let (before, matched, after) = snippet(&text, None);
        assert_eq!((before.as_str(), matched.as_str()), ("", ""));
        assert_eq!(after, format!("{}…", "a".repeat(200)));
    }

    #[test]
    fn lines_are_cut_too() {
        let text = format!("{}\nfirst needle\n{}", "above\n".repeat(500), "below\n".repeat(500));
        let start = text.find("needle").expect("the text holds the needle");
        assert_eq!(shown(&text, Some((start, start + 6))), "…first [needle]\nbelow\nbelow…");
    }

    #[test]
    fn characters_not_bytes() {
        let text = format!("{}été{}", "é".repeat(100), "ü".repeat(300));
        let (before, matched, after) = snippet(&text, Some((100, 103)));
        assert_eq!(before.chars().count(), 61);
        assert_eq!(matched, "été");
        assert_eq!(after.chars().count(), 201);
    }
}
