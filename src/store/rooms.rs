//! Queries on `rooms` and `memberships`.

use sqlx::{QueryBuilder, Sqlite};

use super::{Store, now};
use crate::error::AppError;
use crate::model::{Conversation, LastMessage, OpenRoom, Person, RoomId, RoomKind, UserId};

/// A room row, plus the asking member's read marker where it applies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoomRow {
    pub id: RoomId,
    pub kind: String,
    pub title: Option<String>,
    pub created_by: Option<UserId>,
    pub last_number: i64,
    pub messages_count: i64,
    pub last_seq: i64,
    pub updated_at: String,
}

impl RoomRow {
    pub fn kind(&self) -> RoomKind {
        RoomKind::parse(&self.kind).unwrap_or(RoomKind::Group)
    }

    pub fn to_conversation(&self) -> Conversation {
        let kind = self.kind();
        Conversation {
            id: self.id,
            title: self.title.clone(),
            group: kind != RoomKind::Direct,
            kind,
            created_by: self.created_by,
            updated_at: self.updated_at.clone(),
            last_number: self.last_number,
            last_seq: self.last_seq,
        }
    }
}

/// A member's room with its unread count, for the room list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyRoomRow {
    #[sqlx(flatten)]
    pub room: RoomRow,
    pub unread_count: i64,
}

const ROOM_COLUMNS: &str =
    "r.id, r.kind, r.title, r.created_by, r.last_number, r.messages_count, r.last_seq, r.updated_at";

fn direct_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

impl Store {
    /// Creates a group or open room with its first members, in one transaction.
    pub async fn create_room(
        &self,
        kind: RoomKind,
        title: Option<&str>,
        created_by: UserId,
        members: &[UserId],
    ) -> Result<RoomId, AppError> {
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
        let at = now();
        let (id,): (RoomId,) = sqlx::query_as(
            "INSERT INTO rooms (kind, title, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(title)
        .bind(created_by)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        insert_members(&mut tx, id, members, &at).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The direct room of `a` and `b`, created if they have none. The flag
    /// says whether it was created now.
    pub async fn find_or_create_direct(
        &self,
        a: UserId,
        b: UserId,
        title: Option<&str>,
    ) -> Result<(RoomId, bool), AppError> {
        let key = direct_key(a, b);
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<(RoomId,)> =
            sqlx::query_as("SELECT id FROM rooms WHERE direct_key = ?").bind(&key).fetch_optional(&mut *tx).await?;
        if let Some((id,)) = existing {
            // Someone who left may come back through a new chat with the same person.
            insert_members(&mut tx, id, &[a, b], &now()).await?;
            tx.commit().await?;
            return Ok((id, false));
        }
        let at = now();
        let (id,): (RoomId,) = sqlx::query_as(
            "INSERT INTO rooms (kind, title, created_by, direct_key, created_at, updated_at)
             VALUES ('direct', ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(title)
        .bind(a)
        .bind(&key)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        insert_members(&mut tx, id, &[a, b], &at).await?;
        tx.commit().await?;
        Ok((id, true))
    }

    /// The direct room of two users, if any.
    pub async fn direct_room(&self, a: UserId, b: UserId) -> Result<Option<RoomId>, AppError> {
        Ok(sqlx::query_as::<_, (RoomId,)>("SELECT id FROM rooms WHERE direct_key = ?")
            .bind(direct_key(a, b))
            .fetch_optional(self.sqlite()?)
            .await?
            .map(|(id,)| id))
    }

    pub async fn room(&self, id: RoomId) -> Result<Option<RoomRow>, AppError> {
        Ok(sqlx::query_as::<_, RoomRow>(&format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = ?"))
            .bind(id)
            .fetch_optional(self.sqlite()?)
            .await?)
    }

    /// The room, only if `user` is a member: the one membership check.
    pub async fn room_for_member(&self, id: RoomId, user: UserId) -> Result<Option<RoomRow>, AppError> {
        Ok(sqlx::query_as::<_, RoomRow>(&format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r
             JOIN memberships mb ON mb.room_id = r.id AND mb.user_id = ?
             WHERE r.id = ?"
        ))
        .bind(user)
        .bind(id)
        .fetch_optional(self.sqlite()?)
        .await?)
    }

    /// `user`'s rooms, most recent activity first, with unread counts.
    pub async fn rooms_of(&self, user: UserId) -> Result<Vec<MyRoomRow>, AppError> {
        Ok(sqlx::query_as::<_, MyRoomRow>(&format!(
            "SELECT {ROOM_COLUMNS},
                (SELECT count(*) FROM messages m
                 WHERE m.room_id = r.id AND m.number > mb.last_read_number
                   AND m.deleted_at IS NULL AND m.user_id IS NOT mb.user_id) AS unread_count
             FROM memberships mb JOIN rooms r ON r.id = mb.room_id
             WHERE mb.user_id = ?
             ORDER BY r.updated_at DESC, r.id DESC"
        ))
        .bind(user)
        .fetch_all(self.sqlite()?)
        .await?)
    }

    /// The members of every room `user` belongs to, in one query (no N+1).
    pub async fn members_of_rooms_of(&self, user: UserId) -> Result<Vec<(RoomId, Person)>, AppError> {
        let rows: Vec<RoomMemberRow> = sqlx::query_as(
            "SELECT others.room_id, u.id, u.username, u.name, u.avatar_url
             FROM memberships mine
             JOIN memberships others ON others.room_id = mine.room_id
             JOIN users u ON u.id = others.user_id
             WHERE mine.user_id = ?
             ORDER BY others.room_id, others.joined_at, u.id",
        )
        .bind(user)
        .fetch_all(self.sqlite()?)
        .await?;
        Ok(rows.into_iter().map(|r| (r.room_id, r.person)).collect())
    }

    pub async fn members(&self, room: RoomId) -> Result<Vec<Person>, AppError> {
        Ok(sqlx::query_as::<_, Person>(
            "SELECT u.id, u.username, u.name, u.avatar_url
             FROM memberships mb JOIN users u ON u.id = mb.user_id
             WHERE mb.room_id = ? ORDER BY mb.joined_at, u.id",
        )
        .bind(room)
        .fetch_all(self.sqlite()?)
        .await?)
    }

    /// The newest message of each of `user`'s rooms, in one query.
    pub async fn last_messages_of(&self, user: UserId) -> Result<Vec<(RoomId, LastMessage)>, AppError> {
        let rows: Vec<LastMessageRow> = sqlx::query_as(
            "SELECT m.room_id, m.number, CASE WHEN m.deleted_at IS NULL THEN m.body END AS body,
                    m.user_id, m.created_at
             FROM memberships mb
             JOIN rooms r ON r.id = mb.room_id
             JOIN messages m ON m.room_id = r.id AND m.number = r.last_number
             WHERE mb.user_id = ?",
        )
        .bind(user)
        .fetch_all(self.sqlite()?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.room_id,
                    LastMessage { number: r.number, body: r.body, user_id: r.user_id, created_at: r.created_at },
                )
            })
            .collect())
    }

    /// Every open room, busiest first, with whether `user` is in it.
    pub async fn open_rooms(&self, user: UserId) -> Result<Vec<OpenRoom>, AppError> {
        Ok(sqlx::query_as::<_, OpenRoom>(
            "SELECT r.id, r.title,
                (SELECT count(*) FROM memberships mb WHERE mb.room_id = r.id) AS member_count,
                EXISTS (SELECT 1 FROM memberships mb WHERE mb.room_id = r.id AND mb.user_id = ?) AS is_member,
                r.updated_at
             FROM rooms r WHERE r.kind = 'open'
             ORDER BY r.updated_at DESC, r.id DESC",
        )
        .bind(user)
        .fetch_all(self.sqlite()?)
        .await?)
    }

    pub async fn add_members(&self, room: RoomId, users: &[UserId]) -> Result<(), AppError> {
        let mut tx = self.sqlite()?.begin_with("BEGIN IMMEDIATE").await?;
        insert_members(&mut tx, room, users, &now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member; says whether they were one.
    pub async fn remove_member(&self, room: RoomId, user: UserId) -> Result<bool, AppError> {
        let done = sqlx::query("DELETE FROM memberships WHERE room_id = ? AND user_id = ?")
            .bind(room)
            .bind(user)
            .execute(self.sqlite()?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// How far each member has read, for "Seen" markers.
    pub async fn read_markers(&self, room: RoomId) -> Result<Vec<(UserId, i64)>, AppError> {
        Ok(sqlx::query_as("SELECT user_id, last_read_number FROM memberships WHERE room_id = ?")
            .bind(room)
            .fetch_all(self.sqlite()?)
            .await?)
    }

    /// Messages after `user`'s read marker that others wrote.
    pub async fn unread_count(&self, room: RoomId, user: UserId) -> Result<i64, AppError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM messages m JOIN memberships mb ON mb.room_id = m.room_id AND mb.user_id = ?
             WHERE m.room_id = ? AND m.number > mb.last_read_number AND m.deleted_at IS NULL AND m.user_id IS NOT mb.user_id",
        )
        .bind(user)
        .bind(room)
        .fetch_one(self.sqlite()?)
        .await?;
        Ok(count)
    }

    /// The ids of `user`'s rooms.
    pub async fn room_ids_of(&self, user: UserId) -> Result<Vec<RoomId>, AppError> {
        let rows: Vec<(RoomId,)> = sqlx::query_as("SELECT room_id FROM memberships WHERE user_id = ?")
            .bind(user)
            .fetch_all(self.sqlite()?)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The member ids of a room.
    pub async fn member_ids(&self, room: RoomId) -> Result<Vec<UserId>, AppError> {
        let rows: Vec<(UserId,)> = sqlx::query_as("SELECT user_id FROM memberships WHERE room_id = ?")
            .bind(room)
            .fetch_all(self.sqlite()?)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Which of `ids` are real users.
    pub async fn existing_users(&self, ids: &[UserId]) -> Result<Vec<UserId>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new("SELECT id FROM users WHERE id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(")");
        let rows: Vec<(UserId,)> = query.build_query_as().fetch_all(self.sqlite()?).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Moves `user`'s read marker forward to `number` (never back); returns
    /// the marker after the change.
    pub async fn mark_read(&self, room: RoomId, user: UserId, number: i64) -> Result<i64, AppError> {
        let (marker,): (i64,) = sqlx::query_as(
            "UPDATE memberships SET last_read_number = max(last_read_number, min(?, (SELECT last_number FROM rooms WHERE id = ?)))
             WHERE room_id = ? AND user_id = ? RETURNING last_read_number",
        )
        .bind(number)
        .bind(room)
        .bind(room)
        .bind(user)
        .fetch_one(self.sqlite()?)
        .await?;
        Ok(marker)
    }
}

async fn insert_members(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    room: RoomId,
    users: &[UserId],
    at: &str,
) -> Result<(), sqlx::Error> {
    if users.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO memberships (room_id, user_id, joined_at) ");
    query.push_values(users, |mut row, user| {
        row.push_bind(room).push_bind(*user).push_bind(at);
    });
    query.push(" ON CONFLICT (room_id, user_id) DO NOTHING");
    query.build().execute(&mut **tx).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RoomMemberRow {
    room_id: RoomId,
    #[sqlx(flatten)]
    person: Person,
}

#[derive(sqlx::FromRow)]
struct LastMessageRow {
    room_id: RoomId,
    number: i64,
    body: Option<String>,
    user_id: Option<UserId>,
    created_at: String,
}
