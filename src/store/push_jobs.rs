//! Queries on `push_jobs`, `push_sent` and `push_viewing`: the durable push
//! queue, what was pushed to whom, and which room each tab shows (issue 17,
//! migration 0010). The queue's inserts live in the write transactions they
//! belong to: `Store::append_messages` (a message) and `Store::mark_read`
//! (a withdrawal).

use super::{Backend, Store, now, on_pool, on_writer, placeholders};
use crate::error::AppError;
use crate::model::{RoomId, UserId};

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushJob {
    pub id: i64,
    /// `message` or `close`.
    pub kind: String,
    pub room_id: RoomId,
    pub number: i64,
    /// The author of a `message` (never pushed), the member of a `close`.
    pub user_id: Option<UserId>,
}

/// One subscription of a member of the message's room, with the facts the
/// push rule needs about that member.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushCandidate {
    pub subscription_id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// `memberships.notify_level` (NULL: the room kind's default).
    pub notify_level: Option<String>,
    pub room_kind: String,
    pub last_read_number: i64,
    pub mentioned: bool,
    pub visible: bool,
    /// They paused their notifications until after `at`.
    pub paused: bool,
}

/// Whether subscription `s` may be pushed: its account is active, and the
/// session it was saved in (if it was saved with one) has not ended: every
/// way a session ends deletes its `user_sessions` row.
pub(super) const PUSHABLE: &str =
    "NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.deactivated_at IS NOT NULL)
    AND (s.session_id IS NULL OR EXISTS (SELECT 1 FROM user_sessions us WHERE us.session_id = s.session_id))";

/// The candidates: every pushable subscription of every member but the
/// author, with their level, read marker, mention, visible tab and pause, in one
/// query that walks the room's memberships (its primary key) and probes the
/// subscriptions, mentions and tabs by index.
static CANDIDATES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT s.id AS subscription_id, s.user_id, s.endpoint, s.p256dh, s.auth,
        mb.notify_level, r.kind AS room_kind, mb.last_read_number,
        EXISTS (SELECT 1 FROM mentions mt
                WHERE mt.user_id = mb.user_id AND mt.room_id = mb.room_id AND mt.number = $2) AS mentioned,
        EXISTS (SELECT 1 FROM push_viewing v
                WHERE v.user_id = mb.user_id AND v.room_id = mb.room_id AND v.expires_at > $4) AS visible,
        EXISTS (SELECT 1 FROM users pu
                WHERE pu.id = mb.user_id AND pu.notifications_paused_until > $4) AS paused
    FROM memberships mb
    JOIN rooms r ON r.id = mb.room_id
    JOIN push_subscriptions s ON s.user_id = mb.user_id
    WHERE mb.room_id = $1 AND mb.user_id IS DISTINCT FROM $3 AND {PUSHABLE}
    ORDER BY s.user_id, s.id"
    )
});

impl Store {
    /// Whether a job is due and not leased (a cheap read on the read pool,
    /// so an idle worker never takes SQLite's writer).
    pub async fn push_job_due(&self, at: &str) -> Result<bool, AppError> {
        let sql =
            "SELECT id FROM push_jobs WHERE due_at <= $1 AND (leased_until IS NULL OR leased_until <= $1) LIMIT 1";
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(sql).bind(at).fetch_optional(pool).await?);
        Ok(row.is_some())
    }

    /// Leases up to `limit` due jobs, oldest first, to `token` until
    /// `until`: a job already leased is taken only once its lease ran out
    /// (its claimer died). On Postgres, rows another claim has locked are
    /// skipped, so two instances claiming at once take different jobs.
    pub async fn claim_push_jobs(
        &self,
        token: &str,
        at: &str,
        until: &str,
        limit: i64,
    ) -> Result<Vec<PushJob>, AppError> {
        let skip = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE push_jobs SET lease_token = $1, leased_until = $2
             WHERE id IN (SELECT id FROM push_jobs
                          WHERE due_at <= $3 AND (leased_until IS NULL OR leased_until <= $3)
                          ORDER BY due_at, id LIMIT $4{skip})
             RETURNING id, kind, room_id, number, user_id"
        );
        let mut jobs: Vec<PushJob> = on_writer!(self, pool => sqlx::query_as(&sql)
            .bind(token)
            .bind(until)
            .bind(at)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    /// Deletes up to `limit` due message jobs (oldest first, none leased)
    /// whose room has no member with a push subscription: deciding them
    /// could only find nobody. One statement, which looks at each of their
    /// rooms once, so that messages in rooms nobody can be pushed in cost the
    /// worker one write a round instead of three statements each. Returns how
    /// many it deleted.
    pub async fn drop_unpushable_push_jobs(&self, at: &str, limit: i64) -> Result<u64, AppError> {
        let sql = format!(
            "WITH due AS (SELECT id, room_id FROM push_jobs
                                WHERE kind = 'message' AND due_at <= $1
                                  AND (leased_until IS NULL OR leased_until <= $1)
                                ORDER BY due_at, id LIMIT $2),
                        quiet AS (SELECT d.room_id FROM (SELECT DISTINCT room_id FROM due) d
                                  WHERE NOT EXISTS (SELECT 1 FROM memberships mb
                                                    JOIN push_subscriptions s ON s.user_id = mb.user_id
                                                    WHERE mb.room_id = d.room_id AND {PUSHABLE}))
                   DELETE FROM push_jobs
                   WHERE id IN (SELECT id FROM due WHERE room_id IN (SELECT room_id FROM quiet))"
        );
        let n = on_writer!(self, pool => sqlx::query(&sql).bind(at).bind(limit).execute(pool).await?.rows_affected());
        Ok(n)
    }

    /// Marks a job done (deletes it), if `token` still holds its lease;
    /// says whether it did.
    pub async fn finish_push_job(&self, id: i64, token: &str) -> Result<bool, AppError> {
        let sql = "DELETE FROM push_jobs WHERE id = $1 AND lease_token = $2";
        let n = on_writer!(self, pool => sqlx::query(sql).bind(id).bind(token).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Queues a job by hand (tools and tests; messages and reads queue theirs
    /// in their own transactions).
    pub async fn queue_push_job(
        &self,
        kind: &str,
        room: RoomId,
        number: i64,
        user: Option<UserId>,
        due_at: &str,
    ) -> Result<i64, AppError> {
        let sql =
            "INSERT INTO push_jobs (kind, room_id, number, user_id, due_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let (id,): (i64,) = on_writer!(self, pool => sqlx::query_as(sql)
            .bind(kind)
            .bind(room)
            .bind(number)
            .bind(user)
            .bind(due_at)
            .fetch_one(pool)
            .await?);
        Ok(id)
    }

    /// Every subscription of the members of `room` but `author` who may be
    /// pushed message `number`, with the facts for the rule ([`CANDIDATES`]).
    pub async fn push_candidates(
        &self,
        room: RoomId,
        number: i64,
        author: Option<UserId>,
        at: &str,
    ) -> Result<Vec<PushCandidate>, AppError> {
        Ok(on_pool!(self, pool => sqlx::query_as(&CANDIDATES)
            .bind(room)
            .bind(number)
            .bind(author)
            .bind(at)
            .fetch_all(pool)
            .await?))
    }

    /// Records that message `number` of `room` is being pushed to `users`,
    /// for those whose read marker is still before it (checked in the same
    /// statement), and returns them: the others read it meanwhile and get
    /// nothing. The record is what a later read withdraws.
    pub async fn record_pushes(&self, room: RoomId, number: i64, users: &[UserId]) -> Result<Vec<UserId>, AppError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "INSERT INTO push_sent (user_id, room_id, number)
             SELECT user_id, room_id, $2 FROM memberships
             WHERE room_id = $1 AND last_read_number < $2 AND user_id IN ({})
             ON CONFLICT (user_id, room_id) DO UPDATE SET number =
                 CASE WHEN excluded.number > push_sent.number THEN excluded.number ELSE push_sent.number END
             RETURNING user_id",
            placeholders(3, users.len())
        );
        let rows: Vec<(UserId,)> = on_writer!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room).bind(number);
            for user in users {
                query = query.bind(user);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(user,)| user).collect())
    }

    /// Notes that socket `socket` of `instance` (a tab of `user`) shows
    /// `room` until `expires_at`, or nothing (`None`: hidden, or no room).
    pub async fn set_viewing(
        &self,
        instance: &str,
        socket: i64,
        user: UserId,
        room: Option<RoomId>,
        expires_at: &str,
    ) -> Result<(), AppError> {
        match room {
            Some(room) => {
                let sql = "INSERT INTO push_viewing (instance, socket, user_id, room_id, expires_at)
                           VALUES ($1, $2, $3, $4, $5)
                           ON CONFLICT (instance, socket) DO UPDATE SET user_id = excluded.user_id,
                               room_id = excluded.room_id, expires_at = excluded.expires_at";
                on_writer!(self, pool => sqlx::query(sql)
                    .bind(instance)
                    .bind(socket)
                    .bind(user)
                    .bind(room)
                    .bind(expires_at)
                    .execute(pool)
                    .await?
                    .rows_affected());
            }
            None => {
                let sql = "DELETE FROM push_viewing WHERE instance = $1 AND socket = $2";
                on_writer!(self, pool => sqlx::query(sql).bind(instance).bind(socket).execute(pool).await?.rows_affected());
            }
        }
        Ok(())
    }

    /// Keeps every tab row of `instance` alive until `expires_at`, and
    /// forgets any instance's rows that expired: one statement each,
    /// however many tabs.
    pub async fn refresh_viewing(&self, instance: &str, expires_at: &str) -> Result<(), AppError> {
        let at = now();
        on_writer!(self, pool => {
            sqlx::query("UPDATE push_viewing SET expires_at = $1 WHERE instance = $2")
                .bind(expires_at)
                .bind(instance)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM push_viewing WHERE expires_at <= $1").bind(&at).execute(pool).await?;
        });
        Ok(())
    }
}
