//! A page's query string, decoded once.
//!
//! leptos_router 0.8's `use_query_map` decodes every value twice: its
//! `ParamsMap::insert` unescapes values that `url`'s `query_pairs` (on the
//! server) and `URLSearchParams` (in the browser) have already decoded, so
//! `?q=%2541` (someone searched for `%41`) read as `A`. Pages read their
//! query here instead: the raw query string (`use_location().search`, the
//! same text on the server and in the browser, so the two renders agree)
//! decoded once, as a form is (`+` is a space, each `%XX` once).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The query value `name` of the current page, decoded once; empty when
/// absent. Reactive: it follows client-side navigation.
pub fn use_query_value(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let location = use_location();
    let value = Memo::new(move |_| location.search.with(|search| query_value(search, name)).unwrap_or_default());
    move || value.get()
}

/// The first value of `name` in the raw query string `search` (with or
/// without its `?`), decoded once as `application/x-www-form-urlencoded`
/// (`+` is a space, each `%XX` once, a `%` without two hex digits kept as it
/// is, bytes that are not UTF-8 replaced).
pub fn query_value(search: &str, name: &str) -> Option<String> {
    let search = search.strip_prefix('?').unwrap_or(search);
    form_urlencoded::parse(search.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn each_escape_is_decoded_once() {
        assert_eq!(query_value("q=%2541", "q").as_deref(), Some("%41"));
        assert_eq!(query_value("q=100%2525", "q").as_deref(), Some("100%25"));
        assert_eq!(query_value("q=100%25", "q").as_deref(), Some("100%"));
    }

    #[test]
    fn a_form_query_round_trips() {
        // What a browser's form sends for `a&b #c+d 100% é`.
        let sent = "q=a%26b+%23c%2Bd+100%25+%C3%A9";
        assert_eq!(query_value(sent, "q").as_deref(), Some("a&b #c+d 100% é"));
        assert_eq!(query_value(&format!("?{sent}"), "q").as_deref(), Some("a&b #c+d 100% é"));
        // The server's `url` and the browser may leave some characters as they are.
        assert_eq!(query_value("q=caf%C3%A9%20au%20lait", "q").as_deref(), Some("café au lait"));
    }

    #[test]
    fn picks_the_named_value() {
        assert_eq!(query_value("", "q"), None);
        assert_eq!(query_value("around=5", "q"), None);
        assert_eq!(query_value("a=1&q=two&q=three", "q").as_deref(), Some("two"));
        assert_eq!(query_value("q", "q").as_deref(), Some(""));
        assert_eq!(query_value("q=", "q").as_deref(), Some(""));
        assert_eq!(query_value("x%3Dy=1&q=a%3Db", "q").as_deref(), Some("a=b"));
        assert_eq!(query_value("next=%2Ffind%3Fq%3D%252541", "next").as_deref(), Some("/find?q=%2541"));
    }

    #[test]
    fn stray_percents_and_bad_bytes_do_not_panic() {
        assert_eq!(query_value("q=%", "q").as_deref(), Some("%"));
        assert_eq!(query_value("q=%4", "q").as_deref(), Some("%4"));
        assert_eq!(query_value("q=%zz1", "q").as_deref(), Some("%zz1"));
        assert_eq!(query_value("q=%FF", "q").as_deref(), Some("\u{FFFD}"));
    }
}
