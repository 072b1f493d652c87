//! The chat window's few touches of the browser (web-sys, js-sys): the
//! clock, the time zone, focus, visibility and the drafts in localStorage.
//! On the server each answers what a render needs (no clock but the wall
//! clock, UTC, nothing stored), so the server's render and the first render
//! in the browser agree.

/// The composer's textarea id.
pub const COMPOSER_ID: &str = "composer-body";

pub fn focus_composer() {
    #[cfg(feature = "hydrate")]
    if let Some(composer) = leptos::prelude::document().get_element_by_id(COMPOSER_ID)
        && let Ok(composer) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(composer)
    {
        let _ = composer.focus();
    }
}

/// Focuses message `number`'s row once the list has drawn it (a row that
/// changed is drawn anew, so this looks it up after the update).
pub fn focus_message(number: i64) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        if let Ok(Some(row)) =
            leptos::prelude::document().query_selector(&format!("article.message[data-number=\"{number}\"]"))
            && let Ok(row) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(row)
        {
            let _ = row.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = number;
}

/// A fresh id for a send, so a retry is not a second message.
pub fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let now = js_sys::Date::now() as u64;
        let random = (js_sys::Math::random() * 1e12) as u64;
        format!("{now:x}-{random:x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

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

/// Whether the main pointer is a finger (a phone or a tablet): there Return
/// makes a new line, as in other chats on a phone, and the Send button sends.
pub fn touch_first() -> bool {
    media_matches("(pointer: coarse)")
}

/// Whether the tab is in front (only then does reading mark messages read).
pub fn page_visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible
    }
    #[cfg(not(feature = "hydrate"))]
    {
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

fn draft_key(room_id: i64) -> String {
    format!("hearth.draft.{room_id}")
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}

/// The unsent text kept for room `room_id` (localStorage), if any.
pub fn load_draft(room_id: i64) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        storage()?.get_item(&draft_key(room_id)).ok().flatten().filter(|d| !d.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = draft_key(room_id);
        None
    }
}

/// Keeps `text` as room `room_id`'s draft; an empty one is forgotten.
pub fn save_draft(room_id: i64, text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let key = draft_key(room_id);
        let _ = if text.is_empty() { storage.remove_item(&key) } else { storage.set_item(&key, text) };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (room_id, text);
}
