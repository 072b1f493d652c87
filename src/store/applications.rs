//! Queries on `applications`, their numbered chats (rooms), and search.

use super::{Store, now};
use crate::error::AppError;
use crate::model::{RoomId, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub token: String,
    pub name: String,
    pub owner_id: Option<UserId>,
    pub chats_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChatRow {
    pub room_id: RoomId,
    pub chat_number: i64,
    pub title: Option<String>,
    pub messages_count: i64,
}

/// One search hit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HitRow {
    pub room_id: RoomId,
    pub number: i64,
    pub body: String,
}

const APP_COLUMNS: &str = "id, token, name, owner_id, chats_count";
const CHAT_COLUMNS: &str = "id AS room_id, chat_number, title, messages_count";

impl Store {
    pub async fn insert_application(&self, token: &str, name: &str, owner: Option<UserId>) -> Result<AppRow, AppError> {
        let at = now();
        Ok(sqlx::query_as(&format!(
            "INSERT INTO applications (token, name, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             RETURNING {APP_COLUMNS}"
        ))
        .bind(token)
        .bind(name)
        .bind(owner)
        .bind(&at)
        .bind(&at)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn application_by_token(&self, token: &str) -> Result<Option<AppRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {APP_COLUMNS} FROM applications WHERE token = ?"))
            .bind(token)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn applications_of(&self, owner: UserId) -> Result<Vec<AppRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {APP_COLUMNS} FROM applications WHERE owner_id = ? ORDER BY id"))
            .bind(owner)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn rename_application(&self, id: i64, name: &str) -> Result<AppRow, AppError> {
        Ok(sqlx::query_as(&format!(
            "UPDATE applications SET name = ?, updated_at = ? WHERE id = ? RETURNING {APP_COLUMNS}"
        ))
        .bind(name)
        .bind(now())
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Creates chat number N+1 of the application: the number and the exact
    /// `chats_count` come from the same counter row, bumped in this
    /// transaction. The owner, if any, is its member.
    pub async fn insert_chat(&self, app: &AppRow, name: &str) -> Result<ChatRow, AppError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (number,): (i64,) =
            sqlx::query_as("UPDATE applications SET chats_count = chats_count + 1 WHERE id = ? RETURNING chats_count")
                .bind(app.id)
                .fetch_one(&mut *tx)
                .await?;
        let at = now();
        let chat: ChatRow = sqlx::query_as(&format!(
            "INSERT INTO rooms (kind, title, created_by, application_id, chat_number, created_at, updated_at)
             VALUES ('group', ?, ?, ?, ?, ?, ?) RETURNING {CHAT_COLUMNS}"
        ))
        .bind(name)
        .bind(app.owner_id)
        .bind(app.id)
        .bind(number)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(owner) = app.owner_id {
            sqlx::query("INSERT INTO memberships (room_id, user_id, joined_at) VALUES (?, ?, ?)")
                .bind(chat.room_id)
                .bind(owner)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(chat)
    }

    pub async fn chats_of(&self, app: i64) -> Result<Vec<ChatRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {CHAT_COLUMNS} FROM rooms WHERE application_id = ? ORDER BY chat_number"))
            .bind(app)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn chat(&self, app: i64, number: i64) -> Result<Option<ChatRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {CHAT_COLUMNS} FROM rooms WHERE application_id = ? AND chat_number = ?"))
            .bind(app)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn rename_room(&self, room: RoomId, title: &str) -> Result<(), AppError> {
        sqlx::query("UPDATE rooms SET title = ? WHERE id = ?").bind(title).bind(room).execute(&self.pool).await?;
        Ok(())
    }

    /// Live messages of `rooms` matching `phrase` (an FTS5 string, see
    /// `search::fts_phrase`) through the trigram index, newest first.
    pub async fn search_indexed(&self, rooms: SearchScope, phrase: &str, limit: u32) -> Result<Vec<HitRow>, AppError> {
        let (scope, scope_id) = rooms.sql();
        let sql = format!(
            "SELECT m.room_id, m.number, m.body FROM messages_fts f JOIN messages m ON m.id = f.rowid
             WHERE messages_fts MATCH ?2 AND {scope} AND m.deleted_at IS NULL
             ORDER BY m.created_at DESC, m.id DESC LIMIT ?3"
        );
        Ok(sqlx::query_as(&sql).bind(scope_id).bind(phrase).bind(limit).fetch_all(&self.pool).await?)
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
        Ok(sqlx::query_as(&sql).bind(scope_id).bind(at).bind(id).bind(limit).fetch_all(&self.pool).await?)
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
