//! The top bar: brand, the signed-in user's name, profile link and sign-out.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::auth::use_auth;

#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <svg class="logo" viewBox="0 0 32 32" width="22" height="22" aria-hidden="true" focusable="false">
                    <path
                        d="M16 3c3 5 8 8 8 15a8 8 0 0 1-16 0c0-4 2-6 4-8 0 3 1 5 3 6-1-5 0-9 1-13z"
                        fill="currentColor"
                    />
                </svg>
                "Hearth"
            </a>
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
