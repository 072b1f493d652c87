//! Queries on `rooms` and `memberships`.

use std::collections::HashMap;

use super::{Backend, Store, WritePool, now, on_pool, on_writer, placeholders};
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
    pub topic: Option<String>,
    pub archived_at: Option<String>,
    /// The application whose chat this room is (the token API's), if any:
    /// its owner is then `created_by`.
    pub application_id: Option<i64>,
}

impl RoomRow {
    pub fn kind(&self) -> RoomKind {
        RoomKind::parse(&self.kind).unwrap_or(RoomKind::Group)
    }

    /// Whether this is a token-API chat and `user` owns its application:
    /// who must stay in it, since the application goes on writing to it.
    pub fn is_owners_chat(&self, user: UserId) -> bool {
        self.application_id.is_some() && self.created_by == Some(user)
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
            topic: self.topic.clone(),
            archived_at: self.archived_at.clone(),
        }
    }
}

/// A member's room with its unread count, for the room list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyRoomRow {
    #[sqlx(flatten)]
    pub room: RoomRow,
    pub unread_count: i64,
    pub unread_mentions: i64,
    /// The member's chosen level (`None`: the kind's default).
    pub notify_level: Option<String>,
    /// When the member closed it (a direct room), if they did.
    pub closed_at: Option<String>,
}

const ROOM_COLUMNS: &str = "r.id, r.kind, r.title, r.created_by, r.last_number, r.messages_count, r.last_seq,
    r.updated_at, r.topic, r.archived_at, r.application_id";

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
        let insert = "INSERT INTO rooms (kind, title, created_by, created_at, updated_at)
                      VALUES ($1, $2, $3, $4, $4) RETURNING id";
        let join = insert_members_sql(members.len(), Backlog::Read);
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (RoomId,) =
                sqlx::query_as(insert).bind(kind.as_str()).bind(title).bind(created_by).bind(&at).fetch_one(&mut *tx).await?;
            if let Some(join) = &join {
                bind_members(sqlx::query(join), id, &at, members).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            id
        }))
    }

    /// The untitled group whose members are exactly `members` (the creator
    /// among them), created if there is none: picking the same people again
    /// opens the same chat, as a direct room does. A group that was renamed
    /// or archived is not that chat. The flag says whether it was created
    /// now. On Postgres the creator's row is locked first, so a double
    /// submit makes one group; on SQLite the write lock does that.
    pub async fn find_or_create_group(
        &self,
        title: &str,
        created_by: UserId,
        members: &[UserId],
    ) -> Result<(RoomId, bool), AppError> {
        let lock = match self.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT id FROM users WHERE id = $1 FOR UPDATE"),
        };
        let find = format!(
            "SELECT r.id FROM rooms r
             JOIN memberships mine ON mine.room_id = r.id AND mine.user_id = $1
             WHERE r.kind = 'group' AND r.title = $2 AND r.archived_at IS NULL
               AND (SELECT count(*) FROM memberships m WHERE m.room_id = r.id) = $3
               AND (SELECT count(*) FROM memberships m WHERE m.room_id = r.id AND m.user_id IN ({})) = $3
             ORDER BY r.id LIMIT 1",
            placeholders(4, members.len())
        );
        let insert = "INSERT INTO rooms (kind, title, created_by, created_at, updated_at)
                      VALUES ('group', $1, $2, $3, $3) RETURNING id";
        let join = insert_members_sql(members.len(), Backlog::Read);
        let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(lock) = lock {
                sqlx::query(lock).bind(created_by).execute(&mut *tx).await?;
            }
            let query = sqlx::query_as(&find).bind(created_by).bind(title).bind(count);
            let found: Option<(RoomId,)> =
                members.iter().fold(query, |query, user| query.bind(*user)).fetch_optional(&mut *tx).await?;
            let opened = match found {
                Some((id,)) => (id, false),
                None => {
                    let (id,): (RoomId,) =
                        sqlx::query_as(insert).bind(title).bind(created_by).bind(&at).fetch_one(&mut *tx).await?;
                    if let Some(join) = &join {
                        bind_members(sqlx::query(join), id, &at, members).execute(&mut *tx).await?;
                    }
                    (id, true)
                }
            };
            tx.commit().await?;
            opened
        }))
    }

    /// The direct room of `a` and `b`, created if they have none. The flag
    /// says whether it was created now. Two people opening it at once share
    /// one room: the second insert meets the unique key and finds the first.
    pub async fn find_or_create_direct(
        &self,
        a: UserId,
        b: UserId,
        title: Option<&str>,
    ) -> Result<(RoomId, bool), AppError> {
        let key = direct_key(a, b);
        let insert = "INSERT INTO rooms (kind, title, created_by, direct_key, created_at, updated_at)
                      VALUES ('direct', $1, $2, $3, $4, $4)
                      ON CONFLICT (direct_key) WHERE direct_key IS NOT NULL DO NOTHING
                      RETURNING id";
        let existing = "SELECT id FROM rooms WHERE direct_key = $1";
        let join = insert_members_sql(2, Backlog::Read);
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let created: Option<(RoomId,)> =
                sqlx::query_as(insert).bind(title).bind(a).bind(&key).bind(&at).fetch_optional(&mut *tx).await?;
            let (id, created) = match created {
                Some((id,)) => (id, true),
                None => {
                    let (id,): (RoomId,) = sqlx::query_as(existing).bind(&key).fetch_one(&mut *tx).await?;
                    (id, false)
                }
            };
            // Someone who left may come back through a new chat with the same person.
            if let Some(join) = &join {
                bind_members(sqlx::query(join), id, &at, &[a, b]).execute(&mut *tx).await?;
            }
            // Started again by one who had closed it: back in their list.
            sqlx::query(REOPEN).bind(id).bind(a).execute(&mut *tx).await?;
            tx.commit().await?;
            (id, created)
        }))
    }

    /// The direct room of two users, if any.
    pub async fn direct_room(&self, a: UserId, b: UserId) -> Result<Option<RoomId>, AppError> {
        let sql = "SELECT id FROM rooms WHERE direct_key = $1";
        let row: Option<(RoomId,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(direct_key(a, b)).fetch_optional(pool).await?);
        Ok(row.map(|(id,)| id))
    }

    pub async fn room(&self, id: RoomId) -> Result<Option<RoomRow>, AppError> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The room, only if `user` is a member: the one membership check.
    pub async fn room_for_member(&self, id: RoomId, user: UserId) -> Result<Option<RoomRow>, AppError> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r
             JOIN memberships mb ON mb.room_id = r.id AND mb.user_id = $1
             WHERE r.id = $2"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(user).bind(id).fetch_optional(pool).await?))
    }

    /// Closes room `room` for member `user` as of now (it leaves their list
    /// until there is activity in it), or opens it again; false if they are
    /// not a member.
    pub async fn set_closed(&self, room: RoomId, user: UserId, closed: bool) -> Result<bool, AppError> {
        let sql = "UPDATE memberships SET closed_at = $3 WHERE room_id = $1 AND user_id = $2";
        let at = closed.then(now);
        let changed = on_writer!(self, pool => {
            sqlx::query(sql).bind(room).bind(user).bind(at).execute(pool).await?.rows_affected()
        });
        Ok(changed > 0)
    }

    /// `user`'s live rooms, most recent activity first, with unread counts
    /// (from the counters: O(my rooms), whatever their messages); not one
    /// they closed, unless there was activity in it since.
    pub async fn rooms_of(&self, user: UserId) -> Result<Vec<MyRoomRow>, AppError> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS},
                {UNREAD} AS unread_count, {UNREAD_MENTIONS} AS unread_mentions, mb.notify_level, mb.closed_at
             FROM memberships mb JOIN rooms r ON r.id = mb.room_id
             WHERE mb.user_id = $1 AND r.archived_at IS NULL
               AND (mb.closed_at IS NULL OR r.updated_at > mb.closed_at)
             ORDER BY r.updated_at DESC, r.id DESC"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(user).fetch_all(pool).await?))
    }

    /// Sets a room's title and topic (not its activity time).
    pub async fn set_room_details(
        &self,
        room: RoomId,
        title: Option<&str>,
        topic: Option<&str>,
    ) -> Result<(), AppError> {
        let sql = "UPDATE rooms SET title = $2, topic = $3 WHERE id = $1";
        on_writer!(self, pool => sqlx::query(sql).bind(room).bind(title).bind(topic).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Archives a room (once: a second archive keeps the first time).
    pub async fn archive_room(&self, room: RoomId) -> Result<(), AppError> {
        let sql = "UPDATE rooms SET archived_at = coalesce(archived_at, $2) WHERE id = $1";
        on_writer!(self, pool => sqlx::query(sql).bind(room).bind(now()).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Whether the room is archived; `None` when there is no such room.
    pub async fn room_archived(&self, room: RoomId) -> Result<Option<bool>, AppError> {
        let sql = "SELECT archived_at IS NOT NULL FROM rooms WHERE id = $1";
        let row: Option<(bool,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(room).fetch_optional(pool).await?);
        Ok(row.map(|(archived,)| archived))
    }

    /// `user`'s room list: each room (the live ones, or only the archived
    /// ones when `archived`) with the unread counters, the newest message
    /// and the members, most recent activity first.
    ///
    /// Moving rows out of the driver, more than the SQL, is the list's cost
    /// (a member of 1,000 direct rooms has 2,000 memberships to show), so
    /// each database gets the shape it runs fastest, measured with
    /// `hearth-bench storage rooms`: SQLite folds each room's members into
    /// one JSON array, one row per room in one query; on Postgres, building
    /// that JSON per room costs more than a second query returning the
    /// members as plain rows.
    pub async fn room_list(&self, user: UserId, archived: bool) -> Result<Vec<ListedRoom>, AppError> {
        self.room_list_of(user, archived, None).await
    }

    /// [`Self::room_list`] for only those of `user`'s live rooms that are
    /// `rooms` (to bring a kept list up to date: `crate::room_lists`), in the
    /// same order.
    pub async fn room_list_only(&self, user: UserId, rooms: &[RoomId]) -> Result<Vec<ListedRoom>, AppError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        self.room_list_of(user, false, Some(rooms)).await
    }

    async fn room_list_of(
        &self,
        user: UserId,
        archived: bool,
        only: Option<&[RoomId]>,
    ) -> Result<Vec<ListedRoom>, AppError> {
        // `only` is bound as one text, "1,2,3", read as a list by each
        // database.
        let only_ids = only.map(|rooms| rooms.iter().map(|room| room.0.to_string()).collect::<Vec<_>>().join(","));
        let filter = |column: &str| match (only, self.backend()) {
            (None, _) => String::new(),
            (Some(_), Backend::Sqlite) => format!(" AND {column} IN (SELECT value FROM json_each('[' || $3 || ']'))"),
            (Some(_), Backend::Postgres) => format!(" AND {column} = ANY(string_to_array($3, ',')::int8[])"),
        };
        let members = match self.backend() {
            Backend::Sqlite => {
                "(SELECT json_group_array(json_array(u.id, u.username, u.name, u.avatar_url,
                                                     json(CASE WHEN u.deactivated_at IS NULL THEN 'false' ELSE 'true' END))
                                          ORDER BY others.joined_at, u.id)
                  FROM memberships others JOIN users u ON u.id = others.user_id
                  WHERE others.room_id = r.id)"
            }
            Backend::Postgres => "NULL::text",
        };
        let sql = format!(
            "SELECT {ROOM_COLUMNS},
                {UNREAD} AS unread_count, {UNREAD_MENTIONS} AS unread_mentions, mb.notify_level, mb.closed_at,
                m.number AS last_message_number, CASE WHEN m.deleted_at IS NULL THEN m.body END AS last_message_body,
                m.user_id AS last_message_user_id, m.created_at AS last_message_created_at,
                {members} AS members
             FROM memberships mb JOIN rooms r ON r.id = mb.room_id
             LEFT JOIN messages m ON m.room_id = r.id AND m.number = r.last_number
             WHERE mb.user_id = $1 AND (r.archived_at IS NOT NULL) = $2{only}
             ORDER BY r.updated_at DESC, r.id DESC",
            only = filter("mb.room_id"),
        );
        let rows: Vec<ListedRoomRow> = on_pool!(self, pool => {
            let query = sqlx::query_as(&sql).bind(user).bind(archived);
            let query = if let Some(ids) = &only_ids { query.bind(ids) } else { query };
            query.fetch_all(pool).await?
        });
        let mut listed = rows.into_iter().map(ListedRoomRow::into_listed).collect::<Result<Vec<_>, _>>()?;
        if self.backend() == Backend::Postgres {
            let mut members: HashMap<RoomId, Vec<Person>> = HashMap::new();
            let only = (filter("mine.room_id"), only_ids.as_deref());
            for (room, person) in self.members_of_rooms_of(user, archived, only).await? {
                members.entry(room).or_default().push(person);
            }
            for entry in &mut listed {
                entry.members = members.remove(&entry.room.room.id).unwrap_or_default();
            }
        }
        Ok(listed)
    }

    /// The members of every room [`Self::room_list`] lists (the live or the
    /// archived ones of `user`), in one query (no N+1), for it on Postgres.
    /// `only`: the filter on `mine.room_id` and its bound list, if any.
    async fn members_of_rooms_of(
        &self,
        user: UserId,
        archived: bool,
        (filter, only): (String, Option<&str>),
    ) -> Result<Vec<(RoomId, Person)>, AppError> {
        let sql = format!(
            "SELECT others.room_id, u.id, u.username, u.name, u.avatar_url, u.deactivated_at IS NOT NULL AS deactivated
             FROM memberships mine
             JOIN rooms r ON r.id = mine.room_id AND (r.archived_at IS NOT NULL) = $2
             JOIN memberships others ON others.room_id = mine.room_id
             JOIN users u ON u.id = others.user_id
             WHERE mine.user_id = $1{filter}
             ORDER BY others.room_id, others.joined_at, u.id"
        );
        let rows: Vec<RoomMemberRow> = on_pool!(self, pool => {
            let query = sqlx::query_as(&sql).bind(user).bind(archived);
            let query = if let Some(ids) = only { query.bind(ids) } else { query };
            query.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| (r.room_id, r.person)).collect())
    }

    pub async fn members(&self, room: RoomId) -> Result<Vec<Person>, AppError> {
        let sql = "SELECT u.id, u.username, u.name, u.avatar_url, u.deactivated_at IS NOT NULL AS deactivated
                   FROM memberships mb JOIN users u ON u.id = mb.user_id
                   WHERE mb.room_id = $1 ORDER BY mb.joined_at, u.id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).fetch_all(pool).await?))
    }

    /// Everyone who shares a room with `user` (`user` too), each with one
    /// room they share: whom a change of `user`'s name or picture concerns.
    pub async fn co_members(&self, user: UserId) -> Result<Vec<(UserId, RoomId)>, AppError> {
        let sql = "SELECT other.user_id, min(other.room_id)
                   FROM memberships mine JOIN memberships other ON other.room_id = mine.room_id
                   WHERE mine.user_id = $1 GROUP BY other.user_id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(user).fetch_all(pool).await?))
    }

    /// Every open room, busiest first, with whether `user` is in it.
    pub async fn open_rooms(&self, user: UserId) -> Result<Vec<OpenRoom>, AppError> {
        let sql = "SELECT r.id, r.title, r.topic,
                      (SELECT count(*) FROM memberships mb WHERE mb.room_id = r.id) AS member_count,
                      EXISTS (SELECT 1 FROM memberships mb WHERE mb.room_id = r.id AND mb.user_id = $1) AS is_member,
                      r.updated_at
                   FROM rooms r WHERE r.kind = 'open' AND r.archived_at IS NULL
                   ORDER BY r.updated_at DESC, r.id DESC";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(user).fetch_all(pool).await?))
    }

    /// Adds `users` to `room`; those who are members already stay as they
    /// are. What came before is read for those added (`backlog`), so joining
    /// a room with a year of history does not make it a year unread; their
    /// counters are recounted from that marker in the same transaction. How
    /// many were added.
    pub async fn add_members(&self, room: RoomId, users: &[UserId], backlog: Backlog) -> Result<u64, AppError> {
        let Some(join) = insert_members_sql(users.len(), backlog) else {
            return Ok(0);
        };
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let added = bind_members(sqlx::query(&join), room, &at, users).fetch_all(&mut *tx).await?;
            for row in &added {
                let user: UserId = sqlx::Row::try_get(row, 0)?;
                sqlx::query(RECOUNT_READ).bind(room).bind(user).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(added.len() as u64)
        })
    }

    /// Removes a member; says whether they were one.
    ///
    /// With `audit` (an admin's removal), its entry is written in the same
    /// transaction, and only when someone was removed.
    pub async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        audit: Option<super::Audit<'_>>,
    ) -> Result<bool, AppError> {
        let sql = "DELETE FROM memberships WHERE room_id = $1 AND user_id = $2";
        let exit = "INSERT INTO room_exits (room_id, user_id, at) VALUES ($1, $2, $3)";
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let removed = sqlx::query(sql).bind(room).bind(user).execute(&mut *tx).await?.rows_affected() > 0;
            if removed {
                sqlx::query(exit).bind(room).bind(user).bind(&at).execute(&mut *tx).await?;
                if let Some(audit) = &audit {
                    super::admin::bind_audit(audit, &at).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// The newest room exit's id (0 when there is none).
    pub async fn last_room_exit(&self) -> Result<i64, AppError> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM room_exits";
        let (id,): (i64,) = on_pool!(self, pool => sqlx::query_as(sql).fetch_one(pool).await?);
        Ok(id)
    }

    /// Who left or was removed from which room after exit `after`, oldest
    /// first, at most 1,000: (exit id, room, user, whether they are a member
    /// again by now). A range of the key.
    pub async fn room_exits_after(&self, after: i64) -> Result<Vec<(i64, RoomId, UserId, bool)>, AppError> {
        let sql = "SELECT e.id, e.room_id, e.user_id,
                          EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = e.room_id AND m.user_id = e.user_id)
                   FROM room_exits e WHERE e.id > $1 ORDER BY e.id LIMIT 1000";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(after).fetch_all(pool).await?))
    }

    /// Drops the room exits recorded before `before`.
    pub async fn forget_room_exits_before(&self, before: &str) -> Result<u64, AppError> {
        let sql = "DELETE FROM room_exits WHERE at < $1";
        Ok(on_writer!(self, pool => sqlx::query(sql).bind(before).execute(pool).await?.rows_affected()))
    }

    /// How far each member has read, for "Seen" markers.
    pub async fn read_markers(&self, room: RoomId) -> Result<Vec<(UserId, i64)>, AppError> {
        let sql = "SELECT user_id, last_read_number FROM memberships WHERE room_id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(room).fetch_all(pool).await?))
    }

    /// The number of the first message after `user`'s read marker that
    /// someone else wrote and is not deleted: where their unread begins.
    /// Walks the room's number index up from the marker and stops at the
    /// first such row.
    pub async fn first_unread(&self, room: RoomId, user: UserId) -> Result<Option<i64>, AppError> {
        let sql = "SELECT m.number FROM messages m
             JOIN memberships mb ON mb.room_id = m.room_id AND mb.user_id = $2
             WHERE m.room_id = $1 AND m.number > mb.last_read_number AND m.deleted_at IS NULL
               AND m.user_id IS DISTINCT FROM $2
             ORDER BY m.number LIMIT 1";
        let first: Option<(i64,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(user).fetch_optional(pool).await?);
        Ok(first.map(|(n,)| n))
    }

    /// Messages after `user`'s read marker that others wrote.
    pub async fn unread_count(&self, room: RoomId, user: UserId) -> Result<i64, AppError> {
        let sql = format!(
            "SELECT {UNREAD} FROM memberships mb JOIN rooms r ON r.id = mb.room_id
             WHERE mb.user_id = $1 AND mb.room_id = $2"
        );
        let count: Option<(i64,)> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(user).bind(room).fetch_optional(pool).await?);
        Ok(count.map_or(0, |(count,)| count))
    }

    /// `user`'s unread messages in `room` and, of those, the ones that
    /// mention them; (0, 0) for a non-member.
    pub async fn unread_counts(&self, room: RoomId, user: UserId) -> Result<(i64, i64), AppError> {
        let sql = format!(
            "SELECT {UNREAD}, {UNREAD_MENTIONS} FROM memberships mb JOIN rooms r ON r.id = mb.room_id
             WHERE mb.user_id = $1 AND mb.room_id = $2"
        );
        let counts: Option<(i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(user).bind(room).fetch_optional(pool).await?);
        Ok(counts.unwrap_or((0, 0)))
    }

    /// `user`'s chosen notification level for `room`: `None` if they are
    /// not a member, `Some(None)` if they have not chosen.
    pub async fn notify_level(&self, room: RoomId, user: UserId) -> Result<Option<Option<String>>, AppError> {
        let sql = "SELECT notify_level FROM memberships WHERE room_id = $1 AND user_id = $2";
        let row: Option<(Option<String>,)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(room).bind(user).fetch_optional(pool).await?);
        Ok(row.map(|(level,)| level))
    }

    /// Sets (or, with `None`, clears) `user`'s level for `room`; says
    /// whether they are a member.
    pub async fn set_notify_level(&self, room: RoomId, user: UserId, level: Option<&str>) -> Result<bool, AppError> {
        let sql = "UPDATE memberships SET notify_level = $1 WHERE room_id = $2 AND user_id = $3";
        let changed = on_writer!(self, pool => sqlx::query(sql).bind(level).bind(room).bind(user).execute(pool).await?.rows_affected());
        Ok(changed > 0)
    }

    /// The ids of `user`'s rooms.
    pub async fn room_ids_of(&self, user: UserId) -> Result<Vec<RoomId>, AppError> {
        let sql = "SELECT room_id FROM memberships WHERE user_id = $1";
        let rows: Vec<(RoomId,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(user).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Each room's last seq (its change log's head), for the rooms of `ids`
    /// that exist: what a shared instance compares with what it delivered.
    pub async fn room_heads(&self, ids: &[RoomId]) -> Result<Vec<(RoomId, i64)>, AppError> {
        let mut heads = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!("SELECT id, last_seq FROM rooms WHERE id IN ({})", placeholders(1, chunk.len()));
            let rows: Vec<(RoomId, i64)> = on_pool!(self, pool => {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await?
            });
            heads.extend(rows);
        }
        Ok(heads)
    }

    /// The active members of `room` among these usernames (lowercase;
    /// usernames are unique ignoring case, and the index is on
    /// `lower(username)`).
    pub async fn members_named(&self, room: RoomId, names: &[String]) -> Result<Vec<UserId>, AppError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT u.id FROM users u JOIN memberships mb ON mb.user_id = u.id AND mb.room_id = $1
             WHERE lower(u.username) IN ({}) AND u.deactivated_at IS NULL",
            placeholders(2, names.len())
        );
        let rows: Vec<(UserId,)> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room);
            for name in names {
                query = query.bind(name.as_str());
            }
            query.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The member ids of a room.
    /// The members whose accounts are active: whom `@everyone` mentions.
    pub async fn active_member_ids(&self, room: RoomId) -> Result<Vec<UserId>, AppError> {
        let sql = "SELECT mb.user_id FROM memberships mb JOIN users u ON u.id = mb.user_id
                   WHERE mb.room_id = $1 AND u.deactivated_at IS NULL";
        let rows: Vec<(UserId,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(room).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn member_ids(&self, room: RoomId) -> Result<Vec<UserId>, AppError> {
        let sql = "SELECT user_id FROM memberships WHERE room_id = $1";
        let rows: Vec<(UserId,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(room).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Which of `ids` are real users, each with whether it is deactivated.
    pub async fn existing_users(&self, ids: &[UserId]) -> Result<Vec<(UserId, bool)>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, deactivated_at IS NOT NULL AS deactivated FROM users WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<(UserId, bool)> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Moves `user`'s read marker in `room` forward to `number` (never back,
    /// never past the last message) and recounts their unread. The marker as
    /// it is now, and whether it moved.
    pub async fn mark_read(&self, room: RoomId, user: UserId, number: i64) -> Result<(i64, bool), AppError> {
        // The one clamp the dialects spell differently: SQLite's scalar min
        // is Postgres's LEAST.
        let target = match self.backend() {
            Backend::Sqlite => "min($1, (SELECT last_number FROM rooms WHERE id = $2))",
            Backend::Postgres => "LEAST($1, (SELECT last_number FROM rooms WHERE id = $2))",
        };
        // Only forward: a marker already there (or past) is no row.
        let sql = format!(
            "UPDATE memberships SET last_read_number = {target}
             WHERE room_id = $2 AND user_id = $3 AND last_read_number < {target} RETURNING last_read_number"
        );
        // The room's lock first, so that no message is written or deleted in
        // the room between the marker and its recount.
        let lock = lock_room(self.backend());
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(lock).bind(room).execute(&mut *tx).await?;
            let moved: Option<(i64,)> =
                sqlx::query_as(&sql).bind(number).bind(room).bind(user).fetch_optional(&mut *tx).await?;
            let Some((marker,)) = moved else {
                // Nothing was read that had not been: nothing to recount.
                let (marker,): (i64,) = sqlx::query_as(READ_MARKER).bind(room).bind(user).fetch_one(&mut *tx).await?;
                tx.rollback().await?;
                return Ok((marker, false));
            };
            sqlx::query(RECOUNT_READ).bind(room).bind(user).execute(&mut *tx).await?;
            // A message pushed to them is read now (on whichever device):
            // its withdrawal is queued once, as the record goes.
            let pushed: Option<(i64,)> = sqlx::query_as(WITHDRAW_PUSH)
                .bind(user)
                .bind(room)
                .bind(marker)
                .fetch_optional(&mut *tx)
                .await?;
            if pushed.is_some() {
                sqlx::query(QUEUE_CLOSE).bind(room).bind(marker).bind(user).bind(now()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            (marker, true)
        }))
    }

    /// Moves `user`'s read marker in `room` back to just before live message
    /// `number` ("Mark unread"): it and every later message of the others'
    /// count as unread again. Only back: a marker already before it stays.
    /// `Ok(None)`: no such live message. Otherwise the marker now and
    /// whether it moved; the recount costs what is unread, as for
    /// [`Store::mark_read`].
    pub async fn mark_unread(&self, room: RoomId, user: UserId, number: i64) -> Result<Option<(i64, bool)>, AppError> {
        let lock = lock_room(self.backend());
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(lock).bind(room).execute(&mut *tx).await?;
            let live: Option<(i64,)> =
                sqlx::query_as(super::messages::LIVE_MESSAGE_ID).bind(room).bind(number).fetch_optional(&mut *tx).await?;
            if live.is_none() {
                tx.rollback().await?;
                return Ok(None);
            }
            let moved: Option<(i64,)> = sqlx::query_as(
                "UPDATE memberships SET last_read_number = $1
                 WHERE room_id = $2 AND user_id = $3 AND last_read_number > $1 RETURNING last_read_number",
            )
            .bind(number - 1)
            .bind(room)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((marker,)) = moved else {
                let (marker,): (i64,) = sqlx::query_as(READ_MARKER).bind(room).bind(user).fetch_one(&mut *tx).await?;
                tx.rollback().await?;
                return Ok(Some((marker, false)));
            };
            sqlx::query(RECOUNT_READ).bind(room).bind(user).execute(&mut *tx).await?;
            tx.commit().await?;
            Some((marker, true))
        }))
    }
}

/// Member `$2`'s closed room `$1`, open again.
const REOPEN: &str =
    "UPDATE memberships SET closed_at = NULL WHERE room_id = $1 AND user_id = $2 AND closed_at IS NOT NULL";

const READ_MARKER: &str = "SELECT last_read_number FROM memberships WHERE room_id = $1 AND user_id = $2";

/// Room `$1`'s lock inside a write transaction: SQLite's transaction holds
/// the whole file already; on Postgres, the room's row.
pub(super) fn lock_room(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SELECT id FROM rooms WHERE id = $1",
        Backend::Postgres => "SELECT id FROM rooms WHERE id = $1 FOR UPDATE",
    }
}

/// Forgets the push record of member `$1` in room `$2` once their marker
/// (`$3`) has reached the message pushed (see `push_jobs.rs`).
const WITHDRAW_PUSH: &str =
    "DELETE FROM push_sent WHERE user_id = $1 AND room_id = $2 AND number <= $3 RETURNING number";

/// A `close` job for member `$3`, due at once (`$4`).
pub(super) const QUEUE_CLOSE: &str =
    "INSERT INTO push_jobs (kind, room_id, number, user_id, due_at) VALUES ('close', $1, $2, $3, $4)";

/// A member's unread count (`mb` the membership, `r` its room): the room's
/// live messages less the member's own and the others' they have read. The
/// counters are kept by the write transactions (see
/// `migrations/*/0005_unread_counters.sql`).
const UNREAD: &str = "(r.messages_count - mb.own_count - mb.read_others)";

/// A member's unread mentions (`mb` the membership): their mentions after
/// the read marker in live messages, counted on the `mentions_unread` index
/// range (user, room, number > marker), so it costs the unread mentions
/// only. Exact from the same read pointer as [`UNREAD`].
const UNREAD_MENTIONS: &str = "(SELECT count(*) FROM mentions mt JOIN messages m ON m.id = mt.message_id
        WHERE mt.user_id = mb.user_id AND mt.room_id = mb.room_id AND mt.number > mb.last_read_number
          AND m.deleted_at IS NULL)";

/// Recounts `read_others` for member `$2` of room `$1` from the room's side
/// of the marker: the others' live messages less those after it, so it costs
/// what is unread, not what was read.
const RECOUNT_READ: &str = "UPDATE memberships SET read_others =
        (SELECT r.messages_count FROM rooms r WHERE r.id = $1) - own_count
        - (SELECT count(*) FROM messages m
           WHERE m.room_id = $1 AND m.number > memberships.last_read_number AND m.deleted_at IS NULL
             AND m.user_id IS DISTINCT FROM $2)
    WHERE room_id = $1 AND user_id = $2";

/// The insert of `count` memberships (room `$1`, time `$2`, users `$3…`),
/// leaving alone anyone already in; `None` for nobody.
fn insert_members_sql(count: usize, backlog: Backlog) -> Option<String> {
    // The read marker: the room's last number, or the one before its newest
    // live message (found from the end of `messages_room_number`).
    let marker = match backlog {
        Backlog::Read => "(SELECT last_number FROM rooms WHERE id = $1)",
        Backlog::NewestUnread => {
            "(SELECT COALESCE(max(number), 1) - 1 FROM messages WHERE room_id = $1 AND deleted_at IS NULL)"
        }
    };
    (count > 0).then(|| {
        // A member who comes back still has their own messages in the room.
        let rows = (3..3 + count)
            .map(|n| {
                format!(
                    "($1, ${n}, $2, (SELECT count(*) FROM messages m
                                     WHERE m.room_id = $1 AND m.user_id = ${n} AND m.deleted_at IS NULL), {marker})"
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO memberships (room_id, user_id, joined_at, own_count, last_read_number) VALUES {rows}
             ON CONFLICT (room_id, user_id) DO NOTHING RETURNING user_id"
        )
    })
}

/// How much of a room's history someone added to it has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backlog {
    /// All of it: they start caught up (joining, or being added).
    Read,
    /// All but the newest message, which they see as new: a new account
    /// in the rooms it joins by itself, which shows where each room is and
    /// that they have not started yet (`Profile::greeting`).
    NewestUnread,
}

/// Binds [`insert_members_sql`]'s values.
fn bind_members<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    room: RoomId,
    at: &'q str,
    users: &[UserId],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    RoomId: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    UserId: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    users.iter().fold(query.bind(room).bind(at), |query, user| query.bind(*user))
}

#[derive(sqlx::FromRow)]
struct RoomMemberRow {
    room_id: RoomId,
    #[sqlx(flatten)]
    person: Person,
}

/// One entry of a member's room list ([`Store::room_list`]).
#[derive(Debug, Clone)]
pub struct ListedRoom {
    pub room: MyRoomRow,
    /// Its members, in the order they joined.
    pub members: Vec<Person>,
    /// Its newest message, if it has one.
    pub last_message: Option<LastMessage>,
}

#[derive(sqlx::FromRow)]
struct ListedRoomRow {
    #[sqlx(flatten)]
    room: MyRoomRow,
    last_message_number: Option<i64>,
    last_message_body: Option<String>,
    last_message_user_id: Option<UserId>,
    last_message_created_at: Option<String>,
    /// SQLite's JSON array of `[id, username, name, avatar_url, deactivated]`; `NULL` on
    /// Postgres (read apart).
    members: Option<String>,
}

impl ListedRoomRow {
    fn into_listed(self) -> Result<ListedRoom, AppError> {
        type MemberTuple = (UserId, String, Option<String>, Option<String>, bool);
        let members: Vec<MemberTuple> = match self.members.as_deref() {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| AppError::internal(format!("room {}: unreadable members: {e}", self.room.room.id.0)))?,
            None => Vec::new(),
        };
        let last_message = match (self.last_message_number, self.last_message_created_at) {
            (Some(number), Some(created_at)) => Some(LastMessage {
                number,
                text: self
                    .last_message_body
                    .as_deref()
                    .map(|body| crate::markdown::listed_line(body, crate::markdown::PREVIEW_CHARS)),
                body: self.last_message_body,
                user_id: self.last_message_user_id,
                created_at,
            }),
            _ => None,
        };
        Ok(ListedRoom {
            room: self.room,
            members: members
                .into_iter()
                .map(|(id, username, name, avatar_url, deactivated)| Person {
                    id,
                    username,
                    name,
                    avatar_url,
                    deactivated,
                })
                .collect(),
            last_message,
        })
    }
}
