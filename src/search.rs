//! Message search: substring matches across my rooms (or one of them), for
//! the web UI and the token API's chat search. Three characters or more are
//! answered from the trigram index. Shorter queries cannot use it, so they
//! scan the newest messages up to a byte budget and say when they stopped
//! early (`partial`) rather than read a whole room's history per request.
//! Every search spends one of the searcher's per-minute budget.

use crate::Hearth;
use crate::error::{AppError, FieldError};
use crate::model::{RoomId, SearchHit, SearchResults, UserId};
use crate::store::{HitRow, SearchScope};

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
    match limit {
        Some(0) => Err(AppError::invalid("limit", format!("Limit must be between 1 and {SEARCH_MAX}"))),
        Some(n) => Ok(n.min(SEARCH_MAX)),
        None => Ok(SEARCH_DEFAULT),
    }
}

/// A query as typed: not blank, no NUL, at most `QUERY_MAX` characters.
/// Matching is literal (no operators or wildcards) and ignores case.
#[derive(Debug, Clone)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        FieldError::reject_nul(field, "Query", raw)?;
        if raw.trim().is_empty() {
            return Err(FieldError::new(field, "Query can't be blank"));
        }
        if raw.chars().count() > QUERY_MAX {
            return Err(FieldError::new(field, format!("Query is too long (maximum is {QUERY_MAX} characters)")));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Short enough that the trigram index cannot answer it.
    fn is_short(&self) -> bool {
        self.0.chars().count() < 3
    }
}

/// Lower-cases for matching; every script, not just ASCII.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `haystack` contains the already-folded `needle`, ignoring case.
pub fn contains_folded(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(needle)
}

/// Where `needle` first occurs in `haystack`, ignoring case, in characters.
pub fn find_ignoring_case(haystack: &str, needle: &str) -> Option<(usize, usize)> {
    let hay: Vec<char> = haystack.chars().flat_map(char::to_lowercase).collect();
    let pin: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    // Offsets are only meaningful when lower-casing kept the length.
    if pin.is_empty() || hay.len() != haystack.chars().count() {
        return None;
    }
    hay.windows(pin.len()).position(|w| w == pin.as_slice()).map(|start| (start, start + pin.len()))
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
                let at = find_ignoring_case(&shown, text.as_str());
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
        Ok(SearchResults { results: hits, partial: found.partial })
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
        if !text.is_short() {
            let hits = self.store.search_indexed(scope, text.as_str(), limit).await?;
            return Ok(Found { hits, partial: false });
        }
        let found = self.scan_short(scope, &fold(text.as_str()), limit).await?;
        crate::metrics::search_answered(if found.partial { "scan_partial" } else { "scan" });
        Ok(found)
    }

    /// A short query's bounded scan of the newest messages, in windows.
    async fn scan_short(&self, scope: SearchScope, needle: &str, limit: u32) -> Result<Found, AppError> {
        let mut hits = Vec::new();
        let (mut read_bytes, mut read_rows) = (0, 0);
        let mut cursor = None;
        let mut window = SHORT_SCAN_FIRST;
        loop {
            let found = self.store.scan_window(scope, cursor.take(), window, needle).await?;
            read_bytes += found.read_bytes;
            read_rows += found.read_rows;
            for row in found.rows {
                if contains_folded(&row.body, needle) {
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
    fn queries_are_checked_and_quoted_literally() {
        assert!(SearchText::parse("q", "  ").is_err());
        assert!(SearchText::parse("q", "a\0b").is_err());
        assert!(SearchText::parse("q", &"x".repeat(QUERY_MAX + 1)).is_err());
        assert!(SearchText::parse("q", &"é".repeat(QUERY_MAX)).is_ok());
    }
}
