//! Queries on `messages`: the numbered insert and history pages.

use super::{Store, after_micro, now};
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
    /// Appends a message. Its number comes from the room's counter row, bumped
    /// inside this write transaction, so concurrent sends get 1, 2, 3… with no
    /// gap or repeat; its time is strictly after the room's previous message.
    pub async fn insert_message(
        &self,
        room: RoomId,
        author: Option<UserId>,
        application: Option<i64>,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<InsertedMessage, AppError> {
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(client_id) = client_id {
            let earlier: Option<(i64,)> =
                sqlx::query_as("SELECT number FROM messages WHERE room_id = ? AND user_id IS ? AND client_id = ?")
                    .bind(room)
                    .bind(author)
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((number,)) = earlier {
                tx.commit().await?;
                let message = self.message(room, number).await?.ok_or(AppError::NotFound("message"))?;
                return Ok(InsertedMessage { message, seq: 0, created: false });
            }
        }
        let (number, seq, previous_at): (i64, i64, Option<String>) = sqlx::query_as(
            "UPDATE rooms SET last_number = last_number + 1, messages_count = messages_count + 1,
                              last_seq = last_seq + 1
             WHERE id = ? RETURNING last_number, last_seq, last_message_at",
        )
        .bind(room)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
        let wall = now();
        let at = match previous_at.as_deref().and_then(after_micro) {
            Some(next) if next > wall => next,
            _ => wall,
        };
        sqlx::query("UPDATE rooms SET last_message_at = ?1, updated_at = ?1 WHERE id = ?2")
            .bind(&at)
            .bind(room)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(room)
        .bind(number)
        .bind(author)
        .bind(application)
        .bind(body)
        .bind(client_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        log_event(&mut tx, room, seq, ChangeKind::Message, number).await?;
        tx.commit().await?;
        let message = self.message(room, number).await?.ok_or(AppError::NotFound("message"))?;
        Ok(InsertedMessage { message, seq, created: true })
    }

    pub async fn message(&self, room: RoomId, number: i64) -> Result<Option<Message>, AppError> {
        Ok(sqlx::query_as::<_, MessageRow>(&format!("{SELECT_MESSAGE} WHERE m.room_id = ? AND m.number = ?"))
            .bind(room)
            .bind(number)
            .fetch_optional(self.sqlite()?)
            .await?
            .map(Message::from))
    }

    /// A page of at most `limit` messages, ascending. Time cursors return whole
    /// groups of messages that share a timestamp, so following
    /// `page_info.cursor` never skips or repeats one.
    pub async fn history(&self, room: RoomId, query: &HistoryQuery, limit: u32) -> Result<Vec<Message>, AppError> {
        let pool = self.sqlite()?;
        let fetch = |sql: String, cursor: Option<String>, n: i64, lim: u32| {
            let pool = pool.clone();
            async move {
                let mut q = sqlx::query_as::<_, MessageRow>(&sql).bind(room);
                if let Some(c) = cursor {
                    q = q.bind(c);
                } else {
                    q = q.bind(n);
                }
                q.bind(lim).fetch_all(&pool).await
            }
        };
        let desc = |cond: &str| {
            format!("{SELECT_MESSAGE} WHERE m.room_id = ? AND {cond} ORDER BY m.created_at DESC, m.number DESC LIMIT ?")
        };
        let asc = |cond: &str| {
            format!("{SELECT_MESSAGE} WHERE m.room_id = ? AND {cond} ORDER BY m.created_at ASC, m.number ASC LIMIT ?")
        };
        let mut rows = match query {
            HistoryQuery::Latest => {
                // The newest page must not split a timestamp group either, or
                // following its `before` cursor would skip the rest of it.
                let rows = fetch(desc("m.number > ?"), None, 0, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Order::Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::BeforeNumber(n) => {
                let mut rows = fetch(desc("m.number < ?"), None, *n, limit).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterNumber(n) => fetch(asc("m.number > ?"), None, *n, limit).await?,
            HistoryQuery::Around(n) => {
                let older = limit / 2 + 1;
                let mut rows = fetch(desc("m.number <= ?"), None, *n, older).await?;
                rows.reverse();
                rows.extend(fetch(asc("m.number > ?"), None, *n, limit - older.min(limit)).await?);
                rows
            }
            HistoryQuery::BeforeTime(t) => {
                let rows = fetch(desc("m.created_at < ?"), Some(t.clone()), 0, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Order::Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterTime(t) => {
                let rows = fetch(asc("m.created_at > ?"), Some(t.clone()), 0, limit + 1).await?;
                self.whole_time_groups(room, rows, limit, Order::Ascending).await?
            }
        };
        Ok(rows.drain(..).map(Message::from).collect())
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
                let direction = match order {
                    Order::Ascending => "ASC",
                    Order::Descending => "DESC",
                };
                return Ok(sqlx::query_as::<_, MessageRow>(&format!(
                    "{SELECT_MESSAGE} WHERE m.room_id = ? AND m.created_at = ? ORDER BY m.number {direction}"
                ))
                .bind(room)
                .bind(&boundary)
                .fetch_all(self.sqlite()?)
                .await?);
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
        let edit = sqlx::query(
            "UPDATE messages SET body = ?, edited_at = ? WHERE room_id = ? AND number = ? AND deleted_at IS NULL",
        )
        .bind(body)
        .bind(now());
        let Some(seq) = self.change_message(edit, room, number, ChangeKind::Edited, 0).await? else {
            return Ok(None);
        };
        Ok(self.message(room, number).await?.map(|m| (seq, m)))
    }

    /// Soft-deletes: the row (and its number) stays, the body leaves every
    /// read, and the room's `messages_count` drops by one. Returns the
    /// change's seq, or `None` if there was nothing to delete.
    pub async fn delete_message(&self, room: RoomId, number: i64) -> Result<Option<i64>, AppError> {
        let delete =
            sqlx::query("UPDATE messages SET deleted_at = ? WHERE room_id = ? AND number = ? AND deleted_at IS NULL")
                .bind(now());
        self.change_message(delete, room, number, ChangeKind::Deleted, -1).await
    }

    /// Runs `update` (bound up to its `room_id = ? AND number = ?`) and, if it
    /// changed a row, gives the change the room's next seq (moving its
    /// `messages_count` by `count_change`) and logs it, all in one write
    /// transaction.
    async fn change_message<'q>(
        &self,
        update: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
        room: RoomId,
        number: i64,
        kind: ChangeKind,
        count_change: i64,
    ) -> Result<Option<i64>, AppError> {
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
        let done = update.bind(room).bind(number).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let seq = next_seq(&mut tx, room, count_change).await?;
        log_event(&mut tx, room, seq, kind, number).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// The changes to `room` after `after`, in order, each with the message
    /// as it is now; at most `limit` (replays read in batches).
    pub async fn events_after(&self, room: RoomId, after: i64, limit: u32) -> Result<Vec<Change>, AppError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT e.seq AS event_seq, e.kind AS event_kind, x.* FROM room_events e
             JOIN ({SELECT_MESSAGE}) x ON x.room_id = e.room_id AND x.number = e.number
             WHERE e.room_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?"
        ))
        .bind(room)
        .bind(after)
        .bind(limit)
        .fetch_all(self.sqlite()?)
        .await?;
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
        Ok(sqlx::query_as(
            "SELECT user_id, application_id, created_at, deleted_at IS NOT NULL AS deleted
             FROM messages WHERE room_id = ? AND number = ?",
        )
        .bind(room)
        .bind(number)
        .fetch_optional(self.sqlite()?)
        .await?)
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

/// Takes the room's next seq; `messages_count` (what can still be read, as
/// the token API reports it) moves by `count_change` in the same statement.
async fn next_seq(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    room: RoomId,
    count_change: i64,
) -> Result<i64, sqlx::Error> {
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE rooms SET last_seq = last_seq + 1, messages_count = messages_count + ? WHERE id = ? RETURNING last_seq",
    )
    .bind(count_change)
    .bind(room)
    .fetch_one(&mut **tx)
    .await?;
    Ok(seq)
}

async fn log_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    room: RoomId,
    seq: i64,
    kind: ChangeKind,
    number: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO room_events (room_id, seq, kind, number) VALUES (?, ?, ?, ?)")
        .bind(room)
        .bind(seq)
        .bind(kind.as_str())
        .bind(number)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
