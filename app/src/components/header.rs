//! The top bar: brand, the Admin link (admins only), the bell that pauses
//! notifications ([`PauseMenu`]), the signed-in user's name, profile link
//! and sign-out, and the theme toggle (on every page, signed in or out).

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::auth::use_auth;
use crate::components::pause::PauseMenu;

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
                <span class="brand-name">"Hearth"</span>
            </a>
            <div class="topbar-end">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = auth.admin.await.unwrap_or(false);
                    auth.me.await.ok().flatten().map(|me| {
                        let name = me.display_name().to_owned();
                        let name = move || auth.renamed.get().unwrap_or_else(|| name.clone());
                        view! {
                            <nav class="account" aria-label="Account">
                                {admin.then(|| view! { <a class="admin-link" href="/admin">"Admin"</a> })}
                                <PauseMenu />
                                <a class="whoami" href="/profile">{name}</a>
                                <ActionForm action=auth.logout>
                                    // What was typed and not sent stays with the person
                                    // who typed it, not with the browser.
                                    <button type="submit" class="link" on:click=|_| crate::pages::room::forget_unsent()>"Sign out"</button>
                                </ActionForm>
                            </nav>
                        }
                    })
                })}
            </Transition>
            <ThemeToggle />
            </div>
        </header>
    }
}

/// Switches between light and dark and remembers the pick
/// ([`crate::theme`]). Until it has hydrated it cannot know the system's
/// theme, so it claims no state (`aria-pressed` absent) until then.
#[component]
fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| dark.set(Some(crate::theme::current() == crate::theme::Theme::Dark)));
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let next = crate::theme::current().other();
            crate::theme::pick(next);
            dark.set(Some(next == crate::theme::Theme::Dark));
        }
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            aria-label="Dark theme"
            title="Switch between the light and dark theme"
            aria-pressed=move || dark.get().map(|dark| if dark { "true" } else { "false" })
            on:click=toggle
        >
            <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
                <circle cx="10" cy="10" r="8" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M10 2a8 8 0 0 1 0 16z" fill="currentColor" />
            </svg>
        </button>
    }
}
