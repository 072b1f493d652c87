//! Message search for the web UI: substring matches across my rooms (or one
//! of them), with where the match is so the page can mark it. The token
//! API's chat search (`applications`) shares the limits and the store query.

use crate::Hearth;
use crate::error::AppError;
use crate::model::{RoomId, SearchHit, UserId};
use crate::store::SearchScope;

pub const SEARCH_DEFAULT: u32 = 20;
pub const SEARCH_MAX: u32 = 100;

/// The hits to return for a requested `limit`: the default when absent, at
/// most `SEARCH_MAX`; 0 is refused, as history's `limit` is.
pub fn search_limit(limit: Option<u32>) -> Result<u32, AppError> {
    match limit {
        Some(0) => Err(AppError::invalid("limit", format!("Limit must be between 1 and {SEARCH_MAX}"))),
        Some(n) => Ok(n.min(SEARCH_MAX)),
        None => Ok(SEARCH_DEFAULT),
    }
}

/// Where `needle` first occurs in `haystack`, ignoring case, in characters.
fn find_ignoring_case(haystack: &str, needle: &str) -> Option<(usize, usize)> {
    let hay: Vec<char> = haystack.chars().flat_map(char::to_lowercase).collect();
    let pin: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    // Offsets are only meaningful when lower-casing kept the length.
    if pin.is_empty() || hay.len() != haystack.chars().count() {
        return None;
    }
    hay.windows(pin.len()).position(|w| w == pin.as_slice()).map(|start| (start, start + pin.len()))
}

impl Hearth {
    /// Search across my rooms (or one of them), for the web UI.
    pub async fn search(
        &self,
        me: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: Option<u32>,
    ) -> Result<Vec<SearchHit>, AppError> {
        if query.trim().is_empty() {
            return Err(AppError::invalid("q", "Query can't be blank"));
        }
        let scope = match room {
            Some(room) => {
                self.member_room(me, room).await?;
                SearchScope::Room(room)
            }
            None => SearchScope::MemberOf(me),
        };
        let hits = self.store.search(scope, query, search_limit(limit)?).await?;
        Ok(hits
            .into_iter()
            .map(|h| {
                let found = find_ignoring_case(&h.body, query);
                SearchHit {
                    room_id: h.room_id,
                    number: h.number,
                    match_start: found.map(|f| f.0),
                    match_end: found.map(|f| f.1),
                    body: h.body,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_found_ignoring_case_in_characters() {
        assert_eq!(find_ignoring_case("Hello World", "wor"), Some((6, 9)));
        assert_eq!(find_ignoring_case("Привет мир", "МИР"), Some((7, 10)));
        assert_eq!(find_ignoring_case("abc", "x"), None);
    }
}
