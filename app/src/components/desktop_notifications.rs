//! "Enable desktop notifications": asks the browser's permission (which the
//! tab's own alerts need, [`crate::alerts`]), subscribes this browser to Web
//! Push with the server's key and keeps the subscription on the server, so
//! `public/sw.js` shows pushes while no Hearth tab is open; turning it off
//! silences the open tabs of this browser too ([`silenced`]), unsubscribes
//! and deletes the subscription. A switch on `/profile`
//! ([`DesktopNotifications`]), and offered once in the sidebar while the
//! browser has not been asked ([`NotificationOffer`]).
//!
//! The service worker is registered when the page hydrates
//! ([`register_service_worker`]). On the server, and until the browser has
//! said, the state is unknown and the controls are inert, so the server's
//! render and hydration agree.

use leptos::prelude::*;
use leptos::task::spawn_local;

/// What this browser says about desktop notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not known yet (the server's render, hydration).
    Unknown,
    /// No `Notification`, service worker or Push API here.
    Unsupported,
    /// The user refused them in the browser's settings.
    Blocked,
    /// Never asked.
    Ask,
    /// Allowed, but turned off here.
    Off,
    /// On, in open tabs only: this browser is not subscribed to Web Push.
    TabsOnly,
    /// On, and subscribed.
    On,
}

const SILENCED_KEY: &str = "hearth.notifications.off";

/// Whether desktop notifications were turned off in this browser (the
/// switch on `/profile`): the open tabs' own then stay quiet too, though
/// the browser still allows them.
pub fn silenced() -> bool {
    #[cfg(feature = "hydrate")]
    {
        browser::storage().and_then(|s| s.get_item(SILENCED_KEY).ok().flatten()).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = SILENCED_KEY;
        false
    }
}

fn set_silenced(off: bool) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = browser::storage() {
        let _ = if off { storage.set_item(SILENCED_KEY, "1") } else { storage.remove_item(SILENCED_KEY) };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = off;
}

/// Registers `public/sw.js` (scope `/`), where the browser has service workers.
pub fn register_service_worker() {
    #[cfg(feature = "hydrate")]
    if let Some(workers) = browser::service_workers() {
        let _ = workers.register("/sw.js");
    }
}

/// The switch on `/profile`.
#[component]
pub fn DesktopNotifications() -> impl IntoView {
    let state = RwSignal::new(State::Unknown);
    let note = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        spawn_local(async move {
            let now = current().await;
            let _ = state.try_set(now);
        })
    });
    // Disabled while it works, the switch loses focus: it gets it back.
    let switch: NodeRef<leptos::html::Input> = NodeRef::new();
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        busy.set(true);
        note.set(None);
        spawn_local(async move {
            let done = if on { enable().await } else { disable().await };
            let _ = note.try_set(done.err());
            let _ = state.try_set(current().await);
            let _ = busy.try_set(false);
            // Once it is enabled again (the next frame).
            request_animation_frame(move || {
                if let Some(input) = switch.try_get_untracked().flatten() {
                    let _ = input.focus();
                }
            });
        });
    };
    let usable = move || matches!(state.get(), State::Ask | State::Off | State::TabsOnly | State::On) && !busy.get();
    let said = move || match state.get() {
        State::Unsupported => Some("This browser cannot show desktop notifications."),
        State::Blocked => Some("Notifications are blocked for this site in the browser's settings."),
        State::TabsOnly => {
            Some("On while a Hearth tab is open; with Hearth closed this browser is not set up for them.")
        }
        _ => None,
    };
    view! {
        <section class="card" id="notifications">
            <h2>"Desktop notifications"</h2>
            <p class="muted">
                "A notification for what your level asks for in each room, while Hearth is in another tab or closed."
            </p>
            <label class="checkbox">
                <input
                    type="checkbox"
                    node_ref=switch
                    prop:checked=move || matches!(state.get(), State::On | State::TabsOnly)
                    disabled=move || !usable()
                    on:change=toggle
                />
                " Enable desktop notifications"
            </label>
            {move || said().map(|text| view! { <p class="muted">{text}</p> })}
            {move || note.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
        </section>
    }
}

/// Offered once in the sidebar while the browser has not been asked: either
/// answer puts it away for good (this browser remembers).
#[component]
pub fn NotificationOffer() -> impl IntoView {
    let shown = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        spawn_local(async move {
            let ask = current().await == State::Ask && !offered();
            let _ = shown.try_set(ask);
        });
    });
    let answer = move |enabling: bool| {
        remember_offered();
        spawn_local(async move {
            if enabling && let Err(text) = enable().await {
                let _ = note.try_set(Some(text));
                return;
            }
            let _ = shown.try_set(false);
        });
    };
    view! {
        <Show when=move || shown.get()>
            <div class="notify-offer" role="group" aria-label="Desktop notifications">
                <p>"Get a desktop notification when someone needs you?"</p>
                <button type="button" on:click=move |_| answer(true)>"Enable desktop notifications"</button>
                <button type="button" class="link" on:click=move |_| answer(false)>"Not now"</button>
                {move || note.get().map(|text| view! { <p class="form-error" role="alert">{text}</p> })}
            </div>
        </Show>
    }
}

const OFFERED_KEY: &str = "hearth.notifications.offered";

fn offered() -> bool {
    #[cfg(feature = "hydrate")]
    {
        browser::storage().and_then(|s| s.get_item(OFFERED_KEY).ok().flatten()).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = OFFERED_KEY;
        true
    }
}

fn remember_offered() {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = browser::storage() {
        let _ = storage.set_item(OFFERED_KEY, "1");
    }
}

async fn current() -> State {
    #[cfg(feature = "hydrate")]
    {
        browser::state().await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        State::Unknown
    }
}

/// Asks permission, then subscribes and saves the subscription. The tab's
/// own notifications need only the permission, so an error after it says
/// that push with the tab closed is what failed.
async fn enable() -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        if !browser::ask_permission().await {
            return Err("Notifications were not allowed.".into());
        }
        set_silenced(false);
        let subscribed = browser::subscribe().await;
        let (endpoint, p256dh, auth) =
            subscribed.map_err(|e| format!("Push with Hearth closed is unavailable: {e}"))?;
        crate::api::save_push_subscription(endpoint, p256dh, auth).await.map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err("Not in a browser".into())
    }
}

/// Silences this browser's tabs, unsubscribes it and deletes the
/// subscription on the server.
async fn disable() -> Result<(), String> {
    set_silenced(true);
    #[cfg(feature = "hydrate")]
    {
        if let Some(endpoint) = browser::unsubscribe().await? {
            crate::api::delete_push_subscription(endpoint).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Ok(())
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Notification, NotificationPermission, PushManager, PushSubscription, PushSubscriptionOptionsInit,
        ServiceWorkerContainer, ServiceWorkerRegistration,
    };

    use super::State;

    fn has(target: &JsValue, name: &str) -> bool {
        js_sys::Reflect::has(target, &name.into()).unwrap_or(false)
    }

    pub fn storage() -> Option<web_sys::Storage> {
        window().local_storage().ok().flatten()
    }

    /// `navigator.serviceWorker`, where there is one (secure contexts only).
    pub fn service_workers() -> Option<ServiceWorkerContainer> {
        let navigator = window().navigator();
        has(&navigator, "serviceWorker").then(|| navigator.service_worker())
    }

    async fn push_manager() -> Result<PushManager, String> {
        let workers = service_workers().ok_or("no service workers in this browser")?;
        let ready = workers.ready().map_err(describe)?;
        let registration: ServiceWorkerRegistration = JsFuture::from(ready).await.map_err(describe)?.unchecked_into();
        if !has(&registration, "pushManager") {
            return Err("no Push API in this browser".into());
        }
        registration.push_manager().map_err(describe)
    }

    async fn subscription(manager: &PushManager) -> Result<Option<PushSubscription>, String> {
        let found = JsFuture::from(manager.get_subscription().map_err(describe)?).await.map_err(describe)?;
        Ok((!found.is_null() && !found.is_undefined()).then(|| found.unchecked_into()))
    }

    pub async fn state() -> State {
        if !has(&window(), "Notification") || service_workers().is_none() {
            return State::Unsupported;
        }
        match Notification::permission() {
            NotificationPermission::Denied => State::Blocked,
            NotificationPermission::Granted if super::silenced() => State::Off,
            NotificationPermission::Granted => match push_manager().await {
                Ok(manager) if matches!(subscription(&manager).await, Ok(Some(_))) => State::On,
                _ => State::TabsOnly,
            },
            _ => State::Ask,
        }
    }

    pub async fn ask_permission() -> bool {
        let Ok(asked) = Notification::request_permission() else { return false };
        JsFuture::from(asked).await.ok().and_then(|answer| answer.as_string()).as_deref() == Some("granted")
    }

    /// Subscribes with the server's key: the subscription's endpoint and keys.
    pub async fn subscribe() -> Result<(String, String, String), String> {
        let manager = push_manager().await?;
        let key = crate::api::push_key().await.map_err(|e| e.to_string())?;
        let options = PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        // A base64url string is a valid applicationServerKey.
        options.set_application_server_key(&JsValue::from_str(&key));
        let subscribing = manager.subscribe_with_options(&options).map_err(describe)?;
        let subscription: PushSubscription = JsFuture::from(subscribing).await.map_err(describe)?.unchecked_into();
        // Its `toJSON()` (through `JSON.stringify`): {endpoint, keys: {p256dh, auth}},
        // read field by field rather than with serde (a few KB less WASM).
        let json = js_sys::JSON::parse(&String::from(js_sys::JSON::stringify(&subscription).map_err(describe)?))
            .map_err(describe)?;
        let field = |object: &JsValue, name: &str| js_sys::Reflect::get(object, &name.into()).ok();
        let text = |object: &JsValue, name: &str| field(object, name).and_then(|v| v.as_string());
        let keys = field(&json, "keys").unwrap_or(JsValue::UNDEFINED);
        match (text(&json, "endpoint"), text(&keys, "p256dh"), text(&keys, "auth")) {
            (Some(endpoint), Some(p256dh), Some(auth)) => Ok((endpoint, p256dh, auth)),
            _ => Err("the browser's subscription has no endpoint or keys".into()),
        }
    }

    /// Unsubscribes this browser; the endpoint it had, if any.
    pub async fn unsubscribe() -> Result<Option<String>, String> {
        let manager = push_manager().await?;
        let Some(subscription) = subscription(&manager).await? else { return Ok(None) };
        let endpoint = subscription.endpoint();
        JsFuture::from(subscription.unsubscribe().map_err(describe)?).await.map_err(describe)?;
        Ok(Some(endpoint))
    }

    fn describe(error: JsValue) -> String {
        error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| error.as_string())
            .unwrap_or_else(|| "unknown error".into())
    }
}
