//! One module per route. Pages other than login and register are for
//! signed-in users: the server redirects anonymous visitors before rendering,
//! and [`signed_in`] does the same after client-side navigation.

pub mod browse;
pub mod home;
pub mod login;
pub mod not_found;
pub mod people;
pub mod profile;
pub mod register;
pub mod room;

use hearth::model::Profile;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;
use leptos_router::location::Url;

use crate::auth::use_auth;

/// Renders `page` with the signed-in user, or sends the visitor to `/login`
/// with a way back.
pub fn signed_in<V: IntoView + 'static>(page: impl Fn(Profile) -> V + Send + Sync + Clone + 'static) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let page = page.clone();
                move || {
                    let page = page.clone();
                    Suspend::new(async move {
                        match auth.me.await {
                            Ok(Some(me)) => Either::Left(page(me)),
                            _ => {
                                let path = location.pathname.get_untracked();
                                let search = location.search.get_untracked();
                                let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                                Either::Right(view! { <Redirect path=format!("/login?next={}", Url::escape(&here)) /> })
                            }
                        }
                    })
                }
            }
        </Transition>
    }
}
