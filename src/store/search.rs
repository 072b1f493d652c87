//! Message search: the trigram index for queries of three characters or
//! more (after a look at the newest messages, which answers common queries
//! without the index), and a scan of the newest messages for shorter ones
//! (the core bounds how much of it a query may read).

use std::collections::HashMap;

use super::batch::{BindRows, Kind, Rows};
use super::users::escape_like;
use super::{Backend, Pool, Store, on_pool};
use crate::error::AppError;
use crate::model::{Author, RoomId, UserId};

/// One search hit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HitRow {
    pub room_id: RoomId,
    pub number: i64,
    pub body: String,
}

/// Who sent a hit, and when: the results' bylines ([`Store::hit_bylines`]).
#[derive(Debug, Clone)]
pub struct HitByline {
    pub user: Option<Author>,
    pub application: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: String,
}

/// The (room, number) keys of hits, as rows to bind.
fn hit_keys(hits: &[(RoomId, i64)]) -> Rows<'static> {
    let mut keys = Rows::new(&[Kind::Int, Kind::Int]);
    for (room, number) in hits {
        keys.push([(*room).into(), (*number).into()]);
    }
    keys
}

/// Each hit's message found by its key, with its author and application.
fn hit_bylines_sql(backend: Backend, keys: &Rows<'_>) -> String {
    format!(
        "SELECT m.room_id, m.number, m.user_id, u.username, u.name, u.deactivated_at IS NOT NULL, u.avatar_url, a.name, m.created_at
         FROM {} JOIN messages m ON m.room_id = v.column1 AND m.number = v.column2
         LEFT JOIN users u ON u.id = m.user_id LEFT JOIN applications a ON a.id = m.application_id",
        keys.table(backend)
    )
}

/// A byline's row: room, number, the author's id, username, name, whether
/// deactivated and picture, the application's name, the time.
type BylineRow =
    (RoomId, i64, Option<UserId>, Option<String>, Option<String>, Option<bool>, Option<String>, Option<String>, String);

/// How many of the newest messages an indexed search reads first (of the
/// room, or of the whole instance for a search across my rooms): when
/// `limit` of those in scope match, they are the answer, found without
/// collecting every match of a common query (a trigram index returns its
/// matches in no useful order, so "the" over a million messages would sort
/// half of them).
const RECENT_WINDOW: u32 = 2000;
/// The widest second window (see `search_indexed`).
const WIDER_WINDOW_MAX: u32 = 20_000;
/// The fewest of each room's newest messages that a search across many
/// rooms reads per room (see `room_windows_sql`): 20,000 rows for someone
/// in 1,000 rooms. Rooms with no more messages than this take no share of
/// the window (`share_sql`; shared out a thousand ways, common queries
/// went to the index: 352 ms for "the" on SQLite at a million messages).
const ROOM_WINDOW_MIN: u32 = 20;
/// SQLite: the most id ranges the FTS table is read over to match my rooms'
/// windows (see `search_room_windows_sqlite`); each costs a lookup of each
/// trigram of the query (60–270 µs measured).
const ROOM_WINDOW_RANGES: usize = 16;
/// SQLite: the most ids those ranges may hold in all. Every match in them is
/// read, whoever's it is, so windows that need more go to the index.
const ROOM_WINDOW_SPAN_MAX: i64 = 10 * RECENT_WINDOW as i64;
/// The fewest of each room's messages a scan window reads (see
/// `Store::scan_window`); rooms with no more messages than this take no
/// share of the window (`share_sql`).
const SCAN_ROOM_MIN: u32 = 8;
/// The most `LIKE` patterns a scan matches each row against.
const SCAN_PATTERNS_MAX: usize = 16;
/// SQLite: gaps between window ids up to this wide are read rather than
/// cut into another range (about what a range's lookups cost to read).
const ROOM_WINDOW_GAP_READ: i64 = 1000;

/// Which step of [`Store::search_indexed`] gave the answer (its doc numbers
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStep {
    /// 1: the room's, or the instance's, newest messages.
    Newest,
    /// 2: each of my rooms' newest messages.
    RoomWindows,
    /// 3: a wider window, sized by the share of matches in the last one.
    Wider,
    /// 4: the trigram index over all history.
    Index,
}

impl SearchStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::RoomWindows => "room_windows",
            Self::Wider => "wider",
            Self::Index => "index",
        }
    }
}

impl Store {
    /// The bylines of the messages `hits` names (room, number), in one
    /// query that finds each by its key; a message not found is left out.
    pub async fn hit_bylines(&self, hits: &[(RoomId, i64)]) -> Result<HashMap<(RoomId, i64), HitByline>, AppError> {
        if hits.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = hit_keys(hits);
        let sql = hit_bylines_sql(self.backend(), &keys);
        let rows: Vec<BylineRow> = on_pool!(self, pool => sqlx::query_as(&sql).bind_rows(&keys).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(room, number, user_id, username, name, deactivated, avatar_url, application, created_at)| {
                let user = user_id.zip(username).map(|(id, username)| Author {
                    deactivated: deactivated.unwrap_or(false),
                    ..Author::new(id, username, name)
                });
                ((room, number), HitByline { user, application, avatar_url, created_at })
            })
            .collect())
    }

    /// The plan of [`Store::hit_bylines`]'s query (`EXPLAIN QUERY PLAN` /
    /// `EXPLAIN ANALYZE`, as `Store::history_plans`), for the test that
    /// pins it to a lookup by key.
    #[doc(hidden)]
    pub async fn hit_bylines_plan(&self, hits: &[(RoomId, i64)]) -> Result<Vec<String>, AppError> {
        let keys = hit_keys(hits);
        let sql = format!("{} {}", self.backend().explain(), hit_bylines_sql(self.backend(), &keys));
        let column = self.backend().plan_column();
        Ok(on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind_rows(&keys).fetch_all(pool).await?;
            rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, column)).collect::<Result<_, _>>()?
        }))
    }

    /// Live messages of `rooms` containing every one of `terms` (each three
    /// characters or more; at least one), ignoring case, newest first,
    /// through the trigram index: FTS5's trigram table on SQLite (one
    /// `MATCH` of the terms' phrases joined by `AND`), pg_trgm's GIN index on
    /// Postgres (one `LIKE` per term, which the index answers together).
    /// Both match each term literally, as a substring, after Unicode
    /// lower-casing.
    ///
    /// Up to four steps, each giving the same answer as the last alone:
    /// 1. The newest [`RECENT_WINDOW`] messages (see `recent_sql`) are
    ///    matched. If `limit` of them match, and the last of those is newer
    ///    than the window's oldest message, they are the newest `limit`
    ///    matches of all: no message outside the window is newer than that.
    /// 2. Across my rooms: the same with each room's newest messages
    ///    (`search_room_windows`), for when the instance's newest are in
    ///    other rooms.
    /// 3. Postgres only: if some matched in the last window read (the
    ///    room's, or my rooms'), their share estimates both the window that
    ///    would hold `limit` matches and how many matches the index would
    ///    collect over the whole scope; the wider window (up to
    ///    [`WIDER_WINDOW_MAX`] messages, of the room or split among my
    ///    rooms) is read when it is the cheaper, with the same rule. On
    ///    SQLite the index hands out matching rowids as cheaply as a window
    ///    reads rows, so it goes straight to step 4.
    /// 4. The index answers over all history: it collects every match and
    ///    sorts them, which is quick for the rare queries that get here.
    pub async fn search_indexed(
        &self,
        rooms: SearchScope,
        terms: &[&str],
        limit: u32,
    ) -> Result<Vec<HitRow>, AppError> {
        let (hits, step) = self.search_indexed_by_step(rooms, terms, limit).await?;
        crate::metrics::search_answered(step.as_str());
        Ok(hits)
    }

    /// [`Self::search_indexed`], saying which step answered.
    pub async fn search_indexed_by_step(
        &self,
        rooms: SearchScope,
        terms: &[&str],
        limit: u32,
    ) -> Result<(Vec<HitRow>, SearchStep), AppError> {
        let query = Needles::new(terms)?;
        let query = &query;
        // SQLite indexes new messages beside the writer (`search_index`):
        // those not indexed yet are matched here, and merged into each step.
        let tail = &self.search_unindexed(rooms, terms, limit).await?;
        let mut last = self.search_recent(rooms, query, RECENT_WINDOW, limit, tail).await?;
        if last.complete {
            return Ok((last.hits, SearchStep::Newest));
        }
        if matches!(rooms, SearchScope::MemberOf(_)) {
            last = self.search_room_windows(rooms, query, RECENT_WINDOW, limit, tail).await?;
            if last.complete {
                return Ok((last.hits, SearchStep::RoomWindows));
            }
        }
        if !last.hits.is_empty() && self.backend() == Backend::Postgres {
            let share = last.hits.len() as f64 / f64::from(RECENT_WINDOW);
            let wider = (1.5 * f64::from(limit) / share).ceil();
            let index_matches = share * self.live_messages_in(rooms).await? as f64;
            // A window row (read in order, matched by the index's
            // expression) costs about a third of a match that the index
            // collects (a random heap read, a recheck, a place in the sort),
            // measured on a million messages.
            if wider <= f64::from(WIDER_WINDOW_MAX) && wider / 3.0 < index_matches {
                let wide = match rooms {
                    SearchScope::Room(_) => self.search_recent(rooms, query, wider as u32, limit, tail).await?,
                    SearchScope::MemberOf(_) => {
                        self.search_room_windows(rooms, query, wider as u32, limit, tail).await?
                    }
                };
                if wide.complete {
                    return Ok((wide.hits, SearchStep::Wider));
                }
            }
        }
        let (scope, scope_id) = rooms.sql();
        // Across my rooms on Postgres, `room_id + 0`, which no index has:
        // each match's room is checked as the trigram index hands it out.
        // Said plainly, Postgres intersected the matches with a bitmap of
        // every message of my rooms from `messages_room_number` (a million
        // rows, 113 ms of "квазар"'s 133; 21 ms without).
        let scope = match (self.backend(), rooms) {
            (Backend::Postgres, SearchScope::MemberOf(_)) => format!("m.room_id + 0 IN ({})", rooms.rooms_sql()),
            _ => scope.to_owned(),
        };
        let (from, matches) = match self.backend() {
            // Driven by the FTS table: the rows it matches, joined to theirs.
            Backend::Sqlite => ("messages_fts f JOIN messages m ON m.id = f.rowid", "messages_fts MATCH $2".to_owned()),
            // The expression of the index in migrations/postgres/0003.
            Backend::Postgres => ("messages m", query.pg_matches("m.body")),
        };
        let matched = format!(
            "SELECT m.room_id, m.number, m.body, m.created_at, m.id FROM {from}
             WHERE {matches} AND {scope} AND m.deleted_at IS NULL"
        );
        // Every match collected, then sorted. On Postgres said as a
        // materialised CTE, so the planner cannot walk a time index
        // backwards instead, testing each row until `limit` match: the
        // steps before leave it only queries that match rarely (or rarely of
        // late), for which that walk reads most of the table. It did, across
        // my rooms with the instance's newest messages elsewhere: 155 ms p50
        // for "größer" (800 ms from a cold cache), against 10 ms through the
        // trigram index.
        let sql = match self.backend() {
            Backend::Sqlite => format!("{matched} ORDER BY m.created_at DESC, m.id DESC LIMIT $3"),
            Backend::Postgres => format!(
                "WITH h AS MATERIALIZED ({matched})
                 SELECT room_id, number, body, created_at FROM h ORDER BY created_at DESC, id DESC LIMIT $3"
            ),
        };
        let (needle, others) = query.params(self.backend());
        let rows: Vec<IndexHit> = on_pool!(self, pool => {
            let mut statement = sqlx::query_as(&sql).bind(scope_id).bind(needle).bind(i64::from(limit));
            for other in others {
                statement = statement.bind(other);
            }
            statement.fetch_all(pool).await?
        });
        let hits = with_unindexed(rows.into_iter().map(|r| (r.created_at, r.hit)).collect(), tail, limit);
        Ok((hits.into_iter().map(|h| h.1).collect(), SearchStep::Index))
    }

    /// SQLite: the newest `limit` live messages of `rooms` that hold every
    /// one of `terms` but are not in the search index yet (those committed
    /// since the indexer last ran, `search_index`), newest first, each with
    /// its time. Matched here as the index matches (each term a substring
    /// of the text, both lower-cased), by [`scan_patterns`] in the database
    /// and [`crate::search::fold`] on what it sends back, so a search does
    /// not wait for the writer to index them. When more than
    /// [`super::search_index::UNINDEXED_MAX`] wait, they are indexed first
    /// instead, and none is left. Postgres indexes every row in its commit:
    /// none.
    async fn search_unindexed(
        &self,
        rooms: SearchScope,
        terms: &[&str],
        limit: u32,
    ) -> Result<Vec<(String, HitRow)>, AppError> {
        let Pool::Sqlite { read, .. } = &self.pool else { return Ok(Vec::new()) };
        if !self.search_index_left_unindexed().await? {
            return Ok(Vec::new());
        }
        let needles: Vec<String> = terms.iter().map(|t| crate::search::fold(t)).collect();
        let Some(longest) = needles.iter().max_by_key(|n| n.chars().count()) else {
            return Ok(Vec::new());
        };
        let patterns = scan_patterns(longest, Backend::Sqlite).unwrap_or_default();
        let (_, scope_id) = rooms.sql();
        let sql = unindexed_sql(rooms, patterns.len());
        let _timer = crate::metrics::QueryTimer::start("read");
        let mut statement = sqlx::query_as::<_, IndexHit>(&sql).bind(scope_id);
        for pattern in patterns {
            statement = statement.bind(pattern);
        }
        let rows = statement.fetch_all(read).await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                let folded = crate::search::fold(&r.hit.body);
                needles.iter().all(|n| folded.contains(n.as_str()))
            })
            .take(limit as usize)
            .map(|r| (r.created_at, r.hit))
            .collect())
    }

    /// SQLite's plan of [`Self::search_unindexed`]'s query, for tests.
    pub async fn search_unindexed_plan(&self, rooms: SearchScope) -> Result<Vec<String>, AppError> {
        let Pool::Sqlite { read, .. } = &self.pool else { return Ok(Vec::new()) };
        let sql = format!("EXPLAIN QUERY PLAN {}", unindexed_sql(rooms, 2));
        let rows = sqlx::query(&sql).bind(rooms.sql().1).bind("%a%").bind("%b%").fetch_all(read).await?;
        Ok(rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, 3)).collect::<Result<_, _>>()?)
    }

    /// The newest `limit` matches, in `rooms`, among the newest `window`
    /// messages (`recent_sql`), matched exactly as the index matches: on
    /// Postgres the index's own expression on each row of the window; on
    /// SQLite the FTS table itself, read only from the window's smallest id
    /// up (its rowid range), so a common query reads a short stretch of its
    /// matches rather than all of them.
    async fn search_recent(
        &self,
        rooms: SearchScope,
        query: &Needles<'_>,
        window: u32,
        limit: u32,
        unindexed: &[(String, HitRow)],
    ) -> Result<Recent, AppError> {
        let (scope, scope_id) = rooms.sql();
        let window_ids = recent_sql(rooms, window, "id, created_at");
        // The hits' times, and the oldest time in the window ("floor").
        let columns = "m.room_id, m.number, m.body, m.created_at, (SELECT min(created_at) FROM w) AS floor";
        let sql = match self.backend() {
            Backend::Sqlite => format!(
                "WITH w AS ({window_ids})
                     SELECT {columns} FROM w JOIN messages m ON m.id = w.id
                     WHERE {scope} AND m.deleted_at IS NULL
                       AND w.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH $2
                                    AND rowid BETWEEN (SELECT min(id) FROM w) AND (SELECT max(id) FROM w))
                     ORDER BY m.created_at DESC, m.id DESC LIMIT $3"
            ),
            // The window's own rows, in its own order, matched as they come
            // until enough match, never joined back to `messages`: joined
            // (or as a CTE, or ordered otherwise), Postgres may collect every
            // match through the trigram index instead (across my rooms, with
            // none of the window mine: 70,000 rows read for "message" in
            // `history_plans`, 170 ms for "meeting" in the benchmark).
            Backend::Postgres => format!(
                r#"SELECT m.room_id, m.number, m.body, m.created_at,
                          (SELECT min(f.created_at) FROM ({window_ids}) f) AS floor
                   FROM ({rows}) m
                   WHERE {scope} AND m.deleted_at IS NULL AND {matches}
                   ORDER BY {order} LIMIT $3"#,
                rows = recent_sql(rooms, window, ROW_COLUMNS),
                order = recent_order(rooms, "m."),
                matches = query.pg_matches("m.body"),
            ),
        };
        let (needle, others) = query.params(self.backend());
        let rows: Vec<RecentHit> = on_pool!(self, pool => {
            let mut statement = sqlx::query_as(&sql).bind(scope_id).bind(needle).bind(i64::from(limit));
            for other in others {
                statement = statement.bind(other);
            }
            statement.fetch_all(pool).await?
        });
        Ok(Recent::of(rows, unindexed, limit))
    }

    /// The newest `limit` matches among the newest messages of each of my
    /// rooms, `window` split among them (at least [`ROOM_WINDOW_MIN`] each,
    /// and only among rooms that hold more),
    /// for when the instance's newest messages, the first window, are
    /// mostly in rooms I am not in (after a bulk import elsewhere, every
    /// common query then went to the index: 155–210 ms p50 on Postgres and
    /// 92 ms on SQLite over 400,000 messages). The same rule as the first
    /// window, with the floor the newest of the cut rooms' oldest taken
    /// times: every message left out is no newer than its room's, so a last
    /// hit newer than all of them is exact. When no room was cut, every
    /// message of my rooms was looked at, and any number of hits is the
    /// answer (none is not: nothing then says that nothing was cut).
    async fn search_room_windows(
        &self,
        rooms: SearchScope,
        query: &Needles<'_>,
        window: u32,
        limit: u32,
        unindexed: &[(String, HitRow)],
    ) -> Result<Recent, AppError> {
        let _timer = crate::metrics::QueryTimer::start("read");
        let rows = match &self.pool {
            Pool::Sqlite { read, .. } => search_room_windows_sqlite(read, rooms, query, window, limit).await?,
            Pool::Postgres(pool) => {
                let (_, scope_id) = rooms.sql();
                let (needle, others) = query.params(Backend::Postgres);
                let sql = room_windows_sql(rooms, window, query);
                let mut statement = sqlx::query_as(&sql).bind(scope_id).bind(needle).bind(i64::from(limit));
                for other in others {
                    statement = statement.bind(other);
                }
                statement.fetch_all(pool).await?
            }
        };
        Ok(Recent::of(rows, unindexed, limit))
    }

    /// How many live messages `rooms` hold (the rooms' own exact counts).
    async fn live_messages_in(&self, rooms: SearchScope) -> Result<i64, AppError> {
        let (_, scope_id) = rooms.sql();
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(messages_count), 0) AS BIGINT) FROM rooms WHERE id IN ({})",
            rooms.rooms_sql()
        );
        let (count,): (i64,) = on_pool!(self, pool => sqlx::query_as(&sql).bind(scope_id).fetch_one(pool).await?);
        Ok(count)
    }

    /// One window of a scan for queries the index cannot answer: each room's
    /// newest `window / rooms` live messages (at least [`SCAN_ROOM_MIN`];
    /// rooms counted only if they hold more) older than the
    /// `(created_at, id)` cursor, read newest first through the room's
    /// `(room_id, created_at, …)` index, matched in the database against
    /// [`scan_patterns`] (a superset of the folded `needle`'s matches, which
    /// the caller checks), and only the rows that may match sent back, with
    /// what the window read.
    ///
    /// The rows kept are those no older than the floor: the newest of the
    /// full rooms' oldest taken messages, by `(created_at, id)`. Every
    /// message of a full room newer than its oldest taken was taken, so
    /// nothing between the cursor and the floor was left out, and the next
    /// window starts below the floor. With no full room every message older
    /// than the cursor was read, and there is no next window.
    pub async fn scan_window(
        &self,
        rooms: SearchScope,
        before: Option<(String, i64)>,
        window: u32,
        needle: &str,
    ) -> Result<ScanWindow, AppError> {
        let (_, scope_id) = rooms.sql();
        let (at, id) = before.unwrap_or_else(|| ("9999".to_owned(), i64::MAX));
        let patterns = scan_patterns(needle, self.backend());
        let sql = scan_sql(self.backend(), rooms, patterns.as_ref().map(Vec::len));
        let _timer = crate::metrics::QueryTimer::start("read");
        let rows: Vec<ScanWindowRow> = match &self.pool {
            Pool::Sqlite { read, .. } => {
                let mut query = sqlx::query_as(&sql).bind(scope_id).bind(&at).bind(id).bind(i64::from(window));
                for pattern in patterns.iter().flatten() {
                    query = query.bind(pattern.clone());
                }
                query.fetch_all(read).await?
            }
            Pool::Postgres(pool) => {
                let query = sqlx::query_as(&sql).bind(scope_id).bind(&at).bind(id).bind(i64::from(window));
                match patterns {
                    Some(patterns) => query.bind(patterns).fetch_all(pool).await?,
                    None => query.fetch_all(pool).await?,
                }
            }
        };
        let Some(first) = rows.first() else {
            return Err(AppError::Internal("a scan window answered no summary row".into()));
        };
        let next = first.floor_at.clone().zip(first.floor_id);
        let (read_rows, read_bytes) = (first.read_rows, first.read_bytes);
        // Rows older than the floor are left for the next window.
        let rows = rows
            .into_iter()
            .filter(|r| match (&next, &r.created_at, r.id) {
                (Some((at, id)), Some(row_at), Some(row_id)) => (row_at, row_id) >= (at, *id),
                _ => true,
            })
            .filter_map(|r| Some(HitRow { room_id: RoomId(r.room_id?), number: r.number?, body: r.body? }))
            .collect();
        Ok(ScanWindow { rows, read_rows, read_bytes, next })
    }
}

/// SQLite: the live messages of `rooms` (`$1`) above the search index's
/// mark that match one of `patterns` `LIKE` patterns (`$2`…; any when
/// none), newest first. `NOT INDEXED` keeps SQLite to the id range above
/// the mark (the rowid is still used): through the room's indexes, which
/// the ordering draws it to, it read every message of the room (30–60 ms
/// a search at 300,000 messages, under ingest).
fn unindexed_sql(rooms: SearchScope, patterns: usize) -> String {
    let (scope, _) = rooms.sql();
    let like = if patterns == 0 { String::new() } else { format!("AND {}", sqlite_like_any(2, patterns)) };
    format!(
        "SELECT m.room_id, m.number, m.body, m.created_at FROM messages m NOT INDEXED
         WHERE m.id > (SELECT through FROM messages_fts_progress) AND {scope} AND m.deleted_at IS NULL {like}
         ORDER BY m.created_at DESC, m.id DESC"
    )
}

/// SQLite: `m.body` matches one of `n` `LIKE` patterns (escaped with a
/// backslash), bound from `$first` on.
fn sqlite_like_any(first: usize, n: usize) -> String {
    let each: Vec<String> = (0..n).map(|i| format!("m.body LIKE ${} ESCAPE '\\'", first + i)).collect();
    format!("({})", each.join(" OR "))
}

/// A query for the ids and times of the newest `window` messages, deleted
/// or not, that a search looks at first: the room's, through its
/// `(room_id, created_at, …)` index, or for a search across my rooms the
/// whole instance's, through `messages_created` (migration 0004), whatever
/// their room. Either way no message left out is newer than the oldest one
/// taken, which is what makes the first step of `search_indexed` exact, and
/// the cost is `window` rows however many rooms I am in: my messages among
/// them are the newest of mine, the scope filter comes after.
fn recent_sql(rooms: SearchScope, window: u32, columns: &str) -> String {
    let room = match rooms {
        SearchScope::Room(_) => "WHERE room_id = $1",
        SearchScope::MemberOf(_) => "",
    };
    format!("SELECT {columns} FROM messages {room} ORDER BY {} LIMIT {window}", recent_order(rooms, ""))
}

/// The order of `recent_sql`'s window, its columns prefixed with `table`. A
/// room's is its own order, which its (room_id, created_at, number) index
/// gives as it is: ordered by (created_at, id) Postgres would walk
/// `messages_created` and skip every other room's newer messages. Within a
/// room times rise with numbers, so it is also the room's (created_at, id)
/// order.
fn recent_order(rooms: SearchScope, table: &str) -> String {
    match rooms {
        SearchScope::Room(_) => format!("{table}created_at DESC, {table}number DESC"),
        SearchScope::MemberOf(_) => format!("{table}created_at DESC, {table}id DESC"),
    }
}

/// The columns a Postgres window reads for matching in place.
const ROW_COLUMNS: &str = "id, created_at, room_id, number, body, deleted_at";

/// Postgres: the newest `$3` live messages matching `$2` (a `LIKE` pattern,
/// as the trigram index matches) among each room's newest `window / rooms`
/// messages (at least [`ROOM_WINDOW_MIN`]), read newest first through its
/// `(room_id, created_at, …)` index, with `floor` the newest oldest-taken
/// time of the rooms whose window was full (NULL when none was). The rows
/// are matched as the windows give them, never joined back to `messages`:
/// joined, Postgres collected every match through the trigram index instead
/// (76 ms for "meeting", against 2 ms).
fn room_windows_sql(rooms: SearchScope, window: u32, query: &Needles<'_>) -> String {
    let rooms = rooms.rooms_sql();
    let per_room = format!("({})", share_sql(Backend::Postgres, rooms, &window.to_string(), ROOM_WINDOW_MIN));
    let window = |columns: &str, room: &str| {
        format!(
            "SELECT {columns} FROM messages x WHERE x.room_id = {room}.room_id
             ORDER BY x.created_at DESC, x.number DESC LIMIT {per_room}"
        )
    };
    let taken = window("created_at", "s");
    let read = window(ROW_COLUMNS, "s");
    format!(
        r#"SELECT w.room_id, w.number, w.body, w.created_at,
                  (SELECT max(t.oldest) FROM ({rooms}) s
                   CROSS JOIN LATERAL (SELECT min(y.created_at) AS oldest, count(*) AS taken FROM ({taken}) y) t
                   WHERE t.taken >= {per_room}) AS floor
           FROM ({rooms}) s CROSS JOIN LATERAL ({read}) w
           WHERE w.deleted_at IS NULL AND {matches}
           ORDER BY w.created_at DESC, w.id DESC LIMIT $3"#,
        matches = query.pg_matches("w.body"),
    )
}

/// SQLite's [`room_windows_sql`], in two queries. It matches through the
/// FTS table, as the first window does (SQLite's `lower` and `LIKE` fold
/// ASCII only, so matching the rows in place would not match as the index
/// does), and FTS5 can be asked for a range of ids, not a list: first the
/// windows' ids (from the rooms' index alone), then the matches over at most
/// [`ROOM_WINDOW_RANGES`] ranges that cover those ids (split at the widest
/// gaps between them), kept only if in a window. When the ranges would
/// span more than [`ROOM_WINDOW_SPAN_MAX`] ids (rooms scattered through a
/// busy instance's history), nothing is matched and the search goes on to
/// the index.
async fn search_room_windows_sqlite(
    pool: &sqlx::SqlitePool,
    rooms: SearchScope,
    query: &Needles<'_>,
    window: u32,
    limit: u32,
) -> Result<Vec<RecentHit>, AppError> {
    let (_, scope_id) = rooms.sql();
    let rooms = rooms.rooms_sql();
    let share = share_sql(Backend::Sqlite, rooms, &window.to_string(), ROOM_WINDOW_MIN);
    // Each room's window is its messages from its `per_room`-th newest on
    // (all of them when it has fewer), read from the room's index alone,
    // which holds ids and times; `at` is that message's time, the oldest
    // taken from a full window (NULL when the room has fewer).
    let windows = format!(
        "WITH n AS (SELECT share - 1 AS skip FROM ({share}) q),
         b AS MATERIALIZED (
             SELECT s.room_id,
                    (SELECT z.created_at FROM messages z WHERE z.room_id = s.room_id
                     ORDER BY z.created_at DESC, z.number DESC LIMIT 1 OFFSET (SELECT skip FROM n)) AS at,
                    (SELECT z.number FROM messages z WHERE z.room_id = s.room_id
                     ORDER BY z.created_at DESC, z.number DESC LIMIT 1 OFFSET (SELECT skip FROM n)) AS number
             FROM ({rooms}) s)
         SELECT y.id, b.at FROM b
         JOIN messages y ON y.room_id = b.room_id
                        AND (y.created_at, y.number) >= (coalesce(b.at, ''), coalesce(b.number, 0))"
    );
    let taken: Vec<(i64, Option<String>)> = sqlx::query_as(&windows).bind(scope_id).fetch_all(pool).await?;
    // The floor: the newest of the full windows' oldest times.
    let floor = taken.iter().filter_map(|t| t.1.as_deref()).max().map(str::to_owned);
    let ids: Vec<i64> = taken.into_iter().map(|t| t.0).collect();
    let Some(ranges) = id_ranges(ids.clone()) else {
        return Ok(Vec::new());
    };

    let matched = (0..ranges.len())
        .map(|i| {
            format!(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH $2 AND rowid BETWEEN ${} AND ${}",
                4 + 2 * i,
                5 + 2 * i
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = format!(
        "SELECT m.room_id, m.number, m.body, m.created_at, NULL AS floor FROM messages m
         WHERE m.id IN (SELECT value FROM json_each($1)) AND m.deleted_at IS NULL AND m.id IN ({matched})
         ORDER BY m.created_at DESC, m.id DESC LIMIT $3"
    );
    let ids = serde_json::to_string(&ids).expect("ids serialise");
    let mut statement = sqlx::query_as::<_, RecentHit>(&sql).bind(ids).bind(query.fts()).bind(i64::from(limit));
    for (lo, hi) in ranges {
        statement = statement.bind(lo).bind(hi);
    }
    let mut hits = statement.fetch_all(pool).await?;
    for hit in &mut hits {
        hit.floor.clone_from(&floor);
    }
    Ok(hits)
}

/// At most [`ROOM_WINDOW_RANGES`] ranges `(lo, hi)` that cover `ids`, cut
/// at the widest gaps between them that are wider than
/// [`ROOM_WINDOW_GAP_READ`]; `None` when there are no ids, or the ranges
/// hold more than [`ROOM_WINDOW_SPAN_MAX`] ids in all.
fn id_ranges(mut ids: Vec<i64>) -> Option<Vec<(i64, i64)>> {
    ids.sort_unstable();
    ids.dedup();
    let (first, last) = (*ids.first()?, *ids.last()?);
    // The widest gaps (by the index of the id before each), cut in order.
    let mut gaps: Vec<(i64, usize)> = ids.windows(2).enumerate().map(|(i, w)| (w[1] - w[0], i)).collect();
    gaps.sort_unstable_by(|a, b| b.cmp(a));
    let mut cuts: Vec<usize> =
        gaps.iter().take(ROOM_WINDOW_RANGES - 1).filter(|g| g.0 > ROOM_WINDOW_GAP_READ).map(|g| g.1).collect();
    cuts.sort_unstable();
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut lo = first;
    for cut in cuts {
        ranges.push((lo, ids[cut]));
        lo = ids[cut + 1];
    }
    ranges.push((lo, last));
    let span: i64 = ranges.iter().map(|(lo, hi)| hi - lo + 1).sum();
    (span <= ROOM_WINDOW_SPAN_MAX).then_some(ranges)
}

/// A query of one row and column, `share`: each room's part of a window of
/// `window` (an SQL expression) messages shared among `rooms` (a query of
/// `room_id`s), at least `min`. Only rooms holding more than `min`
/// messages count: someone in one busy room and 999 direct rooms of a few
/// messages each gets the busy room's window as if alone, while the small
/// rooms, taking `min` each, are still read whole.
fn share_sql(backend: Backend, rooms: &str, window: &str, min: u32) -> String {
    let greatest = match backend {
        Backend::Sqlite => "max",
        Backend::Postgres => "greatest",
    };
    format!(
        "SELECT CAST({greatest}({window} / {greatest}(count(*), 1), {min}) AS BIGINT) AS share
         FROM rooms r WHERE r.id IN ({rooms}) AND r.messages_count > {min}"
    )
}

/// The query of [`Store::scan_window`]: `$1` the room or user, `$2` and
/// `$3` the cursor, `$4` the window; then the `patterns` patterns (one
/// array on Postgres, one parameter each on SQLite; `None`: every row may
/// match). One summary row at least (what was read, the floor), the rows
/// that may match beside it, newest first.
///
/// Each room is read on its own, newest first through its
/// `(room_id, created_at, …)` index: a `room_id IN (…)` over several rooms
/// would sort every message of them all. Postgres says it with `LATERAL`;
/// SQLite, which has none, with a correlated `IN (… LIMIT)` per room.
fn scan_sql(backend: Backend, scope: SearchScope, patterns: Option<usize>) -> String {
    let rooms = scope.rooms_sql();
    let per_room = "FROM messages x WHERE x.room_id = s.room_id AND x.deleted_at IS NULL
           AND x.created_at <= $2 AND (x.created_at < $2 OR x.id < $3)
         ORDER BY x.created_at DESC, x.number DESC LIMIT (SELECT n FROM k)";
    let may_match = match (backend, patterns) {
        (_, None) => "1 = 1".to_owned(),
        // Postgres's `LIKE` escapes with a backslash unless told otherwise.
        (Backend::Postgres, Some(_)) => "m.body LIKE ANY ($5)".to_owned(),
        (Backend::Sqlite, Some(n)) => sqlite_like_any(5, n),
    };
    // The window's rows without their text: its size, and whether it may
    // match; the text is read again for those that may.
    let bytes = match backend {
        Backend::Sqlite => "length(CAST(m.body AS BLOB))",
        Backend::Postgres => "octet_length(m.body)",
    };
    let columns = format!(
        "m.id, m.created_at, m.room_id, m.number, {bytes} AS len, CASE WHEN {may_match} THEN 1 ELSE 0 END AS hit"
    );
    let window = match (backend, scope) {
        // One room: its index read straight.
        (Backend::Sqlite, SearchScope::Room(_)) => format!(
            "SELECT {columns} FROM messages m WHERE m.room_id = $1 AND m.deleted_at IS NULL
               AND m.created_at <= $2 AND (m.created_at < $2 OR m.id < $3)
             ORDER BY m.created_at DESC, m.number DESC LIMIT (SELECT n FROM k)"
        ),
        (Backend::Sqlite, SearchScope::MemberOf(_)) => {
            format!("SELECT {columns} FROM ({rooms}) s JOIN messages m ON m.id IN (SELECT x.id {per_room})")
        }
        (Backend::Postgres, _) => format!(
            "SELECT {columns}
             FROM ({rooms}) s CROSS JOIN LATERAL (SELECT x.id, x.created_at, x.room_id, x.number, x.body {per_room}) m"
        ),
    };
    let share = share_sql(backend, rooms, "$4", SCAN_ROOM_MIN);
    // The floor: of the full rooms' oldest taken messages (each its room's
    // lowest number taken, as times rise with numbers), the newest.
    format!(
        "WITH k AS (SELECT share AS n FROM ({share}) q),
         w AS MATERIALIZED ({window}),
         g AS (SELECT room_id, min(number) AS low FROM w GROUP BY room_id HAVING count(*) >= (SELECT n FROM k)),
         f AS (SELECT y.created_at, y.id FROM g JOIN messages y ON y.room_id = g.room_id AND y.number = g.low
               ORDER BY y.created_at DESC, y.id DESC LIMIT 1),
         t AS (SELECT CAST(count(*) AS BIGINT) AS read_rows, CAST(coalesce(sum(len), 0) AS BIGINT) AS read_bytes FROM w),
         c AS (SELECT w.id, w.created_at, w.room_id, w.number, m.body FROM w JOIN messages m ON m.id = w.id WHERE w.hit = 1)
         SELECT t.read_rows, t.read_bytes, f.created_at AS floor_at, f.id AS floor_id,
                c.id, c.created_at, c.room_id, c.number, c.body
         FROM t LEFT JOIN f ON 1 = 1 LEFT JOIN c ON 1 = 1
         ORDER BY c.created_at DESC, c.id DESC"
    )
}

/// `LIKE` patterns (escaped with a backslash) that together match every
/// text whose folded form ([`crate::search::fold`]) contains `needle`
/// (already folded), and some others: a text matches when it has, in a
/// row, one character per character of the needle whose folded form
/// contains it.
/// SQLite's `LIKE` ignores ASCII case by itself; Postgres's ignores none.
/// `None` when that would take more than [`SCAN_PATTERNS_MAX`] patterns, or
/// two characters of the needle can come from one folded character (the
/// pattern would then miss a match): every row then goes to the caller.
fn scan_patterns(needle: &str, backend: Backend) -> Option<Vec<String>> {
    let folds = Folds::get();
    let chars: Vec<char> = needle.chars().collect();
    if chars.windows(2).any(|w| folds.pairs.contains(&(w[0], w[1]))) {
        return None;
    }
    let mut patterns = vec![String::new()];
    for c in chars {
        let mut each = vec![c];
        each.extend(folds.from.get(&c).into_iter().flatten().copied());
        if backend == Backend::Sqlite {
            each.retain(|v| !(v.is_ascii_uppercase() && v.to_ascii_lowercase() == c));
        }
        if patterns.len() * each.len() > SCAN_PATTERNS_MAX {
            return None;
        }
        patterns = patterns
            .iter()
            .flat_map(|p| each.iter().map(move |v| format!("{p}{}", escape_like(&v.to_string()))))
            .collect();
    }
    Some(patterns.into_iter().map(|p| format!("%{p}%")).collect())
}

/// Which characters fold to which: Unicode's lower-case mappings turned
/// around, built once.
struct Folds {
    /// A character, and the others whose folded form contains it.
    from: std::collections::HashMap<char, Vec<char>>,
    /// Two characters that are next to each other in one character's folded
    /// form ("İ" folds to "i" and a combining dot).
    pairs: std::collections::HashSet<(char, char)>,
}

impl Folds {
    fn get() -> &'static Self {
        static FOLDS: std::sync::OnceLock<Folds> = std::sync::OnceLock::new();
        FOLDS.get_or_init(|| {
            let mut folds = Folds { from: Default::default(), pairs: Default::default() };
            for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
                let mut lower = c.to_lowercase();
                if lower.len() == 1 && lower.next() == Some(c) {
                    continue;
                }
                let lower: Vec<char> = c.to_lowercase().collect();
                for &l in &lower {
                    if l != c {
                        folds.from.entry(l).or_default().push(c);
                    }
                }
                folds.pairs.extend(lower.windows(2).map(|w| (w[0], w[1])));
            }
            folds
        })
    }
}

/// A row of [`scan_sql`]: the window's summary on every row, and a row that
/// may match, if any.
#[derive(sqlx::FromRow)]
struct ScanWindowRow {
    read_rows: i64,
    read_bytes: i64,
    floor_at: Option<String>,
    floor_id: Option<i64>,
    id: Option<i64>,
    created_at: Option<String>,
    room_id: Option<i64>,
    number: Option<i64>,
    body: Option<String>,
}

/// What one window of a scan found (see [`Store::scan_window`]).
#[derive(Debug)]
pub struct ScanWindow {
    /// The rows that may match, newest first.
    pub rows: Vec<HitRow>,
    /// Messages read, and the bytes of their text.
    pub read_rows: i64,
    pub read_bytes: i64,
    /// The cursor of the next window, or `None` when nothing is left.
    pub next: Option<(String, i64)>,
}

/// The most terms one indexed search matches (each is one more `LIKE` on
/// Postgres, one more phrase of the FTS5 query on SQLite).
pub const NEEDLES_MAX: usize = 8;

/// What an indexed search matches: messages that contain every one of its
/// terms (each three characters or more), in any order.
pub(super) struct Needles<'a>(&'a [&'a str]);

impl<'a> Needles<'a> {
    fn new(terms: &'a [&'a str]) -> Result<Self, AppError> {
        if terms.is_empty() || terms.len() > NEEDLES_MAX || terms.iter().any(|t| t.chars().count() < 3) {
            return Err(AppError::internal(format!("an indexed search was given {} terms: {terms:?}", terms.len())));
        }
        Ok(Self(terms))
    }

    /// SQLite: one FTS5 query, each term a quoted phrase, all of them
    /// required.
    fn fts(&self) -> String {
        fts_all(self.0)
    }

    /// Postgres: `column` matched against every term as the trigram index
    /// matches (its expression, migrations/postgres/0003), the first term
    /// bound as `$2`, the others from `$4` on (`$3` is the limit).
    fn pg_matches(&self, column: &str) -> String {
        (0..self.0.len())
            .map(|i| {
                let n = if i == 0 { 2 } else { 3 + i };
                format!(r#"lower({column} COLLATE "und-x-icu") LIKE lower(${n} COLLATE "und-x-icu") ESCAPE '\'"#)
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The parameter bound as `$2`, and those bound from `$4` on: the FTS5
    /// query alone on SQLite, one `LIKE` pattern per term on Postgres.
    fn params(&self, backend: Backend) -> (String, Vec<String>) {
        match backend {
            Backend::Sqlite => (self.fts(), Vec::new()),
            Backend::Postgres => {
                let mut patterns = self.0.iter().map(|t| like_contains(t));
                let first = patterns.next().unwrap_or_default();
                (first, patterns.collect())
            }
        }
    }
}

/// An FTS5 query that matches text containing every one of `terms`: each a
/// quoted phrase ([`fts_phrase`]), joined by `AND`.
pub fn fts_all(terms: &[&str]) -> String {
    terms.iter().map(|t| fts_phrase(t)).collect::<Vec<_>>().join(" AND ")
}

/// The query as one quoted FTS5 string: operators, column filters and quotes
/// inside it are plain text.
pub fn fts_phrase(query: &str) -> String {
    format!("\"{}\"", query.replace('"', "\"\""))
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `query`, its
/// `%`, `_` and `\` taken literally.
pub fn like_contains(query: &str) -> String {
    format!("%{}%", escape_like(query))
}

/// A hit with its time: of the index (`search_indexed`'s last step) or
/// among messages not indexed yet.
#[derive(sqlx::FromRow)]
struct IndexHit {
    #[sqlx(flatten)]
    hit: HitRow,
    created_at: String,
}

/// A hit of the first steps of `search_indexed`, with its time and the
/// oldest time in the window it came from.
#[derive(sqlx::FromRow)]
struct RecentHit {
    #[sqlx(flatten)]
    hit: HitRow,
    created_at: String,
    floor: Option<String>,
}

/// What a window answered: the newest matches in it (at most the limit),
/// and whether they are the answer for all history.
struct Recent {
    hits: Vec<HitRow>,
    complete: bool,
}

impl Recent {
    /// The window's matches among indexed messages (`rows`) with the
    /// `unindexed` ones (which the window's index lookups cannot see), the
    /// newest `limit` of both. The answer only if the last hit is strictly
    /// newer than the floor (the oldest time taken from a window that left
    /// messages out): then every message left out comes after every hit,
    /// ties in time included, and every match not left out, indexed or not,
    /// was seen. With no floor nothing was left out, and any hits are the
    /// answer (none is not: no row then says that nothing was left out).
    fn of(rows: Vec<RecentHit>, unindexed: &[(String, HitRow)], limit: u32) -> Self {
        let floor = rows.first().map(|r| r.floor.clone());
        let hits = with_unindexed(rows.into_iter().map(|r| (r.created_at, r.hit)).collect(), unindexed, limit);
        let complete = match (floor, hits.last()) {
            (Some(None), Some(_)) => true,
            (Some(Some(floor)), Some(last)) => hits.len() >= limit as usize && last.0 > floor,
            _ => false,
        };
        Self { hits: hits.into_iter().map(|h| h.1).collect(), complete }
    }
}

/// Indexed hits and unindexed ones, each newest first with its time, as one
/// list, newest first, at most `limit`. Unindexed messages came after every
/// indexed one, so at the same time they go first, as their larger ids
/// would; a message in both (indexed between the two reads) counts once.
fn with_unindexed(indexed: Vec<(String, HitRow)>, unindexed: &[(String, HitRow)], limit: u32) -> Vec<(String, HitRow)> {
    if unindexed.is_empty() {
        return indexed;
    }
    let mut all: Vec<(String, HitRow)> = unindexed.to_vec();
    all.extend(
        indexed
            .into_iter()
            .filter(|(_, h)| !unindexed.iter().any(|(_, u)| u.room_id == h.room_id && u.number == h.number)),
    );
    // Stable: each list keeps its own order among hits of one time.
    all.sort_by(|a, b| b.0.cmp(&a.0));
    all.truncate(limit as usize);
    all
}

/// Which rooms a search covers.
#[derive(Debug, Clone, Copy)]
pub enum SearchScope {
    Room(RoomId),
    MemberOf(UserId),
}

impl SearchScope {
    /// The condition on `m.room_id` (bound as `$1`) and its value.
    fn sql(self) -> (&'static str, i64) {
        match self {
            Self::Room(room) => ("m.room_id = $1", room.0),
            Self::MemberOf(user) => ("m.room_id IN (SELECT room_id FROM memberships WHERE user_id = $1)", user.0),
        }
    }

    /// The rooms as a query of one column, `room_id` (`$1` bound as in [`Self::sql`]).
    fn rooms_sql(self) -> &'static str {
        match self {
            Self::Room(_) => "SELECT CAST($1 AS BIGINT) AS room_id",
            Self::MemberOf(_) => "SELECT room_id FROM memberships WHERE user_id = $1",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_covered_by_few_ranges_cut_at_the_widest_gaps() {
        assert_eq!(id_ranges(vec![]), None);
        assert_eq!(id_ranges(vec![7]), Some(vec![(7, 7)]));
        // A run, and one far away (a quiet room's only message).
        let mut ids: Vec<i64> = (1000..2000).collect();
        ids.push(90_000);
        assert_eq!(id_ranges(ids), Some(vec![(1000, 1999), (90_000, 90_000)]));
        // Runs with small gaps stay whole; the widest gaps are cut first.
        let ids: Vec<i64> = (0..40).map(|i| i * 10).chain([5000, 5001, 9000]).collect();
        assert_eq!(id_ranges(ids), Some(vec![(0, 390), (5000, 5001), (9000, 9000)]));
        // More scattered ids than ranges: the gaps left inside are read.
        let ids: Vec<i64> = (0..17).map(|i| i * 2000).collect();
        let ranges = id_ranges(ids).expect("within the span");
        assert_eq!(ranges.len(), ROOM_WINDOW_RANGES);
        assert_eq!(ranges[0], (0, 2000));
        assert_eq!(ranges[1], (4000, 4000));
        // Too many ids between them: no ranges.
        let ids: Vec<i64> = (0..20).map(|i| i * 100_000).collect();
        assert_eq!(id_ranges(ids), None);
    }

    #[test]
    fn scan_patterns_cover_every_way_a_text_can_fold_to_the_needle() {
        let sqlite = |n: &str| scan_patterns(n, Backend::Sqlite);
        let postgres = |n: &str| scan_patterns(n, Backend::Postgres);
        // SQLite's LIKE ignores ASCII case; Postgres's does not.
        assert_eq!(sqlite("qx"), Some(vec!["%qx%".to_owned()]));
        assert_eq!(postgres("qx"), Some(vec!["%qx%", "%qX%", "%Qx%", "%QX%"].into_iter().map(String::from).collect()));
        // The Kelvin sign folds to "k"; "ü" has its capital; "中" no case.
        assert_eq!(sqlite("k"), Some(vec!["%k%".to_owned(), "%\u{212a}%".to_owned()]));
        assert_eq!(sqlite("üb"), Some(vec!["%üb%".to_owned(), "%Üb%".to_owned()]));
        assert_eq!(postgres("中文"), Some(vec!["%中文%".to_owned()]));
        // "İ" folds to "i" and a combining dot: it may stand for an "i".
        assert!(sqlite("i").expect("patterns").contains(&"%İ%".to_owned()));
        // ...but then two characters of the needle come from one of the text.
        assert_eq!(sqlite("i\u{307}"), None);
        // LIKE's own characters are taken literally.
        assert_eq!(sqlite("%_"), Some(vec![r"%\%\_%".to_owned()]));
        // Too many combinations: every row goes to the caller.
        assert_eq!(postgres("kkk"), None);
        // Every pattern, read as LIKE would, matches what folds to the needle.
        for (text, needle) in [("QX", "qx"), ("ÜBER", "üb"), ("\u{212a}", "k"), ("xİ", "xi")] {
            let patterns = sqlite(needle).expect("patterns");
            assert!(patterns.iter().any(|p| like_ascii_insensitive(text, p)), "{text:?} not matched for {needle:?}");
        }
    }

    /// SQLite's `LIKE` for `%literal%` patterns: ASCII case ignored.
    fn like_ascii_insensitive(text: &str, pattern: &str) -> bool {
        let inner = pattern.trim_matches('%').replace('\\', "");
        text.to_ascii_lowercase().contains(&inner.to_ascii_lowercase())
    }

    #[test]
    fn queries_are_quoted_literally_for_either_index() {
        assert_eq!(fts_phrase(r#"say "hi" OR x*"#), r#""say ""hi"" OR x*""#);
        assert_eq!(like_contains(r"50%_a\b"), r"%50\%\_a\\b%");
        assert_eq!(fts_all(&["say", "a\"b"]), r#""say" AND "a""b""#);
    }

    #[test]
    fn every_term_is_one_more_like_on_postgres() {
        let terms = ["abc", "d%e", "xyz"];
        let needles = Needles::new(&terms).expect("terms");
        let sql = needles.pg_matches("m.body");
        assert_eq!(sql.matches(" LIKE ").count(), 3);
        assert!(
            sql.contains("lower($2 COLLATE") && sql.contains("lower($4 COLLATE") && sql.contains("lower($5 COLLATE")
        );
        assert!(!sql.contains("$3"), "{sql}");
        assert_eq!(
            needles.params(Backend::Postgres),
            ("%abc%".to_owned(), vec![r"%d\%e%".to_owned(), "%xyz%".to_owned()])
        );
        assert_eq!(needles.params(Backend::Sqlite), (r#""abc" AND "d%e" AND "xyz""#.to_owned(), vec![]));
        // Short terms, no terms or too many never reach the index.
        assert!(Needles::new(&["ab"]).is_err());
        assert!(Needles::new(&[]).is_err());
        assert!(Needles::new(&["abc"; NEEDLES_MAX + 1]).is_err());
    }
}
