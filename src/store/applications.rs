//! Queries on `applications` and their numbered chats (rooms).

use super::{Store, WritePool, now, on_pool, on_writer};
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
    /// Archived in the web UI: read-only, here too.
    pub archived: bool,
}

const APP_COLUMNS: &str = "id, token, name, owner_id, chats_count";
const CHAT_COLUMNS: &str = "id AS room_id, chat_number, title, messages_count, archived_at IS NOT NULL AS archived";

impl Store {
    pub async fn insert_application(&self, token: &str, name: &str, owner: Option<UserId>) -> Result<AppRow, AppError> {
        let at = now();
        let sql = format!(
            "INSERT INTO applications (token, name, owner_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             RETURNING {APP_COLUMNS}"
        );
        Ok(on_writer!(self, pool => sqlx::query_as(&sql)
            .bind(token)
            .bind(name)
            .bind(owner)
            .bind(&at)
            .fetch_one(pool)
            .await?))
    }

    pub async fn application_by_token(&self, token: &str) -> Result<Option<AppRow>, AppError> {
        // Tokens are hex; a NUL (which Postgres refuses in text) matches none.
        if token.contains('\0') {
            return Ok(None);
        }
        let sql = format!("SELECT {APP_COLUMNS} FROM applications WHERE token = $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(token).fetch_optional(pool).await?))
    }

    pub async fn applications_of(&self, owner: UserId) -> Result<Vec<AppRow>, AppError> {
        let sql = format!("SELECT {APP_COLUMNS} FROM applications WHERE owner_id = $1 ORDER BY id");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(owner).fetch_all(pool).await?))
    }

    pub async fn rename_application(&self, id: i64, name: &str) -> Result<AppRow, AppError> {
        let sql = format!("UPDATE applications SET name = $1, updated_at = $2 WHERE id = $3 RETURNING {APP_COLUMNS}");
        Ok(on_writer!(self, pool => sqlx::query_as(&sql).bind(name).bind(now()).bind(id).fetch_one(pool).await?))
    }

    /// Creates chat number N+1 of the application: the number and the exact
    /// `chats_count` come from the same counter row, bumped first in this
    /// transaction (its row lock orders concurrent creators on Postgres).
    /// The owner, if any, is its member.
    pub async fn insert_chat(&self, app: &AppRow, name: &str) -> Result<ChatRow, AppError> {
        let bump = "UPDATE applications SET chats_count = chats_count + 1 WHERE id = $1 RETURNING chats_count";
        let insert = format!(
            "INSERT INTO rooms (kind, title, created_by, application_id, chat_number, created_at, updated_at)
             VALUES ('group', $1, $2, $3, $4, $5, $5) RETURNING {CHAT_COLUMNS}"
        );
        let join = "INSERT INTO memberships (room_id, user_id, joined_at) VALUES ($1, $2, $3)";
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (number,): (i64,) = sqlx::query_as(bump).bind(app.id).fetch_one(&mut *tx).await?;
            let chat: ChatRow = sqlx::query_as(&insert)
                .bind(name)
                .bind(app.owner_id)
                .bind(app.id)
                .bind(number)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(owner) = app.owner_id {
                sqlx::query(join).bind(chat.room_id).bind(owner).bind(&at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            chat
        }))
    }

    pub async fn chats_of(&self, app: i64) -> Result<Vec<ChatRow>, AppError> {
        let sql = format!("SELECT {CHAT_COLUMNS} FROM rooms WHERE application_id = $1 ORDER BY chat_number");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(app).fetch_all(pool).await?))
    }

    pub async fn chat(&self, app: i64, number: i64) -> Result<Option<ChatRow>, AppError> {
        let sql = format!("SELECT {CHAT_COLUMNS} FROM rooms WHERE application_id = $1 AND chat_number = $2");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(app).bind(number).fetch_optional(pool).await?))
    }

    pub async fn rename_room(&self, room: RoomId, title: &str) -> Result<(), AppError> {
        let sql = "UPDATE rooms SET title = $1 WHERE id = $2";
        on_writer!(self, pool => sqlx::query(sql).bind(title).bind(room).execute(pool).await?.rows_affected());
        Ok(())
    }
}
