//! Message search: the trigram index for queries of three characters or
//! more, and a scan of the newest messages for shorter ones (the core bounds
//! how much of it a query may read).

use super::users::escape_like;
use super::{Backend, Store, on_pool};
use crate::error::AppError;
use crate::model::{RoomId, UserId};

/// One search hit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HitRow {
    pub room_id: RoomId,
    pub number: i64,
    pub body: String,
}

impl Store {
    /// Live messages of `rooms` containing `query` (three characters or
    /// more, ignoring case), newest first, through the trigram index: FTS5's
    /// trigram table on SQLite, pg_trgm's GIN index on Postgres. Both match
    /// the query literally, as a substring, after Unicode lower-casing.
    pub async fn search_indexed(&self, rooms: SearchScope, query: &str, limit: u32) -> Result<Vec<HitRow>, AppError> {
        let (scope, scope_id) = rooms.sql();
        let (from, matches, needle) = match self.backend() {
            // Driven by the FTS table: the rows it matches, joined to theirs.
            Backend::Sqlite => {
                ("messages_fts f JOIN messages m ON m.id = f.rowid", "messages_fts MATCH $2", fts_phrase(query))
            }
            // The expression of the index in migrations/postgres/0003.
            Backend::Postgres => (
                "messages m",
                r#"lower(m.body COLLATE "und-x-icu") LIKE lower($2 COLLATE "und-x-icu") ESCAPE '\'"#,
                like_contains(query),
            ),
        };
        let sql = format!(
            "SELECT m.room_id, m.number, m.body FROM {from}
             WHERE {matches} AND {scope} AND m.deleted_at IS NULL
             ORDER BY m.created_at DESC, m.id DESC LIMIT $3"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(scope_id)
            .bind(&needle)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?))
    }

    /// Up to `limit` live messages of `rooms`, newest first, older than the
    /// `(created_at, id)` cursor: a scan for queries the index cannot answer.
    pub async fn newest_messages(
        &self,
        rooms: SearchScope,
        before: Option<(String, i64)>,
        limit: u32,
    ) -> Result<Vec<ScanRow>, AppError> {
        let (scope, scope_id) = rooms.sql();
        let (at, id) = before.unwrap_or_else(|| ("9999".to_owned(), i64::MAX));
        let sql = format!(
            "SELECT m.id, m.created_at, m.room_id, m.number, m.body FROM messages m
             WHERE {scope} AND m.deleted_at IS NULL AND (m.created_at, m.id) < ($2, $3)
             ORDER BY m.created_at DESC, m.id DESC LIMIT $4"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(scope_id)
            .bind(&at)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?))
    }
}

/// The query as one quoted FTS5 string: operators, column filters and quotes
/// inside it are plain text.
pub fn fts_phrase(query: &str) -> String {
    format!("\"{}\"", query.replace('"', "\"\""))
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `query`, its
/// `%`, `_` and `\` taken literally.
pub fn like_contains(query: &str) -> String {
    format!("%{}%", escape_like(query))
}

/// Which rooms a search covers.
#[derive(Debug, Clone, Copy)]
pub enum SearchScope {
    Room(RoomId),
    MemberOf(UserId),
}

impl SearchScope {
    /// The condition on `m.room_id` (bound as `$1`) and its value.
    fn sql(self) -> (&'static str, i64) {
        match self {
            Self::Room(room) => ("m.room_id = $1", room.0),
            Self::MemberOf(user) => ("m.room_id IN (SELECT room_id FROM memberships WHERE user_id = $1)", user.0),
        }
    }
}

/// A message read by a scan, with its position for the next batch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScanRow {
    pub id: i64,
    pub created_at: String,
    #[sqlx(flatten)]
    pub hit: HitRow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_literally_for_either_index() {
        assert_eq!(fts_phrase(r#"say "hi" OR x*"#), r#""say ""hi"" OR x*""#);
        assert_eq!(like_contains(r"50%_a\b"), r"%50\%\_a\\b%");
    }
}
