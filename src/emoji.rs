//! Emoji by their shortcodes, as `:tada:` names 🎉: the composer suggests
//! them as one types `:ta` (`GET /emoji?query=`). The names are GitHub's,
//! as Unicode's list in the `emojis` crate carries them.

use crate::error::FieldError;
use crate::model::EmojiSuggestion;

/// The most emoji one query suggests.
pub const SUGGESTIONS_MAX: usize = 8;

/// The longest query (no shortcode is longer).
pub const QUERY_MAX: usize = 32;

/// What a shortcode may hold.
fn shortcode_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-')
}

/// The emoji whose shortcodes `query` begins (`tad` → 🎉 `tada`), or one of
/// whose words it begins (`cake` → 🍥 `fish_cake`), at most
/// [`SUGGESTIONS_MAX`]: a shortcode that is the query itself first, then
/// those it begins, then those with a word it begins, each in Unicode's
/// order (the faces first). Colons around the query and its case do not
/// count; anything but a shortcode's characters is refused.
pub fn suggestions(query: &str) -> Result<Vec<EmojiSuggestion>, FieldError> {
    let query = query.trim().trim_matches(':').to_ascii_lowercase();
    if query.is_empty() || query.len() > QUERY_MAX || !query.chars().all(shortcode_char) {
        return Err(FieldError::new(
            "query",
            format!("Query must be 1 to {QUERY_MAX} of the letters, digits, _, + and - a shortcode is made of"),
        ));
    }
    let word_start = format!("_{query}");
    let rank = |code: &str| {
        if code == query {
            Some(0)
        } else if code.starts_with(&query) {
            Some(1)
        } else if code.contains(&word_start) {
            Some(2)
        } else {
            None
        }
    };
    let mut found: Vec<(u8, usize, EmojiSuggestion)> = Vec::new();
    for (order, emoji) in emojis::iter().enumerate() {
        // The emoji's best-ranked shortcode names it.
        let best = emoji.shortcodes().filter_map(|code| rank(code).map(|r| (r, code))).min_by_key(|(r, _)| *r);
        if let Some((rank, code)) = best {
            found.push((rank, order, EmojiSuggestion { emoji: emoji.as_str().to_owned(), shortcode: code.to_owned() }));
        }
    }
    found.sort_by_key(|(rank, order, _)| (*rank, *order));
    Ok(found.into_iter().take(SUGGESTIONS_MAX).map(|(_, _, s)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(query: &str) -> Vec<String> {
        suggestions(query).expect("a query").into_iter().map(|s| s.shortcode).collect()
    }

    #[test]
    fn a_shortcode_is_found_by_its_start_the_whole_of_it_first() {
        let found = suggestions("tada").expect("a query");
        assert_eq!((found[0].emoji.as_str(), found[0].shortcode.as_str()), ("🎉", "tada"));
        assert_eq!(codes(":TADA:")[0], "tada", "colons and case do not count");
        assert_eq!(codes("+1")[0], "+1");
        assert!(codes("thumbs").contains(&"thumbsup".to_owned()), "{:?}", codes("thumbs"));
    }

    #[test]
    fn a_word_inside_a_shortcode_is_found_after_the_shortcodes_it_begins() {
        let found = codes("cake");
        assert!(found.contains(&"fish_cake".to_owned()), "{found:?}");
        let first_inside = found.iter().position(|c| !c.starts_with("cake")).expect("one inside");
        assert!(found[..first_inside].iter().all(|c| c.starts_with("cake")), "{found:?}");
        assert!(!codes("ake").iter().any(|c| c == "fish_cake"), "only from a word's start");
    }

    #[test]
    fn at_most_eight_each_emoji_once() {
        let found = suggestions("s").expect("a query");
        assert_eq!(found.len(), SUGGESTIONS_MAX);
        let mut emoji: Vec<&str> = found.iter().map(|s| s.emoji.as_str()).collect();
        emoji.dedup();
        assert_eq!(emoji.len(), SUGGESTIONS_MAX);
        assert!(suggestions("zzzzqqq").expect("a query").is_empty());
    }

    #[test]
    fn a_query_is_a_shortcodes_characters_and_no_more_than_32() {
        for bad in ["", "::", "ta da", "<script>", "é", &"a".repeat(33)] {
            assert_eq!(suggestions(bad).expect_err(bad).field, "query", "{bad:?}");
        }
        assert!(suggestions(&"a".repeat(32)).is_ok());
    }
}
