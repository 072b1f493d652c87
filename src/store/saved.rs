//! Queries on `saved_messages`: each person's private list of messages to
//! come back to ("save for later").

use super::{Store, WritePool, now, on_pool, on_writer};
use crate::error::AppError;
use crate::model::{RoomId, UserId};

/// What [`Store::set_saved`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveChange {
    /// On my list since `at`: saved now (`new`), or earlier.
    Saved { at: String, new: bool },
    /// Not on my list: taken off now (`removed`), or it was not there.
    NotSaved { removed: bool },
    /// Not saved: my list holds its most messages already.
    Full,
}

/// One entry of my list, as [`Store::saved_list`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SavedRow {
    pub id: i64,
    pub room_id: RoomId,
    pub number: i64,
    pub saved_at: String,
}

/// The entries of `$1`'s list that are shown: live messages of rooms they
/// are still in. (The rest stay, hidden: a room left and joined again shows
/// them again; a deleted message's went with it.)
const SHOWN: &str = "FROM saved_messages s
    JOIN memberships mb ON mb.room_id = s.room_id AND mb.user_id = s.user_id
    JOIN messages m ON m.room_id = s.room_id AND m.number = s.number AND m.deleted_at IS NULL
    WHERE s.user_id = $1";

impl Store {
    /// Puts live message `number` of `room` on `user`'s list (`on`) or takes
    /// it off. `Ok(None)`: no such live message. Saving one already saved
    /// keeps its first time; a save past `max` shown entries is refused. The
    /// count and the insert share one write transaction, under the user's
    /// row lock on Postgres (SQLite's write transaction holds the file), so
    /// two tabs saving at once cannot pass `max` together.
    pub async fn set_saved(
        &self,
        user: UserId,
        room: RoomId,
        number: i64,
        on: bool,
        max: i64,
    ) -> Result<Option<SaveChange>, AppError> {
        let at = now();
        let lock = match self.backend() {
            super::Backend::Sqlite => "SELECT id FROM users WHERE id = $1",
            super::Backend::Postgres => "SELECT id FROM users WHERE id = $1 FOR UPDATE",
        };
        let count = format!("SELECT COUNT(*) {SHOWN}");
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(lock).bind(user).execute(&mut *tx).await?;
            let live: Option<(i64,)> = sqlx::query_as(super::messages::LIVE_MESSAGE_ID)
                .bind(room)
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?;
            let saved: Option<(String,)> = sqlx::query_as(
                "SELECT saved_at FROM saved_messages WHERE user_id = $1 AND room_id = $2 AND number = $3",
            )
            .bind(user)
            .bind(room)
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
            let change = match (live, saved, on) {
                (None, _, _) => None,
                (Some(_), Some((since,)), true) => Some(SaveChange::Saved { at: since, new: false }),
                (Some(_), None, false) => Some(SaveChange::NotSaved { removed: false }),
                (Some(_), Some(_), false) => {
                    sqlx::query("DELETE FROM saved_messages WHERE user_id = $1 AND room_id = $2 AND number = $3")
                        .bind(user)
                        .bind(room)
                        .bind(number)
                        .execute(&mut *tx)
                        .await?;
                    Some(SaveChange::NotSaved { removed: true })
                }
                (Some(_), None, true) => {
                    let (shown,): (i64,) = sqlx::query_as(&count).bind(user).fetch_one(&mut *tx).await?;
                    if shown >= max {
                        Some(SaveChange::Full)
                    } else {
                        sqlx::query(
                            "INSERT INTO saved_messages (user_id, room_id, number, saved_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(user)
                        .bind(room)
                        .bind(number)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                        Some(SaveChange::Saved { at, new: true })
                    }
                }
            };
            tx.commit().await?;
            change
        }))
    }

    /// The numbers of `user`'s saved live messages in `room`, ascending
    /// (one range of `saved_messages_mine`).
    pub async fn saved_numbers(&self, user: UserId, room: RoomId) -> Result<Vec<i64>, AppError> {
        let sql = "SELECT s.number FROM saved_messages s
                   JOIN messages m ON m.room_id = s.room_id AND m.number = s.number AND m.deleted_at IS NULL
                   WHERE s.user_id = $1 AND s.room_id = $2 ORDER BY s.number";
        let rows: Vec<(i64,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(user).bind(room).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// At most `limit` shown entries of `user`'s list with ids below
    /// `before` (all when `None`), the most recently saved first.
    pub async fn saved_list(&self, user: UserId, before: Option<i64>, limit: i64) -> Result<Vec<SavedRow>, AppError> {
        let sql =
            format!("SELECT s.id, s.room_id, s.number, s.saved_at {SHOWN} AND s.id < $2 ORDER BY s.id DESC LIMIT $3");
        let before = before.unwrap_or(i64::MAX);
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(user).bind(before).bind(limit).fetch_all(pool).await?))
    }
}
