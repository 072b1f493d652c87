//! The composer's `@` autocomplete, its pure part: the `@query` the caret
//! is in, the members it matches, and the text once one is picked; and the
//! `:shortcode` query the emoji autocomplete answers (from the server). The
//! component is in [`super::composer`]; the server resolves the `@username`
//! written here to a user id when the message is sent.

use hearth::model::Person;

/// The most people the list shows.
pub const MAX_SHOWN: usize = 8;

/// An `@query` being typed: from the `@` (a byte offset) to the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub start: usize,
    pub end: usize,
    /// What follows the `@`, lowercased.
    pub text: String,
}

/// What an `@query` may hold: a username's characters (ASCII letters,
/// digits, `_ . -`), or the start of a name in any script ("@山田", "@łuk").
fn query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') || (!c.is_ascii() && !c.is_whitespace())
}

/// `text` lower-cased by Unicode's rules: in the browser by JavaScript's
/// own (Rust's case tables would cost the WASM ~5 KB), natively by Rust's.
fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_lowercase()
    }
}

/// The `@query` that ends at `caret` (a byte offset): an `@` at the start or
/// after white space, then only characters a username or a name may hold.
/// `None` elsewhere (an email address, a word, after a space).
pub fn query_at(text: &str, caret: usize) -> Option<Query> {
    let before = text.get(..caret)?;
    let at = before.rfind('@')?;
    let typed = &before[at + 1..];
    if !typed.chars().all(query_char) {
        return None;
    }
    if before[..at].chars().next_back().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    Some(Query { start: at, end: caret, text: fold(typed) })
}

/// The members `query` matches, at most [`MAX_SHOWN`]: those whose username
/// starts with it first, then those with a word of their display name that
/// does (words split at spaces and hyphens), each in the given order,
/// ignoring case in any script.
pub fn matching<'a>(people: &'a [Person], query: &str) -> Vec<&'a Person> {
    let query = fold(query);
    let starts = |text: &str| fold(text).starts_with(&query);
    let words = |name: &str| name.split(|c: char| c.is_whitespace() || c == '-').any(starts);
    let by_username = people.iter().filter(|p| starts(&p.username));
    let by_name = people.iter().filter(|p| !starts(&p.username) && p.name.as_deref().is_some_and(words));
    by_username.chain(by_name).take(MAX_SHOWN).collect()
}

/// The `:shortcode` query that ends at `caret` (a byte offset): a `:` at
/// the start or after white space, then at least two of a shortcode's
/// characters (`:)` and a time such as `10:30` are not one). `None`
/// elsewhere.
pub fn emoji_query_at(text: &str, caret: usize) -> Option<Query> {
    let before = text.get(..caret)?;
    let colon = before.rfind(':')?;
    let typed = &before[colon + 1..];
    let shortcode = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-');
    if typed.len() < 2 || typed.len() > 32 || !typed.chars().all(shortcode) {
        return None;
    }
    if before[..colon].chars().next_back().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    Some(Query { start: colon, end: caret, text: typed.to_ascii_lowercase() })
}

/// `text` with the query replaced by `@username ` and the caret (a byte
/// offset) just after it.
pub fn insert(text: &str, query: &Query, username: &str) -> (String, usize) {
    replace(text, query, &format!("@{username} "))
}

/// `text` with the query replaced by `with`, and the caret (a byte offset)
/// just after it.
pub fn replace(text: &str, query: &Query, with: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..query.start]);
    out.push_str(with);
    let caret = out.len();
    out.push_str(&text[query.end..]);
    (out, caret)
}

/// A DOM caret (UTF-16 code units) as a byte offset into `text`.
pub fn byte_offset(text: &str, utf16: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

/// A byte offset into `text` as a DOM caret (UTF-16 code units).
pub fn utf16_offset(text: &str, byte: usize) -> u32 {
    text.get(..byte).map_or(0, |s| s.encode_utf16().count() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth::model::UserId;

    fn person(id: i64, username: &str, name: Option<&str>) -> Person {
        Person {
            id: UserId(id),
            username: username.into(),
            name: name.map(Into::into),
            avatar_url: None,
            deactivated: false,
        }
    }

    #[test]
    fn a_query_starts_at_an_at_sign_at_the_start_or_after_white_space() {
        assert_eq!(query_at("@bo", 3), Some(Query { start: 0, end: 3, text: "bo".into() }));
        assert_eq!(query_at("hi @Bo", 6), Some(Query { start: 3, end: 6, text: "bo".into() }));
        assert_eq!(query_at("hi\n@", 4), Some(Query { start: 3, end: 4, text: String::new() }));
        // The caret inside a mention: only what is before it counts.
        assert_eq!(query_at("@bob and", 2), Some(Query { start: 0, end: 2, text: "b".into() }));
    }

    #[test]
    fn no_query_in_an_email_address_after_a_space_or_past_the_text() {
        assert_eq!(query_at("ann@example", 11), None);
        assert_eq!(query_at("@bob hello", 10), None);
        assert_eq!(query_at("no at sign", 5), None);
        assert_eq!(query_at("@bo", 9), None);
    }

    #[test]
    fn usernames_that_start_with_the_query_come_before_names_with_a_word_that_does() {
        let people = [
            person(1, "alice", Some("Bonnie Alice")),
            person(2, "bob", None),
            person(3, "carol", Some("Carol Boyd")),
            person(4, "dave", Some("Dave")),
        ];
        let names = |q: &str| matching(&people, q).iter().map(|p| p.username.clone()).collect::<Vec<_>>();
        assert_eq!(names("bo"), ["bob", "alice", "carol"]);
        assert_eq!(names("BO"), ["bob", "alice", "carol"]);
        assert_eq!(names(""), ["alice", "bob", "carol", "dave"]);
        assert_eq!(names("x"), Vec::<String>::new());
    }

    #[test]
    fn names_in_any_script_are_found_from_their_start_ignoring_case() {
        let people = [
            person(1, "yuki", Some("山田 由紀")),
            person(2, "lukasz", Some("Łukasz Nowak")),
            person(3, "rahel", Some("רחל כהן")),
            person(4, "greta", Some("Greta Müller-Wertheim")),
        ];
        let names = |q: &str| matching(&people, q).iter().map(|p| p.username.clone()).collect::<Vec<_>>();
        assert_eq!(names("山田"), ["yuki"]);
        assert_eq!(names("由"), ["yuki"]);
        assert_eq!(names("łuk"), ["lukasz"]);
        assert_eq!(names("ŁUK"), ["lukasz"]);
        assert_eq!(names("כהן"), ["rahel"]);
        assert_eq!(names("wert"), ["greta"], "after a hyphen");
        assert_eq!(names("MÜL"), ["greta"]);
        let query = query_at("hi @山田", "hi @山田".len()).expect("a query in any script");
        assert_eq!((query.start, query.text.as_str()), (3, "山田"));
        assert_eq!(query_at("@ŁUk", "@ŁUk".len()).map(|q| q.text), Some("łuk".to_owned()));
        assert_eq!(query_at("@山田 由紀", "@山田 由紀".len()), None, "a space ends it");
    }

    #[test]
    fn at_most_eight_are_shown() {
        let people: Vec<Person> = (0..20).map(|i| person(i, &format!("user{i}"), None)).collect();
        assert_eq!(matching(&people, "user").len(), MAX_SHOWN);
    }

    #[test]
    fn picking_replaces_the_query_with_the_username_and_a_space() {
        let text = "hi @bo, see";
        let query = query_at(text, 6).expect("an @ before the caret opens a query");
        assert_eq!(insert(text, &query, "bob"), ("hi @bob , see".to_owned(), 8));
        let query = query_at("@bo", 3).expect("@bo at the caret is a query");
        assert_eq!(insert("@bo", &query, "bob"), ("@bob ".to_owned(), 5));
    }

    #[test]
    fn an_emoji_query_is_a_colon_and_two_or_more_of_a_shortcodes_characters() {
        assert_eq!(emoji_query_at(":ta", 3), Some(Query { start: 0, end: 3, text: "ta".into() }));
        assert_eq!(emoji_query_at("yes :Thumbs", 11), Some(Query { start: 4, end: 11, text: "thumbs".into() }));
        assert_eq!(emoji_query_at(":+1", 3).map(|q| q.text), Some("+1".to_owned()));
        // Too short, a time, a smiley, after a space, past the text.
        assert_eq!(emoji_query_at(":t", 2), None);
        assert_eq!(emoji_query_at("at 10:30", 8), None);
        assert_eq!(emoji_query_at("ok :)", 5), None);
        assert_eq!(emoji_query_at(":tada done", 10), None);
        assert_eq!(emoji_query_at(":ta", 9), None);
        let query = emoji_query_at("so :tad!", 7).expect("a query before the caret");
        assert_eq!(replace("so :tad!", &query, "🎉 "), ("so 🎉 !".to_owned(), 8));
    }

    #[test]
    fn carets_convert_between_utf16_units_and_bytes() {
        let text = "é😀 @b";
        // é: 1 unit, 2 bytes; 😀: 2 units, 4 bytes.
        assert_eq!(byte_offset(text, 3), 6);
        assert_eq!(byte_offset(text, 6), text.len());
        assert_eq!(byte_offset(text, 99), text.len());
        assert_eq!(utf16_offset(text, 6), 3);
        assert_eq!(utf16_offset(text, text.len()), 6);
    }
}
