//! Text people type into names, titles and messages: what counts as blank,
//! and the controls a name may not hold. The parsers of each field (rooms,
//! accounts, applications, messages, room settings) use these, so "blank"
//! means the same everywhere.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::error::FieldError;

/// `text` in Unicode's composed form (NFC): "é" typed as one character, or
/// pasted from macOS as "e" and a combining accent, is then the same text,
/// for search and for comparing names.
pub fn composed(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    }
}

/// What a name is compared and searched by: composed and lower-cased, by
/// Unicode's rules (SQLite's own `lower()` leaves "É" and "Ł" as they are).
pub fn name_key(name: &str) -> String {
    composed(name).to_lowercase()
}

/// Characters that show nothing by themselves: whitespace, the soft hyphen,
/// zero-width spaces, joiners and marks, the word joiner and its invisible
/// operators, the byte-order mark, and the direction controls.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// True when `text` holds a character that shows nothing (whitespace
/// aside) or a control character: an address or a login with one reads the
/// same as another without it.
pub fn has_hidden_characters(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || (is_invisible(c) && !c.is_whitespace()))
}

/// True when `text` would show nothing: empty, or only whitespace and
/// invisible characters (a title of one zero-width space is no title).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// Refuses the direction embedding, override and isolate controls in a name
/// or a title, where "\u{202E}lorac" shows as someone else's name. (Messages
/// may hold them: right-to-left text needs them, and a message's author is
/// shown beside it.)
pub fn reject_direction_controls(field: &str, label: &str, value: &str) -> Result<(), FieldError> {
    if value.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
        Err(FieldError::new(field, format!("{label} can't contain text direction controls")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn composed_and_decomposed_accents_are_one_text_and_names_fold_beyond_ascii() {
        assert_eq!(super::composed("Ko\u{308}ln"), "K\u{f6}ln");
        assert!(matches!(super::composed("Köln"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(super::name_key("E\u{301}lodie Dubois"), "élodie dubois");
        assert_eq!(super::name_key("ŁUKASZ Øyvind"), "łukasz øyvind");
    }

    use super::*;

    #[test]
    fn text_of_only_invisible_characters_is_blank() {
        for blank in ["", " ", "\u{200b}", " \u{200b}\u{feff} ", "\u{2060}", "\u{200d}\u{200c}", "\u{00ad}", "\u{202e}"]
        {
            assert!(is_blank(blank), "{blank:?}");
        }
        for shown in ["a", " a ", "\u{200b}a", "👨\u{200d}👩", "-", "\u{05d0}\u{200f}"] {
            assert!(!is_blank(shown), "{shown:?}");
        }
    }

    #[test]
    fn names_refuse_direction_overrides_and_isolates_but_not_right_to_left_letters() {
        for bad in ["\u{202e}Carol", "Al\u{202d}ice", "a\u{2066}b\u{2069}", "\u{202a}x"] {
            assert!(reject_direction_controls("name", "Name", bad).is_err(), "{bad:?}");
        }
        for good in ["Carol", "שלום", "مرحبا", "Zoë", "\u{200f}x"] {
            assert!(reject_direction_controls("name", "Name", good).is_ok(), "{good:?}");
        }
    }
}
