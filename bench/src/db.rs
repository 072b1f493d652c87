//! Direct database access for the storage benchmarks, on SQLite or
//! Postgres: the bulk seeding of a room's history, and the raw batched
//! `INSERT` that posting is compared with. The server is not involved; it
//! serves what is written here as it serves its own rows.
//!
//! Seeding writes what `Store::insert_message` writes, in bulk: each
//! message row (number 1, 2, 3… with strictly increasing `created_at`), its
//! `room_events` row (seq = number, kind `message`), and at the end the
//! room's counters (`last_number`, `messages_count`, `last_seq`,
//! `last_message_at`, `updated_at`). SQLite's FTS5 rows are added after the
//! load ([`Db::vacuum_analyze`]), as the server's indexer adds them beside
//! its writer; Postgres keeps its trigram index itself.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, QueryBuilder};

use crate::corpus::Corpus;

pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds: the same
/// SQL compiled for each driver.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// One message row to insert.
pub struct Row {
    pub number: i64,
    pub user_id: Option<i64>,
    pub body: String,
    pub created_at: String,
}

impl Db {
    /// Opens the database as the server does: on SQLite WAL mode,
    /// `synchronous = NORMAL`, foreign keys on.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let shown = url.split('@').next_back().unwrap_or(url).to_owned();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| format!("{shown}: {e}"))?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .map_err(|e| format!("connecting to {shown}: {e}"))?;
            Ok(Self::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| format!("{shown}: {e}"))?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .map_err(|e| format!("opening {shown}: {e}"))?;
            Ok(Self::Sqlite(pool))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The room's (last_number, last_seq, last_message_at).
    pub async fn room_counters(&self, room: i64) -> Result<(i64, i64, Option<String>), String> {
        let sql = "SELECT last_number, last_seq, last_message_at FROM rooms WHERE id = $1";
        on_db!(self, pool => sqlx::query_as(sql).bind(room).fetch_one(pool).await)
            .map_err(|e| format!("reading room {room}: {e}"))
    }

    /// The ids of users whose usernames start with `prefix`, in id order.
    pub async fn user_ids(&self, prefix: &str) -> Result<Vec<i64>, String> {
        let sql = "SELECT id FROM users WHERE username LIKE $1 ORDER BY id";
        let rows: Vec<(i64,)> =
            on_db!(self, pool => sqlx::query_as(sql).bind(format!("{prefix}%")).fetch_all(pool).await)
                .map_err(|e| format!("reading users: {e}"))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// A room of kind `open` that nobody belongs to, for the raw inserts.
    pub async fn create_bare_room(&self, title: &str) -> Result<i64, String> {
        let sql = "INSERT INTO rooms (kind, title, created_at, updated_at) VALUES ('open', $1, $2, $2) RETURNING id";
        let at = format_micros(now_micros());
        let (id,): (i64,) = on_db!(self, pool => sqlx::query_as(sql).bind(title).bind(&at).fetch_one(pool).await)
            .map_err(|e| format!("creating a room: {e}"))?;
        Ok(id)
    }

    /// Inserts `rows` into `messages` of `room` with multi-row `INSERT`s of
    /// `batch` rows, `per_tx` statements per transaction; with `events`, each
    /// message's `room_events` row too (seq = number). Returns nothing: the
    /// caller times it.
    pub async fn insert_rows(
        &self,
        room: i64,
        rows: &[Row],
        batch: usize,
        per_tx: usize,
        events: bool,
    ) -> Result<(), String> {
        let fail = |e: sqlx::Error| format!("inserting into room {room}: {e}");
        on_db!(self, pool => {
            for tx_rows in rows.chunks(batch * per_tx) {
                let mut tx = pool.begin().await.map_err(fail)?;
                for chunk in tx_rows.chunks(batch) {
                    let mut qb = QueryBuilder::new(
                        "INSERT INTO messages (room_id, number, user_id, body, created_at) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(room).push_bind(r.number).push_bind(r.user_id).push_bind(&r.body).push_bind(&r.created_at);
                    });
                    tx.execute(qb.build()).await.map_err(fail)?;
                    if events {
                        let mut qb = QueryBuilder::new("INSERT INTO room_events (room_id, seq, kind, number) ");
                        qb.push_values(chunk, |mut b, r| {
                            b.push_bind(room).push_bind(r.number).push_bind("message").push_bind(r.number);
                        });
                        tx.execute(qb.build()).await.map_err(fail)?;
                    }
                }
                tx.commit().await.map_err(fail)?;
            }
            Ok(())
        })
    }

    /// Sets the room's counters (and its members' unread counters) as if its
    /// `number` messages had been posted, the newest at `last_at`.
    pub async fn set_counters(&self, room: i64, number: i64, last_at: &str) -> Result<(), String> {
        let sql = "UPDATE rooms SET last_number = $1, messages_count = $1, last_seq = $1,
                   last_message_at = $2, updated_at = $2 WHERE id = $3";
        on_db!(self, pool => sqlx::query(sql).bind(number).bind(last_at).bind(room).execute(pool).await.map(|_| ()))
            .map_err(|e| format!("updating room {room}: {e}"))?;
        // The members' unread counters, as the app's writes keep them.
        let members = "UPDATE memberships SET
                own_count = (SELECT count(*) FROM messages m
                             WHERE m.room_id = $1 AND m.user_id = memberships.user_id AND m.deleted_at IS NULL),
                read_others = (SELECT count(*) FROM messages m
                               WHERE m.room_id = $1 AND m.number <= memberships.last_read_number
                                 AND m.deleted_at IS NULL AND m.user_id IS DISTINCT FROM memberships.user_id)
            WHERE room_id = $1";
        on_db!(self, pool => sqlx::query(members).bind(room).execute(pool).await.map(|_| ()))
            .map_err(|e| format!("counting room {room}'s unread: {e}"))
    }

    /// A direct room of `me` and `other` holding one message by `other`,
    /// unread by `me`, with its counters as the app keeps them.
    pub async fn add_small_room(&self, me: i64, other: i64, title: &str) -> Result<(), String> {
        let room = self.create_bare_room(title).await?;
        let at = format_micros(now_micros());
        let fail = |e: sqlx::Error| format!("filling room {room}: {e}");
        let join = "INSERT INTO memberships (room_id, user_id, joined_at) VALUES ($1, $2, $3), ($1, $4, $3)";
        let message = "INSERT INTO messages (room_id, number, user_id, body, created_at) VALUES ($1, 1, $2, $3, $4)";
        let event = "INSERT INTO room_events (room_id, seq, kind, number) VALUES ($1, 1, 'message', 1)";
        on_db!(self, pool => {
            let mut tx = pool.begin().await.map_err(fail)?;
            sqlx::query(join).bind(room).bind(me).bind(&at).bind(other).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query(message).bind(room).bind(other).bind(format!("hello from {title}")).bind(&at)
                .execute(&mut *tx).await.map_err(fail)?;
            sqlx::query(event).bind(room).execute(&mut *tx).await.map_err(fail)?;
            tx.commit().await.map_err(fail)
        })?;
        self.set_counters(room, 1, &at).await
    }

    /// What the database's background work would do after a bulk load: on
    /// Postgres autovacuum's (statistics, the visibility map, the GIN
    /// pending list merged into the index); on SQLite the server's search
    /// indexer's (the new messages into FTS5, the mark moved past them).
    pub async fn vacuum_analyze(&self) -> Result<(), String> {
        if let Self::Sqlite(pool) = self {
            let index = "BEGIN IMMEDIATE;
                         INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages
                          WHERE id > (SELECT through FROM messages_fts_progress) AND deleted_at IS NULL;
                         UPDATE messages_fts_progress SET through = (SELECT coalesce(max(id), 0) FROM messages);
                         COMMIT";
            pool.execute(index).await.map_err(|e| format!("indexing for search: {e}"))?;
        }
        if let Self::Postgres(pool) = self {
            for table in ["messages", "room_events", "rooms", "memberships", "users"] {
                pool.execute(format!("VACUUM ANALYZE {table}").as_str())
                    .await
                    .map_err(|e| format!("VACUUM ANALYZE {table}: {e}"))?;
            }
        }
        Ok(())
    }
}

/// Seeds `count` messages into the empty room `room`, authored round-robin by
/// `authors`, timestamps from `start_us` on at 10–70 s apart (strictly
/// increasing), bodies from the corpus with `seed`. Returns the first and
/// last `created_at`.
pub async fn seed_room(
    db: &Db,
    room: i64,
    authors: &[i64],
    count: u64,
    seed: u64,
    start_us: i64,
) -> Result<(String, String), String> {
    let (last_number, last_seq, _) = db.room_counters(room).await?;
    if last_number != 0 || last_seq != 0 {
        return Err(format!("room {room} is not empty (last_number {last_number}, last_seq {last_seq})"));
    }
    let corpus = Corpus::new();
    let mut rng = crate::corpus::Rng::new(seed ^ 0x5eed);
    let mut at = start_us;
    let (mut first, mut last) = (String::new(), String::new());
    const CHUNK: u64 = 50_000;
    let t = Instant::now();
    let mut done = 0;
    while done < count {
        let n = CHUNK.min(count - done);
        let rows: Vec<Row> = (done..done + n)
            .map(|i| {
                at += 10_000_000 + rng.below(60_000_000) as i64;
                Row {
                    number: i as i64 + 1,
                    user_id: Some(authors[(i as usize) % authors.len()]),
                    body: corpus.body(seed, i),
                    created_at: format_micros(at),
                }
            })
            .collect();
        if done == 0 {
            first = rows[0].created_at.clone();
        }
        last = rows[rows.len() - 1].created_at.clone();
        db.insert_rows(room, &rows, 1000, 10, true).await?;
        done += n;
        let secs = t.elapsed().as_secs_f64();
        println!("  seeded {done}/{count} in {secs:.0} s ({:.0} rows/s)", done as f64 / secs);
    }
    db.set_counters(room, count as i64, &last).await?;
    Ok((first, last))
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// The stored time form (ISO 8601 UTC, fixed microseconds), as the server writes it.
pub fn format_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The inverse of [`format_micros`] for the stored form.
pub fn parse_micros(stored: &str) -> Option<i64> {
    let b = stored.as_bytes();
    if b.len() != 27 || b[26] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| stored.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, m, s, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    // Days from civil (the inverse of the algorithm above).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1_000_000) + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_use_the_stored_form_and_round_trip() {
        assert_eq!(format_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_micros(1_709_251_199_999_999), "2024-02-29T23:59:59.999999Z");
        for us in [0, 951_782_400_000_001, 1_709_251_199_999_999, 1_764_500_000_123_456] {
            assert_eq!(parse_micros(&format_micros(us)), Some(us));
        }
    }
}
