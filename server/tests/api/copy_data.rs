//! Moving an instance from SQLite to Postgres with `hearth copy-data` (issue
//! 12): a SQLite instance of over 100,000 messages, with direct rooms, a
//! group, an open room, token-API chats, edits, deletes and read markers, is
//! copied by the real binary; then one server on the SQLite source and one
//! on the Postgres copy answer the same history pages, searches, room lists
//! (unread counts) and WebSocket resumes, to the same session cookies. And a
//! copy interrupted by Ctrl-C or a kill leaves its target empty.
//!
//! Postgres comes from `HEARTH_TEST_POSTGRES_URL` (`make test` sets it); the
//! tests that need it say they were skipped without it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hearth::protocol::ServerEvent;
use hearth::testing::BlankPostgres;
use reqwest::Client;
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection};

use crate::helpers::{TestApp, new_client, spawn_app_with, spawn_stoppable_app_with};
use crate::ws_support::{Person, connect, person};

/// `hearth copy-data --from … --to …`, the real binary, logs off.
fn copy_data_command(from: &str, to: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
    command.args(["copy-data", "--from", from, "--to", to]).env("HEARTH_LOG", "off").env_remove("RUST_LOG");
    command
}

async fn run_copy_data(from: &str, to: &str) -> Output {
    let mut command = copy_data_command(from, to);
    tokio::task::spawn_blocking(move || command.output().expect("the hearth binary runs")).await.expect("joined")
}

/// Every table's rows on a database, by its own SQL.
async fn row_counts(url: &str) -> Vec<(&'static str, i64)> {
    let tables = ["users", "applications", "rooms", "memberships", "messages", "room_events", "sessions"];
    let mut counts = Vec::new();
    for table in tables {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(&sql).fetch_one(&mut conn).await.expect("count")
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(&sql).fetch_one(&mut conn).await.expect("count")
        };
        counts.push((table, n));
    }
    counts
}

/// `count` messages at the start of `room` (which has none yet), in one
/// statement per table, written as `Store::insert_message` writes each: the
/// numbers and seqs 1..=count, one `message` change each, stamps strictly
/// increasing (1 ms apart, days ago), the room's counters and times, and the
/// FTS5 rows from the table's own insert trigger. `authors` take turns;
/// `application` marks token-API messages (no author). 100,000 sends through
/// the store take minutes in a debug build; this takes seconds.
async fn bulk_messages(url: &str, room: i64, authors: &[i64], application: Option<i64>, count: i64) {
    let author = if authors.is_empty() {
        "NULL".to_owned()
    } else {
        let arms: String = authors.iter().enumerate().map(|(k, id)| format!(" WHEN {k} THEN {id}")).collect();
        format!("CASE i % {}{arms} END", authors.len())
    };
    let start = time::OffsetDateTime::now_utc().unix_timestamp() - 3 * 86_400;
    // Its own connection, without sqlx's "slow statement" warnings.
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a sqlite:// URL");
    let mut conn = options.disable_statement_logging().connect().await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO messages (room_id, number, user_id, application_id, body, client_id, created_at)
         SELECT $2, i, {author}, $3,
                'bulk ' || i || ' in room ' || $2 || ': ' || CASE i % 7
                    WHEN 0 THEN 'hello world' WHEN 1 THEN 'Grüße aus Köln' WHEN 2 THEN '日本語のテキスト'
                    WHEN 3 THEN 'the quick brown fox' WHEN 4 THEN 'a needle in a haystack'
                    WHEN 5 THEN 'ok' ELSE 'see you at 10' END,
                CASE WHEN i % 50 = 0 THEN 'bulk-' || i END,
                strftime('%Y-%m-%dT%H:%M:%S', $4 + i / 1000, 'unixepoch') || printf('.%06dZ', (i % 1000) * 1000)
         FROM n"
    ))
    .bind(count)
    .bind(room)
    .bind(application)
    .bind(start)
    .execute(&mut *tx)
    .await
    .expect("bulk messages");
    sqlx::query("INSERT INTO room_events (room_id, seq, kind, number) SELECT room_id, number, 'message', number FROM messages WHERE room_id = $1")
        .bind(room)
        .execute(&mut *tx)
        .await
        .expect("bulk events");
    sqlx::query(
        "UPDATE rooms SET last_number = $2, messages_count = $2, last_seq = $2,
                last_message_at = (SELECT max(created_at) FROM messages WHERE room_id = $1),
                updated_at = (SELECT max(created_at) FROM messages WHERE room_id = $1)
          WHERE id = $1 AND last_number = 0",
    )
    .bind(room)
    .bind(count)
    .execute(&mut *tx)
    .await
    .expect("counters");
    tx.commit().await.expect("commit");
}

/// The people, rooms and chats of the big instance, and where each room's
/// change sequence stood before the last burst of activity (for resume).
struct Instance {
    people: Vec<Person>,
    rooms: Vec<(&'static str, i64)>,
    token: String,
    chat: i64,
    resume_from: Vec<(i64, i64)>,
}

/// Builds the instance on a running server over SQLite.
async fn build_instance(app: &TestApp, source: &str) -> Instance {
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        people.push(person(app, name).await);
    }
    let [alice, bob, carol, dave, erin] = [0, 1, 2, 3, 4].map(|i| &people[i]);
    let dm_ab = app.conversation_with(&alice.client, &[bob.id]).await;
    let dm_ac = app.conversation_with(&alice.client, &[carol.id]).await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id, dave.id]).await;
    let response = app.create_conversation(&carol.client, json!({ "kind": "open", "title": "Lobby" })).await;
    assert_eq!(response.status(), 201, "an open room");
    let open = response.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    for joiner in [bob, erin] {
        let joined = joiner.client.post(app.url(&format!("/conversations/{open}/join"))).send().await.expect("join");
        assert!(joined.status().is_success(), "joining the open room");
    }
    let application = app.create_application(&alice.client, "Bot").await;
    let token = application["application_token"].as_str().expect("token").to_owned();
    let chat = app.create_chat(&token, "support").await["chat_number"].as_i64().expect("chat number");
    app.create_chat(&token, "quiet chat").await;
    let anonymous = app.post_created_anonymous("Anon").await;
    let anonymous_chat = app.create_chat(&anonymous, "theirs").await["chat_number"].as_i64().expect("chat number");
    let chat_room = app.room_titled(&alice.client, "support").await;
    let app_id: i64 = sqlx::query_scalar("SELECT application_id FROM rooms WHERE id = $1")
        .bind(chat_room)
        .fetch_one(app.hearth.store().sqlite_pool().expect("sqlite"))
        .await
        .expect("application id");

    // The bulk of the history: 100,000 messages.
    let started = Instant::now();
    bulk_messages(source, group, &[alice.id, bob.id, carol.id, dave.id], None, 41_000).await;
    bulk_messages(source, dm_ab, &[alice.id, bob.id], None, 30_000).await;
    bulk_messages(source, open, &[carol.id, bob.id, erin.id], None, 15_000).await;
    bulk_messages(source, dm_ac, &[carol.id, alice.id], None, 9_000).await;
    bulk_messages(source, chat_room, &[], Some(app_id), 5_000).await;
    eprintln!("100,000 bulk messages in {:?}", started.elapsed());

    // Then the app's own writes on top: sends (some with client ids), token
    // API messages, edits, deletes and read markers.
    let rooms = vec![("group", group), ("dm_ab", dm_ab), ("open", open), ("dm_ac", dm_ac), ("chat", chat_room)];
    let members: [(i64, Vec<&Person>); 4] = [
        (group, vec![alice, bob, carol, dave]),
        (dm_ab, vec![alice, bob]),
        (open, vec![carol, bob, erin]),
        (dm_ac, vec![alice, carol]),
    ];
    for (room, who) in &members {
        for k in 0..12 {
            let sender = who[k % who.len()];
            let body = json!({ "body": format!("live {k} in {room}: hello again, needle {k}"), "client_id": format!("c-{room}-{k}") });
            let sent = app.post_message(&sender.client, *room, body).await;
            assert_eq!(sent.status(), 201, "a live message");
        }
    }
    for k in 0..10 {
        app.post_app_message(&token, chat, &format!("bot says {k}: ok")).await;
        app.post_app_message(&anonymous, anonymous_chat, &format!("anonymous {k}")).await;
    }
    // A deleted bulk message (alice wrote group numbers ≡ 0 mod 4).
    delete(app, alice, group, 20_000).await;
    let mut resume_from = Vec::new();
    for (room, _) in &members {
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = $1")
            .bind(room)
            .fetch_one(app.hearth.store().sqlite_pool().expect("sqlite"))
            .await
            .expect("seq");
        resume_from.push((*room, seq));
    }
    // The last burst, which the resumes replay: edits, deletes, sends.
    for (room, who) in &members {
        let sender = who[0];
        let mine = app.send(&sender.client, *room, "edit me soon").await["number"].as_i64().expect("number");
        let edited = app.edit_message(&sender.client, *room, mine, "edited: Grüße, needle").await;
        assert_eq!(edited.status(), 200, "an edit");
        let gone = app.send(&sender.client, *room, "delete me").await["number"].as_i64().expect("number");
        delete(app, sender, *room, gone).await;
        app.send(&who[1].client, *room, "after the delete").await;
    }
    let edited = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/{chat}/messages/5001")))
        .json(&json!({ "message_content": "the bot's edit" }))
        .send()
        .await
        .expect("edit");
    assert_eq!(edited.status(), 200, "a token API edit");
    // Read markers, moved as the socket and the page do.
    for (reader, room, number) in
        [(bob, group, 20_000), (carol, group, 40_990), (alice, dm_ab, 29_000), (erin, open, 100), (carol, dm_ac, 9_012)]
    {
        app.hearth
            .mark_read(hearth::model::UserId(reader.id), hearth::model::RoomId(room), number)
            .await
            .expect("read");
    }
    Instance { people, rooms, token, chat, resume_from }
}

async fn delete(app: &TestApp, who: &Person, room: i64, number: i64) {
    let deleted =
        who.client.delete(app.url(&format!("/conversations/{room}/messages/{number}"))).send().await.expect("delete");
    assert!(deleted.status().is_success(), "deleting {room}/{number}: {}", deleted.status());
}

impl TestApp {
    /// An application with no owner, as an anonymous client creates one.
    async fn post_created_anonymous(&self, name: &str) -> String {
        let created = self.create_application(&new_client(), name).await;
        created["application_token"].as_str().expect("token").to_owned()
    }
}

/// `GET path` as `client`, status and JSON, on one server.
async fn answer(app: &TestApp, client: &Client, path: &str) -> (u16, Value) {
    let response = app.get(client, path).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts the two servers answer `path` alike (200 both), and returns it.
async fn same_answer(sqlite: &TestApp, postgres: &TestApp, client: &Client, path: &str) -> Value {
    let (status, on_sqlite) = answer(sqlite, client, path).await;
    assert_eq!(status, 200, "GET {path} on SQLite: {on_sqlite}");
    let on_postgres = answer(postgres, client, path).await;
    assert_eq!(on_postgres, (200, on_sqlite.clone()), "GET {path}: Postgres answers as SQLite does");
    on_sqlite
}

/// The replay a socket gets when it subscribes after `after`.
async fn replay(app: &TestApp, who: &Person, room: i64, after: i64) -> Vec<ServerEvent> {
    let mut ws = connect(app, who).await;
    let events = ws.subscribe(room, Some(after)).await;
    events.into_iter().filter(|e| !matches!(e, ServerEvent::Presence { .. })).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_instance_of_100k_messages_copied_to_postgres_by_the_binary_answers_as_the_original() {
    let Some(pg) = BlankPostgres::create("acceptance").await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let source = format!("sqlite://{}/source.db", dir.path().display());

    let started = Instant::now();
    let mut running = spawn_stoppable_app_with(|c| c.database_url = Some(source.clone())).await;
    let instance = build_instance(&running.app, &source).await;
    eprintln!("the instance was built in {:?}", started.elapsed());
    // Stop the source server, as the README says, then copy.
    running.stop();
    let source_app = running.app;
    running.server.await.expect("joined").expect("the server stopped");
    drop(source_app);

    let started = Instant::now();
    let copied = run_copy_data(&source, &pg.url).await;
    let stdout = String::from_utf8_lossy(&copied.stdout);
    let stderr = String::from_utf8_lossy(&copied.stderr);
    assert!(copied.status.success(), "copy-data succeeds: {stdout}\n{stderr}");
    eprintln!("copy-data took {:?}:\n{stdout}", started.elapsed());
    assert!(stdout.contains("No server is using the source: the copy is of the moment it starts"), "{stdout}");
    assert!(stdout.contains("in one transaction, committed only after the check"), "{stdout}");
    assert!(stdout.contains("Committed. Point DATABASE_URL at postgres://"), "{stdout}");
    let counts = row_counts(&source).await;
    assert!(counts[4].1 > 100_000, "over 100,000 messages: {counts:?}");
    assert_eq!(row_counts(&pg.url).await, counts, "every table has as many rows on both");
    for (table, n) in &counts {
        let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(table)).expect("a line per table");
        assert_eq!(line.split_whitespace().skip(1).collect::<Vec<_>>(), [n.to_string(), n.to_string()], "{line}");
    }
    assert!(stdout.contains("rooms: 7 checked"), "{stdout}");

    // One server on each database, to the same session cookies (the
    // sessions moved too).
    let sqlite = spawn_app_with(|c| c.database_url = Some(source.clone())).await;
    let postgres = spawn_app_with(|c| c.database_url = Some(pg.url.clone())).await;
    let started = Instant::now();
    for who in &instance.people {
        // The room list: unread counts, last messages, members.
        let rooms = same_answer(&sqlite, &postgres, &who.client, "/conversations").await;
        assert!(!rooms.as_array().expect("rooms").is_empty());
    }
    let unread = |rooms: &Value, room: i64| {
        rooms.as_array().expect("rooms").iter().find(|r| r["id"] == room).expect("a member")["unread_count"].as_i64()
    };
    let group = instance.rooms[0].1;
    let dave_rooms = answer(&postgres, &instance.people[3].client, "/conversations").await.1;
    assert!(unread(&dave_rooms, group) > Some(30_000), "dave read nothing of the group");
    let carol_rooms = answer(&postgres, &instance.people[2].client, "/conversations").await.1;
    assert!(unread(&carol_rooms, group) < Some(40), "carol read up to 40,990");

    // History: the newest page, then back by time and by number, forward
    // by time, and around a number.
    let alice = &instance.people[0];
    for (name, room) in &instance.rooms {
        let reader = if *name == "open" { &instance.people[2] } else { alice };
        let latest =
            same_answer(&sqlite, &postgres, &reader.client, &format!("/conversations/{room}/messages?limit=50")).await;
        let mut before = latest["page_info"]["cursor"]["before"].as_str().expect("a before cursor").to_owned();
        for _ in 0..3 {
            let path = format!("/conversations/{room}/messages?limit=100&before={}", urlencode(&before));
            let page = same_answer(&sqlite, &postgres, &reader.client, &path).await;
            before = page["page_info"]["cursor"]["before"].as_str().expect("older").to_owned();
        }
        for query in ["before_number=1000&limit=30", "after_number=0&limit=30", "around=777&limit=20", "before=5"] {
            same_answer(&sqlite, &postgres, &reader.client, &format!("/conversations/{room}/messages?{query}")).await;
        }
        let oldest = same_answer(
            &sqlite,
            &postgres,
            &reader.client,
            &format!("/conversations/{room}/messages?after_number=0&limit=1"),
        )
        .await;
        let first_at = oldest["messages"][0]["created_at"].as_str().expect("a first message").to_owned();
        let path = format!("/conversations/{room}/messages?limit=60&after={}", urlencode(&first_at));
        let page = same_answer(&sqlite, &postgres, &reader.client, &path).await;
        assert_eq!(page["messages"].as_array().expect("messages").len(), 60);
    }

    // Search: a substring, a word with a capital, a two-character query (a
    // scan of the newest messages), scoped to a room, and the token API's.
    for who in &instance.people {
        for query in ["q=ello%20wor", "q=N%C3%BCtzlich", "q=K%C3%96LN&limit=50", "q=ok", "q=ed&limit=20"] {
            same_answer(&sqlite, &postgres, &who.client, &format!("/search?{query}")).await;
        }
    }
    let hits = same_answer(&sqlite, &postgres, &alice.client, &format!("/search?q=needle&room_id={group}")).await;
    assert!(hits.to_string().contains("needle"), "{hits}");
    let path = format!("/api/applications/{}/chats/{}/search?query=ok", instance.token, instance.chat);
    same_answer(&sqlite, &postgres, &new_client(), &path).await;
    same_answer(&sqlite, &postgres, &new_client(), &format!("/api/applications/{}/chats", instance.token)).await;

    // Resume: the changes after a seq, replayed over the socket, from just
    // before the last burst and from deep in the bulk history.
    let carol = &instance.people[2];
    for &(room, seq) in &instance.resume_from {
        let who = if room == instance.rooms[2].1 { carol } else { alice };
        for after in [seq, seq - 25] {
            let on_sqlite = replay(&sqlite, who, room, after).await;
            assert!(on_sqlite.len() >= 5, "a replay of the last changes: {on_sqlite:?}");
            assert_eq!(replay(&postgres, who, room, after).await, on_sqlite, "the replay after {after} in room {room}");
        }
    }
    eprintln!("both servers compared in {:?}", started.elapsed());

    // The copy goes on with new ids after the copied ones.
    let sent = postgres.send(&alice.client, group, "the first message on Postgres").await;
    assert_eq!(sent["number"].as_i64(), Some(41_000 + 12 + 3 + 1), "the group's numbering goes on: {sent}");
    let newcomer = person(&postgres, "frank").await;
    assert_eq!(newcomer.id, 6, "a new account takes the next id");
    drop((sqlite, postgres));
    pg.drop_now().await;
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}

/// A source of 30,000 messages made through the core's store, for the
/// interruption tests.
async fn interrupted_source(dir: &std::path::Path) -> String {
    let source = format!("sqlite://{}/source.db", dir.display());
    let (store, user) = hearth::testing::store_with_alice(&source).await;
    store.sessions().await.expect("the sessions table");
    let room = store.create_room(hearth::model::RoomKind::Group, Some("big"), user, &[user]).await.expect("a room");
    bulk_messages(&source, room.0, &[user.0], None, 30_000).await;
    source
}

/// Starts `copy-data`, waits until it is copying `messages`, sends
/// `signal`, and returns its output.
fn interrupt_copy(from: &str, to: &str, signal: i32) -> Output {
    let mut child = copy_data_command(from, to)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hearth binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("read stderr");
        seen.push_str(&line);
        if line.starts_with("copying messages") {
            break;
        }
        assert!(read > 0 && Instant::now() < deadline, "copy-data never started on messages: {seen}");
    }
    // SAFETY: kill(2) on our own child's pid, which has not been reaped.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "the signal is sent");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("the rest of stderr");
    let mut output = child.wait_with_output().expect("copy-data exits");
    output.stderr = format!("{seen}{rest}").into_bytes();
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_or_a_kill_during_copy_data_leaves_the_target_empty_and_a_retry_copies_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = interrupted_source(dir.path()).await;
    let expected = row_counts(&source).await;
    let pg = BlankPostgres::create("interrupted").await;
    let mut targets = vec![format!("sqlite://{}/target.db", dir.path().display())];
    targets.extend(pg.as_ref().map(|pg| pg.url.clone()));

    for target in &targets {
        let (from, to) = (source.clone(), target.clone());
        let ctrl_c =
            tokio::task::spawn_blocking(move || interrupt_copy(&from, &to, libc::SIGINT)).await.expect("joined");
        let stderr = String::from_utf8_lossy(&ctrl_c.stderr);
        assert!(!ctrl_c.status.success(), "Ctrl-C exits non-zero: {stderr}");
        assert!(
            stderr.lines().last().is_some_and(|l| l
                .starts_with("hearth: copy-data interrupted: nothing was committed, the target is as empty as before")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(row_counts(target).await.iter().all(|(_, n)| *n == 0), "nothing after Ctrl-C on {target}");

        let (from, to) = (source.clone(), target.clone());
        let killed =
            tokio::task::spawn_blocking(move || interrupt_copy(&from, &to, libc::SIGKILL)).await.expect("joined");
        assert!(!killed.status.success(), "a killed copy fails");
        assert!(row_counts(target).await.iter().all(|(_, n)| *n == 0), "nothing after a kill on {target}");

        let retried = run_copy_data(&source, target).await;
        assert!(retried.status.success(), "a retry copies: {}", String::from_utf8_lossy(&retried.stderr));
        assert_eq!(row_counts(target).await, expected, "everything, once, on {target}");
    }
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn copy_data_into_a_database_that_is_not_empty_fails_with_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = interrupted_source(dir.path()).await;
    let target = format!("sqlite://{}/target.db", dir.path().display());
    assert!(run_copy_data(&source, &target).await.status.success());
    let before = row_counts(&target).await;
    for (from, to, names) in [
        (source.as_str(), target.as_str(), "the target database is not empty (users: 1 row, rooms: 1 row"),
        ("mysql://db/x", target.as_str(), "the source URL is not usable"),
        ("sqlite:///nowhere/at/all.db", target.as_str(), "there is no source database at /nowhere/at/all.db"),
    ] {
        let output = run_copy_data(from, to).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "fails: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("copying ")).collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].starts_with(&format!("hearth: {names}")), "{stderr}");
    }
    assert_eq!(row_counts(&target).await, before);
}

#[tokio::test]
async fn copy_data_refuses_a_source_a_server_is_using_and_makes_its_target_private() {
    let mut running = spawn_stoppable_app_with(|_| {}).await;
    let url = running.app.database_url.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = format!("sqlite://{}/target.db", dir.path().display());
    let output = run_copy_data(&url, &target).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("hearth: the source is being served"), "{stderr}");
    assert!(!dir.path().join("target.db").exists(), "nothing made: {stderr}");

    // Once the server has stopped, the copy goes, into a file only its
    // owner reads (it holds every password hash).
    running.stop();
    running.server.await.expect("joined").expect("the server stopped");
    let output = run_copy_data(&url, &target).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("target.db")).expect("the target").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}
