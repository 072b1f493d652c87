//! Queries on `messages`: the numbered insert and history pages.

use super::{Backend, Store, WritePool, after_micro, now, on_pool};
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
    pub id: i64,
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
    ///
    /// The room's lock is held from the bump to the commit, so every
    /// statement in between is one more wait for the room's next sender. On
    /// Postgres, where each is a round trip, the rest is one statement
    /// (`WRITE_MESSAGE_ONCE`): the lock spans two round trips and the
    /// commit instead of five and the commit.
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
        let backend = self.backend();
        let (number, seq) = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (number, seq, previous_at): (i64, i64, Option<String>) =
                sqlx::query_as(bump).bind(room).fetch_optional(&mut *tx).await?.ok_or(AppError::NotFound("conversation"))?;
            let wall = now();
            let at = match previous_at.as_deref().and_then(after_micro) {
                Some(next) if next > wall => next,
                _ => wall,
            };
            // The rest runs under the room's lock, and is checked there, so
            // a retry racing its original sees it committed.
            let replayed: Option<i64> = match backend {
                // One round trip: every statement in the lock is one more
                // wait for the room's next sender.
                Backend::Postgres => {
                    let (earlier,): (Option<i64>,) = sqlx::query_as(WRITE_MESSAGE_ONCE)
                        .bind(room)
                        .bind(author)
                        .bind(number)
                        .bind(application)
                        .bind(body)
                        .bind(client_id)
                        .bind(&at)
                        .bind(seq)
                        .fetch_one(&mut *tx)
                        .await?;
                    earlier
                }
                // In process, statements cost no round trip.
                Backend::Sqlite => {
                    let earlier: Option<(i64,)> = match client_id {
                        Some(client_id) => {
                            sqlx::query_as(EARLIER).bind(room).bind(author).bind(client_id).fetch_optional(&mut *tx).await?
                        }
                        None => None,
                    };
                    if earlier.is_none() {
                        sqlx::query(STAMP_ROOM).bind(&at).bind(room).execute(&mut *tx).await?;
                        sqlx::query(INSERT_MESSAGE)
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
                    }
                    earlier.map(|(n,)| n)
                }
            };
            if let Some(number) = replayed {
                tx.rollback().await?;
                (number, None)
            } else {
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
        use Bound::{Number, Time};
        use Order::{Ascending, Descending};
        let mut rows = match query {
            HistoryQuery::Latest => {
                // The newest page must not split a timestamp group either, or
                // following its `before` cursor would skip the rest of it.
                let rows = self.page(room, None, Descending, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::BeforeNumber(n) => {
                let mut rows = self.page(room, Some(Number("<", *n)), Descending, limit).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterNumber(n) => self.page(room, Some(Number(">", *n)), Ascending, limit).await?,
            HistoryQuery::Around(n) => {
                let older = limit / 2 + 1;
                let mut rows = self.page(room, Some(Number("<=", *n)), Descending, older).await?;
                rows.reverse();
                rows.extend(self.page(room, Some(Number(">", *n)), Ascending, limit - older.min(limit)).await?);
                rows
            }
            HistoryQuery::BeforeTime(t) => {
                let rows = self.page(room, Some(Time("<", t)), Descending, limit + 1).await?;
                let mut rows = self.whole_time_groups(room, rows, limit, Descending).await?;
                rows.reverse();
                rows
            }
            HistoryQuery::AfterTime(t) => {
                let rows = self.page(room, Some(Time(">", t)), Ascending, limit + 1).await?;
                self.whole_time_groups(room, rows, limit, Ascending).await?
            }
        };
        Ok(rows.drain(..).map(Message::from).collect())
    }

    /// Up to `limit` messages of `room` past `bound` (all of them for none),
    /// in `order`: by number for a number bound, else by (time, number).
    ///
    /// Each reads only its page from one index: the newest page and time
    /// bounds walk `(room_id, created_at, number)`, number bounds walk
    /// `(room_id, number)`. Within a room numbers and times rise together
    /// (each message is stamped after the one before it, under the room's
    /// lock), so both orders agree; ordering a number range by time instead
    /// made both databases read (or sort) every message on the far side of
    /// the bound, about a second for the newest page of a room of a million
    /// on SQLite.
    async fn page(
        &self,
        room: RoomId,
        bound: Option<Bound<'_>>,
        order: Order,
        limit: u32,
    ) -> Result<Vec<MessageRow>, AppError> {
        let d = order.sql();
        let (condition, order_by) = match bound {
            None => (String::new(), format!("m.created_at {d}, m.number {d}")),
            Some(Bound::Number(op, _)) => (format!("AND m.number {op} $2"), format!("m.number {d}")),
            Some(Bound::Time(op, _)) => {
                (format!("AND m.created_at {op} $2"), format!("m.created_at {d}, m.number {d}"))
            }
        };
        let limit_param = if bound.is_some() { "$3" } else { "$2" };
        let sql = format!("{SELECT_MESSAGE} WHERE m.room_id = $1 {condition} ORDER BY {order_by} LIMIT {limit_param}");
        Ok(on_pool!(self, pool => {
            let query = sqlx::query_as(&sql).bind(room);
            let query = match bound {
                None => query,
                Some(Bound::Number(_, n)) => query.bind(n),
                Some(Bound::Time(_, t)) => query.bind(t),
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
        let sql = "SELECT id, user_id, application_id, created_at, deleted_at IS NOT NULL AS deleted
                   FROM messages WHERE room_id = $1 AND number = $2";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(number).fetch_optional(pool).await?))
    }
}

/// Appends one entry to a room's change log.
const LOG_EVENT: &str = "INSERT INTO room_events (room_id, seq, kind, number) VALUES ($1, $2, $3, $4)";

/// The number of an earlier send with the same `client_id` by the same author.
const EARLIER: &str = "SELECT number FROM messages
                       WHERE room_id = $1 AND user_id IS NOT DISTINCT FROM $2 AND client_id = $3";
const STAMP_ROOM: &str = "UPDATE rooms SET last_message_at = $1, updated_at = $1 WHERE id = $2";
const INSERT_MESSAGE: &str =
    "INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at)
                              VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Postgres: what follows the counter bump in `insert_message`, as one
/// statement. Its snapshot is taken when it starts, after the bump got the
/// room's lock, so `earlier` sees a racing original that committed. With
/// no earlier send it writes the message ($1 room, $2 author, $3 number,
/// $4 application, $5 body, $6 client_id, $7 time), its change ($8 seq) and
/// the room's time; it returns the earlier send's number, or NULL.
const WRITE_MESSAGE_ONCE: &str = "WITH earlier AS (
        SELECT number FROM messages WHERE room_id = $1 AND user_id IS NOT DISTINCT FROM $2 AND client_id = $6 LIMIT 1
    ), inserted AS (
        INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at)
        SELECT $1, $3, $2, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM earlier)
        RETURNING number
    ), logged AS (
        INSERT INTO room_events (room_id, seq, kind, number) SELECT $1, $8, 'message', number FROM inserted
    ), stamped AS (
        UPDATE rooms SET last_message_at = $7, updated_at = $7 WHERE id = $1 AND EXISTS (SELECT 1 FROM inserted)
    )
    SELECT (SELECT number FROM earlier)";

/// What a history page is bounded by: an operator and a number or a time.
#[derive(Clone, Copy)]
enum Bound<'a> {
    Number(&'static str, i64),
    Time(&'static str, &'a str),
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
