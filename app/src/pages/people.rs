//! `/people`: the user picker. Click a person to open your direct room with
//! them (existing or new); pick several and a title to start a group.

use hearth::model::{Person, UserId};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in_with;
use crate::api::{StartConversation, search_people};
use crate::components::avatar::Avatar;
use crate::components::form::{FieldErrors, FormErrors, aria_invalid, described_by, keep_typed_text, last_error};

#[component]
pub fn PeoplePage() -> impl IntoView {
    let start = ServerAction::<StartConversation>::new();
    let error = last_error(start.value());
    let query = RwSignal::new(String::new());
    keep_typed_text(query, "people-query");
    let people = crate::codec::load(move || query.get(), search_people);
    let picked = RwSignal::new(Vec::<Person>::new());
    let title = RwSignal::new(String::new());
    let toggle = move |person: Person| {
        picked.update(|p| {
            if let Some(at) = p.iter().position(|q| q.id == person.id) {
                p.remove(at);
            } else {
                p.push(person);
            }
        })
    };
    let create_group = move |_| {
        let ids: Vec<String> = picked.get_untracked().iter().map(|p| p.id.to_string()).collect();
        let title = title.get_untracked();
        start.dispatch(StartConversation {
            user_ids: ids.join(","),
            title: (!title.trim().is_empty()).then_some(title),
        });
    };
    // The search box stays outside the Suspense boundary so typing never
    // re-renders it.
    let results = signed_in_with(
        move || async move { people.await.unwrap_or_default() },
        move |me, people: Vec<Person>| {
            // As many as a search lists: there may be more.
            let cut = people.len() >= crate::api::PEOPLE_LISTED as usize;
            let people: Vec<Person> = people.into_iter().filter(|p| p.id != me.id).collect();
            if people.is_empty() {
                return view! { <p class="muted">"Nobody matches."</p> }.into_any();
            }
            view! {
                <ul class="people-list">
                    {people.into_iter().map(|person| view! { <PersonRow person start picked toggle /> }).collect_view()}
                </ul>
                {cut.then(|| view! {
                    <p class="muted people-cut">
                        {format!("Only the first {} are listed: search by name to find the others.", crate::api::PEOPLE_LISTED)}
                    </p>
                })}
            }
            .into_any()
        },
    );
    view! {
        <Title text="People" />
        <section class="panel people">
            <h1>"Start a conversation"</h1>
            <form class="search" method="get" on:submit=|ev| ev.prevent_default()>
                <input id="people-query" type="search" name="q" placeholder="Search people by name or username" aria-label="Search people" bind:value=query />
            </form>
            <FormErrors error />
            {results}
            <Show when=move || picked.with(|p| p.len() >= 2)>
                <div class="group-builder">
                    <h2>"New group"</h2>
                    <p class="picked">{move || picked.with(|p| p.iter().map(|q| q.display_name().to_owned()).collect::<Vec<_>>().join(", "))}</p>
                    <label>"Group title" <input name="title" placeholder="Group Chat" maxlength="100" aria-invalid=aria_invalid(error, "title") aria-describedby=described_by(error, "title") bind:value=title /></label>
                    <FieldErrors error field="title" />
                    <button type="button" class="create-group" on:click=create_group>"Create group"</button>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn PersonRow(
    person: Person,
    start: ServerAction<StartConversation>,
    picked: RwSignal<Vec<Person>>,
    toggle: impl Fn(Person) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id: UserId = person.id;
    let name = person.display_name().to_owned();
    let username = person.username.clone();
    let picture = person.avatar_url.clone().unwrap_or_default();
    let handle = format!("@{username}");
    let is_picked = move || picked.with(|p| p.iter().any(|q| q.id == id));
    let for_toggle = person.clone();
    view! {
        <li class="person" data-username=username.clone()>
            <label class="pick">
                <input type="checkbox" prop:checked=is_picked on:change=move |_| toggle(for_toggle.clone()) aria-label=format!("Pick {username}") />
            </label>
            <ActionForm action=start>
                <input type="hidden" name="user_ids" value=id.0 />
                <button type="submit" class="link person-open">
                    <Avatar id name=name.clone() url=picture />
                    <span class="person-names">
                        <span class="person-name">{name}</span>
                        <span class="person-handle">{handle}</span>
                    </span>
                </button>
            </ActionForm>
        </li>
    }
}
