//! The app's few touches of the browser's clock, time zone, media queries
//! and HTML parser (js-sys, web-sys), for every page. On the server each answers
//! what a render needs (no clock but the wall clock, UTC, no media), so the
//! server's render and the first render in the browser agree.

/// The browser's clock in ms since the epoch; 0 on the server (the edit
/// window is unknown there).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// Today's day number (days since 1970-01-01): in the browser's zone with
/// `local`, else in UTC (the server's render, and the browser's while it
/// hydrates).
pub fn today(local: bool) -> i64 {
    #[cfg(feature = "hydrate")]
    let (now_ms, offset) = {
        let now = js_sys::Date::new_0();
        (now.get_time(), if local { -(now.get_timezone_offset() as i64) } else { 0 })
    };
    #[cfg(not(feature = "hydrate"))]
    let (now_ms, offset) = {
        let _ = local;
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (since.as_millis() as f64, 0)
    };
    ((now_ms / 1000.0) as i64 + offset * 60).div_euclid(86_400)
}

/// The browser's offset from UTC in minutes at `stamp` (`None` on the
/// server, or when the stamp is not one).
pub fn utc_offset_minutes(stamp: &str) -> Option<i64> {
    #[cfg(feature = "hydrate")]
    {
        let seconds = stamp.get(..19)?;
        let date = js_sys::Date::new(&js_sys::JsString::from(format!("{seconds}Z")));
        (!date.get_time().is_nan()).then(|| -(date.get_timezone_offset() as i64))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = stamp;
        None
    }
}

/// `2026-11-23T19:27:46.123456Z` → (`2026-11-23`, `19:27`): in UTC, or with
/// `local` in the browser's time zone.
pub fn day_and_time(stamp: &str, local: bool) -> (String, String) {
    #[cfg(feature = "hydrate")]
    if local && let Some(seconds) = stamp.get(..19) {
        let date = js_sys::Date::new(&js_sys::JsString::from(format!("{seconds}Z")));
        if !date.get_time().is_nan() {
            return (
                format!("{:04}-{:02}-{:02}", date.get_full_year(), date.get_month() + 1, date.get_date()),
                format!("{:02}:{:02}", date.get_hours(), date.get_minutes()),
            );
        }
    }
    let _ = local;
    let day = stamp.get(..10).unwrap_or(stamp).to_owned();
    let time = stamp.get(11..16).unwrap_or("").to_owned();
    (day, time)
}

/// Whether the CSS media query `query` matches (never on the server).
pub fn media_matches(query: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.match_media(query).ok().flatten()).is_some_and(|list| list.matches())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = query;
        false
    }
}

/// `2026-11-23T19:27:46.123456Z` in milliseconds since the epoch; `None` on
/// the server.
pub fn stamp_ms(stamp: &str) -> Option<f64> {
    #[cfg(feature = "hydrate")]
    {
        let seconds = stamp.get(..19)?;
        let ms = js_sys::Date::new(&js_sys::JsString::from(format!("{seconds}Z"))).get_time();
        (!ms.is_nan()).then_some(ms)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = stamp;
        None
    }
}

/// Now as the server writes times; empty on the server.
pub fn now_stamp() -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// The text message `message` shows, without its Markdown's markup (as the
/// server's `markdown::plain_text` gives it): in the browser, the text of
/// its rendered HTML, read by an inert parser (`DOMParser`: nothing in it
/// loads or runs); on the server, and without HTML, its source. `None` once
/// deleted.
pub fn message_text(message: &hearth::model::Message) -> Option<String> {
    #[cfg(feature = "hydrate")]
    if let Some(html) = message.html.as_deref()
        && let Ok(parser) = web_sys::DomParser::new()
        && let Ok(document) = parser.parse_from_string(html, web_sys::SupportedType::TextHtml)
        && let Some(text) = document.body().and_then(|body| body.text_content())
    {
        return Some(text);
    }
    message.body.clone()
}

/// What a list or an announcement says of `message` on one line: its text
/// as it shows ([`message_text`]), at most `max` characters with the "…",
/// or "Attachment" for a message of files alone, as the server's
/// `markdown::listed_line` says it. `None` once deleted.
pub fn listed_text(message: &hearth::model::Message, max: usize) -> Option<String> {
    if message.deleted {
        return None;
    }
    Some(match message_text(message).filter(|text| !text.trim().is_empty()) {
        Some(text) => hearth::model::cut_line(&text, max),
        None => "Attachment".to_owned(),
    })
}

/// Scrolls `element` into view by as little as it takes.
/// Whether a key press belongs to an input method's composition (the Enter
/// that confirms a Japanese, Chinese or Korean conversion), not to the page:
/// Chromium and Firefox say so with `isComposing`; Safari ends the
/// composition first, then sends that Enter with `keyCode` 229.
pub fn composing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.is_composing() || ev.key_code() == 229
}

/// `future`'s answer, or `None` once it has taken `ms` (a request stuck on
/// a connection that died under it never answers). Natively: awaited.
pub async fn within<T>(ms: u32, future: impl std::future::Future<Output = T>) -> Option<T> {
    #[cfg(feature = "hydrate")]
    {
        use futures::future::{Either, select};
        let (future, timer) = (std::pin::pin!(future), std::pin::pin!(sleep(ms)));
        match select(future, timer).await {
            Either::Left((answer, _)) => Some(answer),
            Either::Right(_) => None,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        Some(future.await)
    }
}

/// Resolves after `ms`. Its timer is never cancelled (it fires, and finds
/// nobody waiting): cancelling one goes through `clearTimeout`, which a page
/// may have replaced (a test's fake clock), and a timer it failed to clear
/// would call a closure already dropped, a panic.
#[cfg(feature = "hydrate")]
pub fn sleep(ms: u32) -> impl std::future::Future<Output = ()> {
    let (done, wait) = futures::channel::oneshot::channel::<()>();
    leptos::prelude::set_timeout(move || _ = done.send(()), std::time::Duration::from_millis(u64::from(ms)));
    async move {
        let _ = wait.await;
    }
}

/// Whether the tab is in front: only then is a message read, and only
/// when it is not does a desktop notification show.
pub fn tab_shown() -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Calls `close` on each press anywhere but inside the element that
/// `selector` matches, as a menu closes; the listener goes with the
/// component. Pressed, not clicked: by the click, a button inside that
/// replaced itself (one that asks first) is out of the page and looks
/// outside.
#[cfg(feature = "hydrate")]
pub fn close_on_press_outside(selector: &'static str, close: impl Fn() + 'static) {
    on_each_press(move |pressed| {
        if pressed.and_then(|t| t.closest(selector).ok().flatten()).is_none() {
            close();
        }
    });
}

/// Calls `handle` with the element of each press anywhere in the page
/// (`None`: not an element), for as long as the component lives.
#[cfg(feature = "hydrate")]
pub fn on_each_press(handle: impl Fn(Option<&web_sys::Element>) + 'static) {
    use wasm_bindgen::JsCast;
    let pressed = leptos::prelude::window_event_listener(leptos::ev::pointerdown, move |ev| {
        handle(ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).as_ref());
    });
    leptos::prelude::on_cleanup(move || pressed.remove());
}

#[cfg(feature = "hydrate")]
pub fn reveal(element: &web_sys::Element) {
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Nearest);
    element.scroll_into_view_with_scroll_into_view_options(&options);
}

/// An element that takes focus when it is shown: a question's control, when
/// the button that opened it is gone from the page and focus would fall to
/// `<body>`, or a panel opened from a row far up or down a list, shown where
/// it is by taking the focus. `wanted` says whether it should (a control
/// drawn again after Cancel, not on the page's first render); `None`: always.
pub fn focus_when_shown<E>(node: leptos::prelude::NodeRef<E>, wanted: Option<leptos::prelude::StoredValue<bool>>)
where
    E: leptos::tachys::html::element::ElementType + 'static,
    E::Output: leptos::wasm_bindgen::JsCast + Clone + AsRef<web_sys::HtmlElement> + 'static,
{
    use leptos::prelude::*;
    Effect::new(move |_| {
        let Some(element) = node.get() else { return };
        if let Some(wanted) = wanted {
            if !wanted.try_get_value().unwrap_or(false) {
                return;
            }
            wanted.set_value(false);
        }
        let _ = AsRef::<web_sys::HtmlElement>::as_ref(&element).focus();
    });
}

/// The live region's next text: `next`, or, when that is what it says
/// already ("ok" twice), `next` with a no-break space more, so that the
/// region changes and is read again.
pub fn next_announcement(now: &str, next: String) -> String {
    if now == next { format!("{next}\u{a0}") } else { next }
}
