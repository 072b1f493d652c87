//! SQLite's search index is filled beside the message writer
//! (`src/store/search_index.rs`), not in each message's commit. What must
//! still hold: a search finds every message committed before it began; an
//! edit or a delete before a message is indexed is what the index takes;
//! the index ends equal to what it would be had every message been indexed
//! in its commit; a row that takes an id again after the newest was deleted
//! is indexed; the store's task indexes new messages by itself; and a search
//! matches the few messages that wait itself, merged with the index's
//! matches in time order, without indexing them.

use std::time::{Duration, Instant};

use hearth::model::{RoomId, RoomKind, UserId};
use hearth::store::{HitRow, SearchScope, Store};
use hearth::testing::store_with_alice;
use sqlx::Connection;

/// A SQLite store with alice alone in a room, and its URL.
async fn sqlite_room(dir: &tempfile::TempDir) -> (Store, String, RoomId, UserId) {
    let url = format!("sqlite://{}", dir.path().join("hearth.db").display());
    let (store, user) = store_with_alice(&url).await;
    let room = store.create_room(RoomKind::Group, Some("Indexed"), user, &[user]).await.expect("room");
    (store, url, room, user)
}

async fn found(store: &Store, room: RoomId, query: &str) -> Vec<i64> {
    let hits: Vec<HitRow> = store.search_indexed(SearchScope::Room(room), &[query], 50).await.expect("search");
    let mut numbers: Vec<i64> = hits.into_iter().map(|h| h.number).collect();
    numbers.sort_unstable();
    numbers
}

/// `(mark, newest id, rows in the index)`, read on a connection of its own.
async fn index_state(url: &str) -> (i64, i64, i64) {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
    let state = sqlx::query_as(
        "SELECT (SELECT through FROM messages_fts_progress), (SELECT coalesce(max(id), 0) FROM messages),
                (SELECT count(*) FROM messages_fts_docsize)",
    )
    .fetch_one(&mut conn)
    .await
    .expect("index state");
    conn.close().await.expect("close");
    state
}

/// Messages written behind the store's back (as a bulk import would) are
/// not indexed by their commit, and are found by the next search, which
/// indexes them first; edits and deletes made before that are what it
/// indexes, and FTS5's own check then finds the index equal to the rows.
#[tokio::test]
async fn a_search_finds_messages_committed_before_it_even_when_none_was_indexed_yet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url, room, user) = sqlite_room(&dir).await;
    // Nothing here goes through the writer, so the store's own task is
    // never woken: what is indexed is what `index_search_backlog` and the
    // searches index.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let insert = |number: i64, body: String| {
        sqlx::query("INSERT INTO messages (room_id, number, user_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(room.0)
            .bind(number)
            .bind(user.0)
            .bind(body)
            .bind(format!("2026-01-01T00:00:00.{number:06}Z"))
    };
    insert(1, "an indexed walrus".to_owned()).execute(&mut conn).await.expect("insert");
    assert_eq!(store.index_search_backlog().await.expect("index"), 1);

    let mut tx = conn.begin().await.expect("begin");
    for number in 2..=2_500_i64 {
        let body = match number {
            1_000 => "the quokka that will be edited".to_owned(),
            1_001 => "a quokka that will be deleted".to_owned(),
            2_500 => "the newest quokka".to_owned(),
            _ => format!("filler {number}"),
        };
        insert(number, body).execute(&mut *tx).await.expect("insert");
    }
    sqlx::query("UPDATE rooms SET last_number = 2500, messages_count = 2500 WHERE id = $1")
        .bind(room.0)
        .execute(&mut *tx)
        .await
        .expect("counters");
    tx.commit().await.expect("commit");
    conn.close().await.expect("close");
    let (mark, newest, rows) = index_state(&url).await;
    assert!(mark < newest, "the bulk rows wait: mark {mark}, newest {newest}");
    assert_eq!(rows, 1, "only the first message is in the index");

    store.edit_message(room, 1_000, "the wombat it became", &[]).await.expect("edit").expect("edited");
    store.delete_message(room, 1_001).await.expect("delete").expect("deleted");

    assert_eq!(found(&store, room, "quokka").await, vec![2_500]);
    assert_eq!(found(&store, room, "wombat").await, vec![1_000]);
    assert_eq!(found(&store, room, "walrus").await, vec![1]);
    assert_eq!(found(&store, room, "filler 1999").await, vec![1_999]);
    let (mark, newest, rows) = index_state(&url).await;
    assert_eq!(mark, newest, "the search indexed everything that waited");
    assert_eq!(rows, 2_499, "every live message once, the deleted one not");

    // Edits and deletes after indexing keep the index in step, and FTS5
    // finds the index equal to what the rows say.
    store.edit_message(room, 2_500, "the newest numbat", &[]).await.expect("edit").expect("edited");
    store.delete_message(room, 1).await.expect("delete").expect("deleted");
    assert_eq!(found(&store, room, "quokka").await, Vec::<i64>::new());
    assert_eq!(found(&store, room, "numbat").await, vec![2_500]);
    assert_eq!(found(&store, room, "walrus").await, Vec::<i64>::new());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let live: Vec<(i64,)> = sqlx::query_as("SELECT id FROM messages WHERE deleted_at IS NULL ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("live");
    let indexed: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM messages_fts_docsize ORDER BY id").fetch_all(&mut conn).await.expect("indexed");
    assert_eq!(indexed, live, "the index holds exactly the live messages");
    sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        .execute(&mut conn)
        .await
        .expect("the index matches its rows");
    conn.close().await.expect("close");
}

/// The store's own task indexes what its writer committed, once the writer
/// is quiet, with no search to ask for it.
#[tokio::test]
async fn the_store_indexes_new_messages_by_itself_once_the_writer_is_quiet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url, room, user) = sqlite_room(&dir).await;
    for i in 0..20 {
        store.insert_message(room, Some(user), None, &format!("message {i}"), None).await.expect("send");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (mark, newest, rows) = index_state(&url).await;
        if mark == newest && rows == 20 {
            break;
        }
        assert!(Instant::now() < deadline, "not indexed after 10 s: mark {mark}, newest {newest}, rows {rows}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SQLite numbers a new row after the highest id there is, so after the
/// newest rows go, an id at or below the mark comes back: that row is
/// indexed in its commit, since no search would index it later.
#[tokio::test]
async fn a_row_that_takes_an_indexed_id_again_is_indexed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url, room, user) = sqlite_room(&dir).await;
    for body in ["first gecko", "second gecko", "third gecko"] {
        store.insert_message(room, Some(user), None, body, None).await.expect("send");
    }
    assert_eq!(found(&store, room, "gecko").await, vec![1, 2, 3]);
    // Indexed now, whether or not the task got to them.
    store.index_search_backlog().await.expect("index");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    let (old_id,): (i64,) = sqlx::query_as("SELECT max(id) FROM messages").fetch_one(&mut conn).await.expect("id");
    sqlx::query("DELETE FROM messages WHERE id = $1").bind(old_id).execute(&mut conn).await.expect("delete");
    sqlx::query("UPDATE rooms SET last_number = 2, messages_count = 2 WHERE id = $1")
        .bind(room.0)
        .execute(&mut conn)
        .await
        .expect("counters");
    conn.close().await.expect("close");
    assert_eq!(found(&store, room, "gecko").await, vec![1, 2], "the deleted row left the index");

    let again = store.insert_message(room, Some(user), None, "a salamander", None).await.expect("send");
    let (mark, newest, _) = index_state(&url).await;
    assert_eq!(newest, old_id, "the new row took the deleted row's id");
    assert!(mark >= newest, "the id is at or below the mark");
    assert_eq!(found(&store, room, "salamander").await, vec![again.message.number]);
    assert_eq!(found(&store, room, "gecko").await, vec![1, 2]);
}

/// A few messages waiting for the index are matched by the search itself,
/// on a reader, as the index would match them (ignoring case in every
/// script, deleted ones and other people's rooms left out), and merged with
/// the index's matches in time order; the search indexes nothing.
#[tokio::test]
async fn a_search_matches_the_messages_that_wait_for_the_index_without_indexing_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, url, room, user) = sqlite_room(&dir).await;
    let other = store.create_room(RoomKind::Group, Some("Mine too"), user, &[user]).await.expect("room");
    let theirs = store.create_room(RoomKind::Group, Some("Not mine"), user, &[user]).await.expect("room");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    sqlx::query("DELETE FROM memberships WHERE room_id = $1").bind(theirs.0).execute(&mut conn).await.expect("leave");
    // Behind the store's back, so that its task is never woken. Times rise
    // with `at`; two messages share one.
    let insert = |room: RoomId, number: i64, at: i64, body: &str, deleted: bool| {
        sqlx::query(
            "INSERT INTO messages (room_id, number, user_id, body, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(room.0)
        .bind(number)
        .bind(user.0)
        .bind(body.to_owned())
        .bind(format!("2026-01-01T00:00:00.{at:06}Z"))
        .bind(deleted.then_some("2026-01-01T00:00:01Z"))
    };
    // Thirty indexed matches, the newest at time 40.
    for number in 1..=30_i64 {
        insert(room, number, number + 10, &format!("indexed quokka {number}"), false)
            .execute(&mut conn)
            .await
            .expect("insert");
    }
    assert_eq!(store.index_search_backlog().await.expect("index"), 30);
    // Then, waiting for the index: matches in upper case and with letters
    // beyond ASCII, one deleted, one in a room I left, one in my other room,
    // one at the same time as the newest indexed match, and filler.
    let waiting: [(RoomId, i64, i64, &str, bool); 7] = [
        (room, 31, 40, "QUOKKA at the same time", false),
        (room, 32, 41, "filler", false),
        (room, 33, 42, "a Quokka deleted", true),
        (other, 1, 43, "über-QUOKKA elsewhere of mine", false),
        (theirs, 1, 44, "a quokka not mine", false),
        (room, 34, 45, "ÜBER QuOkKa", false),
        (room, 35, 46, "filler", false),
    ];
    for (room, number, at, body, deleted) in waiting {
        insert(room, number, at, body, deleted).execute(&mut conn).await.expect("insert");
    }
    conn.close().await.expect("close");
    let (mark_before, newest, _) = index_state(&url).await;
    assert_eq!(newest - mark_before, 7, "seven messages wait");

    let numbers = |hits: Vec<HitRow>| hits.into_iter().map(|h| (h.room_id, h.number)).collect::<Vec<_>>();
    // In the room: its two live waiting matches first (the same-time one
    // before the indexed match of that time, as its later id would put it),
    // then the index's newest.
    let (hits, step) = store.search_indexed_by_step(SearchScope::Room(room), &["quokka"], 5).await.expect("search");
    assert_eq!(numbers(hits), vec![(room, 34), (room, 31), (room, 30), (room, 29), (room, 28)]);
    assert_eq!(step, hearth::store::SearchStep::Newest, "the first window answered, with the waiting ones");
    // Across my rooms: the other room's too, and not the room I left.
    let (hits, _) = store.search_indexed_by_step(SearchScope::MemberOf(user), &["quokka"], 4).await.expect("search");
    assert_eq!(numbers(hits), vec![(room, 34), (other, 1), (room, 31), (room, 30)]);
    // Every term must be held, as with the index.
    let (hits, _) =
        store.search_indexed_by_step(SearchScope::MemberOf(user), &["über", "quokka"], 10).await.expect("search");
    assert_eq!(numbers(hits), vec![(room, 34), (other, 1)]);
    // A term only waiting messages hold, and one no message holds.
    let (hits, step) = store.search_indexed_by_step(SearchScope::Room(room), &["same time"], 10).await.expect("search");
    assert_eq!((numbers(hits), step), (vec![(room, 31)], hearth::store::SearchStep::Index));
    assert!(found(&store, room, "deleted").await.is_empty(), "a deleted message is not found");
    assert_eq!(found(&store, theirs, "not mine").await, vec![1], "a room's own search sees its waiting messages");

    let (mark_after, _, _) = index_state(&url).await;
    assert_eq!(mark_after, mark_before, "no search indexed anything");
    // Once they are indexed the answers are the same.
    assert_eq!(store.index_search_backlog().await.expect("index"), 7);
    let (hits, _) = store.search_indexed_by_step(SearchScope::Room(room), &["quokka"], 5).await.expect("search");
    assert_eq!(numbers(hits), vec![(room, 34), (room, 31), (room, 30), (room, 29), (room, 28)]);
    let (hits, _) = store.search_indexed_by_step(SearchScope::MemberOf(user), &["quokka"], 4).await.expect("search");
    assert_eq!(numbers(hits), vec![(room, 34), (other, 1), (room, 31), (room, 30)]);
}
