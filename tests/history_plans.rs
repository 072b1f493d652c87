//! Every history shape reads one index range of a page, whatever the size of
//! the room: on a room of 200,000 messages (written in bulk SQL), the plan
//! of each page query ([`Store::history_plans`]: the same SQL and
//! parameters as `Store::history`) walks an index of the room's messages,
//! with no sort of the room's rows (`USE TEMP B-TREE` on SQLite, a `Sort`
//! node on Postgres) and no full scan; on Postgres the plan is run
//! (`EXPLAIN (ANALYZE, BUFFERS)`), and may read no more than a page's rows
//! and pages. Plans, not times, so it cannot be
//! flaky. On SQLite, and on Postgres when `HEARTH_TEST_POSTGRES_URL` is set
//! (`make test` sets it; the test says it was skipped without it).
//! Also, on Postgres, what a send's lookup and a search across my rooms
//! read, counted from the table's statistics; and on both, that a send's
//! lookup of earlier sends and search results' bylines find rows by key,
//! and a message's replies are read from their own index.

use hearth::model::{RoomId, RoomKind, UserId};
use hearth::store::{Backend, HistoryQuery, NewUserRow, SearchScope, SearchStep, Store};
use hearth::testing::{BlankPostgres, store_with_alice};
use sqlx::Connection;

const MESSAGES: i64 = 200_000;

/// `$3` messages by user `$2` in room `$1`, numbered after `$4` (each sent
/// with a `client_id`, `c` and its number, as the web client sends one),
/// one a second from 2026-01-01: SQLite's and Postgres's spelling.
const SQLITE_BULK: &str = "WITH RECURSIVE n(i) AS (SELECT $4 + 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4 + $3)
     INSERT INTO messages (room_id, number, user_id, body, client_id, created_at)
     SELECT $1, i, $2, 'message ' || i, 'c' || i,
            strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || i || ' seconds') || '.000000Z'
     FROM n";
const POSTGRES_BULK: &str = "INSERT INTO messages (room_id, number, user_id, body, client_id, created_at)
     SELECT $1, i, $2, 'message ' || i, 'c' || i,
            to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z'
     FROM generate_series($4::bigint + 1, $4::bigint + $3::bigint) AS i";
/// Room `$1`'s counters, as if its last message were number `$2`.
const COUNTERS: &str = "UPDATE rooms SET last_number = $2, messages_count = $2, last_seq = $2 WHERE id = $1";

/// The bulk insert ([`SQLITE_BULK`] or [`POSTGRES_BULK`]) and the statement
/// that gathers statistics, for `url`'s database.
fn bulk_sql(url: &str) -> (&'static str, &'static str) {
    match Backend::of_url(url).expect("scheme") {
        Backend::Sqlite => (SQLITE_BULK, "ANALYZE"),
        Backend::Postgres => (POSTGRES_BULK, "ANALYZE messages"),
    }
}

/// Runs `$body` with `$conn` a connection of its own to `$url` (SQLite or
/// Postgres, whose types differ), then closes it.
macro_rules! with_connection {
    ($url:expr, |$conn:ident| $body:block) => {
        match Backend::of_url($url).expect("scheme") {
            Backend::Sqlite => {
                let mut $conn = sqlx::SqliteConnection::connect($url).await.expect("connect");
                $body
                $conn.close().await.expect("close");
            }
            Backend::Postgres => {
                let mut $conn = sqlx::PgConnection::connect($url).await.expect("connect");
                $body
                $conn.close().await.expect("close");
            }
        }
    };
}

/// A store with one room of `MESSAGES` messages (each sent with a
/// `client_id`, as the web client sends them), one a second from
/// 2026-01-01, numbered 1.. with the room's counters to match; statistics
/// gathered, as a live database has them.
async fn big_room(url: &str) -> (Store, RoomId) {
    let (store, alice) = store_with_alice(url).await;
    let room = store.create_room(RoomKind::Open, Some("Big"), alice, &[alice]).await.expect("room");
    // A second, smaller room, so that the room filter matters.
    let other = store.create_room(RoomKind::Open, Some("Other"), alice, &[alice]).await.expect("room");
    store.insert_message(other, Some(alice), None, "elsewhere", None).await.expect("message");

    let (insert, analyze) = bulk_sql(url);
    with_connection!(url, |conn| {
        sqlx::query(insert)
            .bind(room.0)
            .bind(alice.0)
            .bind(MESSAGES)
            .bind(0_i64)
            .execute(&mut conn)
            .await
            .expect("bulk insert");
        sqlx::query(COUNTERS).bind(room.0).bind(MESSAGES).execute(&mut conn).await.expect("counters");
        sqlx::query(analyze).execute(&mut conn).await.expect("analyze");
    });
    (store, room)
}

/// Every shape, bounded in the middle of the room.
fn shapes() -> Vec<(&'static str, HistoryQuery)> {
    let middle = MESSAGES / 2;
    let time = "2026-01-02T03:46:40.000000Z".to_owned(); // message 100,000's time
    vec![
        ("newest", HistoryQuery::Latest),
        ("before a number", HistoryQuery::BeforeNumber(middle)),
        ("after a number", HistoryQuery::AfterNumber(middle)),
        ("around a number", HistoryQuery::Around(middle)),
        ("before a time", HistoryQuery::BeforeTime(time.clone())),
        ("after a time", HistoryQuery::AfterTime(time)),
    ]
}

async fn assert_every_shape_reads_an_index_range(store: &Store, room: RoomId) {
    // The bulk rows are readable as history (the plans are of real pages).
    let newest = store.history(room, &HistoryQuery::Latest, 50).await.expect("newest page");
    assert_eq!(newest.first().map(|m| m.number), Some(MESSAGES - 49));
    assert_eq!(newest.last().map(|m| m.number), Some(MESSAGES));

    for (shape, query) in shapes() {
        let plans = store.history_plans(room, &query, 50).await.expect("plans");
        assert!(!plans.is_empty(), "{shape}");
        for plan in plans {
            let text = plan.join("\n");
            match store.backend() {
                Backend::Sqlite => {
                    assert!(!text.contains("TEMP B-TREE"), "{shape}: sorts the room's rows:\n{text}");
                    assert!(
                        text.contains("USING INDEX messages_room_number")
                            || text.contains("USING INDEX messages_room_created"),
                        "{shape}: not an index range of the room:\n{text}"
                    );
                    // (A `SCAN` of the one-row users table is SQLite's cheapest join here.)
                    assert!(!plan.iter().any(|line| line.starts_with("SCAN m")), "{shape}: a full scan:\n{text}");
                }
                Backend::Postgres => {
                    assert!(!text.contains("Sort"), "{shape}: sorts the room's rows:\n{text}");
                    assert!(!text.contains("Seq Scan"), "{shape}: a full scan:\n{text}");
                    assert!(text.contains("Index Scan"), "{shape}: not an index scan:\n{text}");
                    assert!(text.starts_with("Limit"), "{shape}: the index scan is not cut at the page:\n{text}");
                    // Run: no step read more than a page's rows (an index
                    // walked in the wrong order reads, and filters out, half
                    // the room without needing a sort).
                    for count in
                        numbers_after(&text, "actual rows=").chain(numbers_after(&text, "Rows Removed by Filter: "))
                    {
                        assert!(count <= 1_000, "{shape}: a step read {count} rows:\n{text}");
                    }
                    // Nor more than a page's pages: an index condition on a
                    // later column of the index (`number` in `(room_id,
                    // created_at, number)`) skips entries without counting
                    // them as rows, but not without reading their pages.
                    let top = plan.iter().find(|line| line.trim_start().starts_with("Buffers:")).expect("buffers");
                    let pages: u64 = numbers_after(top, "hit=").chain(numbers_after(top, "read=")).sum();
                    assert!(pages <= 100, "{shape}: read {pages} pages:\n{text}");
                }
            }
        }
    }
}

/// Every number that follows `label` in `text`.
fn numbers_after<'a>(text: &'a str, label: &'a str) -> impl Iterator<Item = u64> + 'a {
    text.match_indices(label).filter_map(move |(at, _)| {
        let digits: String = text[at + label.len()..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// The lookup of earlier sends that every batch of sends makes (for
/// idempotent retries) finds each (author, client_id) by the whole unique
/// key: it must not walk the room's sends, which grow with the room.
async fn assert_earlier_sends_are_looked_up_by_key(store: &Store, room: RoomId) {
    let alice = UserId(1);
    let plan =
        store.earlier_sends_plan(room, &[(alice, "c17"), (alice, "c199999"), (alice, "never")]).await.expect("plan");
    let text = plan.join("\n");
    match store.backend() {
        Backend::Sqlite => {
            let searches: Vec<&String> = plan.iter().filter(|line| line.contains("messages")).collect();
            assert_eq!(searches.len(), 3, "one lookup per pair:\n{text}");
            for line in searches {
                assert!(
                    line.contains("USING INDEX messages_client_id (room_id=? AND user_id=? AND client_id=?)"),
                    "a lookup by the whole key:\n{text}"
                );
            }
        }
        Backend::Postgres => {
            assert!(!text.contains("Seq Scan"), "a full scan:\n{text}");
            let read: u64 = numbers_after(&text, "rows=").sum();
            assert!(read <= 10, "read {read} rows for three keys:\n{text}");
        }
    }
}

/// Search results' bylines (who sent each hit, and when) find each hit's
/// message by its (room, number) key, however big the room.
async fn assert_hit_bylines_are_looked_up_by_key(store: &Store, room: RoomId) {
    let hits = [(room, 17), (room, 150_000), (room, MESSAGES + 5)];
    let found = store.hit_bylines(&hits).await.expect("bylines");
    assert_eq!(found.len(), 2, "the two that exist");
    assert_eq!(found[&(room, 17)].user.as_ref().map(|u| u.username.as_str()), Some("alice"));
    let plan = store.hit_bylines_plan(&hits).await.expect("plan");
    let text = plan.join("\n");
    match store.backend() {
        Backend::Sqlite => {
            assert!(!plan.iter().any(|line| line.contains("SCAN m")), "a full scan:\n{text}");
            assert!(
                plan.iter().any(|line| line.contains("SEARCH m USING") && line.contains("(room_id=? AND number=?)")),
                "a lookup by the whole key:\n{text}"
            );
        }
        Backend::Postgres => {
            assert!(!text.contains("Seq Scan on messages"), "a full scan:\n{text}");
            let read: u64 = numbers_after(&text, "rows=").sum();
            assert!(read <= 20, "read {read} rows for three keys:\n{text}");
        }
    }
}

/// A message's replies are one range of `messages_replies`, not a walk of
/// the room: three of the room's 200,000 messages answer message 17.
async fn assert_replies_are_read_from_their_index(store: &Store, room: RoomId, url: &str) {
    with_connection!(url, |conn| {
        sqlx::query("UPDATE messages SET reply_to = 17 WHERE room_id = $1 AND number IN (100, 150000, 199999)")
            .bind(room.0)
            .execute(&mut conn)
            .await
            .expect("replies");
    });
    let replies = store.replies(room, 17, 0, 50).await.expect("replies");
    assert_eq!(replies.iter().map(|m| m.number).collect::<Vec<_>>(), [100, 150_000, 199_999]);
    let after = store.replies(room, 17, 100, 50).await.expect("replies");
    assert_eq!(after.iter().map(|m| m.number).collect::<Vec<_>>(), [150_000, 199_999]);
    let plan = store.replies_plan(room, 17).await.expect("plan");
    let text = plan.join("\n");
    assert!(text.contains("messages_replies"), "not the replies index:\n{text}");
    match store.backend() {
        Backend::Sqlite => {
            assert!(!text.contains("TEMP B-TREE"), "sorts:\n{text}");
            assert!(!plan.iter().any(|line| line.starts_with("SCAN m")), "a full scan:\n{text}");
        }
        Backend::Postgres => {
            assert!(!text.contains("Seq Scan on messages"), "a full scan:\n{text}");
            assert!(!text.contains("Sort"), "sorts:\n{text}");
            let read: u64 = numbers_after(&text, "rows=").sum();
            assert!(read <= 50, "read {read} rows for three replies:\n{text}");
        }
    }
}

/// A room's pins are one range of the partial index `messages_pinned`, not a
/// walk of the room: three of its 200,000 messages are pinned.
async fn assert_pins_are_read_from_their_index(store: &Store, room: RoomId) {
    let someone = store.members(room).await.expect("members")[0].id;
    for number in [7, 120_000, 199_990] {
        let pinned = store.set_pin(room, number, someone, true, 100).await.expect("pinned");
        assert!(matches!(pinned, Some(hearth::store::PinChange::Changed(_))), "{pinned:?}");
    }
    let pins = store.pins(room, 100).await.expect("pins");
    assert_eq!(pins.iter().map(|m| m.number).collect::<Vec<_>>(), [199_990, 120_000, 7]);
    let plan = store.pins_plan(room).await.expect("plan");
    let text = plan.join("\n");
    assert!(text.contains("messages_pinned"), "not the pins index:\n{text}");
    match store.backend() {
        Backend::Sqlite => {
            assert!(!plan.iter().any(|line| line.starts_with("SCAN m")), "a full scan:\n{text}");
        }
        Backend::Postgres => {
            assert!(!text.contains("Seq Scan on messages"), "a full scan:\n{text}");
            let read: u64 = numbers_after(&text, "rows=").sum();
            assert!(read <= 50, "read {read} rows for three pins:\n{text}");
        }
    }
}

#[tokio::test]
async fn on_both_databases_earlier_sends_search_bylines_and_replies_are_looked_up_by_key_in_a_room_of_200000_sends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("big.db").display());
    let (store, room) = big_room(&url).await;
    assert_earlier_sends_are_looked_up_by_key(&store, room).await;
    assert_hit_bylines_are_looked_up_by_key(&store, room).await;
    assert_replies_are_read_from_their_index(&store, room, &url).await;
    assert_pins_are_read_from_their_index(&store, room).await;
    let Some(database) = BlankPostgres::create("earlier").await else { return };
    let (store, room) = big_room(&database.url).await;
    assert_earlier_sends_are_looked_up_by_key(&store, room).await;
    assert_hit_bylines_are_looked_up_by_key(&store, room).await;
    assert_replies_are_read_from_their_index(&store, room, &database.url).await;
    assert_pins_are_read_from_their_index(&store, room).await;
    drop(store);
    database.drop_now().await;
}

#[tokio::test]
async fn on_sqlite_every_history_shape_of_a_room_of_200000_messages_reads_one_index_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("big.db").display());
    let (store, room) = big_room(&url).await;
    assert_every_shape_reads_an_index_range(&store, room).await;
    assert_unindexed_messages_are_read_by_id_range(&store, room).await;
}

/// A search matches the messages that wait for SQLite's search index
/// itself (`Store::search_unindexed`): it reads the ids above the index's
/// mark, not the room's messages through a room index, in the room and
/// across my rooms alike.
async fn assert_unindexed_messages_are_read_by_id_range(store: &Store, room: RoomId) {
    let me = store.members(room).await.expect("members")[0].id;
    for scope in [SearchScope::Room(room), SearchScope::MemberOf(me)] {
        let plan = store.search_unindexed_plan(scope).await.expect("plan");
        let text = plan.join("\n");
        assert!(
            plan.iter().any(|line| line.starts_with("SEARCH m USING INTEGER PRIMARY KEY (rowid>?)")),
            "{scope:?}: not the id range:\n{text}"
        );
        assert!(!plan.iter().any(|line| line.contains("messages_room")), "{scope:?}: a room index:\n{text}");
    }
}

#[tokio::test]
async fn on_postgres_every_history_shape_of_a_room_of_200000_messages_reads_one_index_range() {
    let Some(database) = BlankPostgres::create("plans").await else { return };
    let (store, room) = big_room(&database.url).await;
    assert_every_shape_reads_an_index_range(&store, room).await;
    drop(store);
    database.drop_now().await;
}

/// A send's lookup of earlier sends is planned for the table as it is when
/// it runs. A plan Postgres caches for a prepared statement while `messages`
/// is small (a hash join over the whole table, the cheapest then) stays
/// until the table is next analysed, and read every row of it for each
/// batch: on a fresh instance that was most of a batch's time for a minute
/// or more (docs/benchmarks.md). Here: many sends while the table is tiny,
/// then 50,000 more rows with autovacuum off (so nothing analyses them),
/// then three new sends and a retry, which may not read the table through.
#[tokio::test]
async fn on_postgres_a_send_after_the_table_grew_unanalysed_does_not_read_every_message() {
    let Some(database) = BlankPostgres::create("stale").await else { return };
    let (store, alice) = store_with_alice(&database.url).await;
    let mut conn = sqlx::PgConnection::connect(&database.url).await.expect("connect");
    sqlx::query("ALTER TABLE messages SET (autovacuum_enabled = false)")
        .execute(&mut conn)
        .await
        .expect("autovacuum off");
    let room = store.create_room(RoomKind::Open, Some("Growing"), alice, &[alice]).await.expect("room");
    let hearth =
        hearth::Hearth::new(store.clone(), hearth::Settings { messages_per_minute: 0, ..hearth::Settings::default() });
    for i in 0..40 {
        hearth.post_message(alice, room, &format!("early {i}"), Some(&format!("early-{i}"))).await.expect("early send");
    }
    const MORE: i64 = 50_000;
    sqlx::query(POSTGRES_BULK)
        .bind(room.0)
        .bind(alice.0)
        .bind(MORE)
        .bind(40_i64)
        .execute(&mut conn)
        .await
        .expect("bulk insert");
    sqlx::query(COUNTERS).bind(room.0).bind(40 + MORE).execute(&mut conn).await.expect("counters");

    let before = messages_read(&mut conn, SEQ).await;
    for i in 0..3 {
        let sent = hearth
            .post_message(alice, room, &format!("late {i}"), Some(&format!("late-{i}")))
            .await
            .expect("late send");
        assert_eq!(sent.message.number, 40 + MORE + i + 1);
    }
    // A retry is still found by its key.
    let again = hearth.post_message(alice, room, "early 3", Some("early-3")).await.expect("a retry");
    assert_eq!(again.message.number, 4);
    let read = messages_read(&mut conn, SEQ).await - before;
    assert!(read < MORE, "four sends read {read} rows of messages by sequential scans");
    conn.close().await.expect("close");
    drop((hearth, store));
    database.drop_now().await;
}

/// Rows of `messages` read so far as the statistics have them, by the
/// scans `counted` names: `seq_tup_read` (sequential), `idx_tup_fetch`
/// (index, bitmap heap scans of the trigram index included) or their sum.
/// A backend that reported less than a second before it goes idle reports
/// again only 10 s later (Postgres 15's `PGSTAT_IDLE_INTERVAL`), so this
/// waits 11 s first.
async fn messages_read(conn: &mut sqlx::PgConnection, counted: &str) -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(11_000)).await;
    let sql = format!("SELECT {counted} FROM pg_stat_user_tables WHERE relname = 'messages'");
    sqlx::query_scalar(&sql).fetch_one(conn).await.expect("statistics")
}

/// Rows read by sequential scans, for [`messages_read`].
const SEQ: &str = "coalesce(seq_tup_read, 0)";
/// Rows read by sequential and index scans, for [`messages_read`].
const ALL: &str = "coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)";

/// One message: room `$1`, number `$2`, user `$3`, text `$4`, time `$5`.
const ONE: &str = "INSERT INTO messages (room_id, number, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5)";

/// My messages, in my room: "message 1" … "message 100000", every 20th
/// "needle" instead, then "we agreed on a 50% cut" and "500 were cut" (the
/// newest); 151 rooms of mine with one message each; in a room I am not
/// in, 50,000 messages later than all of my big room's. Returns the store,
/// me, and my big room.
async fn my_rooms_and_newer_elsewhere(url: &str) -> (Store, UserId, RoomId) {
    let (store, alice) = store_with_alice(url).await;
    let bob = store
        .insert_user(NewUserRow {
            email: "bob@example.com",
            username: "bob",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            name: None,
        })
        .await
        .expect("user")
        .id;
    let mine = store.create_room(RoomKind::Open, Some("Mine"), alice, &[alice]).await.expect("room");
    let small = store.create_room(RoomKind::Open, Some("Small"), alice, &[alice]).await.expect("room");
    store.insert_message(small, Some(alice), None, "elsewhere", None).await.expect("message");
    // And 150 quiet rooms of one message each: shared out among all my
    // rooms, the window would give my busy room 20 messages.
    for i in 0..150 {
        let quiet =
            store.create_room(RoomKind::Open, Some(&format!("Quiet {i}")), alice, &[alice]).await.expect("room");
        store.insert_message(quiet, Some(alice), None, "hello from a quiet room", None).await.expect("message");
    }
    let theirs = store.create_room(RoomKind::Open, Some("Theirs"), bob, &[bob]).await.expect("room");
    let (bulk, analyze) = bulk_sql(url);
    with_connection!(url, |conn| {
        sqlx::query(bulk)
            .bind(mine.0)
            .bind(alice.0)
            .bind(100_000_i64)
            .bind(0_i64)
            .execute(&mut conn)
            .await
            .expect("bulk insert");
        sqlx::query("UPDATE messages SET body = 'needle ' || number WHERE room_id = $1 AND number % 20 = 0")
            .bind(mine.0)
            .execute(&mut conn)
            .await
            .expect("needles");
        for (number, body, at) in [
            (100_001_i64, "we agreed on a 50% cut", "2026-01-02T03:46:41.000000Z"),
            (100_002, "500 were cut", "2026-01-02T03:46:42.000000Z"),
        ] {
            sqlx::query(ONE)
                .bind(mine.0)
                .bind(number)
                .bind(alice.0)
                .bind(body)
                .bind(at)
                .execute(&mut conn)
                .await
                .expect("one");
        }
        sqlx::query(bulk)
            .bind(theirs.0)
            .bind(bob.0)
            .bind(50_000_i64)
            .bind(200_000_i64)
            .execute(&mut conn)
            .await
            .expect("bulk insert");
        for (room, count) in [(mine, 100_002_i64), (theirs, 50_000)] {
            sqlx::query(COUNTERS).bind(room.0).bind(count).execute(&mut conn).await.expect("counters");
        }
        sqlx::query(analyze).execute(&mut conn).await.expect("analyze");
    });
    (store, alice, mine)
}

/// A search across my rooms when the instance's newest messages are in a
/// room I am not in ([`my_rooms_and_newer_elsewhere`]): the answers, and
/// which step of `search_indexed` gave them. The first step, the instance's
/// newest 2,000, holds none of mine, so a common query must be answered
/// from my rooms' own newest messages, not by the index (which collects
/// every match: 92 ms for "the" on SQLite over 400,000 messages) nor by
/// walking the instance's newer messages.
async fn assert_searches_across_my_rooms_read_my_rooms_first(store: &Store, me: UserId, mine: RoomId) {
    let search = |query: &'static str, limit: u32| async move {
        let (hits, step) =
            store.search_indexed_by_step(SearchScope::MemberOf(me), &[query], limit).await.expect("search");
        assert!(hits.iter().all(|h| h.room_id == mine), "{query}: only my room's messages match");
        (hits.iter().map(|h| h.number).collect::<Vec<i64>>(), step)
    };
    let (numbers, step) = search("message", 20).await;
    let newest: Vec<i64> = (99_900..=100_000).rev().filter(|n| n % 20 != 0).take(20).collect();
    assert_eq!(numbers, newest, "my newest matches, newest first");
    assert_eq!(step, SearchStep::RoomWindows);

    // `%` taken literally: "500 were cut" (newer) would match it as a
    // wildcard; and still answered from my rooms' newest.
    assert_eq!(search("50% cut", 1).await, (vec![100_001], SearchStep::RoomWindows));

    // Every 20th is a needle: 100 of my room's newest 2,000 (the small rooms
    // have too few messages to take a share of the window), fewer than the
    // 150 asked for. On Postgres their share sizes a wider window of my
    // rooms, which holds them; SQLite's index answers as cheaply.
    let (numbers, step) = search("needle", 150).await;
    assert_eq!(numbers, (1..=150).map(|k| 100_000 - 20 * (k - 1)).collect::<Vec<i64>>());
    let wider = match store.backend() {
        Backend::Sqlite => SearchStep::Index,
        Backend::Postgres => SearchStep::Wider,
    };
    assert_eq!(step, wider, "needles");

    // None of my rooms' newest matches: the index answers.
    assert_eq!(search("message 7", 5).await, (vec![79_999, 79_998, 79_997, 79_996, 79_995], SearchStep::Index));
}

#[tokio::test]
async fn on_sqlite_a_search_across_my_rooms_when_the_newest_messages_are_elsewhere_reads_my_rooms_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("elsewhere.db").display());
    let (store, me, mine) = my_rooms_and_newer_elsewhere(&url).await;
    assert_searches_across_my_rooms_read_my_rooms_first(&store, me, mine).await;
}

/// On Postgres also counted: the common query reads a few thousand rows of
/// `messages`, not every match through the trigram index (122,030 rows
/// before my rooms' windows were read, with 20,000 messages of mine).
#[tokio::test]
async fn on_postgres_a_search_across_my_rooms_when_the_newest_messages_are_elsewhere_skips_the_index() {
    let Some(database) = BlankPostgres::create("elsewhere").await else { return };
    let (store, me, mine) = my_rooms_and_newer_elsewhere(&database.url).await;
    let mut conn = sqlx::PgConnection::connect(&database.url).await.expect("connect");
    let before = messages_read(&mut conn, ALL).await;
    let hits = store.search_indexed(SearchScope::MemberOf(me), &["message"], 20).await.expect("search");
    assert_eq!(hits.len(), 20);
    // The instance's newest 2,000 and my big room's newest 2,000 (the small
    // rooms' one message each too), read twice (for the rows, and for the
    // oldest time taken).
    let read = messages_read(&mut conn, ALL).await - before;
    assert!(read <= 10_000, "the search read {read} rows of messages");

    assert_searches_across_my_rooms_read_my_rooms_first(&store, me, mine).await;
    conn.close().await.expect("close");
    drop(store);
    database.drop_now().await;
}
