//! # Hearth's browser UI (Leptos 0.8, SSR + hydration)
//!
//! # Layout
//!
//! - [`shell`] / [`App`]: the HTML document, router and page frame.
//! - [`error`]: [`error::UiError`], how core errors reach a form.
//! - [`api`]: server functions, thin wrappers over the `hearth` core. Their
//!   bodies compile only with the `ssr` feature.
//! - [`auth`]: the signed-in user as a resource, and the sign-in/out actions.
//! - [`chat`]: the room list shared by the sidebar and the chat window.
//! - [`codec`]: how resources cross from the rendered page to the browser.
//! - [`alerts`]: the favicon's unread dot and desktop notifications while
//!   the tab is hidden.
//! - [`live`]: the tab's one reconnecting WebSocket and its event routing.
//! - [`pages`]: one module per route.
//! - [`components`]: pieces shared by pages (header, form errors).
//! - [`theme`]: light or dark, and the remembered pick.
//! - [`upload`]: a file sent as a request's body, with progress.
//!
//! The `hydrate` feature builds the same components for the browser; the
//! `frontend` crate calls [`hydrate`] and nothing else.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod browser;
pub mod chat;
pub mod codec;
pub mod components;
pub mod error;
pub mod live;
pub mod pages;
pub mod theme;
pub mod upload;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Outlet, ParentRoute, Route, Router, Routes},
    hooks::use_location,
    path,
};

use crate::components::header::Header;
use crate::components::sidebar::Sidebar;
use crate::pages::find::FindPage;
use crate::pages::forgot_password::ForgotPasswordPage;
use crate::pages::saved::SavedPage;
use crate::pages::{
    admin::AdminPage, browse::BrowsePage, home::HomePage, login::LoginPage, not_found::NotFound, people::PeoplePage,
    profile::ProfilePage, register::RegisterPage, reset_password::ResetPasswordPage, room::RoomPage,
};

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The user's remembered theme, printed before anything paints.
    #[cfg(feature = "ssr")]
    let theme = theme::requested().map(theme::Theme::as_str);
    #[cfg(not(feature = "ssr"))]
    let theme: Option<&'static str> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, interactive-widget=resizes-content" />
                // The PWA manifest (public/), for installing Hearth and for Web Push.
                <link rel="manifest" href="/manifest.webmanifest" />
                <meta name="theme-color" content="#b8491a" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every page's title counts my unread messages, "(3) People · Hearth"
    // (muted rooms left out; set by `alerts` once the browser has the room
    // list, so the server's title and hydration's agree).
    //
    // The formatter holds the count's reference-counted handle, not an arena
    // one: the server computes the title outside the request's sandboxed
    // arena (leptos_meta, once the first chunk is out), where an arena signal
    // resolves against whatever request last ran on that thread, and under
    // concurrent page loads panicked as "already disposed".
    let unread = ArcRwSignal::new(0_i64);
    provide_context(alerts::UnreadTotal(RwSignal::from(unread.clone())));
    let formatter = move |page: String| {
        let named = if page.is_empty() { "Hearth".to_owned() } else { format!("{page} · Hearth") };
        match unread.get() {
            0 => named,
            n => format!("({n}) {named}"),
        }
    };
    view! {
        <Stylesheet id="leptos" href="/pkg/hearth.css" />
        <leptos_meta::Link rel="icon" href="/favicon.svg" />
        <Title formatter />
        <Router>
            <Routes fallback=NotFound>
                <ParentRoute path=path!("") view=Frame ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("people") view=PeoplePage ssr=SsrMode::Async />
                    <Route path=path!("browse") view=BrowsePage ssr=SsrMode::Async />
                    <Route path=path!("rooms/:id") view=RoomPage ssr=SsrMode::Async />
                    <Route path=path!("find") view=FindPage ssr=SsrMode::Async />
                    <Route path=path!("saved") view=SavedPage ssr=SsrMode::Async />
                    <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The frame around every page. The session actions are created here, inside
/// `<Routes>`, because that is where leptos provides the error of a form
/// posted without JavaScript.
#[component]
fn Frame() -> impl IntoView {
    auth::provide_auth();
    chat::provide_clock();
    live::provide_live();
    chat::provide_chat();
    alerts::provide_alerts();
    let auth = auth::use_auth();
    let chat = chat::use_chat();
    let live = live::use_live();
    let location = use_location();
    focus_each_new_page(location.pathname);
    let elsewhere = expect_context::<alerts::Elsewhere>().0;
    view! {
        // The first thing Tab reaches: past the top bar and the room list.
        // (The router would take the click as a navigation; focus moves here.)
        <a class="skip-link" href="#main" on:click=skip_to_content>"Skip to the content"</a>
        <Header />
        // On a phone the room list (home) and every other page are screens
        // of their own (style/main.css): `data-screen` says which this is.
        <div
            class="layout"
            data-link=move || live.status.get().as_str()
            data-screen=move || if location.pathname.with(|path| path == "/") { "list" } else { "page" }
        >
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = auth.me.await.ok().flatten();
                    let rooms = chat.rooms.await;
                    me.map(|me| view! { <Sidebar me rooms /> })
                })}
            </Transition>
            <main class="page" id="main" tabindex="-1">
                // Shown on a phone, on a signed-in page that is not the list
                // (a room has its own in its header).
                <a class="page-back" href="/"><span aria-hidden="true">"‹ "</span>"Conversations"</a>
                <OfflineBanner />
                // Messages in my other rooms, read out politely (the open
                // room reads its own).
                <p class="visually-hidden elsewhere-announcer" role="status" aria-live="polite" aria-atomic="true">
                    {move || elsewhere.get()}
                </p>
                <Outlet />
            </main>
        </div>
    }
}

/// After a move to another page inside the app (not the first page, and
/// not a room, which focuses its composer), focus goes to the new page's
/// heading, or its content while that is loading: where a page load would
/// start a screen reader, rather than on the link that was followed (or on
/// nothing, when that link went away).
fn focus_each_new_page(path: Memo<String>) {
    // The effect's first run (`before` is `None`) is the first page.
    Effect::new(move |before: Option<()>| {
        let now = path.get();
        if before.is_some() && !now.starts_with("/rooms/") {
            focus_page_start();
        }
    });
}

/// Focuses the page's `<h1>` (made focusable), or `<main>` while there is none yet.
fn focus_page_start() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        let heading = document().query_selector("main h1").ok().flatten();
        let target = heading.or_else(|| document().get_element_by_id("main"));
        if let Some(target) = target.and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok()) {
            if !target.has_attribute("tabindex") {
                let _ = target.set_attribute("tabindex", "-1");
            }
            let _ = target.focus();
        }
    });
}

/// Moves focus to the page's content (`<main>`), past the top bar and the
/// room list.
fn skip_to_content(event: leptos::ev::MouseEvent) {
    event.prevent_default();
    #[cfg(feature = "hydrate")]
    if let Some(main) = document().get_element_by_id("main")
        && let Ok(main) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(main)
    {
        let _ = main.focus();
    }
}

/// Entry point for the browser build.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    follow_visual_viewport();
    components::desktop_notifications::register_service_worker();
    leptos::mount::hydrate_body(App);
}

/// Keeps `--viewport-height` (style/main.css) at the visual viewport's
/// height, so the chat window, composer included, stays above an on-screen
/// keyboard where the browser does not resize the page for it (Safari; Chrome
/// does, with `interactive-widget=resizes-content`). Left alone while the
/// page is pinch-zoomed. CSSOM changes are allowed by the CSP, unlike a
/// `style` attribute.
#[cfg(feature = "hydrate")]
fn follow_visual_viewport() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(viewport) = window().visual_viewport() else { return };
    let Some(root) = document().document_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) else {
        return;
    };
    let follow = {
        let viewport = viewport.clone();
        move || {
            if (viewport.scale() - 1.0).abs() < 0.01 {
                let _ = root.style().set_property("--viewport-height", &format!("{}px", viewport.height()));
            }
        }
    };
    follow();
    let listener = Closure::<dyn Fn()>::new(follow);
    let _ = viewport.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
    // For the page's lifetime.
    listener.forget();
}

/// Shown while the live link is down; pages keep working and catch up when
/// it returns.
#[component]
fn OfflineBanner() -> impl IntoView {
    let live = live::use_live();
    view! {
        <Show when=move || live.status.get() == live::LinkStatus::Offline>
            <p class="offline-banner" role="status">"You are offline. Reconnecting…"</p>
        </Show>
    }
}
