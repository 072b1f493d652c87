//! The chat window's own touches of the browser (web-sys, js-sys): focus,
//! visibility, the kind of pointer, send ids, and the drafts and
//! unconfirmed sends in localStorage (the clock and the time zone are `crate::browser`'s). On
//! the server each answers what a render needs (nothing focused, nothing
//! stored), so the server's render and the first render in the browser
//! agree.

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

/// Keeps the history one Tab stop: the links and buttons inside every
/// message leave the Tab order (`tabindex=-1`, marked `data-fenced`) except
/// in the message that focus is in, whose get theirs back. So Tab and
/// Shift+Tab reach the history's Tab stop (the row itself), Tab from there
/// goes into that message's links and toolbar, and then on past the
/// history. They stay clickable; a click focuses its message. Called as
/// focus moves in the history (at once) and after the list changes.
pub fn fence_tab_order(list: &leptos::web_sys::Element) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let active = leptos::prelude::document().active_element();
        let Ok(rows) = list.query_selector_all("article.message") else { return };
        const INSIDE: &str = "a[href], button, summary, input, select, textarea, [tabindex]";
        for i in 0..rows.length() {
            let Some(row) = rows.item(i).and_then(|r| r.dyn_into::<web_sys::Element>().ok()) else { continue };
            let current = active.as_ref().is_some_and(|a| row.contains(Some(a)));
            let Ok(inside) = row.query_selector_all(INSIDE) else { continue };
            for j in 0..inside.length() {
                let Some(el) = inside.item(j).and_then(|e| e.dyn_into::<web_sys::Element>().ok()) else { continue };
                let fenced = el.has_attribute("data-fenced");
                if current && fenced {
                    let _ = el.remove_attribute("tabindex");
                    let _ = el.remove_attribute("data-fenced");
                } else if !current && !fenced && el.get_attribute("tabindex").as_deref() != Some("-1") {
                    let _ = el.set_attribute("tabindex", "-1");
                    let _ = el.set_attribute("data-fenced", "");
                }
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// [`fence_tab_order`] once the browser has drawn what changed (and focus
/// has settled, after a focus left the history).
pub fn fence_tab_order_soon(list: leptos::prelude::NodeRef<leptos::html::Div>) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use leptos::prelude::GetUntracked;
        // The room may have been left by then: its list is gone, not a panic.
        if let Some(list) = list.try_get_untracked().flatten() {
            fence_tab_order(&list);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// Up and Down move focus from a message to the one before or after it,
/// Home and End to the first and last listed: the history is one Tab stop
/// ([`super::RoomContext::tab_stop`]), walked with the arrows. Keys pressed
/// in a field or on a button inside a message are theirs, not this.
pub fn step_through_messages(ev: &leptos::ev::KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        const ROW: &str = "article.message";
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.shift_key() {
            return;
        }
        let Some(row) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        if !row.matches(ROW).unwrap_or(false) {
            return;
        }
        let sibling = |from: &web_sys::Element, up: bool| {
            let mut at = if up { from.previous_element_sibling() } else { from.next_element_sibling() };
            while let Some(element) = at {
                if element.matches(ROW).unwrap_or(false) {
                    return Some(element);
                }
                at = if up { element.previous_element_sibling() } else { element.next_element_sibling() };
            }
            None
        };
        let end = |last: bool| {
            let list = row.parent_element()?;
            list.query_selector(if last { "article.message:last-of-type" } else { "article.message" }).ok().flatten()
        };
        let next = match ev.key().as_str() {
            // At the first loaded message, Up scrolls to the top, which loads
            // older ones (`Paging::on_scroll`); the next Up goes on to them.
            "ArrowUp" if sibling(&row, true).is_none() => {
                ev.prevent_default();
                if let Some(list) = row.parent_element() {
                    list.set_scroll_top(0);
                }
                return;
            }
            "ArrowUp" => sibling(&row, true),
            "ArrowDown" => sibling(&row, false),
            "Home" => end(false),
            "End" => end(true),
            _ => return,
        };
        ev.prevent_default();
        if let Some(next) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = next.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Scrolls the history just enough that the toolbar of the row that took
/// focus is in view: on a phone it opens under the row's text, below the
/// fold for the newest message, and elsewhere it overlays the row's top
/// edge, which the history's top cuts for a row at the top. Only when the
/// row itself took focus (a tap on it, Tab or an arrow), and only for a row
/// in view: a press on one of its buttons must not move the button under
/// the pointer, and a row focused while out of view is left there.
pub fn reveal_actions(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let (Some(row), Some(target)) = (ev.current_target(), ev.target()) else { return };
        if row != target {
            return;
        }
        let Ok(row) = row.dyn_into::<web_sys::Element>() else { return };
        let Some(list) = row.parent_element() else { return };
        let (shown, place) = (list.get_bounding_client_rect(), row.get_bounding_client_rect());
        if place.bottom() <= shown.top() || place.top() >= shown.bottom() {
            return;
        }
        if let Ok(Some(actions)) = row.query_selector(".actions") {
            crate::browser::reveal(&actions);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// On hover, a row whose top is at the history's top edge has its toolbar
/// placed over its bottom edge instead (class `toolbar-below`), where the
/// edge does not cut it; the toolbar is about 1.6 rem tall and sits
/// 0.6 rem above the row.
pub fn place_toolbar(ev: &leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(row) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let Some(list) = row.parent_element() else { return };
        let room = row.get_bounding_client_rect().top() - list.get_bounding_client_rect().top();
        let _ = row.class_list().toggle_with_force("toolbar-below", room < 16.0);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Puts focus back on message `number`'s row when the list's update lost
/// it (the list moves or redraws rows as older ones load, and a moved
/// element loses focus to the page), without scrolling. Focus that is
/// anywhere else is left alone.
pub fn refocus_message(number: i64) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        let document = leptos::prelude::document();
        let lost = document.active_element().is_none_or(|active| active.tag_name() == "BODY");
        if lost && let Ok(Some(row)) = document.query_selector(&format!("article.message[data-number=\"{number}\"]")) {
            focus_in_place(&row);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = number;
}

/// Focuses `row` where it is, without scrolling the history.
pub fn focus_in_place(row: &web_sys::Element) {
    #[cfg(feature = "hydrate")]
    if let Some(row) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(row) {
        let options = web_sys::FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = row.focus_with_options(&options);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = row;
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

/// Whether the main pointer is a finger (a phone or a tablet): there Return
/// makes a new line, as in other chats on a phone, and the Send button sends.
pub fn touch_first() -> bool {
    crate::browser::media_matches("(pointer: coarse)")
}

/// Drops `?around=` from the address without a navigation (the room stays
/// as it is): back at the newest, a reload should not jump into history
/// again.
pub fn forget_jump_in_address() {
    #[cfg(feature = "hydrate")]
    {
        let window = leptos::prelude::window();
        let (Ok(path), Ok(search)) = (window.location().pathname(), window.location().search()) else { return };
        let pairs: Vec<&str> = search.trim_start_matches('?').split('&').filter(|pair| !pair.is_empty()).collect();
        let kept: Vec<&str> = pairs.iter().copied().filter(|pair| pair.split('=').next() != Some("around")).collect();
        if kept.len() == pairs.len() {
            return;
        }
        let url = if kept.is_empty() { path } else { format!("{path}?{}", kept.join("&")) };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// Drafts are kept per account and room: on a browser shared by two
/// people, one never finds (and sends as themselves) the other's words.
const DRAFT_PREFIX: &str = "hearth.draft.";
/// So are the sends not confirmed yet ([`super::outbox`]), as a JSON list
/// per account and room: a reload before the link returns loses none.
const OUTBOX_PREFIX: &str = "hearth.outbox.";

pub fn draft_key(me: i64, room_id: i64) -> String {
    format!("{DRAFT_PREFIX}{me}.{room_id}")
}

/// Where user `me`'s unconfirmed sends are kept: this, then the room's id.
fn outbox_prefix(me: i64) -> String {
    format!("{OUTBOX_PREFIX}{me}.")
}

fn outbox_key(me: i64, room_id: i64) -> String {
    format!("{}{room_id}", outbox_prefix(me))
}

/// Forgets every draft and every unconfirmed send this browser keeps (at
/// sign-out).
pub fn forget_unsent() {
    forget_kept(DRAFT_PREFIX);
    forget_kept(OUTBOX_PREFIX);
}

/// Forgets every unconfirmed send this browser keeps (someone else signed
/// in).
pub fn forget_kept_sends() {
    forget_kept(OUTBOX_PREFIX);
}

/// The keys in localStorage that start with `prefix`.
#[cfg(feature = "hydrate")]
fn stored_keys(storage: &web_sys::Storage, prefix: &str) -> Vec<String> {
    (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(prefix))
        .collect()
}

fn forget_kept(prefix: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        for key in stored_keys(&storage, prefix) {
            let _ = storage.remove_item(&key);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = prefix;
}

/// The rooms where user `me` has unconfirmed sends kept (localStorage).
pub fn rooms_with_kept_sends(me: i64) -> Vec<i64> {
    #[cfg(feature = "hydrate")]
    {
        let Some(storage) = storage() else { return Vec::new() };
        let mine = outbox_prefix(me);
        stored_keys(&storage, &mine).iter().filter_map(|key| key[mine.len()..].parse().ok()).collect()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = outbox_prefix(me);
        Vec::new()
    }
}

/// User `me`'s unconfirmed sends kept for room `room_id`, as stored.
pub fn load_kept_sends(me: i64, room_id: i64) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        storage()?.get_item(&outbox_key(me, room_id)).ok().flatten()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = outbox_key(me, room_id);
        None
    }
}

/// Keeps `stored` as user `me`'s unconfirmed sends for room `room_id`;
/// `None` forgets them. A full storage keeps nothing new, quietly.
pub fn save_kept_sends(me: i64, room_id: i64, stored: Option<&str>) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let key = outbox_key(me, room_id);
        let _ = match stored {
            Some(stored) => storage.set_item(&key, stored),
            None => storage.remove_item(&key),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (me, room_id, stored);
}

/// Whether the element with focus matches the CSS `selector`.
pub fn focus_is_on(selector: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document().active_element().is_some_and(|active| active.matches(selector).unwrap_or(false))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = selector;
        false
    }
}

/// Focuses message `number`'s row where it is, without scrolling, if it
/// is listed.
pub fn focus_message_in_place(number: i64) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(row)) =
        leptos::prelude::document().query_selector(&format!("article.message[data-number=\"{number}\"]"))
    {
        focus_in_place(&row);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = number;
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}

/// The unsent text user `me` kept for room `room_id` (localStorage), if any.
pub fn load_draft(me: i64, room_id: i64) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        storage()?.get_item(&draft_key(me, room_id)).ok().flatten().filter(|d| !d.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = draft_key(me, room_id);
        None
    }
}

/// Keeps `text` as user `me`'s draft for room `room_id`; an empty one is
/// forgotten.
pub fn save_draft(me: i64, room_id: i64, text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        let key = draft_key(me, room_id);
        let _ = if text.is_empty() { storage.remove_item(&key) } else { storage.set_item(&key, text) };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (me, room_id, text);
}
