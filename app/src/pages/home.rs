use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in_with;
use crate::chat::use_chat;

#[component]
pub fn HomePage() -> impl IntoView {
    // A new user (who has read or written nothing yet) is welcomed, not
    // welcomed back; the room list the sidebar shows decides it
    // (`Profile::greeting`); a list that failed to load says nothing, and
    // the usual greeting stays.
    let chat = use_chat();
    let page = signed_in_with(
        move || async move { chat.rooms.await },
        |me, rooms| {
            let greeting = match &rooms {
                Ok(rooms) => me.greeting(rooms),
                Err(_) => "Welcome back, ",
            };
            view! {
                <section class="welcome">
                    <h1>{greeting} <span class="me-name">{me.display_name().to_owned()}</span></h1>
                    <p>"You are signed in as @" {me.username.clone()} "."</p>
                    <p>"Pick one of your conversations, "<a href="/people">"message someone"</a>" or "<a href="/browse">"browse open rooms"</a>"."</p>
                    <p><a href="/profile">"Edit your profile"</a></p>
                </section>
            }
        },
    );
    view! {
        <Title text="" />
        {page}
    }
}
