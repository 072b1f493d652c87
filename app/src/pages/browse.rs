//! `/browse`: open rooms anyone can join, and a form to create one.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in_with;
use hearth::model::ConversationSummary;

use crate::api::{CreateOpenRoom, JoinRoom, archived_rooms, list_open_rooms};
use crate::components::form::{FieldErrors, aria_invalid, described_by, last_error};

#[component]
pub fn BrowsePage() -> impl IntoView {
    let join = ServerAction::<JoinRoom>::new();
    let create = ServerAction::<CreateOpenRoom>::new();
    let create_error = last_error(create.value());
    let rooms = crate::codec::load(move || join.version().get(), |_| list_open_rooms());
    let archived = crate::codec::load(|| (), |_| archived_rooms());
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
                view! { <p class="muted">"No open rooms yet. Create the first one below."</p> }.into_any()
            } else {
                open_rooms(rooms, join).into_any()
            };
            view! { {open} {archived} }
        },
    );
    view! {
        <Title text="Open rooms" />
        <section class="panel browse">
            <h1>"Open rooms"</h1>
            {list}
            <h2>"Create an open room"</h2>
            <ActionForm action=create>
                <label>"Title" <input name="title" aria-invalid=aria_invalid(create_error, "title") aria-describedby=described_by(create_error, "title") required maxlength="100" /></label>
                <FieldErrors error=create_error field="title" />
                <button type="submit">"Create room"</button>
            </ActionForm>
        </section>
    }
}

/// The open rooms, each with Open (a member) or Join.
fn open_rooms(rooms: Vec<hearth::model::OpenRoom>, join: ServerAction<JoinRoom>) -> impl IntoView {
    view! {
        <ul class="open-rooms">
            {rooms.into_iter().map(|room| {
                let title = room.title.clone().unwrap_or_else(|| "Untitled room".into());
                let members = format!("{} member{}", room.member_count, if room.member_count == 1 { "" } else { "s" });
                view! {
                    <li class="open-room">
                        <span class="room-title">{title.clone()}</span>
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
