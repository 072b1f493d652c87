//! Queries on `applications` and their numbered chats (rooms).

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
        .fetch_one(self.sqlite()?)
        .await?)
    }

    pub async fn application_by_token(&self, token: &str) -> Result<Option<AppRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {APP_COLUMNS} FROM applications WHERE token = ?"))
            .bind(token)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    pub async fn applications_of(&self, owner: UserId) -> Result<Vec<AppRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {APP_COLUMNS} FROM applications WHERE owner_id = ? ORDER BY id"))
            .bind(owner)
            .fetch_all(self.sqlite()?)
            .await?)
    }

    pub async fn rename_application(&self, id: i64, name: &str) -> Result<AppRow, AppError> {
        Ok(sqlx::query_as(&format!(
            "UPDATE applications SET name = ?, updated_at = ? WHERE id = ? RETURNING {APP_COLUMNS}"
        ))
        .bind(name)
        .bind(now())
        .bind(id)
        .fetch_one(self.sqlite()?)
        .await?)
    }

    /// Creates chat number N+1 of the application: the number and the exact
    /// `chats_count` come from the same counter row, bumped in this
    /// transaction. The owner, if any, is its member.
    pub async fn insert_chat(&self, app: &AppRow, name: &str) -> Result<ChatRow, AppError> {
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
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
            .fetch_all(self.sqlite()?)
            .await?)
    }

    pub async fn chat(&self, app: i64, number: i64) -> Result<Option<ChatRow>, AppError> {
        Ok(sqlx::query_as(&format!("SELECT {CHAT_COLUMNS} FROM rooms WHERE application_id = ? AND chat_number = ?"))
            .bind(app)
            .bind(number)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    pub async fn rename_room(&self, room: RoomId, title: &str) -> Result<(), AppError> {
        sqlx::query("UPDATE rooms SET title = ? WHERE id = ?").bind(title).bind(room).execute(self.sqlite()?).await?;
        Ok(())
    }
}
