use leptos::prelude::*;
use leptos_meta::Title;

use super::signed_in;

#[component]
pub fn HomePage() -> impl IntoView {
    let page = signed_in(|me| {
        view! {
            <section class="welcome">
                <h1>"Welcome back, " <span class="me-name">{me.display_name().to_owned()}</span></h1>
                <p>"You are signed in as @" {me.username.clone()} "."</p>
                <p>"Pick a conversation on the left, "<a href="/people">"message someone"</a>" or "<a href="/browse">"browse open rooms"</a>"."</p>
                <p><a href="/profile">"Edit your profile"</a></p>
            </section>
        }
    });
    view! {
        <Title text="" />
        {page}
    }
}
