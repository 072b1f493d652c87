//! `/browse`: a form to create an open room, and the open rooms anyone can
//! join, each with its topic, narrowed by a filter as you type.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in_with;
use hearth::model::ConversationSummary;

use crate::api::{CreateOpenRoom, JoinRoom, archived_rooms, list_open_rooms};
use crate::components::form::{FieldErrors, aria_invalid, described_by, last_error, shown_for};

#[component]
pub fn BrowsePage() -> impl IntoView {
    let join = ServerAction::<JoinRoom>::new();
    let create = ServerAction::<CreateOpenRoom>::new();
    let create_error = last_error(create.value());
    let rooms = crate::codec::load(move || join.version().get(), |_| list_open_rooms());
    let archived = crate::codec::load(|| (), |_| archived_rooms());
    let filter = RwSignal::new(String::new());
    let list = signed_in_with(
        move || async move { (rooms.await.unwrap_or_default(), archived.await.unwrap_or_default()) },
        move |me, (rooms, archived): (Vec<hearth::model::OpenRoom>, Vec<ConversationSummary>)| {
            // Archived rooms leave the sidebar; here they can still be found.
            let archived = (!archived.is_empty()).then(|| {
                view! {
                    <h2>"Your archived rooms"</h2>
                    <ul class="archived-rooms">
                        {archived.into_iter().map(|room| view! {
                            <li><a href=format!("/rooms/{}", room.id)>{room.display_title(me.id)}</a></li>
                        }).collect_view()}
                    </ul>
                }
            });
            let open = if rooms.is_empty() {
                view! { <p class="muted">"No open rooms yet. Create the first one above."</p> }.into_any()
            } else {
                open_rooms(rooms, join, filter).into_any()
            };
            view! { {open} {archived} }
        },
    );
    view! {
        <Title text="Open rooms" />
        <section class="panel browse">
            <h1>"Open rooms"</h1>
            <ActionForm action=create attr:class="create-room" attr:aria-label="Create an open room">
                <label>"New open room" <input name="title" placeholder="Its title" aria-invalid=aria_invalid(create_error, "title") aria-describedby=described_by(create_error, "title") required maxlength="100" /></label>
                <button type="submit">"Create room"</button>
                <FieldErrors error=create_error field="title" />
            </ActionForm>
            {list}
        </section>
    }
}

/// The open rooms, each with its topic and Open (a member) or Join, and a
/// filter over their titles and topics.
fn open_rooms(
    rooms: Vec<hearth::model::OpenRoom>,
    join: ServerAction<JoinRoom>,
    filter: RwSignal<String>,
) -> impl IntoView {
    let keys: Vec<String> = rooms.iter().map(room_key).collect();
    let matching = Memo::new(move |_| filter.with(|f| keys.iter().filter(|key| shown_for(key, f)).count()));
    let total = rooms.len();
    view! {
        <input
            type="search"
            class="rooms-filter"
            placeholder="Filter by title or topic"
            aria-label="Filter open rooms"
            aria-describedby="rooms-filter-count"
            autocomplete="off"
            bind:value=filter
        />
        <p id="rooms-filter-count" class="muted rooms-filter-count" role="status">
            {move || match (filter.with(|f| f.trim().is_empty()), matching.get()) {
                (true, _) => format!("{total} open room{}", if total == 1 { "" } else { "s" }),
                (false, 0) => "No open room's title or topic holds that.".to_owned(),
                (false, n) => format!("{n} of {total}"),
            }}
        </p>
        <ul class="open-rooms">
            {rooms.into_iter().map(|room| {
                let key = room_key(&room);
                let left_out = move || filter.with(|f| !shown_for(&key, f));
                let title = room.title.clone().unwrap_or_else(|| "Untitled room".into());
                let members = format!("{} member{}", room.member_count, if room.member_count == 1 { "" } else { "s" });
                view! {
                    <li class="open-room" hidden=left_out>
                        <span class="room-about">
                            <span class="room-title">{title.clone()}</span>
                            {room.topic.map(|topic| view! { <span class="room-topic">{topic}</span> })}
                        </span>
                        <span class="muted">{members}</span>
                        {if room.is_member {
                            view! { <a href=format!("/rooms/{}", room.id)>"Open"</a> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=join>
                                    <input type="hidden" name="room_id" value=room.id.0 />
                                    <button type="submit" aria-label=format!("Join {title}")>"Join"</button>
                                </ActionForm>
                            }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// What the filter looks in: an open room's title and topic, in lower case.
fn room_key(room: &hearth::model::OpenRoom) -> String {
    format!("{} {}", room.title.as_deref().unwrap_or_default(), room.topic.as_deref().unwrap_or_default())
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth::model::{OpenRoom, RoomId};

    #[test]
    fn an_open_room_is_found_by_its_title_or_its_topic_in_any_case() {
        let room = OpenRoom {
            id: RoomId(1),
            title: Some("Design Crit".into()),
            topic: Some("Weekly reviews of Figma work".into()),
            member_count: 3,
            is_member: false,
            updated_at: String::new(),
        };
        let key = room_key(&room);
        for typed in ["design", "CRIT", " figma ", ""] {
            assert!(shown_for(&key, typed), "{typed:?}");
        }
        assert!(!shown_for(&key, "marketing"));
        let bare = OpenRoom { topic: None, ..room };
        assert!(!shown_for(&room_key(&bare), "figma"), "no topic, nothing to find in it");
    }
}
