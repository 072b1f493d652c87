//! Queries on `messages`: the numbered insert and history pages.

use std::collections::{BTreeMap, HashMap};

use super::batch::{BindRows, Kind, Kind::Int, Kind::Text, Rows, shift_params};
use super::{Backend, BatchWrite, Store, WritePool, after_micro, format_time, now, on_pool, on_writer, placeholders};
use crate::error::AppError;
use crate::model::{Author, Message, Reaction, ReplyTo, RoomId, UserId};

/// Which slice of a room's history to read. Pages come back ascending.
/// Inside a write transaction `$tx`: takes `$room`'s next seq and logs
/// change `$kind` of message `$number` under it; evaluates to the seq. (A
/// macro, as `on_writer!` gives each backend its own transaction type.)
macro_rules! log_change {
    ($tx:ident, $room:expr, $kind:expr, $number:expr) => {{
        let (seq,): (i64,) =
            sqlx::query_as("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
                .bind($room)
                .fetch_one(&mut *$tx)
                .await?;
        sqlx::query(LOG_EVENT).bind($room).bind(seq).bind($kind.as_str()).bind($number).execute(&mut *$tx).await?;
        seq
    }};
}

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

/// A message to append (see [`Store::append_messages`]).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room: RoomId,
    pub author: Option<UserId>,
    pub application: Option<i64>,
    pub body: String,
    pub client_id: Option<String>,
    /// The number of the message this one answers, in the same room.
    pub reply_to: Option<i64>,
    /// The members it mentions (resolved by `Hearth::append_message`).
    pub mentions: Vec<UserId>,
    /// The author's unsent uploads to the room that it carries (checked by
    /// `Hearth::post_reply`); the insert gives them its number.
    pub attachments: Vec<i64>,
    /// Queue its push job (`push_jobs`, in the same transaction), due this
    /// long after the commit; `None` for writes that push nothing (tools,
    /// imports).
    pub push_delay: Option<std::time::Duration>,
}

impl NewMessage {
    /// What makes a retry the same send: its author and `client_id`.
    fn key(&self) -> Option<(UserId, String)> {
        Some((self.author?, self.client_id.clone()?))
    }
}

/// Where an appended message landed: its number, and its seq and row unless
/// it was an earlier send's retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub room: RoomId,
    pub number: i64,
    pub seq: Option<i64>,
    /// The row this append wrote (`None` for a retry, which wrote nothing):
    /// with the [`NewMessage`], the whole message, so nobody reads it back.
    pub written: Option<Written>,
}

/// A message of a batch that gets a new row: its index in the batch, its
/// number and seq in its room, its time.
struct Fresh {
    index: usize,
    number: i64,
    seq: i64,
    at: String,
}

/// What the database gave a newly written message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub id: i64,
    pub created_at: String,
    /// Of the message's `attachments`, those it took (an upload another
    /// message took first is not taken twice).
    pub attachments: Vec<i64>,
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
    pub reply_to: Option<i64>,
}

/// A reaction toggled (see [`Store::toggle_reaction`]): the change's seq if
/// a row changed, whether the reaction is now on, and the message's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toggled {
    pub seq: Option<i64>,
    pub on: bool,
    pub message_id: i64,
}

/// What [`Store::set_pin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinChange {
    /// Pinned or unpinned, logged with this seq.
    Changed(i64),
    /// Already as asked.
    Unchanged,
    /// Not pinned: the room has its most pins already.
    Full,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    room_id: RoomId,
    number: i64,
    user_id: Option<UserId>,
    author_username: Option<String>,
    author_name: Option<String>,
    author_deactivated: bool,
    application_name: Option<String>,
    body: Option<String>,
    client_id: Option<String>,
    /// The mentioned user ids, comma-separated (`string_agg`).
    mention_ids: Option<String>,
    created_at: String,
    edited_at: Option<String>,
    deleted: bool,
    reply_to: Option<i64>,
    reply_user_id: Option<UserId>,
    reply_username: Option<String>,
    reply_name: Option<String>,
    reply_body: Option<String>,
    reply_edited: bool,
    reply_to_count: i64,
    reply_count: i64,
    preview_url: Option<String>,
    preview_title: Option<String>,
    preview_description: Option<String>,
    preview_site_name: Option<String>,
    pinned_at: Option<String>,
    pinned_by: Option<UserId>,
    pinner_username: Option<String>,
    pinner_name: Option<String>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let user = match (r.user_id, r.author_username) {
            (Some(id), Some(username)) => {
                Some(Author { id, username, name: r.author_name, deactivated: r.author_deactivated })
            }
            _ => None,
        };
        let reply_to = r.reply_to.map(|number| ReplyTo {
            number,
            user: match (r.reply_user_id, r.reply_username) {
                (Some(id), Some(username)) => Some(Author::new(id, username, r.reply_name)),
                _ => None,
            },
            snippet: r.reply_body.as_deref().map(|body| crate::markdown::one_line(body, ReplyTo::SNIPPET_MAX)),
            reply_count: r.reply_to_count,
            edited: r.reply_edited,
        });
        Message {
            id: r.id,
            conversation_id: r.room_id,
            number: r.number,
            user_id: r.user_id,
            user,
            html: r.body.as_deref().map(|body| crate::markdown::render_message(body, r.mention_ids.is_some())),
            body: r.body,
            client_id: r.client_id,
            // Whom a deleted message mentioned goes with its text.
            mentions: if r.deleted { Vec::new() } else { parse_ids(r.mention_ids.as_deref()) },
            application: r.application_name,
            created_at: r.created_at,
            edited_at: r.edited_at,
            deleted: r.deleted,
            reply_to,
            reply_count: r.reply_count,
            reactions: Vec::new(),
            attachments: Vec::new(),
            preview: match (r.preview_url, r.preview_title) {
                (Some(url), Some(title)) => Some(crate::model::LinkPreview {
                    url,
                    title,
                    description: r.preview_description,
                    site_name: r.preview_site_name,
                }),
                _ => None,
            },
            pinned: r.pinned_at.map(|at| crate::model::Pin {
                by: match (r.pinned_by, r.pinner_username) {
                    (Some(id), Some(username)) => Some(Author::new(id, username, r.pinner_name)),
                    _ => None,
                },
                at,
            }),
        }
    }
}

/// `mention_ids` as stored: the ids comma-separated, `None` for none.
fn format_ids(ids: &[UserId]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
}

/// A comma-separated list of user ids, in ascending order.
fn parse_ids(raw: Option<&str>) -> Vec<UserId> {
    let mut ids: Vec<UserId> =
        raw.unwrap_or("").split(',').filter_map(|id| id.trim().parse().ok()).map(UserId).collect();
    ids.sort();
    ids
}

/// Authors, and the original a reply quotes (with its reply counter), are
/// joined in the page query itself: no N+1. Reactions are read for a whole
/// page at once ([`Store::reactions_for`]). Mentions are read from the
/// message's own `mention_ids`, not gathered from the `mentions` table (a
/// subquery per message doubled a page's reads). Who pinned a message is
/// looked up only for a pinned one, in the select list: one more join would
/// change the plans of every query built on this (the planners chose to
/// sort a page after its joins), for a column almost always empty.
const SELECT_MESSAGE: &str = "SELECT m.id, m.room_id, m.number, m.user_id,
        u.username AS author_username, u.name AS author_name, u.deactivated_at IS NOT NULL AS author_deactivated,
        a.name AS application_name,
        CASE WHEN m.deleted_at IS NULL THEN m.body END AS body,
        m.mention_ids,
        m.client_id, m.created_at, m.edited_at, m.deleted_at IS NOT NULL AS deleted,
        m.reply_to, o.user_id AS reply_user_id, ou.username AS reply_username, ou.name AS reply_name,
        CASE WHEN o.deleted_at IS NULL THEN o.body END AS reply_body,
        (o.edited_at IS NOT NULL AND o.deleted_at IS NULL) AS reply_edited,
        COALESCE(o.reply_count, 0) AS reply_to_count, m.reply_count,
        lp.url AS preview_url, lp.title AS preview_title, lp.description AS preview_description,
        lp.site_name AS preview_site_name,
        m.pinned_at, m.pinned_by,
        CASE WHEN m.pinned_by IS NOT NULL THEN (SELECT pu.username FROM users pu WHERE pu.id = m.pinned_by) END
            AS pinner_username,
        CASE WHEN m.pinned_by IS NOT NULL THEN (SELECT pu.name FROM users pu WHERE pu.id = m.pinned_by) END
            AS pinner_name
    FROM messages m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN applications a ON a.id = m.application_id
        LEFT JOIN messages o ON o.room_id = m.room_id AND o.number = m.reply_to
        LEFT JOIN users ou ON ou.id = o.user_id
        LEFT JOIN link_previews lp ON lp.url = m.preview_url AND m.deleted_at IS NULL AND lp.title IS NOT NULL";

/// [`Store::replies`]: a message's live replies after a number.
static REPLIES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.reply_to = $2 AND m.number > $3 AND m.deleted_at IS NULL
         ORDER BY m.number LIMIT $4"
    )
});

/// [`Store::pins`]: a room's live pinned messages, the most recently pinned
/// first.
static PINS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.pinned_at IS NOT NULL AND m.deleted_at IS NULL
         ORDER BY m.pinned_at DESC, m.number DESC LIMIT $2"
    )
});

/// The most pins [`Store::pins_plan`] asks for (a room holds at most 100).
const PINS_PAGE: i64 = 100;

impl Store {
    /// Appends one message on its own, as a batch of one (see
    /// [`Store::append_messages`], which numbers it): for tools and tests
    /// that write without the group-commit writer. A `client_id` seen before
    /// returns the earlier message.
    pub async fn insert_message(
        &self,
        room: RoomId,
        author: Option<UserId>,
        application: Option<i64>,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<InsertedMessage, AppError> {
        let new = NewMessage {
            room,
            author,
            application,
            body: body.to_owned(),
            client_id: client_id.map(str::to_owned),
            reply_to: None,
            mentions: Vec::new(),
            attachments: Vec::new(),
            push_delay: None,
        };
        let placed = self.append_messages(std::slice::from_ref(&new)).await?;
        let appended = placed.into_iter().next().flatten().ok_or(AppError::NotFound("conversation"))?;
        let message = self.message(room, appended.number).await?.ok_or(AppError::NotFound("message"))?;
        Ok(InsertedMessage { message, seq: appended.seq.unwrap_or(0), created: appended.seq.is_some() })
    }

    /// Appends `batch` in one write transaction (group commit): per room, in
    /// room id order, the room's row is locked (`BEGIN IMMEDIATE` on SQLite,
    /// `FOR UPDATE` on Postgres), its messages take consecutive numbers and
    /// seqs in the batch's order, and the room's counters move once. A
    /// message whose author already sent its `client_id` to the room (before,
    /// or earlier in the batch) is not written again: its place is the
    /// earlier one's, with no seq. Returns each message's place, `None` if
    /// its room does not exist; an error fails the whole batch, and nothing
    /// of it is written.
    pub async fn append_messages(&self, batch: &[NewMessage]) -> Result<Vec<Option<Appended>>, AppError> {
        let mut placed: Vec<Option<Appended>> = vec![None; batch.len()];
        let mut rooms: BTreeMap<RoomId, Vec<usize>> = BTreeMap::new();
        for (i, message) in batch.iter().enumerate() {
            rooms.entry(message.room).or_default().push(i);
        }
        // Locks the rooms' rows for their next numbers (SQLite's write
        // transaction is already exclusive; Postgres locks the rows).
        let mut ids = Rows::new(&[Int]);
        for room in rooms.keys() {
            ids.push([(*room).into()]);
        }
        // Sends the batch's rooms may already have, by (room, author,
        // client_id).
        let mut keyed = Rows::new(SEND_KEYS);
        for m in batch.iter().filter(|m| m.key().is_some()) {
            keyed.push([m.room.into(), m.author.into(), m.client_id.as_deref().into()]);
        }
        // However many rooms the batch has, it is written in six statements:
        // the rooms locked, their earlier sends looked up, the messages and
        // their changes inserted, the rooms' counters and the authors' own
        // counts moved. On SQLite they are two round trips to the writer's
        // thread, the first with the `BEGIN` and the last with the `COMMIT`
        // (`BatchWrite`; a lone message's commit was nine round trips, most
        // of its time: docs/benchmarks.md); on Postgres the last four are
        // one statement.
        let has_mentions = batch.iter().any(|m| !m.mentions.is_empty());
        let has_files = batch.iter().any(|m| !m.attachments.is_empty());
        on_writer!(self, pool => {
            let mut tx = pool.begin_batch().await?;
            let (begin, commit) = (begin_text(&tx), commit_text(&tx));
            // Whether the last statement's text committed.
            let mut committed = false;
            let mut locked: HashMap<RoomId, (i64, i64, Option<String>)> = HashMap::new();
            let mut known: HashMap<(RoomId, UserId, String), i64> = HashMap::new();
            match self.backend() {
                // The write transaction is exclusive already: the rooms'
                // counters and the earlier sends are read by one statement,
                // told apart by its first column.
                Backend::Sqlite => {
                    let mut sql = format!(
                        "{begin}SELECT 0, id, last_number, last_seq, last_message_at FROM rooms WHERE id {}",
                        ids.in_list(self.backend())
                    );
                    if !keyed.is_empty() {
                        sql.push_str(" UNION ALL ");
                        sql.push_str(&earlier_sends(self.backend(), &keyed));
                    }
                    let query = sqlx::query_as::<_, (i64, i64, i64, i64, Option<String>)>(&sql);
                    for (kind, a, b, c, text) in query.bind_rows(&ids).bind_rows(&keyed).fetch_all(tx.conn()).await? {
                        match (kind, text) {
                            (0, at) => {
                                locked.insert(RoomId(a), (b, c, at));
                            }
                            (_, Some(client_id)) => {
                                known.insert((RoomId(a), UserId(b), client_id), c);
                            }
                            (_, None) => {}
                        }
                    }
                }
                Backend::Postgres => {
                    // Every room of the batch, locked in id order.
                    let lock = format!(
                        "SELECT id, last_number, last_seq, last_message_at FROM rooms WHERE id {} ORDER BY id FOR UPDATE",
                        ids.in_list(self.backend())
                    );
                    let query = sqlx::query_as::<_, (RoomId, i64, i64, Option<String>)>(&lock).bind_rows(&ids);
                    for (id, number, seq, at) in query.fetch_all(tx.conn()).await? {
                        locked.insert(id, (number, seq, at));
                    }
                    if !keyed.is_empty() {
                        // Planned afresh each time, for the table as it is
                        // now: a plan cached while `messages` was small (a
                        // hash join over all of it) stays until the next
                        // `ANALYZE`, and a fresh instance's first minute of
                        // sends then read the whole table once a batch
                        // (docs/benchmarks.md).
                        let sql = earlier_sends(self.backend(), &keyed);
                        let query =
                            sqlx::query_as::<_, (RoomId, UserId, String, i64)>(&sql).bind_rows(&keyed).persistent(false);
                        for (room, user, client_id, number) in query.fetch_all(tx.conn()).await? {
                            known.insert((room, user, client_id), number);
                        }
                    }
                }
            }
            // Each message's place: an earlier send's, or its room's next.
            let mut fresh: Vec<Fresh> = Vec::new();
            let mut bumps: Vec<(RoomId, i64, String)> = Vec::new();
            let mut own: BTreeMap<(RoomId, UserId), i64> = BTreeMap::new();
            for (&room, indexes) in &rooms {
                let Some((last_number, last_seq, previous_at)) = locked.get(&room) else { continue };
                let mut here: Vec<usize> = Vec::new();
                for &i in indexes {
                    let key = batch[i].key().map(|(user, client_id)| (room, user, client_id));
                    if let Some(&number) = key.as_ref().and_then(|key| known.get(key)) {
                        placed[i] = Some(Appended { room, number, seq: None, written: None });
                        continue;
                    }
                    let step = here.len() as i64 + 1;
                    placed[i] =
                        Some(Appended { room, number: last_number + step, seq: Some(last_seq + step), written: None });
                    if let Some(key) = key {
                        known.insert(key, last_number + step);
                    }
                    if let Some(author) = batch[i].author {
                        *own.entry((room, author)).or_default() += 1;
                    }
                    here.push(i);
                }
                let times = times_after(previous_at.as_deref(), here.len());
                if let Some(newest) = times.last() {
                    bumps.push((room, here.len() as i64, newest.clone()));
                }
                for (step, (i, at)) in here.into_iter().zip(times).enumerate() {
                    let step = step as i64 + 1;
                    fresh.push(Fresh { index: i, number: last_number + step, seq: last_seq + step, at });
                }
            }
            if !fresh.is_empty() {
                // The writes that need no message id (the room's events, the
                // push jobs, the room's counters, the originals' reply
                // counts, the authors' own counts) go with the insert, in one
                // round trip (`with_insert`).
                let mut together: Vec<(String, Rows<'_>)> = Vec::with_capacity(5);
                let mut rows = Rows::new(&[Int, Int, Text, Int]);
                for f in &fresh {
                    rows.push([batch[f.index].room.into(), f.seq.into(), ChangeKind::Message.as_str().into(), f.number.into()]);
                }
                together.push((format!("{LOG_EVENTS} {}", rows.select(self.backend())), rows));
                // One push job per message that asks for one, in one insert
                // (the recipients are worked out when it is due).
                let pushed: Vec<&Fresh> = fresh.iter().filter(|f| batch[f.index].push_delay.is_some()).collect();
                let started = time::OffsetDateTime::now_utc();
                let due: Vec<String> = pushed
                    .iter()
                    .map(|f| super::format_time(started + batch[f.index].push_delay.unwrap_or_default()))
                    .collect();
                if !pushed.is_empty() {
                    let mut rows = Rows::new(&[Text, Int, Int, Int, Text]);
                    for (f, due) in pushed.iter().zip(&due) {
                        let m = &batch[f.index];
                        rows.push(["message".into(), m.room.into(), f.number.into(), m.author.into(), due.as_str().into()]);
                    }
                    together.push((format!("{QUEUE_PUSHES} {}", rows.select(self.backend())), rows));
                }
                let mut rows = Rows::new(&[Int, Int, Text]);
                for (room, count, newest) in &bumps {
                    rows.push([(*room).into(), (*count).into(), newest.as_str().into()]);
                }
                together.push((format!("{BUMP_ROOMS} {} WHERE rooms.id = v.column1", rows.table(self.backend())), rows));
                // Replies move their originals' counters (only in a batch
                // that has replies).
                let mut replies: BTreeMap<(RoomId, i64), i64> = BTreeMap::new();
                for f in &fresh {
                    if let Some(original) = batch[f.index].reply_to {
                        *replies.entry((batch[f.index].room, original)).or_default() += 1;
                    }
                }
                if !replies.is_empty() {
                    let mut rows = Rows::new(&[Int, Int, Int]);
                    for ((room, original), n) in &replies {
                        rows.push([(*room).into(), (*original).into(), (*n).into()]);
                    }
                    let sql = format!("{COUNT_REPLIES} {} WHERE room_id = v.column1 AND number = v.column2", rows.table(self.backend()));
                    together.push((sql, rows));
                }
                // Each author's own messages, for the unread counts.
                if !own.is_empty() {
                    let mut rows = Rows::new(&[Int, Int, Int]);
                    for ((room, author), n) in &own {
                        rows.push([(*room).into(), (*author).into(), (*n).into()]);
                    }
                    let sql = format!(
                        "{COUNT_OWN_MANY} {} WHERE m.room_id = v.column1 AND m.user_id = v.column2",
                        rows.table(self.backend())
                    );
                    together.push((sql, rows));
                }
                let mention_ids: Vec<Option<String>> = fresh.iter().map(|f| format_ids(&batch[f.index].mentions)).collect();
                let mut rows = Rows::new(&[Int, Int, Int, Int, Text, Text, Text, Int, Text]);
                for (f, mention_ids) in fresh.iter().zip(&mention_ids) {
                    let m = &batch[f.index];
                    rows.push([
                        m.room.into(),
                        f.number.into(),
                        m.author.into(),
                        m.application.into(),
                        m.body.as_str().into(),
                        m.client_id.as_deref().into(),
                        f.at.as_str().into(),
                        m.reply_to.into(),
                        mention_ids.as_deref().into(),
                    ]);
                }
                let insert = format!("{INSERT_MESSAGES} {} RETURNING id, room_id, number", rows.select(self.backend()));
                let mut sql = with_insert(self.backend(), &insert, &rows, &together);
                if !has_mentions && !has_files {
                    sql.push_str(commit);
                    committed = true;
                }
                let mut query = sqlx::query_as(&sql).bind_rows(&rows);
                for (_, rows) in &together {
                    query = query.bind_rows(rows);
                }
                let inserted: Vec<(i64, RoomId, i64)> = query.fetch_all(tx.conn()).await?;
                let by_place: HashMap<(RoomId, i64), &Fresh> =
                    fresh.iter().map(|f| ((batch[f.index].room, f.number), f)).collect();
                // (message id, user, room, number) of every mention.
                let mut mentions: Vec<(i64, UserId, RoomId, i64)> = Vec::new();
                for (id, room, number) in inserted {
                    let Some(f) = by_place.get(&(room, number)) else { continue };
                    if let Some(appended) = placed[f.index].as_mut() {
                        appended.written = Some(Written { id, created_at: f.at.clone(), attachments: Vec::new() });
                    }
                    mentions.extend(batch[f.index].mentions.iter().map(|user| (id, *user, room, number)));
                }
                // Only a batch with mentions pays this statement (or more, a
                // thousand mentions each).
                let chunks = mentions.chunks(1000).count();
                for (n, chunk) in mentions.chunks(1000).enumerate() {
                    let mut rows = Rows::new(&[Int, Int, Int, Int]);
                    for (id, user, room, number) in chunk {
                        rows.push([(*id).into(), (*user).into(), (*room).into(), (*number).into()]);
                    }
                    let mut sql = format!("{INSERT_MENTIONS} {}", rows.select(self.backend()));
                    if n + 1 == chunks && !has_files {
                        sql.push_str(commit);
                        committed = true;
                    }
                    sqlx::query(&sql).bind_rows(&rows).execute(tx.conn()).await?;
                }
                // Files take their message's number (a statement only in a
                // batch that has files): each must still be the
                // author's unsent upload to the room.
                let files: Vec<(i64, &Fresh, i64)> = fresh
                    .iter()
                    .flat_map(|f| {
                        batch[f.index].attachments.iter().enumerate().map(move |(place, id)| (*id, f, place as i64))
                    })
                    .collect();
                if !files.is_empty() {
                    let mut rows = Rows::new(&[Int, Int, Int, Int, Int]);
                    for (id, f, place) in &files {
                        let m = &batch[f.index];
                        rows.push([(*id).into(), m.room.into(), m.author.into(), f.number.into(), (*place).into()]);
                    }
                    let sql = format!("{TAKE_FILES} {} WHERE {TAKE_FILES_WHERE}{commit}", rows.table(self.backend()));
                    committed = true;
                    let take = sqlx::query_as::<_, (i64, i64)>(&sql).bind_rows(&rows);
                    for (id, number) in take.fetch_all(tx.conn()).await? {
                        let Some((_, f, _)) = files.iter().find(|(file, f, _)| *file == id && f.number == number) else {
                            continue;
                        };
                        if let Some(Some(Appended { written: Some(written), .. })) = placed.get_mut(f.index) {
                            written.attachments.push(id);
                        }
                    }
                }
            }
            tx.finish(committed).await?;
        });
        self.search_index_grew(placed.iter().flatten().filter(|p| p.written.is_some()).count());
        Ok(placed)
    }

    /// The message `user` sent to `room` with `client_id`, if any (the
    /// `messages_client_id` key).
    pub async fn earlier_send(&self, room: RoomId, user: UserId, client_id: &str) -> Result<Option<Message>, AppError> {
        let sql = format!("{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.user_id = $2 AND m.client_id = $3");
        let row: Option<MessageRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(room).bind(user).bind(client_id).fetch_optional(pool).await?
        });
        let mut message = row.map(Message::from);
        self.attach_reactions(room, message.iter_mut()).await?;
        Ok(message)
    }

    /// The messages of `room` with these numbers, in one query.
    pub async fn messages_numbered(&self, room: RoomId, numbers: &[i64]) -> Result<Vec<Message>, AppError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.number IN ({})", placeholders(2, numbers.len()));
        let rows: Vec<MessageRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room);
            for number in numbers {
                query = query.bind(number);
            }
            query.fetch_all(pool).await?
        });
        let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
        self.attach_reactions(room, messages.iter_mut()).await?;
        Ok(messages)
    }

    pub async fn message(&self, room: RoomId, number: i64) -> Result<Option<Message>, AppError> {
        let sql = format!("{SELECT_MESSAGE} WHERE m.room_id = $1 AND m.number = $2");
        let row: Option<MessageRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(room).bind(number).fetch_optional(pool).await?);
        let mut message = row.map(Message::from);
        self.attach_reactions(room, message.iter_mut()).await?;
        Ok(message)
    }

    /// A page of at most `limit` messages, ascending. Time cursors return whole
    /// groups of messages that share a timestamp, so following
    /// `page_info.cursor` never skips or repeats one.
    pub async fn history(&self, room: RoomId, query: &HistoryQuery, limit: u32) -> Result<Vec<Message>, AppError> {
        self.history_through(room, query, limit, None).await
    }

    /// [`Self::history`] as of the room's row read earlier: only messages
    /// numbered up to `through` (its `last_number`) when given, so that a
    /// page and the `last_seq` read with that row agree (what a client
    /// resumes from sends nothing the page showed). The newest page is then
    /// the newest up to `through`.
    pub async fn history_through(
        &self,
        room: RoomId,
        query: &HistoryQuery,
        limit: u32,
        through: Option<i64>,
    ) -> Result<Vec<Message>, AppError> {
        use Bound::{Number, Time};
        use Order::{Ascending, Descending};
        let mut rows = match query {
            HistoryQuery::Latest => {
                // The newest page must not split a timestamp group either, or
                // following its `before` cursor would skip the rest of it.
                let bound = through.map(|n| Number("<=", n));
                let rows = self.page(room, bound, Descending, limit + 1).await?;
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
        if let Some(through) = through {
            rows.retain(|row| row.number <= through);
        }
        let mut messages: Vec<Message> = rows.drain(..).map(Message::from).collect();
        self.attach_reactions(room, messages.iter_mut()).await?;
        Ok(messages)
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
        let sql = page_sql(bound, order);
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
    /// The plan of each query a history page of `query` reads with (`EXPLAIN
    /// QUERY PLAN` on SQLite, `EXPLAIN ANALYZE` on Postgres, with the rows
    /// and pages each step read), one string per plan
    /// line, the same SQL and parameters as [`Store::history`]; for the tests
    /// that pin every page to an index range (`tests/history_plans.rs`).
    #[doc(hidden)]
    pub async fn history_plans(
        &self,
        room: RoomId,
        query: &HistoryQuery,
        limit: u32,
    ) -> Result<Vec<Vec<String>>, AppError> {
        use Bound::{Number, Time};
        use Order::{Ascending, Descending};
        let pages: Vec<(Option<Bound<'_>>, Order)> = match query {
            HistoryQuery::Latest => vec![(None, Descending)],
            HistoryQuery::BeforeNumber(n) => vec![(Some(Number("<", *n)), Descending)],
            HistoryQuery::AfterNumber(n) => vec![(Some(Number(">", *n)), Ascending)],
            HistoryQuery::Around(n) => vec![(Some(Number("<=", *n)), Descending), (Some(Number(">", *n)), Ascending)],
            HistoryQuery::BeforeTime(t) => vec![(Some(Time("<", t)), Descending)],
            HistoryQuery::AfterTime(t) => vec![(Some(Time(">", t)), Ascending)],
        };
        let mut plans = Vec::new();
        for (bound, order) in pages {
            let sql = format!("{} {}", self.backend().explain(), page_sql(bound, order));
            let lines: Vec<String> = on_pool!(self, pool => {
                let query = sqlx::query(&sql).bind(room);
                let query = match bound {
                    None => query,
                    Some(Bound::Number(_, n)) => query.bind(n),
                    Some(Bound::Time(_, t)) => query.bind(t),
                };
                let rows = query.bind(i64::from(limit)).fetch_all(pool).await?;
                let column = self.backend().plan_column();
                rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, column)).collect::<Result<_, _>>()?
            });
            plans.push(lines);
        }
        Ok(plans)
    }

    /// The live replies to message `number` of `room` numbered after
    /// `after`, oldest first, at most `limit`: one range of
    /// `messages_replies`, however big the room.
    pub async fn replies(&self, room: RoomId, number: i64, after: i64, limit: u32) -> Result<Vec<Message>, AppError> {
        let rows: Vec<MessageRow> = on_pool!(self, pool => sqlx::query_as(REPLIES.as_str())
            .bind(room)
            .bind(number)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
        self.attach_reactions(room, messages.iter_mut()).await?;
        Ok(messages)
    }

    /// The plan of [`Store::replies`] (as [`Store::history_plans`]).
    #[doc(hidden)]
    pub async fn replies_plan(&self, room: RoomId, number: i64) -> Result<Vec<String>, AppError> {
        let sql = format!("{} {}", self.backend().explain(), REPLIES.as_str());
        let column = self.backend().plan_column();
        Ok(on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(room).bind(number).bind(0_i64).bind(50_i64).fetch_all(pool).await?;
            rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, column)).collect::<Result<_, _>>()?
        }))
    }

    /// The plan of [`Store::pins`] (as [`Store::history_plans`]).
    #[doc(hidden)]
    pub async fn pins_plan(&self, room: RoomId) -> Result<Vec<String>, AppError> {
        let sql = format!("{} {}", self.backend().explain(), PINS.as_str());
        let column = self.backend().plan_column();
        Ok(on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(room).bind(PINS_PAGE).fetch_all(pool).await?;
            rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, column)).collect::<Result<_, _>>()?
        }))
    }

    /// The plan of the lookup of earlier sends that a batch makes before it
    /// writes (`EXPLAIN QUERY PLAN` / `EXPLAIN ANALYZE`, as
    /// [`Store::history_plans`]), for `pairs` of (author, client_id).
    #[doc(hidden)]
    pub async fn earlier_sends_plan(&self, room: RoomId, pairs: &[(UserId, &str)]) -> Result<Vec<String>, AppError> {
        let mut keys = Rows::new(SEND_KEYS);
        for (user, client_id) in pairs {
            keys.push([room.into(), (*user).into(), (*client_id).into()]);
        }
        let sql = format!("{} {}", self.backend().explain(), earlier_sends(self.backend(), &keys));
        let column = self.backend().plan_column();
        Ok(on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind_rows(&keys).fetch_all(pool).await?;
            rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, column)).collect::<Result<_, _>>()?
        }))
    }

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
        mentions: &[UserId],
    ) -> Result<Option<(i64, Message)>, AppError> {
        let Some(seq) = self.change_message(room, number, MessageUpdate::Edit(body, mentions)).await? else {
            return Ok(None);
        };
        Ok(self.message(room, number).await?.map(|m| (seq, m)))
    }

    /// The texts message `number` had before its edits, the oldest first,
    /// each with when it was written (at most [`EDITS_KEPT`]).
    pub async fn message_edits(&self, room: RoomId, number: i64) -> Result<Vec<(String, String)>, AppError> {
        let sql = "SELECT body, written_at FROM message_edits WHERE room_id = $1 AND number = $2 ORDER BY id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(number).fetch_all(pool).await?))
    }

    /// Soft-deletes: the row (and its number) stays, its text is blanked,
    /// and the room's `messages_count` drops by one; a push showing it is
    /// withdrawn. Returns the change's seq, or `None` if there was nothing
    /// to delete.
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
            MessageUpdate::Edit(body, _) => (
                "UPDATE messages SET body = $3, edited_at = $4, mention_ids = $5, preview_url = NULL
                 WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
                Some(body),
                0,
            ),
            // The text goes with the message, from the file and its backups
            // too (migrations/*/0022_deleted_text_purged.sql).
            MessageUpdate::Delete => (
                "UPDATE messages SET deleted_at = $3, body = '', mention_ids = NULL, preview_url = NULL,
                        pinned_at = NULL, pinned_by = NULL
                 WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
                None,
                -1,
            ),
        };
        let next_seq = "UPDATE rooms SET last_seq = last_seq + 1, messages_count = messages_count + $1
                        WHERE id = $2 RETURNING last_seq";
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // What a deletion blanks, for the preview cache below.
            let gone: Option<(String, Option<String>)> = match change {
                MessageUpdate::Delete => sqlx::query_as(
                    "SELECT body, preview_url FROM messages WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
                )
                .bind(room)
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?,
                MessageUpdate::Edit(..) => None,
            };
            // An edit keeps the text it replaces (not when it is the same),
            // and a message keeps its newest EDITS_KEPT of them.
            if let MessageUpdate::Edit(body, _) = change {
                let kept = sqlx::query(KEEP_EDITED).bind(room).bind(number).bind(body).execute(&mut *tx).await?;
                if kept.rows_affected() > 0 {
                    sqlx::query(TRIM_EDITS).bind(room).bind(number).bind(EDITS_KEPT).execute(&mut *tx).await?;
                }
            }
            let update = sqlx::query(sql).bind(room).bind(number);
            let update = match body {
                Some(body) => update.bind(body).bind(&at).bind(match change {
                    MessageUpdate::Edit(_, mentions) => format_ids(mentions),
                    MessageUpdate::Delete => None,
                }),
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
                match change {
                    MessageUpdate::Delete => {
                        // The unread counters: the author has one own message
                        // fewer, and those who had read past it one read fewer.
                        sqlx::query(UNCOUNT_DELETED).bind(room).bind(number).execute(&mut *tx).await?;
                        // A deleted reply: its original has one reply fewer.
                        sqlx::query(UNCOUNT_REPLY).bind(room).bind(number).execute(&mut *tx).await?;
                        // Its earlier texts go with its text.
                        sqlx::query("DELETE FROM message_edits WHERE room_id = $1 AND number = $2")
                            .bind(room)
                            .bind(number)
                            .execute(&mut *tx)
                            .await?;
                        // And it leaves every list it was saved on.
                        sqlx::query("DELETE FROM saved_messages WHERE room_id = $1 AND number = $2")
                            .bind(room)
                            .bind(number)
                            .execute(&mut *tx)
                            .await?;
                        // Its files are gone from view at once; their blobs
                        // are collected once nothing else refers to them.
                        sqlx::query("DELETE FROM attachments WHERE room_id = $1 AND number = $2")
                            .bind(room)
                            .bind(number)
                            .execute(&mut *tx)
                            .await?;
                        // Its link leaves the preview cache (a link can hold
                        // a token) unless another live message shows it.
                        let (body, preview) = gone.unwrap_or_default();
                        let link = crate::previews::previewed_link(&body).map(String::from);
                        for url in preview.into_iter().chain(link) {
                            sqlx::query(FORGET_PREVIEW).bind(url).execute(&mut *tx).await?;
                        }
                        // A notification already showing it is withdrawn, as
                        // reading it does (public/sw.js closes it by number).
                        let pushed: Vec<(UserId,)> = sqlx::query_as(
                            "DELETE FROM push_sent WHERE room_id = $1 AND number = $2 RETURNING user_id",
                        )
                        .bind(room)
                        .bind(number)
                        .fetch_all(&mut *tx)
                        .await?;
                        for (user,) in pushed {
                            sqlx::query(super::rooms::QUEUE_CLOSE)
                                .bind(room)
                                .bind(number)
                                .bind(user)
                                .bind(&at)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    MessageUpdate::Edit(_, mentions) => {
                        // The new text's mentions replace the old text's.
                        let (id,): (i64,) = sqlx::query_as("SELECT id FROM messages WHERE room_id = $1 AND number = $2")
                            .bind(room)
                            .bind(number)
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM mentions WHERE message_id = $1").bind(id).execute(&mut *tx).await?;
                        for chunk in mentions.chunks(1000) {
                            let mut rows = Rows::new(&[Int, Int, Int, Int]);
                            for user in chunk {
                                rows.push([id.into(), (*user).into(), room.into(), number.into()]);
                            }
                            let sql = format!("{INSERT_MENTIONS} {}", rows.select(self.backend()));
                            sqlx::query(&sql).bind_rows(&rows).execute(&mut *tx).await?;
                        }
                    }
                }
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
        let mut changes = rows
            .into_iter()
            .map(|r| {
                let kind = ChangeKind::parse(&r.event_kind)
                    .ok_or_else(|| AppError::internal(format!("unknown change kind {:?}", r.event_kind)))?;
                Ok(Change { seq: r.event_seq, kind, message: Message::from(r.message) })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        self.attach_reactions(room, changes.iter_mut().map(|c| &mut c.message)).await?;
        Ok(changes)
    }

    /// Each live message's reactions and files, read in one query each for
    /// all of them.
    async fn attach_reactions<'m>(
        &self,
        room: RoomId,
        messages: impl Iterator<Item = &'m mut Message>,
    ) -> Result<(), AppError> {
        let mut live: Vec<&mut Message> = messages.filter(|m| !m.deleted).collect();
        if live.is_empty() {
            return Ok(());
        }
        let mut numbers: Vec<i64> = live.iter().map(|m| m.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut found = self.reactions_for(room, &numbers).await?;
        let mut files = self.attachments_for(room, &numbers).await?;
        for message in &mut live {
            if let Some(reactions) = found.get(&message.number) {
                message.reactions.clone_from(reactions);
            }
            if let Some(files) = files.remove(&message.number) {
                message.attachments = files;
            }
        }
        found.clear();
        Ok(())
    }

    /// The reactions on messages `numbers` of `room`: each emoji in the order
    /// it was first used, with its people in the order they reacted.
    pub async fn reactions_for(&self, room: RoomId, numbers: &[i64]) -> Result<HashMap<i64, Vec<Reaction>>, AppError> {
        if numbers.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT r.number, r.emoji, r.user_id, u.username, u.name FROM reactions r JOIN users u ON u.id = r.user_id
              WHERE r.room_id = $1 AND r.number IN ({}) ORDER BY r.number, r.created_at, r.user_id",
            placeholders(2, numbers.len())
        );
        let rows: Vec<(i64, String, UserId, String, Option<String>)> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room);
            for number in numbers {
                query = query.bind(number);
            }
            query.fetch_all(pool).await?
        });
        let mut out: HashMap<i64, Vec<Reaction>> = HashMap::new();
        for (number, emoji, id, username, name) in rows {
            let list = out.entry(number).or_default();
            let user = Author::new(id, username, name);
            match list.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => {
                    reaction.count += 1;
                    reaction.users.push(user);
                }
                None => list.push(Reaction { emoji, count: 1, users: vec![user] }),
            }
        }
        Ok(out)
    }

    /// Puts `user`'s `emoji` on live message `number` (`want` true), takes it
    /// off (false), or toggles it (`None`). A change takes the room's next
    /// seq and a `reaction` event in the same transaction; asking for what
    /// is already so changes nothing. `None` if the message is missing or
    /// deleted.
    pub async fn toggle_reaction(
        &self,
        room: RoomId,
        number: i64,
        user: UserId,
        emoji: &str,
        want: Option<bool>,
    ) -> Result<Option<Toggled>, AppError> {
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let live: Option<(i64,)> =
                sqlx::query_as(LIVE_MESSAGE_ID).bind(room).bind(number).fetch_optional(&mut *tx).await?;
            match live {
                None => None,
                Some((message_id,)) => {
                    let has: Option<(i64,)> = sqlx::query_as(
                        "SELECT number FROM reactions WHERE room_id = $1 AND number = $2 AND emoji = $3 AND user_id = $4",
                    )
                    .bind(room)
                    .bind(number)
                    .bind(emoji)
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let has = has.is_some();
                    let on = want.unwrap_or(!has);
                    if on == has {
                        tx.commit().await?;
                        Some(Toggled { seq: None, on, message_id })
                    } else {
                        let change = if on {
                            "INSERT INTO reactions (room_id, number, emoji, user_id, created_at) VALUES ($1, $2, $3, $4, $5)"
                        } else {
                            "DELETE FROM reactions WHERE room_id = $1 AND number = $2 AND emoji = $3 AND user_id = $4"
                        };
                        let query = sqlx::query(change).bind(room).bind(number).bind(emoji).bind(user);
                        let query = if on { query.bind(&at) } else { query };
                        query.execute(&mut *tx).await?;
                        let seq = log_change!(tx, room, ChangeKind::Reaction, number);
                        tx.commit().await?;
                        Some(Toggled { seq: Some(seq), on, message_id })
                    }
                }
            }
        }))
    }

    /// The quotes of messages `originals` of `room` as replies show them,
    /// each with its count of live replies now.
    pub async fn reply_refs(&self, room: RoomId, originals: &[i64]) -> Result<HashMap<i64, ReplyTo>, AppError> {
        if originals.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT o.number, o.user_id, ou.username, ou.name, CASE WHEN o.deleted_at IS NULL THEN o.body END,
                    o.reply_count, (o.edited_at IS NOT NULL AND o.deleted_at IS NULL)
               FROM messages o LEFT JOIN users ou ON ou.id = o.user_id
              WHERE o.room_id = $1 AND o.number IN ({})",
            placeholders(2, originals.len())
        );
        type Row = (i64, Option<UserId>, Option<String>, Option<String>, Option<String>, i64, bool);
        let rows: Vec<Row> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room);
            for number in originals {
                query = query.bind(number);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(number, user_id, username, name, body, reply_count, edited)| {
                let user = match (user_id, username) {
                    (Some(id), Some(username)) => Some(Author::new(id, username, name)),
                    _ => None,
                };
                let snippet = body.as_deref().map(|body| crate::markdown::one_line(body, ReplyTo::SNIPPET_MAX));
                (number, ReplyTo { number, user, snippet, reply_count, edited })
            })
            .collect())
    }

    /// The stored answer for `url` when it is younger than `max_age_secs`:
    /// `Some(Some(preview))` when the page had one, `Some(None)` when it did
    /// not (or the fetch failed), `None` when it must be fetched.
    pub async fn cached_preview(
        &self,
        url: &str,
        max_age_secs: i64,
    ) -> Result<Option<Option<crate::model::LinkPreview>>, AppError> {
        let since = format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(max_age_secs));
        let row: Option<(Option<String>, Option<String>, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT title, description, site_name FROM link_previews WHERE url = $1 AND fetched_at >= $2",
        )
        .bind(url)
        .bind(&since)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(title, description, site_name)| {
            title.map(|title| crate::model::LinkPreview { url: url.to_owned(), title, description, site_name })
        }))
    }

    /// Keeps what a fetch of `url` found (`None`: nothing), replacing an
    /// older answer.
    pub async fn save_preview(&self, url: &str, found: Option<&crate::model::LinkPreview>) -> Result<(), AppError> {
        let sql =
            "INSERT INTO link_previews (url, title, description, site_name, fetched_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (url) DO UPDATE SET title = excluded.title, description = excluded.description,
                       site_name = excluded.site_name, fetched_at = excluded.fetched_at";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(url)
            .bind(found.map(|p| p.title.as_str()))
            .bind(found.and_then(|p| p.description.as_deref()))
            .bind(found.and_then(|p| p.site_name.as_deref()))
            .bind(now())
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Shows the preview of `url` on message `number`, provided it is live
    /// and its text is still `body` (an edit since the fetch started wins:
    /// its own text is previewed). The change takes the room's next seq and
    /// an `edited` entry in the change log (replayed as `message_edited`
    /// with the message as it is now), in one write transaction. Returns the seq and the
    /// message as it is now, or `None` when nothing changed.
    pub async fn attach_preview(
        &self,
        room: RoomId,
        number: i64,
        body: &str,
        url: &str,
    ) -> Result<Option<(i64, Message)>, AppError> {
        let seq = on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let set = sqlx::query(
                "UPDATE messages SET preview_url = $4
                 WHERE room_id = $1 AND number = $2 AND body = $3 AND deleted_at IS NULL
                   AND (preview_url IS NULL OR preview_url <> $4)",
            )
            .bind(room)
            .bind(number)
            .bind(body)
            .bind(url)
            .execute(&mut *tx)
            .await?;
            if set.rows_affected() == 0 {
                tx.commit().await?;
                None
            } else {
                // Edit-like: replayed as the message as it is now.
                let seq = log_change!(tx, room, ChangeKind::Edited, number);
                tx.commit().await?;
                Some(seq)
            }
        });
        let Some(seq) = seq else { return Ok(None) };
        Ok(self.message(room, number).await?.map(|m| (seq, m)))
    }

    /// Pins live message `number` of `room` (`on`) as `user`, or unpins it,
    /// logging the change as an edit in the same write transaction (a
    /// replay sends the message as it is now). `Ok(None)`: no such live
    /// message. A pin beyond `max` pins in the room is refused, with the
    /// room's count read in the same transaction, under the room's lock (two
    /// instances pinning in one room at once take turns).
    pub async fn set_pin(
        &self,
        room: RoomId,
        number: i64,
        user: UserId,
        on: bool,
        max: i64,
    ) -> Result<Option<PinChange>, AppError> {
        let at = now();
        let lock = super::rooms::lock_room(self.backend());
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(lock).bind(room).execute(&mut *tx).await?;
            let live: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT pinned_at FROM messages WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL",
            )
            .bind(room)
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
            match live {
                None => None,
                Some((pinned_at,)) if pinned_at.is_some() == on => {
                    tx.commit().await?;
                    Some(PinChange::Unchanged)
                }
                Some(_) => {
                    let full = on && {
                        let (count,): (i64,) = sqlx::query_as(
                            "SELECT COUNT(*) FROM messages WHERE room_id = $1 AND pinned_at IS NOT NULL",
                        )
                        .bind(room)
                        .fetch_one(&mut *tx)
                        .await?;
                        count >= max
                    };
                    if full {
                        tx.commit().await?;
                        Some(PinChange::Full)
                    } else {
                        let (pinned_at, pinned_by) = if on { (Some(at.as_str()), Some(user)) } else { (None, None) };
                        sqlx::query("UPDATE messages SET pinned_at = $3, pinned_by = $4 WHERE room_id = $1 AND number = $2")
                            .bind(room)
                            .bind(number)
                            .bind(pinned_at)
                            .bind(pinned_by)
                            .execute(&mut *tx)
                            .await?;
                        let seq = log_change!(tx, room, ChangeKind::Edited, number);
                        tx.commit().await?;
                        Some(PinChange::Changed(seq))
                    }
                }
            }
        }))
    }

    /// The live pinned messages of `room`, the most recently pinned first,
    /// at most `limit`: one range of `messages_pinned`.
    pub async fn pins(&self, room: RoomId, limit: i64) -> Result<Vec<Message>, AppError> {
        let rows: Vec<MessageRow> =
            on_pool!(self, pool => sqlx::query_as(PINS.as_str()).bind(room).bind(limit).fetch_all(pool).await?);
        let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
        self.attach_reactions(room, messages.iter_mut()).await?;
        Ok(messages)
    }

    /// The author and time of a message, deleted or not, for permission checks.
    pub async fn message_meta(&self, room: RoomId, number: i64) -> Result<Option<MessageMeta>, AppError> {
        let sql = "SELECT id, user_id, application_id, created_at, deleted_at IS NOT NULL AS deleted, reply_to
                   FROM messages WHERE room_id = $1 AND number = $2";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(number).fetch_optional(pool).await?))
    }
}

/// The id of message `$2` of room `$1`, if it is there and not deleted.
pub(super) const LIVE_MESSAGE_ID: &str =
    "SELECT id FROM messages WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL";

/// Appends one entry to a room's change log.
/// The earlier texts a message keeps (`message_edits`).
pub const EDITS_KEPT: i64 = 20;

/// Keeps a live message's text before an edit to `$3`, if that changes it.
const KEEP_EDITED: &str = "INSERT INTO message_edits (room_id, number, body, written_at)
    SELECT room_id, number, body, COALESCE(edited_at, created_at) FROM messages
    WHERE room_id = $1 AND number = $2 AND deleted_at IS NULL AND body <> $3";

/// Drops a message's earlier texts past the newest `$3`.
const TRIM_EDITS: &str = "DELETE FROM message_edits WHERE room_id = $1 AND number = $2 AND id NOT IN
    (SELECT id FROM message_edits WHERE room_id = $1 AND number = $2 ORDER BY id DESC LIMIT $3)";

const LOG_EVENT: &str = "INSERT INTO room_events (room_id, seq, kind, number) VALUES ($1, $2, $3, $4)";

/// (room, author, client_id): the key of a send.
const SEND_KEYS: &[Kind] = &[Int, Int, Text];

/// Earlier sends by `keys` ([`SEND_KEYS`]), each its own lookup on the whole
/// `messages_client_id` key: on SQLite one `SELECT` per key, joined by
/// `UNION ALL`; on Postgres a lateral lookup per unnested key. (A row-value
/// `IN` list, or a plain join on a `VALUES` list, lets the planners match on
/// `room_id` alone and walk every send the room ever had: a cost that grew
/// with the room, paid once per batch.)
fn earlier_sends(backend: Backend, keys: &Rows<'_>) -> String {
    match backend {
        // In the shape of the rooms' counters, which it is read with
        // (`append_messages`): `(1, room_id, user_id, number, client_id)`.
        Backend::Sqlite => vec![
            "SELECT 1, room_id, user_id, number, client_id FROM messages \
             WHERE room_id = ? AND user_id = ? AND client_id = ?";
            keys.len()
        ]
        .join(" UNION ALL "),
        Backend::Postgres => format!(
            "SELECT m.room_id, m.user_id, m.client_id, m.number
             FROM {} CROSS JOIN LATERAL (SELECT room_id, user_id, client_id, number FROM messages
                 WHERE room_id = v.column1 AND user_id = v.column2 AND client_id = v.column3) AS m",
            keys.table(backend)
        ),
    }
}
/// Followed by the rows ([`Rows::select`]), 9 columns.
const INSERT_MESSAGES: &str = "INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at, reply_to, mention_ids)";
/// Followed by the rows, 4 columns.
const INSERT_MENTIONS: &str = "INSERT INTO mentions (message_id, user_id, room_id, number)";
/// Followed by the rows, 5 columns.
const QUEUE_PUSHES: &str = "INSERT INTO push_jobs (kind, room_id, number, user_id, due_at)";

/// [`BatchWrite::BEGIN`] of the batch `_tx`.
fn begin_text<B: BatchWrite>(_tx: &B) -> &'static str {
    B::BEGIN
}

/// [`BatchWrite::COMMIT`] of the batch `_tx`.
fn commit_text<B: BatchWrite>(_tx: &B) -> &'static str {
    B::COMMIT
}

/// A batch's insert and the writes that go with it (`others`, which return
/// no rows) as one text, to bind the insert's rows and then each of
/// `others`' in order. On SQLite, statements of bare `?` that sqlx runs in
/// one call to the connection's thread, binding each statement's `?`s from
/// where the one before stopped. On Postgres, one statement: the others are
/// data-modifying CTEs of the insert, their parameters numbered after its
/// own. They share one snapshot, which is enough while none reads a row
/// another writes (a reply's original was committed before it was sent).
fn with_insert(backend: Backend, insert: &str, insert_rows: &Rows<'_>, others: &[(String, Rows<'_>)]) -> String {
    match backend {
        Backend::Sqlite => {
            std::iter::once(insert).chain(others.iter().map(|(sql, _)| sql.as_str())).collect::<Vec<_>>().join(";\n")
        }
        Backend::Postgres => {
            let mut taken = insert_rows.postgres_params();
            let mut with = Vec::with_capacity(others.len());
            for (i, (sql, rows)) in others.iter().enumerate() {
                with.push(format!("w{i} AS ({})", shift_params(sql, taken)));
                taken += rows.postgres_params();
            }
            format!("WITH {} {insert}", with.join(", "))
        }
    }
}

/// Followed by the rows, 4 columns.
const LOG_EVENTS: &str = "INSERT INTO room_events (room_id, seq, kind, number)";
/// Adds new replies to their originals' counters; followed by the table of
/// (room, original, count) rows ([`Rows::table`]), then the join on them.
const COUNT_REPLIES: &str = "UPDATE messages SET reply_count = reply_count + v.column3 FROM";
/// Gives uploads their message's number and their place in its list;
/// followed by the table of (attachment, room, author, number, position)
/// rows, then [`TAKE_FILES_WHERE`].
const TAKE_FILES: &str = "UPDATE attachments SET number = v.column4, position = v.column5 FROM";
const TAKE_FILES_WHERE: &str = "attachments.id = v.column1 AND attachments.room_id = v.column2
    AND attachments.uploader_id = v.column3 AND attachments.number IS NULL
    RETURNING attachments.id, attachments.number";
/// Message `$2` of room `$1` was deleted: if it was a reply, its original
/// has one live reply fewer.
const UNCOUNT_REPLY: &str = "UPDATE messages SET reply_count = reply_count - 1
    WHERE room_id = $1 AND number = (SELECT reply_to FROM messages WHERE room_id = $1 AND number = $2)";
/// Adds new messages to their authors' own counts; followed by the table of
/// (room, author, count) rows, then the join on them.
const COUNT_OWN_MANY: &str = "UPDATE memberships AS m SET own_count = m.own_count + v.column3 FROM";
/// Moves rooms' counters; followed by the table of (room, new messages,
/// newest time) rows, then the join on them.
const BUMP_ROOMS: &str = "UPDATE rooms SET last_number = last_number + v.column2,
                                          messages_count = messages_count + v.column2,
                                          last_seq = last_seq + v.column2,
                                          last_message_at = v.column3, updated_at = v.column3
                          FROM";
/// Message `$2` of room `$1` was deleted: one own message fewer for its
/// author, one read message fewer for every other member who had read it.
const UNCOUNT_DELETED: &str = "UPDATE memberships SET
        own_count = own_count - CASE WHEN user_id = d.author THEN 1 ELSE 0 END,
        read_others = read_others - CASE WHEN user_id IS DISTINCT FROM d.author AND last_read_number >= $2 THEN 1 ELSE 0 END
    FROM (SELECT user_id AS author FROM messages WHERE room_id = $1 AND number = $2) AS d
    WHERE room_id = $1 AND (user_id = d.author OR last_read_number >= $2)";

/// Creation times for `count` new messages: strictly increasing, the first
/// after `previous` (the room's newest) and not before now.
fn times_after(previous: Option<&str>, count: usize) -> Vec<String> {
    let wall = now();
    let mut at = match previous.and_then(after_micro) {
        Some(next) if next > wall => next,
        _ => wall,
    };
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let next = after_micro(&at).unwrap_or_else(|| at.clone());
        times.push(std::mem::replace(&mut at, next));
    }
    times
}

/// A page's SQL: `$1` the room, then the bound's value (if any), then the limit.
fn page_sql(bound: Option<Bound<'_>>, order: Order) -> String {
    let d = order.sql();
    let (condition, order_by) = match bound {
        None => (String::new(), format!("m.created_at {d}, m.number {d}")),
        Some(Bound::Number(op, _)) => (format!("AND m.number {op} $2"), format!("m.number {d}")),
        Some(Bound::Time(op, _)) => (format!("AND m.created_at {op} $2"), format!("m.created_at {d}, m.number {d}")),
    };
    let limit_param = if bound.is_some() { "$3" } else { "$2" };
    format!("{SELECT_MESSAGE} WHERE m.room_id = $1 {condition} ORDER BY {order_by} LIMIT {limit_param}")
}

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
    /// The new text, and the members it mentions.
    Edit(&'a str, &'a [UserId]),
    Delete,
}

impl MessageUpdate<'_> {
    fn kind(self) -> ChangeKind {
        match self {
            Self::Edit(..) => ChangeKind::Edited,
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
    /// The message's reactions changed.
    Reaction,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edited => "edited",
            Self::Deleted => "deleted",
            Self::Reaction => "reaction",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Message, Self::Edited, Self::Deleted, Self::Reaction].into_iter().find(|k| k.as_str() == raw)
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

/// Forgets link `$1`'s cached preview unless a live message shows it (on
/// `messages_preview_url`).
const FORGET_PREVIEW: &str = "DELETE FROM link_previews WHERE url = $1
    AND NOT EXISTS (SELECT 1 FROM messages WHERE preview_url = $1 AND deleted_at IS NULL)";
