//! `@username` mentions in a message text, and who a message notifies.
//!
//! Pure functions, shared with the browser (which highlights mentions): the
//! server resolves the names found here to the room's members when a
//! message is written, and stores the user ids (`mentions` table); the text
//! is never parsed again, so renaming a user does not break a mention.

use crate::model::{NotifyLevel, RoomKind};

/// The most room members `@everyone`/`@here` may reach, for anyone (there
/// are no admin roles yet): in a bigger room they are plain text.
pub const EVERYONE_MAX_MEMBERS: usize = 50;

/// The mention tokens of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Each `@name` once, lowercased (usernames are unique ignoring case),
    /// in order of first appearance; never `everyone` or `here`.
    pub names: Vec<String>,
    /// `@everyone` or `@here` appeared.
    pub everyone: bool,
}

fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Finds the `@name` tokens of `text`: an `@` at the start or after a
/// character that cannot be part of a username (so `ann@example.com` is not
/// one), followed by a username (letters, digits, `_ . -`, starting with a
/// letter or digit); a trailing `.` or `-` is punctuation ("thanks @bob.").
/// Text inside backticks (code) mentions no one.
pub fn tokens(text: &str) -> Tokens {
    let mut found = Tokens::default();
    for (start, end) in spans(text) {
        let name = text[start + 1..end].to_ascii_lowercase();
        if name == "everyone" || name == "here" {
            found.everyone = true;
        } else if !found.names.contains(&name) {
            found.names.push(name);
        }
    }
    found
}

/// Where each `@name` token of `text` is, by [`tokens`]' rules: the byte
/// range from the `@` to the end of the name, in order (the server's
/// renderer marks these in messages that mention someone).
pub fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut code = false;
    let mut previous: Option<char> = None;
    for (i, c) in text.char_indices() {
        if c == '`' {
            code = !code;
        } else if c == '@' && !code && !previous.is_some_and(username_char) {
            let rest = &text[i + 1..];
            let end = rest.find(|c: char| !username_char(c)).unwrap_or(rest.len());
            let name = rest[..end].trim_end_matches(['.', '-']);
            if name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                found.push((i, i + 1 + name.len()));
            }
        }
        previous = Some(c);
    }
    found
}

impl NotifyLevel {
    /// The level of a member who has not chosen one.
    pub fn default_for(kind: RoomKind) -> Self {
        match kind {
            RoomKind::Direct => Self::Everything,
            RoomKind::Group | RoomKind::Open => Self::Mentions,
        }
    }

    /// Whether a new message (that mentions this member or not) is one to
    /// be told about at this level.
    pub fn notifies(self, mentioned: bool) -> bool {
        match self {
            Self::Everything => true,
            Self::Mentions => mentioned,
            Self::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        tokens(text).names
    }

    #[test]
    fn mentions_are_at_names_lowercased_once_each_in_order() {
        assert_eq!(names("@Bob and @ann, then @bob again"), ["bob", "ann"]);
        assert_eq!(names("(@carol) @dave: hi @e.f-g_h"), ["carol", "dave", "e.f-g_h"]);
    }

    #[test]
    fn trailing_punctuation_emails_code_and_bare_at_signs_are_not_mentions() {
        assert_eq!(names("thanks @bob."), ["bob"]);
        assert_eq!(names("thanks @bob-- really"), ["bob"]);
        assert!(names("mail ann@example.com").is_empty());
        assert!(names("run `@bob` or ``").is_empty());
        assert_eq!(names("`@code` then @real"), ["real"]);
        assert!(names("@ alone, @_under, @.dot, @@").is_empty());
        assert_eq!(names("@@bob"), ["bob"], "a doubled @ still mentions");
    }

    #[test]
    fn everyone_and_here_are_a_flag_not_names() {
        let t = tokens("@everyone look, @Here too, and @bob");
        assert!(t.everyone);
        assert_eq!(t.names, ["bob"]);
        assert!(!tokens("every@everyone").everyone);
        assert!(!tokens("@everyones").everyone);
    }

    #[test]
    fn levels_default_by_room_kind_and_decide_what_notifies() {
        assert_eq!(NotifyLevel::default_for(RoomKind::Direct), NotifyLevel::Everything);
        assert_eq!(NotifyLevel::default_for(RoomKind::Group), NotifyLevel::Mentions);
        assert_eq!(NotifyLevel::default_for(RoomKind::Open), NotifyLevel::Mentions);
        assert!(NotifyLevel::Everything.notifies(false) && NotifyLevel::Everything.notifies(true));
        assert!(!NotifyLevel::Mentions.notifies(false) && NotifyLevel::Mentions.notifies(true));
        assert!(!NotifyLevel::Nothing.notifies(false) && !NotifyLevel::Nothing.notifies(true));
    }
}
