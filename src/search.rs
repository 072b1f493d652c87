//! Message search: substring matches across my rooms (or one of them), for
//! the web UI and the token API's chat search. In the web UI a query's
//! words are matched each on its own, in any order, as parts of words
//! ("deploy fri" finds "Friday's deploy"), and a "quoted phrase" whole; the
//! token API matches its query whole, as one literal substring. Words of three
//! characters or more are answered from the trigram index, and the shorter
//! words of such a query are left out (the index cannot match them, and
//! they narrow little). A query of only shorter words cannot use the index,
//! so it scans the newest messages up to a byte budget and says when it
//! stopped early (`partial`) rather than read a whole room's history per
//! request. Every search spends one of the searcher's per-minute budget.

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::model::{RoomId, SearchHit, SearchResults, UserId};
use crate::store::{HitRow, NEEDLES_MAX, SearchScope};

pub const SEARCH_DEFAULT: u32 = 20;
pub const SEARCH_MAX: u32 = 100;
/// Longest query, in characters.
pub const QUERY_MAX: usize = 256;
/// Message text (bytes) a short query may read before it stops with
/// `partial`: 200 of the longest messages. The database matches them
/// (`Store::scan_window`), so only rows that may match come back.
pub const SHORT_SCAN_BYTES: i64 = 2 << 20;
/// Messages a short query may read, however short (each costs about 1 µs
/// of the database's time): 25,000 took 25–35 ms p50 at a million
/// messages on either database (docs/benchmarks.md).
pub const SHORT_SCAN_ROWS: i64 = 25_000;
/// The messages a short query's first window reads: enough for a common
/// query's hits, little for a rare one's first look.
const SHORT_SCAN_FIRST: u32 = 500;
/// The most messages one window reads (across all the rooms searched).
const SHORT_SCAN_WINDOW_MAX: u32 = 16_000;

/// Who spends a search budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Searcher {
    User(UserId),
    /// An application's id (the token API).
    Application(i64),
}

/// The hits to return for a requested `limit`: the default when absent, at
/// most `SEARCH_MAX`; 0 is refused, as history's `limit` is.
pub fn search_limit(limit: Option<u32>) -> Result<u32, AppError> {
    crate::error::page_limit(limit, SEARCH_DEFAULT, SEARCH_MAX)
}

/// The most words (and quoted phrases) a query may have.
pub const TERMS_MAX: usize = NEEDLES_MAX;

/// A query as typed: not blank, no NUL, at most `QUERY_MAX` characters and
/// [`TERMS_MAX`] words. Matching is literal (no operators or wildcards) and
/// ignores case.
#[derive(Debug, Clone)]
pub struct SearchText {
    raw: String,
    terms: Vec<String>,
}

impl SearchText {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::check(field, raw)?;
        // Composed, as message bodies are stored.
        let raw = crate::text::composed(raw).into_owned();
        let terms = split_terms(&raw);
        if terms.len() > TERMS_MAX {
            return Err(FieldError::new(field, format!("Query has too many words (maximum is {TERMS_MAX})")));
        }
        Ok(Self { raw, terms })
    }

    /// The token API's query: the whole text one literal substring, spaces
    /// and quotes included, as integrations written for the seed's search
    /// expect ("ello wor" finds "Hello world", not "yellow wormhole").
    pub fn literal(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::check(field, raw)?;
        let raw = crate::text::composed(raw).into_owned();
        Ok(Self { terms: vec![raw.clone()], raw })
    }

    /// Not blank, no NUL, at most `QUERY_MAX` characters.
    fn check(field: &str, raw: &str) -> Result<(), FieldError> {
        FieldError::reject_nul(field, "Query", raw)?;
        if raw.trim().is_empty() {
            return Err(FieldError::new(field, "Query can't be blank"));
        }
        if raw.chars().count() > QUERY_MAX {
            return Err(FieldError::new(field, format!("Query is too long (maximum is {QUERY_MAX} characters)")));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// What a message must contain, each ignoring case: the query's words
    /// and quoted phrases, each once, in the order typed.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Where to mark a hit's `shown` text: the terms as one phrase (with
    /// single spaces) where they occur so, else the first term to occur.
    pub fn mark(&self, shown: &str) -> Option<(usize, usize)> {
        find_ignoring_case(shown, &self.terms.join(" ")).or_else(|| find_first_term(shown, &self.terms))
    }

    /// Whether a message's text matches, as the database decides it: it
    /// holds every term of three characters or more, or, when there is
    /// none, every term (ignoring case).
    pub fn matches(&self, text: &str) -> bool {
        let folded = fold(text);
        self.required().iter().all(|t| folded.contains(&fold(t)))
    }

    /// The terms a message must hold: those the index matches, or, when
    /// there is none, every term (which a scan then checks).
    fn required(&self) -> Vec<&str> {
        let indexed = self.indexed();
        if indexed.is_empty() { self.terms.iter().map(String::as_str).collect() } else { indexed }
    }

    /// The terms a message need not hold: the shorter ones beside a term
    /// the index matches (see [`Self::matches`]).
    pub fn ignored(&self) -> Vec<String> {
        let required = self.required();
        self.terms.iter().filter(|t| !required.contains(&t.as_str())).cloned().collect()
    }

    /// The terms the trigram index can match (three characters or more);
    /// none when every term is shorter.
    fn indexed(&self) -> Vec<&str> {
        self.terms.iter().map(String::as_str).filter(|t| t.chars().count() >= 3).collect()
    }
}

/// A query's terms: split at white space, except inside double quotes,
/// which keep a phrase whole (an unclosed quote runs to the end); the quotes
/// themselves are not matched. Each term once, ignoring case. A query of
/// nothing but quotes and spaces is matched as typed, trimmed.
pub fn split_terms(raw: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut push = |term: &mut String| {
        let t = std::mem::take(term);
        let t = t.trim();
        if !t.is_empty() && !terms.iter().any(|have| fold(have) == fold(t)) {
            terms.push(t.to_owned());
        }
    };
    let (mut term, mut quoted) = (String::new(), false);
    for c in raw.chars() {
        if c == '"' {
            push(&mut term);
            quoted = !quoted;
        } else if c.is_whitespace() && !quoted {
            push(&mut term);
        } else {
            term.push(c);
        }
    }
    push(&mut term);
    if terms.is_empty() {
        terms.push(raw.trim().to_owned());
    }
    terms
}

/// Where the first of `terms` to occur in `haystack` is, ignoring case, in
/// characters (the earliest start; the longest term there).
pub fn find_first_term(haystack: &str, terms: &[String]) -> Option<(usize, usize)> {
    terms.iter().filter_map(|t| find_ignoring_case(haystack, t)).min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
}

/// Lower-cases for matching; every script, not just ASCII.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `haystack` contains the already-folded `needle`, ignoring case.
pub fn contains_folded(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(needle)
}

/// Where `needle` first occurs in `haystack`, ignoring case, in characters
/// of `haystack`: matched on the folded text, each folded character mapped
/// back to the character it came from, so a character whose lower case is
/// longer ("İ" is "i" and a dot) moves no mark after it.
pub fn find_ignoring_case(haystack: &str, needle: &str) -> Option<(usize, usize)> {
    let pin: Vec<char> = fold(needle).chars().collect();
    if pin.is_empty() {
        return None;
    }
    let (mut hay, mut from) = (Vec::new(), Vec::new());
    for (i, c) in haystack.chars().enumerate() {
        for lower in c.to_lowercase() {
            hay.push(lower);
            from.push(i);
        }
    }
    let start = hay.windows(pin.len()).position(|w| w == pin.as_slice())?;
    Some((from[start], from[start + pin.len() - 1] + 1))
}

/// Hits, newest first, and whether a short query's scan stopped early.
pub(crate) struct Found {
    pub hits: Vec<HitRow>,
    pub partial: bool,
}

impl Hearth {
    /// Search across my rooms (or one of them), for the web UI.
    pub async fn search(
        &self,
        me: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: Option<u32>,
    ) -> Result<SearchResults, AppError> {
        let text = SearchText::parse("q", query)?;
        let limit = search_limit(limit)?;
        let scope = match room {
            Some(room) => {
                self.member_room(me, room).await?;
                SearchScope::Room(room)
            }
            None => SearchScope::MemberOf(me),
        };
        let found = self.find(Searcher::User(me), scope, &text, limit).await?;
        // Who sent each hit and when, in one more query (a hit whose
        // message is gone since is left out).
        let keys: Vec<(RoomId, i64)> = found.hits.iter().map(|h| (h.room_id, h.number)).collect();
        let mut bylines = self.store.hit_bylines(&keys).await?;
        let hits = found
            .hits
            .into_iter()
            .filter_map(|h| {
                let byline = bylines.remove(&(h.room_id, h.number))?;
                let shown = crate::markdown::plain_text(&h.body);
                let at = text.mark(&shown);
                Some(SearchHit {
                    room_id: h.room_id,
                    number: h.number,
                    match_start: at.map(|f| f.0),
                    match_end: at.map(|f| f.1),
                    body: h.body,
                    text: shown,
                    user: byline.user,
                    application: byline.application,
                    avatar_url: byline.avatar_url,
                    created_at: byline.created_at,
                })
            })
            .collect();
        Ok(SearchResults { results: hits, partial: found.partial, ignored: text.ignored() })
    }

    /// Spends the searcher's budget, then answers from the index or, for a
    /// short query, from a bounded scan of the newest messages.
    pub(crate) async fn find(
        &self,
        who: Searcher,
        scope: SearchScope,
        text: &SearchText,
        limit: u32,
    ) -> Result<Found, AppError> {
        self.searches.check(&who)?;
        let indexed = text.indexed();
        if !indexed.is_empty() {
            let hits = self.store.search_indexed(scope, &indexed, limit).await?;
            return Ok(Found { hits, partial: false });
        }
        let needles: Vec<String> = text.required().iter().map(|t| fold(t)).collect();
        let found = self.scan_short(scope, &needles, limit).await?;
        crate::metrics::search_answered(if found.partial { "scan_partial" } else { "scan" });
        Ok(found)
    }

    /// A short query's bounded scan of the newest messages, in windows,
    /// for messages that contain every one of the (folded) `needles`. The
    /// database sends back the rows that may contain the longest; all are
    /// checked here.
    async fn scan_short(&self, scope: SearchScope, needles: &[String], limit: u32) -> Result<Found, AppError> {
        let Some(needle) = needles.iter().max_by_key(|n| n.chars().count()) else {
            return Ok(Found { hits: Vec::new(), partial: false });
        };
        let mut hits = Vec::new();
        let (mut read_bytes, mut read_rows) = (0, 0);
        let mut cursor = None;
        let mut window = SHORT_SCAN_FIRST;
        loop {
            let found = self.store.scan_window(scope, cursor.take(), window, needle).await?;
            read_bytes += found.read_bytes;
            read_rows += found.read_rows;
            for row in found.rows {
                let folded = fold(&row.body);
                if needles.iter().all(|n| folded.contains(n.as_str())) {
                    hits.push(row);
                    if hits.len() >= limit as usize {
                        return Ok(Found { hits, partial: false });
                    }
                }
            }
            let Some(next) = found.next else {
                return Ok(Found { hits, partial: false });
            };
            let (bytes_left, rows_left) = (SHORT_SCAN_BYTES - read_bytes, SHORT_SCAN_ROWS - read_rows);
            if bytes_left <= 0 || rows_left <= 0 {
                return Ok(Found { hits, partial: true });
            }
            cursor = Some(next);
            let fits = next_window(window, bytes_left, found.read_rows, found.read_bytes);
            window = fits.min(u32::try_from(rows_left).unwrap_or(u32::MAX));
        }
    }
}

/// The next window of a short query's scan: four times the last, at most
/// [`SHORT_SCAN_WINDOW_MAX`], and no more messages than, at the last
/// window's size per message, the bytes `left` in the budget hold.
fn next_window(last: u32, left: i64, read_rows: i64, read_bytes: i64) -> u32 {
    let per_message = (read_bytes / read_rows.max(1)).max(1);
    let fits = u32::try_from(left / per_message).unwrap_or(u32::MAX);
    last.saturating_mul(4).min(SHORT_SCAN_WINDOW_MAX).min(fits).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_found_ignoring_case_in_characters() {
        assert_eq!(find_ignoring_case("Hello World", "wor"), Some((6, 9)));
        assert_eq!(find_ignoring_case("Привет мир", "МИР"), Some((7, 10)));
        assert_eq!(find_ignoring_case("abc", "x"), None);
        // A character whose lower case is longer moves nothing after it.
        assert_eq!(find_ignoring_case("İstanbul meetingXYZ today", "meetingxyz"), Some((9, 19)));
        assert_eq!(find_ignoring_case("İstanbul", "i"), Some((0, 1)));
        assert!(contains_folded("ÜBER", &fold("üb")));
        assert!(!contains_folded("abc", &fold("d")));
    }

    #[test]
    fn scan_windows_grow_fourfold_within_the_budget_left() {
        assert_eq!(next_window(500, SHORT_SCAN_BYTES, 500, 25_000), 2000);
        assert_eq!(next_window(8000, SHORT_SCAN_BYTES, 8000, 400_000), SHORT_SCAN_WINDOW_MAX);
        // Long messages: no more than the budget left holds.
        assert_eq!(next_window(500, 1_000_000, 500, 5_000_000), 100);
        // An empty window, or a budget nearly spent, still reads one.
        assert_eq!(next_window(500, 3, 0, 0), 3);
        assert_eq!(next_window(500, 1, 10, 100_000), 1);
    }

    #[test]
    fn a_query_is_its_words_and_quoted_phrases_each_once() {
        let terms = |q: &str| SearchText::parse("q", q).expect("a query").terms().to_vec();
        assert_eq!(terms("deploy  friday"), ["deploy", "friday"]);
        assert_eq!(terms(r#"the "build is broken" now"#), ["the", "build is broken", "now"]);
        // Quotes split words; an unclosed one runs to the end.
        assert_eq!(terms(r#"say"hi there"#), ["say", "hi there"]);
        // Each term once, ignoring case; the first spelling kept.
        assert_eq!(terms("Deploy deploy DEPLOY x"), ["Deploy", "x"]);
        // Nothing but quotes: matched as typed.
        assert_eq!(terms(r#" "" "#), [r#""""#]);
        let many = "w1 w2 w3 w4 w5 w6 w7 w8";
        assert_eq!(terms(many).len(), TERMS_MAX);
        let err = SearchText::parse("q", &format!("{many} w9")).expect_err("too many words");
        assert_eq!((err.field.as_str(), err.message.as_str()), ("q", "Query has too many words (maximum is 8)"));
        // Repeats do not count twice.
        assert!(SearchText::parse("q", &format!("{many} w1 W2")).is_ok());
    }

    #[test]
    fn the_token_apis_query_is_one_literal_term() {
        let text = SearchText::literal("query", r#"ello "wor" a b c d e f g h i"#).expect("a query");
        assert_eq!(text.terms(), [r#"ello "wor" a b c d e f g h i"#]);
        assert_eq!(SearchText::literal("query", " x ").expect("a query").indexed(), [" x "]);
        assert_eq!(SearchText::literal("query", "  ").expect_err("blank").field, "query");
    }

    #[test]
    fn only_terms_of_three_characters_or_more_go_to_the_index() {
        let text = SearchText::parse("q", "v2 of the release").expect("a query");
        assert_eq!(text.indexed(), ["the", "release"]);
        let text = SearchText::parse("q", "v2 of").expect("a query");
        assert!(text.indexed().is_empty());
        let text = SearchText::parse("q", r#""v2 of""#).expect("a query");
        assert_eq!(text.indexed(), ["v2 of"]);
    }

    #[test]
    fn a_text_matches_when_it_holds_every_term_the_database_matches() {
        let text = SearchText::parse("q", "v2 DEPLOY fri").expect("a query");
        assert!(text.matches("Friday's deploy"));
        assert_eq!(text.ignored(), ["v2"], "the short word beside longer ones is not searched");
        assert!(SearchText::parse("q", "on v2").expect("a query").ignored().is_empty(), "short words alone all count");
        assert!(!text.matches("Friday"));
        let short = SearchText::parse("q", "v2 on").expect("a query");
        assert!(short.matches("on V2"));
        assert!(short.matches("v2 only"), "parts of words");
        assert!(!short.matches("v2"));
    }

    #[test]
    fn the_mark_is_the_whole_query_where_it_occurs_so() {
        let text = SearchText::parse("q", "ELLO  wor").expect("a query");
        assert_eq!(text.mark("Hello world"), Some((1, 9)));
        assert_eq!(text.mark("world, hello"), Some((0, 3)));
        assert_eq!(text.mark("nothing"), None);
    }

    #[test]
    fn the_mark_is_the_first_term_to_occur() {
        let terms = |ts: &[&str]| ts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(find_first_term("Friday's deploy", &terms(&["deploy", "fri"])), Some((0, 3)));
        assert_eq!(find_first_term("Friday's deploy", &terms(&["deploy", "xyz"])), Some((9, 15)));
        // Two at one place: the longer.
        assert_eq!(find_first_term("deployment", &terms(&["dep", "deploy"])), Some((0, 6)));
        assert_eq!(find_first_term("nothing", &terms(&["xyz"])), None);
    }

    #[test]
    fn queries_are_checked_and_quoted_literally() {
        assert!(SearchText::parse("q", "  ").is_err());
        assert!(SearchText::parse("q", "a\0b").is_err());
        assert!(SearchText::parse("q", &"x".repeat(QUERY_MAX + 1)).is_err());
        assert!(SearchText::parse("q", &"é".repeat(QUERY_MAX)).is_ok());
    }
}
