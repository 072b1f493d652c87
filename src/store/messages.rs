//! Queries on `messages`: the numbered insert and history pages.

use super::{Store, WritePool, after_micro, now, on_pool};
use crate::error::AppError;
use crate::model::{Author, Message, RoomId, UserId};

/// Which slice of a room's history to read. Pages come back ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryQuery {
    /// The newest messages.
    Latest,
    /// Messages created strictly before / after an ISO time (stored form).
    BeforeTime(String),
    AfterTime(String),
    /// Messages numbered strictly below / above a number.
    BeforeNumber(i64),
    AfterNumber(i64),
    /// A page centred on a number (for jumping to a search hit).
    Around(i64),
}

/// The order rows arrive in (and a whole group must be returned in).
#[derive(Clone, Copy)]
enum Order {
    Ascending,
    Descending,
}

pub struct InsertedMessage {
    pub message: Message,
    /// The change's place in the room sequence (0 for a replayed send).
    pub seq: i64,
    /// False when `client_id` matched an earlier send, which is returned instead.
    pub created: bool,
}

/// Who wrote a message and when, for the checks before an edit or delete.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageMeta {
    pub user_id: Option<UserId>,
    pub application_id: Option<i64>,
    pub created_at: String,
    pub deleted: bool,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    room_id: RoomId,
    number: i64,
    user_id: Option<UserId>,
    author_username: Option<String>,
    author_name: Option<String>,
    application_name: Option<String>,
    body: Option<String>,
    client_id: Option<String>,
    created_at: String,
    edited_at: Option<String>,
    deleted: bool,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let user = match (r.user_id, r.author_username) {
            (Some(id), Some(username)) => Some(Author { id, username, name: r.author_name }),
            _ => None,
        };
        Message {
            id: r.id,
            conversation_id: r.room_id,
            number: r.number,
            user_id: r.user_id,
            user,
            body: r.body,
            client_id: r.client_id,
            application: r.application_name,
            created_at: r.created_at,
            edited_at: r.edited_at,
            deleted: r.deleted,
        }
    }
}

/// Authors are joined in the page query itself: no N+1.
const SELECT_MESSAGE: &str = "SELECT m.id, m.room_id, m.number, m.user_id,
        u.username AS author_username, u.name AS author_name, a.name AS application_name,
        CASE WHEN m.deleted_at IS NULL THEN m.body END AS body,
        m.client_id, m.created_at, m.edited_at, m.deleted_at IS NOT NULL AS deleted
    FROM messages m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN applications a ON a.id = m.application_id";

impl Store {
    /// Appends a message. Its number comes from the room's counter row,
    /// bumped first in this write transaction: the row lock orders
    /// concurrent senders, so they get 1, 2, 3… with no gap or repeat, and
    /// commit in that order. Its time is strictly after the room's previous
    /// message. A `client_id` seen before returns the earlier message (the
    /// bump is rolled back).
    pub async fn insert_message(
        &self,
        room: RoomId,
        author: Option<UserId>,
        application: Option<i64>,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<InsertedMessage, AppError> {
        let bump = "UPDATE rooms SET last_number = last_number + 1, messages_count = messages_count + 1,
                                    last_seq = last_seq + 1
                    WHERE id = $1 RETURNING last_number, last_seq, last_message_at";
        let earlier = "SELECT number FROM messages
                       WHERE room_id = $1 AND user_id IS NOT DISTINCT FROM $2 AND client_id = $3";
        let stamp = "UPDATE rooms SET last_message_at = $1, updated_at = $1 WHERE id = $2";
        let insert = "INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let (number, seq) = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (number, seq, previous_at): (i64, i64, Option<String>) =
                sqlx::query_as(bump).bind(room).fetch_optional(&mut *tx).await?.ok_or(AppError::NotFound("conversation"))?;
            // Checked under the room's lock, so a retry racing its original
            // sees it committed.
            let replayed: Option<(i64,)> = match client_id {
                Some(client_id) => {
                    sqlx::query_as(earlier).bind(room).bind(author).bind(client_id).fetch_optional(&mut *tx).await?
                }
                None => None,
            };
            if let Some((number,)) = replayed {
                tx.rollback().await?;
                (number, None)
            } else {
                let wall = now();
                let at = match previous_at.as_deref().and_then(after_micro) {
                    Some(next) if next > wall => next,
                    _ => wall,
                };
                sqlx::query(stamp).bind(&at).bind(room).execute(&mut *tx).await?;
                sqlx::query(insert)
                    .bind(room)
                    .bind(number)
                    .bind(author)
                    .bind(application)
                    .bind(body)
                    .bind(client_id)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(LOG_EVENT)
                    .bind(room)
                    .bind(seq)
                    .bind(ChangeKind::Message.as_str())
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                (number, Some(seq))
            }
        });
        let message = self.message(room, number).await?.ok_or(AppError::NotFound("message"))?;
        Ok(InsertedMessage { message, seq: seq.unwrap_or(0), created: seq.is_some() })
    }

    pub async fn message(&self, room: RoomId, number: i64) -> Result<Option<Message>, AppError> {
        let sql = format!("{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.number = $2");
        let row: Option<MessageRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(room).bind(number).fetch_optional(pool).await?);
        Ok(row.map(Message::from))
    }

    /// A page of at most `limit` messages, ascending. Time cursors return whole
    /// groups of messages that share a timestamp, so following
    /// `page_info.cursor` never skips or repeats one.
    pub async fn history(&self, room: RoomId, query: &HistoryQuery, limit: u32) -> Result<Vec<Message>, AppError> {
        use Cursor::{Number, Time};
        use Order::{Ascending, Descending};
        let mut rows = match query {
            HistoryQuery::Latest => {
                // The newest page must not split a timestamp group either, or
                // following its `before` cursor would skip the rest of it.
                let rows = self.page(room, "m.number >", Number(0), Descending, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::BeforeNumber(n) => {
                let mut rows = self.page(room, "m.number <", Number(*n), Descending, limit).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterNumber(n) => self.page(room, "m.number >", Number(*n), Ascending, limit).await?,
            HistoryQuery::Around(n) => {
                let older = limit / 2 + 1;
                let mut rows = self.page(room, "m.number <=", Number(*n), Descending, older).await?;
                rows.reverse();
                rows.extend(self.page(room, "m.number >", Number(*n), Ascending, limit - older.min(limit)).await?);
                rows
            }
            HistoryQuery::BeforeTime(t) => {
                let rows = self.page(room, "m.created_at <", Time(t), Descending, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterTime(t) => {
                let rows = self.page(room, "m.created_at >", Time(t), Ascending, limit + 1).await?;
                self.whole_time_groups(room, rows, limit, Ascending).await?
            }
        };
        Ok(rows.drain(..).map(Message::from).collect())
    }

    /// Up to `limit` messages of `room` where `{column} {op} cursor`, in
    /// `order` of (time, number).
    async fn page(
        &self,
        room: RoomId,
        column_op: &str,
        cursor: Cursor<'_>,
        order: Order,
        limit: u32,
    ) -> Result<Vec<MessageRow>, AppError> {
        let direction = order.sql();
        let sql = format!(
            "{SELECT_MESSAGE} WHERE m.room_id = $1 AND {column_op} $2
             ORDER BY m.created_at {direction}, m.number {direction} LIMIT $3"
        );
        Ok(on_pool!(self, pool => {
            let query = sqlx::query_as(&sql).bind(room);
            let query = match cursor {
                Cursor::Number(n) => query.bind(n),
                Cursor::Time(t) => query.bind(t),
            };
            query.bind(i64::from(limit)).fetch_all(pool).await?
        }))
    }

    /// Given up to `limit + 1` rows in cursor order, keeps at most `limit`
    /// without cutting a timestamp group in two: a partial last group is left
    /// for the next page. If the whole page is one group, the whole group is
    /// returned even past `limit`.
    async fn whole_time_groups(
        &self,
        room: RoomId,
        mut rows: Vec<MessageRow>,
        limit: u32,
        order: Order,
    ) -> Result<Vec<MessageRow>, AppError> {
        let limit = limit as usize;
        if rows.len() <= limit {
            return Ok(rows);
        }
        let boundary = rows[limit].created_at.clone();
        rows.truncate(limit);
        if rows.last().is_some_and(|r| r.created_at == boundary) {
            rows.retain(|r| r.created_at != boundary);
            if rows.is_empty() {
                let sql = format!(
                    "{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.created_at = $2 ORDER BY m.number {}",
                    order.sql()
                );
                return Ok(
                    on_pool!(self, pool => sqlx::query_as(&sql).bind(room).bind(&boundary).fetch_all(pool).await?),
                );
            }
        }
        Ok(rows)
    }

    /// Replaces a live message's body; `None` if it is missing or deleted.
    /// Returns the change's seq with the message.
    pub async fn edit_message(
        &self,
        room: RoomId,
        number: i64,
        body: &str,
    ) -> Result<Option<(i64, Message)>, AppError> {
        let Some(seq) = self.change_message(room, number, MessageUpdate::Edit(body)).await? else {
            return Ok(None);
        };
        Ok(self.message(room, number).await?.map(|m| (seq, m)))
    }

    /// Soft-deletes: the row (and its number) stays, the body leaves every
    /// read, and the room's `messages_count` drops by one. Returns the
    /// change's seq, or `None` if there was nothing to delete.
    pub async fn delete_message(&self, room: RoomId, number: i64) -> Result<Option<i64>, AppError> {
        self.change_message(room, number, MessageUpdate::Delete).await
    }

    /// Applies an edit or delete to a live message and, if it changed a row,
    /// gives the change the room's next seq (moving its `messages_count`)
    /// and logs it, all in one write transaction.
    async fn change_message(
        &self,
        room: RoomId,
        number: i64,
        change: MessageUpdate<'_>,
    ) -> Result<Option<i64>, AppError> {
        let at = now();
        let (sql, body, count_change) = match change {
            MessageUpdate::Edit(body) => (
                "UPDATE messages SET body = $3, edited_at = $4
                 WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
                Some(body),
                0,
            ),
            MessageUpdate::Delete => (
                "UPDATE messages SET deleted_at = $3 WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
                None,
                -1,
            ),
        };
        let next_seq = "UPDATE rooms SET last_seq = last_seq + 1, messages_count = messages_count + $1
                        WHERE id = $2 RETURNING last_seq";
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let update = sqlx::query(sql).bind(room).bind(number);
            let update = match body {
                Some(body) => update.bind(body).bind(&at),
                None => update.bind(&at),
            };
            if update.execute(&mut *tx).await?.rows_affected() == 0 {
                None
            } else {
                let (seq,): (i64,) =
                    sqlx::query_as(next_seq).bind(count_change).bind(room).fetch_one(&mut *tx).await?;
                sqlx::query(LOG_EVENT)
                    .bind(room)
                    .bind(seq)
                    .bind(change.kind().as_str())
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Some(seq)
            }
        }))
    }

    /// The changes to `room` after `after`, in order, each with the message
    /// as it is now; at most `limit` (replays read in batches).
    pub async fn events_after(&self, room: RoomId, after: i64, limit: u32) -> Result<Vec<Change>, AppError> {
        let sql = format!(
            "SELECT e.seq AS event_seq, e.kind AS event_kind, x.* FROM room_events e
             JOIN ({SELECT_MESSAGE}) x ON x.room_id = e.room_id AND x.number = e.number
             WHERE e.room_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
        );
        let rows: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(room)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|r| {
                let kind = ChangeKind::parse(&r.event_kind)
                    .ok_or_else(|| AppError::internal(format!("unknown change kind {:?}", r.event_kind)))?;
                Ok(Change { seq: r.event_seq, kind, message: Message::from(r.message) })
            })
            .collect()
    }

    /// The author and time of a message, deleted or not, for permission checks.
    pub async fn message_meta(&self, room: RoomId, number: i64) -> Result<Option<MessageMeta>, AppError> {
        let sql = "SELECT user_id, application_id, created_at, deleted_at IS NOT NULL AS deleted
                   FROM messages WHERE room_id = $1 AND number = $2";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(number).fetch_optional(pool).await?))
    }
}

/// Appends one entry to a room's change log.
const LOG_EVENT: &str = "INSERT INTO room_events (room_id, seq, kind, number) VALUES ($1, $2, $3, $4)";

/// What a history page is bounded by.
#[derive(Clone, Copy)]
enum Cursor<'a> {
    Number(i64),
    Time(&'a str),
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Self::Ascending => "ASC",
            Self::Descending => "DESC",
        }
    }
}

/// An edit (with the new body) or a delete, as `change_message` applies it.
#[derive(Clone, Copy)]
enum MessageUpdate<'a> {
    Edit(&'a str),
    Delete,
}

impl MessageUpdate<'_> {
    fn kind(self) -> ChangeKind {
        match self {
            Self::Edit(_) => ChangeKind::Edited,
            Self::Delete => ChangeKind::Deleted,
        }
    }
}

/// What happened to a message, as the change log (`room_events.kind`)
/// records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Message,
    Edited,
    Deleted,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edited => "edited",
            Self::Deleted => "deleted",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Message, Self::Edited, Self::Deleted].into_iter().find(|k| k.as_str() == raw)
    }
}

/// One entry of a room's change log, with the message as it is now.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: i64,
    pub kind: ChangeKind,
    pub message: Message,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    event_seq: i64,
    event_kind: String,
    #[sqlx(flatten)]
    message: MessageRow,
}
