//! The top bar: brand, the signed-in user's name, profile link and sign-out.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::auth::use_auth;

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Hearth"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    auth.me.await.ok().flatten().map(|me| {
                        let name = me.display_name().to_owned();
                        view! {
                            <nav class="account">
                                <a class="whoami" href="/profile">{name}</a>
                                <ActionForm action=auth.logout>
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            </nav>
                        }
                    })
                })}
            </Transition>
        </header>
    }
}
