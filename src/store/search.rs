//! Message search: the trigram index for queries of three characters or
//! more, and a scan of the newest messages for shorter ones (the core bounds
//! how much of it a query may read).

use super::Store;
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
    /// Live messages of `rooms` matching `phrase` (an FTS5 string, see
    /// `search::fts_phrase`) through the trigram index, newest first.
    pub async fn search_indexed(&self, rooms: SearchScope, phrase: &str, limit: u32) -> Result<Vec<HitRow>, AppError> {
        let (scope, scope_id) = rooms.sql();
        let sql = format!(
            "SELECT m.room_id, m.number, m.body FROM messages_fts f JOIN messages m ON m.id = f.rowid
             WHERE messages_fts MATCH ?2 AND {scope} AND m.deleted_at IS NULL
             ORDER BY m.created_at DESC, m.id DESC LIMIT ?3"
        );
        Ok(sqlx::query_as(&sql).bind(scope_id).bind(phrase).bind(limit).fetch_all(self.sqlite()?).await?)
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
             WHERE {scope} AND m.deleted_at IS NULL AND (m.created_at, m.id) < (?2, ?3)
             ORDER BY m.created_at DESC, m.id DESC LIMIT ?4"
        );
        Ok(sqlx::query_as(&sql).bind(scope_id).bind(at).bind(id).bind(limit).fetch_all(self.sqlite()?).await?)
    }
}

/// Which rooms a search covers.
#[derive(Debug, Clone, Copy)]
pub enum SearchScope {
    Room(RoomId),
    MemberOf(UserId),
}

impl SearchScope {
    /// The condition on `m.room_id` (bound as `?1`) and its value.
    fn sql(self) -> (&'static str, i64) {
        match self {
            Self::Room(room) => ("m.room_id = ?1", room.0),
            Self::MemberOf(user) => ("m.room_id IN (SELECT room_id FROM memberships WHERE user_id = ?1)", user.0),
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
