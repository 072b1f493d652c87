//! Group commit: concurrent sends are committed together by the message
//! writer (`hearth::ingest`), and each still succeeds or fails on its own
//! merits; a database failure fails exactly its batch. On whichever backend
//! the run is for.

use std::sync::Arc;
use std::time::Duration;

use hearth::store::Backend;
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection, Executor};

use crate::helpers::{TestApp, spawn_app};
use crate::ws_support::{Person, person};

/// Sends `body` (with `client_id`, if any) and returns the status and body.
async fn send(app: &TestApp, who: &Person, room: i64, body: &str, client_id: Option<&str>) -> (u16, Value) {
    let response = app.post_message(&who.client, room, json!({ "body": body, "client_id": client_id })).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Three people in a group, and one outsider.
async fn group(app: &TestApp) -> (Vec<Person>, Person, i64) {
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol"] {
        people.push(person(app, name).await);
    }
    let outsider = person(app, "eve").await;
    let room = app.conversation_with(&people[0].client, &[people[1].id, people[2].id]).await;
    (people, outsider, room)
}

/// The room's message numbers and bodies, oldest first, as a member reads them.
async fn stored(app: &TestApp, who: &Person, room: i64) -> Vec<(i64, String)> {
    let page = app.history(&who.client, room, "limit=100").await;
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["number"].as_i64().expect("number"), m["body"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_with_invalid_ones_and_a_non_members_commit_the_valid_ones_and_fail_the_others_alone() {
    let app = Arc::new(spawn_app().await);
    let (people, outsider, room) = group(&app).await;
    let people = Arc::new(people);
    let outsider = Arc::new(outsider);

    let mut tasks = Vec::new();
    for i in 0..60 {
        let (app, people, outsider) = (app.clone(), people.clone(), outsider.clone());
        tasks.push(tokio::spawn(async move {
            match i % 6 {
                // Blank: invalid.
                4 => ("invalid", send(&app, &people[i % 3], room, "   ", None).await),
                5 => ("outsider", send(&app, &outsider, room, &format!("intruding {i}"), None).await),
                _ => ("valid", send(&app, &people[i % 3], room, &format!("valid {i}"), None).await),
            }
        }));
    }
    let mut valid = Vec::new();
    for task in tasks {
        let (kind, (status, body)) = task.await.expect("a sender");
        match kind {
            "valid" => {
                assert_eq!(status, 201, "{body}");
                valid.push(body["number"].as_i64().expect("number"));
            }
            "invalid" => assert_eq!(status, 422, "{body}"),
            _ => assert!(status == 404 || status == 403, "a non-member's send: {status} {body}"),
        }
        assert!(body["errors"].is_array() || status == 201, "{body}");
    }
    valid.sort_unstable();
    assert_eq!(valid, (1..=40).collect::<Vec<_>>(), "the 40 valid sends are numbered 1..=40");
    let saved = stored(&app, &people[0], room).await;
    assert_eq!(saved.len(), 40);
    assert!(saved.iter().all(|(_, body)| body.starts_with("valid")), "{saved:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_of_one_send_arriving_together_make_one_message() {
    let app = Arc::new(spawn_app().await);
    let (people, _, room) = group(&app).await;
    let alice = Arc::new(people.into_iter().next().expect("alice"));

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, alice) = (app.clone(), alice.clone());
            tokio::spawn(async move { send(&app, &alice, room, "only once", Some("retry-me")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut numbers = Vec::new();
    for task in tasks {
        let (status, body) = task.await.expect("a sender");
        statuses.push(status);
        numbers.push(body["number"].as_i64().expect("every retry gets the message"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "one created: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 19, "the rest replayed: {statuses:?}");
    assert!(numbers.iter().all(|n| *n == 1), "{numbers:?}");
    assert_eq!(stored(&app, &alice, room).await, [(1, "only once".to_owned())]);
    // A later retry is still the same message.
    assert_eq!(send(&app, &alice, room, "only once", Some("retry-me")).await.0, 200);
}

/// Holds the room's write lock from outside the server, so that the writer's
/// next batch waits (SQLite: the database's write lock; Postgres: the room's row).
struct Blocker {
    release: tokio::sync::oneshot::Sender<()>,
    held: tokio::task::JoinHandle<()>,
}

async fn block_writes(app: &TestApp, room: i64) -> Blocker {
    let url = app.database_url.clone();
    let (locked_tx, locked) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let held = tokio::spawn(async move {
        match Backend::of_url(&url).expect("a known scheme") {
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a sqlite URL");
                let mut conn = options.connect().await.expect("connect");
                conn.execute("BEGIN IMMEDIATE").await.expect("the write lock");
                let _ = locked_tx.send(());
                let _ = released.await;
                conn.execute("ROLLBACK").await.expect("rollback");
                conn.close().await.expect("close");
            }
            Backend::Postgres => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a postgres URL");
                let mut conn = options.connect().await.expect("connect");
                conn.execute("BEGIN").await.expect("begin");
                sqlx::query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE")
                    .bind(room)
                    .execute(&mut conn)
                    .await
                    .expect("the room's row");
                let _ = locked_tx.send(());
                let _ = released.await;
                conn.execute("ROLLBACK").await.expect("rollback");
                conn.close().await.expect("close");
            }
        }
    });
    locked.await.expect("the lock is held");
    Blocker { release, held }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_mid_batch_fails_every_sender_in_that_batch_and_saves_none_of_them() {
    let app = Arc::new(spawn_app().await);
    let (people, _, room) = group(&app).await;
    let people = Arc::new(people);
    // A message whose body is "boom" makes the database refuse the insert.
    match Backend::of_url(&app.database_url).expect("scheme") {
        Backend::Sqlite => {
            let trigger = "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.body = 'boom'
                           BEGIN SELECT RAISE(ABORT, 'boom'); END";
            app.execute_sql(trigger, &[]).await;
        }
        Backend::Postgres => {
            let function = "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
                            BEGIN IF NEW.body = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$";
            app.execute_sql(function, &[]).await;
            let trigger = "CREATE TRIGGER boom BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION boom()";
            app.execute_sql(trigger, &[]).await;
        }
    }

    // The first send is taken by the writer and waits on the lock; the
    // others queue behind it, so they make the next batch together.
    let blocker = block_writes(&app, room).await;
    let first = {
        let (app, people) = (app.clone(), people.clone());
        tokio::spawn(async move { send(&app, &people[0], room, "before the batch", None).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let batch: Vec<_> = (0..8)
        .map(|i| {
            let (app, people) = (app.clone(), people.clone());
            let body = if i == 5 { "boom".to_owned() } else { format!("batch-mate {i}") };
            tokio::spawn(async move { send(&app, &people[i % 3], room, &body, Some(&format!("b{i}"))).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = blocker.release.send(());
    blocker.held.await.expect("the blocker ends");

    assert_eq!(first.await.expect("the first sender").0, 201, "the batch before is not affected");
    for task in batch {
        let (status, body) = task.await.expect("a batch-mate");
        assert_eq!(status, 500, "every sender in the failed batch gets the error: {body}");
        assert!(body["errors"].is_array(), "{body}");
    }
    assert_eq!(
        stored(&app, &people[1], room).await,
        [(1, "before the batch".to_owned())],
        "none of the batch is saved"
    );
    let room_row = app
        .query_strings(&format!(
            "SELECT CAST(last_number AS TEXT) || '/' || CAST(last_seq AS TEXT) FROM rooms WHERE id = {room}"
        ))
        .await;
    let seq_after_first: Vec<String> =
        app.query_strings(&format!("SELECT CAST(max(seq) AS TEXT) FROM room_events WHERE room_id = {room}")).await;
    assert_eq!(room_row, [format!("1/{}", seq_after_first[0])], "the counters did not move for the failed batch");

    // The writer goes on: the same sends succeed once the cause is gone.
    let drop = match Backend::of_url(&app.database_url).expect("scheme") {
        Backend::Sqlite => "DROP TRIGGER boom",
        Backend::Postgres => "DROP TRIGGER boom ON messages",
    };
    app.execute_sql(drop, &[]).await;
    let (status, body) = send(&app, &people[0], room, "after", Some("b0")).await;
    assert_eq!((status, body["number"].as_i64()), (201, Some(2)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_writers_over_many_rooms_get_no_5xx_and_gapless_numbers() {
    let app = Arc::new(spawn_app().await);
    let alice = Arc::new(person(&app, "alice").await);
    let mut rooms = Vec::new();
    for i in 0..25 {
        let room =
            app.create_conversation(&alice.client, json!({ "kind": "open", "title": format!("room {i}") })).await;
        assert_eq!(room.status(), 201);
        rooms.push(room.json::<Value>().await.expect("json")["id"].as_i64().expect("id"));
    }
    let rooms = Arc::new(rooms);
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let (app, alice, rooms) = (app.clone(), alice.clone(), rooms.clone());
            tokio::spawn(async move {
                let room = rooms[i % rooms.len()];
                let (status, body) = send(&app, &alice, room, &format!("writer {i}"), Some(&format!("w{i}"))).await;
                (room, status, body)
            })
        })
        .collect();
    let mut per_room: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for task in tasks {
        let (room, status, body) = task.await.expect("a writer");
        assert_eq!(status, 201, "no 5xx, no busy database: {body}");
        per_room.entry(room).or_default().push(body["number"].as_i64().expect("a number"));
    }
    for (room, mut numbers) in per_room {
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=20).collect::<Vec<_>>(), "room {room}");
    }
}

/// Every kind of write at once (sends, edits, deletes, joins and leaves, new
/// rooms): on SQLite they all queue for the one writer connection, so none
/// meets a busy database; on Postgres they lock rows as ever. No 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_of_every_kind_at_once_get_no_5xx() {
    let app = Arc::new(spawn_app().await);
    let alice = Arc::new(person(&app, "alice").await);
    let bob = Arc::new(person(&app, "bob").await);
    let mut rooms = Vec::new();
    for i in 0..10 {
        let room =
            app.create_conversation(&alice.client, json!({ "kind": "open", "title": format!("room {i}") })).await;
        assert_eq!(room.status(), 201);
        let room = room.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
        for n in 0..10 {
            let (status, body) = send(&app, &alice, room, &format!("first {n}"), None).await;
            assert_eq!(status, 201, "{body}");
        }
        rooms.push(room);
    }
    let rooms = Arc::new(rooms);
    let tasks: Vec<_> = (0..300usize)
        .map(|i| {
            let (app, alice, bob, rooms) = (app.clone(), alice.clone(), bob.clone(), rooms.clone());
            tokio::spawn(async move {
                let room = rooms[i % rooms.len()];
                let number = (i / rooms.len()) as i64 % 10 + 1;
                let message = app.url(&format!("/conversations/{room}/messages/{number}"));
                let response = match i % 6 {
                    0 | 1 => app.post_message(&alice.client, room, json!({ "body": format!("send {i}") })).await,
                    2 => alice
                        .client
                        .patch(message)
                        .json(&json!({ "body": format!("edit {i}") }))
                        .send()
                        .await
                        .expect("sent"),
                    3 => alice.client.delete(message).send().await.expect("sent"),
                    4 => bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.expect("sent"),
                    _ => {
                        app.create_conversation(&bob.client, json!({ "kind": "open", "title": format!("new {i}") }))
                            .await
                    }
                };
                let status = response.status().as_u16();
                (i, status, response.text().await.unwrap_or_default())
            })
        })
        .collect();
    for task in tasks {
        let (i, status, body) = task.await.expect("a writer");
        // A delete may find its message deleted already, an edit find it gone.
        assert!(status < 500, "writer {i}: {status} {body}");
        assert!(!body.to_lowercase().contains("busy") && !body.contains("locked"), "writer {i}: {body}");
    }
    for room in rooms.iter() {
        let numbers: Vec<i64> = stored(&app, &alice, *room).await.into_iter().map(|(n, _)| n).collect();
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>(), "room {room}: gapless");
        assert!(numbers.len() >= 10, "room {room}: every send was kept");
    }
}

/// The writer builds the sent message from what was sent and what the insert
/// returned, without reading it back: it must be the message as stored.
#[tokio::test]
async fn the_message_a_send_returns_is_the_one_history_reads() {
    let app = spawn_app().await;
    let (people, _, room) = group(&app).await;
    let (status, sent) = send(&app, &people[1], room, "as stored", Some("same-1")).await;
    assert_eq!(status, 201, "{sent}");
    let (status, again) = send(&app, &people[1], room, "as stored", Some("same-1")).await;
    assert_eq!(status, 200, "a retry: {again}");
    let page = app.history(&people[0].client, room, "limit=10").await;
    let read = page["messages"].as_array().expect("messages").last().expect("the message").clone();
    assert_eq!(sent, read, "the send's answer is the stored message");
    assert_eq!(again, read, "and so is the retry's");
    assert_eq!(sent["user"]["username"], json!("bob"), "with its author: {sent}");
}

/// The author shown on a new message comes from the users cache: a rename
/// must show on the very next send (and in what history reads).
#[tokio::test]
async fn a_send_right_after_a_rename_carries_the_new_name() {
    let app = spawn_app().await;
    let (people, _, room) = group(&app).await;
    let (status, first) = send(&app, &people[1], room, "before", None).await;
    assert_eq!(status, 201, "{first}");
    let renamed = people[1]
        .client
        .put(app.url("/users/me"))
        .json(&json!({ "user": { "username": "robert", "name": "Robert" } }))
        .send()
        .await
        .expect("sent");
    assert_eq!(renamed.status(), 200);

    let (status, sent) = send(&app, &people[1], room, "after", None).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!((sent["user"]["username"].as_str(), sent["user"]["name"].as_str()), (Some("robert"), Some("Robert")));
    let page = app.history(&people[0].client, room, "limit=10").await;
    assert_eq!(page["messages"].as_array().expect("messages").last(), Some(&sent), "as history reads it");
}
