//! One module per route. Pages other than login and register are for
//! signed-in users: the server redirects anonymous visitors before rendering,
//! and [`signed_in`] does the same after client-side navigation.

pub mod admin;
pub mod browse;
pub mod find;
pub mod forgot_password;
pub mod home;
pub mod login;
pub mod not_found;
pub mod people;
pub mod profile;
pub mod query;
pub mod register;
pub mod reset_password;
pub mod room;
pub mod saved;

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
    signed_in_with(|| async {}, move |me, ()| page(me))
}

/// Like [`signed_in`], and also awaits the page's own data (`load` awaits
/// its resources) in the same Suspense boundary. One boundary per page, never
/// nested: a resource read by a Suspense inside another one is not ready when
/// the browser hydrates it, and hydration fails.
pub fn signed_in_with<T, F, Fut, V>(
    load: F,
    page: impl Fn(Profile, T) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
    V: IntoView + 'static,
{
    let auth = use_auth();
    let location = use_location();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let page = page.clone();
                let load = load.clone();
                move || {
                    let page = page.clone();
                    let data = load();
                    Suspend::new(async move {
                        let me = match auth.me.await {
                            // In the browser the resource can still hold the
                            // signed-out answer from before a sign-in whose
                            // redirect brought us here (the redirect runs before
                            // the action's version bump refetches it): ask again
                            // before sending the visitor back to /login.
                            Ok(None) if cfg!(feature = "hydrate") => crate::api::get_me().await,
                            me => me,
                        };
                        let data = data.await;
                        match me {
                            Ok(Some(me)) => Either::Left(page(me, data)),
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
