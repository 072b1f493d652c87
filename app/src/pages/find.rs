//! `/find?q=`: search every room I am in; each hit links to the message in
//! its room, with the history around it loaded.

use hearth::model::SearchHit;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::signed_in_with;
use crate::api::search_messages;
use crate::chat::use_chat;
use crate::components::avatar::Avatar;
use crate::components::stamp::Stamp;

#[component]
pub fn FindPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let hits = crate::codec::load(q, search_messages);
    let chat = use_chat();
    let page = signed_in_with(
        move || async move { (hits.await, chat.rooms.await.unwrap_or_default()) },
        move |me, (found, rooms)| {
            if q().trim().is_empty() {
                return view! { <p class="muted">"Type something to search for."</p> }.into_any();
            }
            let (hits, partial) = match found {
                Ok(found) => (found.results, found.partial),
                Err(err) => return view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
            };
            // A one- or two-character query reads only the newest messages.
            let partial_note = partial.then(|| view! {
                <p class="muted partial-results">"Showing matches among recent messages only. Type more to search everything."</p>
            });
            if hits.is_empty() {
                return view! { <p class="muted no-results">"No messages match."</p> {partial_note} }.into_any();
            }
            // The newest SEARCH_PAGE only: say so, rather than seem to be all.
            let capped = (hits.len() >= crate::api::SEARCH_PAGE as usize).then(|| view! {
                <p class="muted capped-results">
                    {format!("Showing the {} newest matches. Add a word to narrow the search.", crate::api::SEARCH_PAGE)}
                </p>
            });
            view! {
                {partial_note}
                {capped}
                <ul class="hits">
                    {hits.into_iter().map(|hit| {
                        let room = rooms.iter().find(|r| r.id == hit.room_id).map(|r| r.display_title(me.id)).unwrap_or_default();
                        view! { <Hit hit room /> }
                    }).collect_view()}
                </ul>
            }.into_any()
        },
    );
    view! {
        <Title text="Search" />
        <section class="panel find">
            <h1>"Search messages"</h1>
            <form method="get" action="/find" class="search">
                <input type="search" name="q" value=q aria-label="Search messages" placeholder="Find text in your rooms" />
            </form>
            {page}
        </section>
    }
}

/// One hit: the sender's avatar, the room, who sent it and when, and the
/// message's text (its Markdown's markup taken out, on the server) with the
/// match marked. The parts are text nodes, so the text is escaped like
/// every other user text.
#[component]
fn Hit(hit: SearchHit, room: String) -> impl IntoView {
    let author = hearth::model::sender_name(hit.user.as_ref(), hit.application.as_deref());
    let avatar_id = crate::components::avatar::colour_id(hit.user.as_ref().map(|u| u.id), &author);
    let chars: Vec<char> = hit.text.chars().collect();
    let (before, matched, after) = match (hit.match_start, hit.match_end) {
        (Some(start), Some(end)) if start <= end && end <= chars.len() => (
            chars[..start].iter().collect::<String>(),
            chars[start..end].iter().collect::<String>(),
            chars[end..].iter().collect::<String>(),
        ),
        _ => (hit.text.clone(), String::new(), String::new()),
    };
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
                <span class="hit-body">{before}<mark>{matched}</mark>{after}</span>
            </a>
        </li>
    }
}
