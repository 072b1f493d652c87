//! Light or dark. Until the user picks one, the system decides:
//! `prefers-color-scheme`, read by the stylesheet alone (`color-scheme` and
//! `light-dark()` in `style/main.css`). The header's toggle records a pick in
//! the `hearth_theme` cookie and sets `data-theme` on `<html>`; the server
//! reads the cookie and prints the same attribute in [`crate::shell`], so a
//! page is painted in the chosen theme from its first frame, signed in or
//! out, without an inline script (which the Content-Security-Policy would
//! refuse without the page's nonce).

/// The cookie holding the user's pick: `light` or `dark`. It is not a
/// secret and not tied to the session, so it outlives signing out.
pub const COOKIE: &str = "hearth_theme";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn other(self) -> Self {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// The pick in one `Cookie:` header value, if it holds a valid one.
    pub fn from_cookie_header(header: &str) -> Option<Self> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| Self::parse(value))
    }
}

/// The theme this request's cookie asks for; `None` lets the system decide.
#[cfg(feature = "ssr")]
pub fn requested() -> Option<Theme> {
    use leptos::prelude::use_context;
    let parts = use_context::<axum::http::request::Parts>()?;
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(Theme::from_cookie_header)
}

/// The theme the page shows now: the pick on `<html>`, else the system's.
#[cfg(feature = "hydrate")]
pub fn current() -> Theme {
    let picked = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("data-theme"))
        .and_then(|value| Theme::parse(&value));
    picked.unwrap_or_else(system)
}

/// Whether the system prefers dark (`prefers-color-scheme`).
#[cfg(feature = "hydrate")]
fn system() -> Theme {
    if crate::browser::media_matches("(prefers-color-scheme: dark)") { Theme::Dark } else { Theme::Light }
}

/// Shows `theme` now and remembers it for a year, on every page.
#[cfg(feature = "hydrate")]
pub fn pick(theme: Theme) {
    use wasm_bindgen::JsValue;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("data-theme", theme.as_str());
    }
    let cookie = format!("{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", theme.as_str());
    let _ = js_sys::Reflect::set(&document, &JsValue::from_str("cookie"), &JsValue::from_str(&cookie));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pick_is_read_from_among_other_cookies() {
        assert_eq!(Theme::from_cookie_header("id=abc; hearth_theme=dark; x=1"), Some(Theme::Dark));
        assert_eq!(Theme::from_cookie_header("hearth_theme=light"), Some(Theme::Light));
    }

    #[test]
    fn no_pick_or_a_bad_one_leaves_it_to_the_system() {
        assert_eq!(Theme::from_cookie_header("id=abc"), None);
        assert_eq!(Theme::from_cookie_header("hearth_theme=purple"), None);
        assert_eq!(Theme::from_cookie_header("not_hearth_theme=dark"), None);
        assert_eq!(Theme::from_cookie_header(""), None);
    }
}
