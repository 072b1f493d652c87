//! `hearth::store::copy_data` (`hearth copy-data`): every row and counter
//! of an instance moves to an empty database, SQLite → Postgres,
//! Postgres → SQLite and SQLite → SQLite; a non-empty target, a bad URL or a
//! failed check is refused; an interrupted copy leaves the target empty.
//!
//! The sources are written through the store (`insert_message`,
//! `edit_message`…), as the app writes them. The copies are read back with
//! this file's own SQL: every column of every table, as text, in key order.
//! The Postgres tests need `HEARTH_TEST_POSTGRES_URL` (`make test` sets it)
//! and say they were skipped without it.

use std::collections::BTreeMap;

use hearth::model::{RoomId, RoomKind, UserId};
use hearth::store::{CopyError, NewUserRow, Store, copy_data};
use hearth::testing::BlankPostgres;
use sqlx::{Connection, Row};
use time::OffsetDateTime;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

/// Every table and its primary key, parents first.
const TABLES: &[(&str, &str)] = &[
    ("users", "id"),
    ("applications", "id"),
    ("rooms", "id"),
    ("memberships", "room_id, user_id"),
    ("messages", "id"),
    ("link_previews", "url"),
    ("blobs", "hash"),
    ("attachments", "id"),
    ("mentions", "message_id, user_id"),
    ("room_events", "room_id, seq"),
    ("reactions", "room_id, number, emoji, user_id"),
    ("message_edits", "id"),
    ("saved_messages", "id"),
    ("instance_settings", "key"),
    ("invitations", "id"),
    ("password_resets", "id"),
    ("audit_log", "id"),
    ("push_keys", "id"),
    ("push_subscriptions", "id"),
    ("push_jobs", "id"),
    ("push_sent", "user_id, room_id"),
    ("sessions", "id"),
    ("user_sessions", "session_id"),
    ("default_rooms", "room_id"),
];

fn sqlite_url(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}", dir.path().join(name).display())
}

/// What [`seed`] made, for the checks.
struct Seeded {
    rooms: Vec<RoomId>,
    session: Id,
}

/// An instance as the app leaves it: four users, a direct room, a group, an
/// open room, an application with two chats and an anonymous one with one,
/// `messages` messages spread over them (some with client ids), edits,
/// deletes, read markers moved, and a session.
async fn seed(url: &str, messages: usize) -> Seeded {
    let store = Store::connect(url).await.expect("source opens");
    store.migrate().await.expect("source migrates");
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let profile = store
            .insert_user(NewUserRow {
                email: &format!("{name}@example.com"),
                username: name,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                name: (name != "dave").then_some("Ünïcødé Name"),
            })
            .await
            .expect("user");
        users.push(profile.id);
    }
    let (alice, bob, carol) = (users[0], users[1], users[2]);
    let (direct, _) = store.find_or_create_direct(alice, bob, None).await.expect("direct room");
    let group = store.create_room(RoomKind::Group, Some("Team"), alice, &[alice, bob, carol]).await.expect("group");
    let open = store.create_room(RoomKind::Open, Some("Lobby"), carol, &[carol, bob]).await.expect("open room");
    let app = store.insert_application("a1b2c3d4e5f6", "Bot", Some(alice)).await.expect("application");
    let chat1 = store.insert_chat(&app, "chat one").await.expect("chat");
    let chat2 = store.insert_chat(&app, "chat two").await.expect("chat");
    let anonymous = store.insert_application("f6e5d4c3b2a1", "Anonymous", None).await.expect("application");
    let chat3 = store.insert_chat(&anonymous, "its chat").await.expect("chat");
    let _empty_room = store.create_room(RoomKind::Open, Some("Quiet"), users[3], &[]).await.expect("room");
    // Issue 18's tables: a policy, an invitation, a reset link, audit entries
    // (and a role and a deactivation on users).
    let audit = |action| hearth::store::Audit { actor: Some(alice), action, ..Default::default() };
    store.set_instance_setting("sign_up_policy", "invite", audit("instance.sign_up_policy")).await.expect("setting");
    store.insert_invitation("0f0f", Some(alice), "2099-01-01T00:00:00.000000Z", 3).await.expect("invitation");
    store
        .insert_password_reset(bob, "1e1e", "2099-01-01T00:00:00.000000Z", Some(audit("user.reset_link")))
        .await
        .expect("reset");
    store.set_role(bob, hearth::model::Role::Admin, audit("user.set_role")).await.expect("role");
    store.set_active(carol, false, audit("user.deactivate")).await.expect("deactivated");
    // Migration 0014: the room new accounts join.
    store.set_default_room(open, true, audit("room.default_on")).await.expect("default room");

    let rooms = vec![direct, group, open, chat1.room_id, chat2.room_id, chat3.room_id];
    let words = ["hello world", "Grüße aus Köln", "日本語のテキスト", "ok", "search me: needle", "x"];
    for i in 0..messages {
        let room = rooms[i % rooms.len()];
        let body = format!("message {i}: {}", words[(i / rooms.len() + i) % words.len()]);
        let client_id = (i % 7 == 0).then(|| format!("client-{i}"));
        let (author, application) = match room {
            r if r == chat1.room_id || r == chat2.room_id => (None, Some(app.id)),
            r if r == chat3.room_id => (None, Some(anonymous.id)),
            r if r == direct => (Some([alice, bob][i % 2]), None),
            _ => (Some([alice, bob, carol][i % 3]), None),
        };
        store.insert_message(room, author, application, &body, client_id.as_deref()).await.expect("message");
    }
    // Reactions (issue 16), each a change with its own seq (none on a
    // message a small seed does not have).
    for (room, number, user, emoji) in [(direct, 2, alice, "👍"), (group, 4, bob, "🎉"), (group, 4, carol, "🎉")]
    {
        store.toggle_reaction(room, number, user, emoji, Some(true)).await.expect("reaction");
    }
    // Uploads (issue 16): their blobs' records, one shared, one with a
    // thumbnail; and an uploaded avatar.
    for (name, hash, thumb) in [("a.png", "a1", Some("b2")), ("b.txt", "c3", None), ("again.png", "a1", Some("b2"))] {
        let blob = |h: &str| hearth::store::BlobRef { hash: h.repeat(32), size: 10 };
        let upload = hearth::store::NewUpload {
            room: group,
            uploader: alice,
            name: name.into(),
            content_type: "image/png".into(),
            file: blob(hash),
            width: thumb.map(|_| 20),
            height: thumb.map(|_| 10),
            thumbnail: thumb.map(blob),
        };
        store.save_upload(&upload).await.expect("upload");
    }
    let avatar = hearth::store::BlobRef { hash: "d4".repeat(32), size: 99 };
    store.set_uploaded_avatar(bob, &avatar, "/users/2/avatar?v=d4").await.expect("avatar");
    // Edits and deletes, each a change with its own seq.
    for (k, room) in rooms.iter().enumerate() {
        let last = store.room(*room).await.expect("room").expect("exists").last_number;
        for number in (1..=last).filter(|n| n % 13 == (k as i64) % 13) {
            // Edits in the group mention bob and carol (the mentions table).
            let mentioned: &[UserId] = if *room == group { &[bob, carol] } else { &[] };
            store
                .edit_message(*room, number, &format!("edited message {number}: needle @bob @carol"), mentioned)
                .await
                .expect("edit");
        }
        for number in (1..=last).filter(|n| n % 17 == 3) {
            store.delete_message(*room, number).await.expect("delete");
        }
    }
    for (room, user, number) in [(direct, bob, 5), (group, carol, 7), (group, alice, 1_000_000), (open, bob, 2)] {
        store.mark_read(room, user, number).await.expect("mark read");
    }
    // Saved messages: two of alice's, one of bob's (none on a message a
    // small seed does not have, or deleted).
    for (user, room, number) in [(alice, group, 2), (alice, direct, 4), (bob, group, 2)] {
        store.set_saved(user, room, number, true, 1000).await.expect("saved");
    }
    // Web Push: the VAPID key and two devices.
    store.push_key_or_insert(("pkcs8-of-the-key", "its-public-key")).await.expect("push key");
    for (user, endpoint) in [(alice, "https://push.example.net/1"), (bob, "https://push.example.net/2")] {
        store
            .save_push_subscription(user, Some("a-session"), endpoint, "p256dh-key", "auth-secret")
            .await
            .expect("subscription");
    }
    // The push queue: a job waiting, a push recorded, a tab (not copied).
    store.queue_push_job("message", group, 3, Some(alice), "2030-01-01T00:00:00.000000Z").await.expect("a job");
    store.record_pushes(group, 1_000_001, &[carol]).await.expect("a push recorded");
    store.set_viewing("instance", 1, carol, Some(group), "2030-01-01T00:00:00.000000Z").await.expect("a tab");

    let sessions = store.sessions().await.expect("sessions table");
    let mut record = Record {
        id: Id::default(),
        data: [("axum-login.data".to_owned(), serde_json::json!({"user_id": 1}))].into_iter().collect(),
        expiry_date: OffsetDateTime::now_utc() + time::Duration::days(14),
    };
    sessions.create(&mut record).await.expect("a session");
    // Its entry in the sessions list (issue 18).
    let id = record.id.to_string();
    store.touch_user_session(&id, "public-id-of-it", alice, Some("Mozilla/5.0 (X11; Linux)")).await.expect("listed");
    Seeded { rooms, session: record.id }
}

/// Every row of every table as text, in key order. The columns are SQLite's
/// (the schema test proves Postgres has the same); the session expiry, a
/// time on Postgres, is compared separately, to the microsecond.
type Dump = BTreeMap<&'static str, Vec<Vec<Option<String>>>>;
type Sessions = Vec<(String, Vec<u8>, OffsetDateTime)>;

/// Asserts two dumps are equal, naming the first row that differs (a whole
/// dump is too long to print).
fn assert_same(copy: &(Dump, Sessions), original: &(Dump, Sessions)) {
    for (table, rows) in &original.0 {
        let copied = &copy.0[table];
        for (i, (a, b)) in copied.iter().zip(rows).enumerate() {
            assert_eq!(a, b, "{table}: row {i} differs");
        }
        assert_eq!(copied.len(), rows.len(), "{table}: rows");
    }
    assert_eq!(copy.1, original.1, "sessions: id, data, and expiry to the microsecond");
}

async fn dump(url: &str) -> (Dump, Sessions) {
    let columns = sqlite_columns().await;
    let mut out = Dump::new();
    // The same reads on either driver's connection.
    macro_rules! read_all {
        ($conn:expr) => {{
            let mut conn = $conn;
            for (table, key) in TABLES {
                let select = select_as_text(table, key, &columns[table]);
                let rows = sqlx::query(&select).fetch_all(&mut conn).await.expect("dump");
                out.insert(table, rows.iter().map(|r| (0..r.len()).map(|i| r.get(i)).collect()).collect());
            }
            sqlx::query_as("SELECT id, data, expiry_date FROM sessions ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .expect("sessions")
        }};
    }
    let mut sessions: Sessions = if url.starts_with("postgres") {
        read_all!(sqlx::PgConnection::connect(url).await.expect("connect"))
    } else {
        read_all!(sqlx::SqliteConnection::connect(url).await.expect("connect"))
    };
    for (_, _, expiry) in &mut sessions {
        *expiry = expiry.replace_nanosecond(expiry.nanosecond() / 1000 * 1000).expect("micro");
    }
    (out, sessions)
}

fn select_as_text(table: &str, key: &str, columns: &[String]) -> String {
    // Aliased, so that Postgres orders by the key, not by the text column
    // that would otherwise take its name.
    let cast: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c.as_str() {
            "expiry_date" | "data" => format!("NULL AS c{i}"),
            _ => format!("CAST({c} AS TEXT) AS c{i}"),
        })
        .collect();
    let key: Vec<String> = key.split(", ").map(|k| format!("{table}.{k}")).collect();
    format!("SELECT {} FROM {table} ORDER BY {}", cast.join(", "), key.join(", "))
}

/// The columns of each table, from a freshly migrated SQLite database.
async fn sqlite_columns() -> BTreeMap<&'static str, Vec<String>> {
    let store = Store::connect("sqlite::memory:").await.expect("memory");
    store.migrate().await.expect("migrate");
    store.sessions().await.expect("sessions");
    let pool = store.sqlite_pool().expect("sqlite");
    let mut out = BTreeMap::new();
    for (table, _) in TABLES {
        let names: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_table_info(?)").bind(table).fetch_all(pool).await.expect("columns");
        out.insert(*table, names.into_iter().map(|(n,)| n).collect());
    }
    out
}

/// The rows of every table, counted on a database.
async fn row_counts(url: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for (table, _) in TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap_or(0)
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap_or(0)
        };
        counts.push(n);
    }
    counts
}

/// On SQLite, the FTS5 index holds exactly the live messages, as the app's
/// triggers leave it; and the copy's search (FTS5 or pg_trgm) answers as the
/// source's does.
async fn assert_search_matches(source: &str, copy: &str) {
    let source = Store::connect(source).await.expect("source");
    let copy = Store::connect(copy).await.expect("copy");
    for store in [&source, &copy] {
        let Some(pool) = store.sqlite_pool() else { continue };
        sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
            .execute(pool)
            .await
            .expect("the FTS5 index is sound");
        // Every body has "message" in it: the index must list the live ones.
        let indexed: Vec<i64> =
            sqlx::query_scalar("SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"message\"' ORDER BY rowid")
                .fetch_all(pool)
                .await
                .expect("match");
        let live: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE deleted_at IS NULL ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("live");
        assert_eq!(indexed, live, "the index holds exactly the live messages");
    }
    let scope = hearth::store::SearchScope::MemberOf(UserId(2));
    for query in ["needle", "KÖLN", "本語の", "ello wor"] {
        let hits = |s: &Store| {
            let s = s.clone();
            async move {
                s.search_indexed(scope, &[query], 1000)
                    .await
                    .expect("search")
                    .into_iter()
                    .map(|h| (h.room_id, h.number, h.body))
                    .collect::<Vec<_>>()
            }
        };
        let expected = hits(&source).await;
        assert!(!expected.is_empty(), "{query} finds something");
        assert_eq!(hits(&copy).await, expected, "search for {query}");
    }
}

#[tokio::test]
async fn a_sqlite_instance_copies_to_another_sqlite_file_row_for_row_with_its_search_index() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    seed(&from, 2600).await;
    let mut seen = Vec::new();
    let report = copy_data(&from, &to, |table, done, total| seen.push((table, done, total))).await.expect("copies");

    assert_same(&dump(&to).await, &dump(&from).await);
    assert_search_matches(&from, &to).await;
    let counts = row_counts(&from).await;
    let reported: Vec<(i64, i64)> = report.tables.iter().map(|t| (t.source, t.target)).collect();
    assert_eq!(reported, counts.iter().map(|&n| (n, n)).collect::<Vec<_>>());
    assert_eq!(report.rooms_checked, 7);
    assert_eq!(report.applications_checked, 2);
    // Progress: each table starts at 0 and ends at its total, in key order.
    let tables: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    let mut started: Vec<&str> = seen.iter().filter(|(_, done, _)| *done == 0).map(|(t, ..)| *t).collect();
    started.dedup();
    assert_eq!(started, tables);
    assert!(seen.contains(&("messages", 2600, 2600)), "{seen:?}");
    assert!(seen.contains(&("messages", 1000, 2600)), "batches of 1000: {seen:?}");
    assert!(report.to_string().contains("messages"), "{report}");
}

#[tokio::test]
async fn a_sqlite_instance_copies_to_postgres_with_every_row_counter_and_session_and_new_ids_follow_the_copied_ones() {
    let Some(pg) = BlankPostgres::create("to_pg").await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let from = sqlite_url(&dir, "from.db");
    let seeded = seed(&from, 2600).await;
    let report = copy_data(&from, &pg.url, |_, _, _| {}).await.expect("copies");
    assert_eq!(report.rooms_checked, 7);

    assert_same(&dump(&pg.url).await, &dump(&from).await);
    // The session loads through tower-sessions' Postgres store.
    let target = Store::connect(&pg.url).await.expect("target");
    let loaded = target.sessions().await.expect("sessions").load(&seeded.session).await.expect("load");
    assert_eq!(loaded.expect("the session was copied").data["axum-login.data"]["user_id"], 1);
    // Each identity moved past the largest copied id.
    let mut conn = sqlx::PgConnection::connect(&pg.url).await.expect("connect");
    for table in ["users", "applications", "rooms", "messages"] {
        let max: i64 =
            sqlx::query_scalar(&format!("SELECT max(id) FROM {table}")).fetch_one(&mut conn).await.expect("max");
        let next: i64 = sqlx::query_scalar(&format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))
            .fetch_one(&mut conn)
            .await
            .expect("nextval");
        assert_eq!(next, max + 1, "{table}'s next id");
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash) VALUES ('erin', 'erin@example.com', 'x') RETURNING id",
    )
    .fetch_one(&mut conn)
    .await
    .expect("a new user gets a free id");
    assert_eq!(id, 6, "after 4 copied users and the nextval above");
    // pg_trgm finds what FTS5 found.
    assert_search_matches(&from, &pg.url).await;
    conn.close().await.expect("close");
    drop(target);
    let _ = seeded.rooms;
    pg.drop_now().await;
}

#[tokio::test]
async fn a_postgres_instance_copies_back_to_sqlite_as_the_original_with_a_working_search_index() {
    let Some(pg) = BlankPostgres::create("from_pg").await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let (original, back) = (sqlite_url(&dir, "original.db"), sqlite_url(&dir, "back.db"));
    let seeded = seed(&original, 1500).await;
    copy_data(&original, &pg.url, |_, _, _| {}).await.expect("to Postgres");
    let report = copy_data(&pg.url, &back, |_, _, _| {}).await.expect("back to SQLite");
    assert_eq!(report.tables[4].target, 1500);

    assert_same(&dump(&back).await, &dump(&original).await);
    assert_search_matches(&original, &back).await;
    // tower-sessions' SQLite store reads the copied expiry.
    let store = Store::connect(&back).await.expect("copy");
    assert!(store.sessions().await.expect("sessions").load(&seeded.session).await.expect("load").is_some());
    pg.drop_now().await;
}

#[tokio::test]
async fn a_target_with_any_row_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    seed(&from, 30).await;
    // One user, nothing else.
    let target = Store::connect(&to).await.expect("target");
    target.migrate().await.expect("migrate");
    target.sessions().await.expect("sessions");
    target
        .insert_user(NewUserRow { email: "zed@example.com", username: "zed", password_hash: "x", name: None })
        .await
        .expect("a user");
    let before = dump(&to).await;

    let err = copy_data(&from, &to, |_, _, _| {}).await.expect_err("refused");
    assert!(matches!(err, CopyError::NotEmpty(ref full) if full == &[("users", 1)]), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the target database is not empty (users: 1 row): copy-data only writes into an empty database"
    );
    assert_same(&dump(&to).await, &before);

    // A second copy into a full copy is refused too, on Postgres as well.
    if let Some(pg) = BlankPostgres::create("full").await {
        copy_data(&from, &pg.url, |_, _, _| {}).await.expect("first copy");
        let before = dump(&pg.url).await;
        let err = copy_data(&from, &pg.url, |_, _, _| {}).await.expect_err("refused");
        assert!(
            err.to_string().starts_with("the target database is not empty (users: 4 rows, applications: 2 rows"),
            "{err}"
        );
        assert_same(&dump(&pg.url).await, &before);
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn bad_urls_missing_sources_and_unreachable_servers_are_one_line_errors_that_create_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    seed(&from, 3).await;
    let missing = sqlite_url(&dir, "missing.db");
    let empty = sqlite_url(&dir, "empty.db");
    sqlx::SqliteConnection::connect(&format!("{empty}?mode=rwc")).await.expect("an empty SQLite file");

    let cases: Vec<(&str, &str, &str)> = vec![
        ("mysql://localhost/db", &to, "the source URL is not usable: "),
        (&from, "redis://localhost", "the target URL is not usable: "),
        (&from, &from, "--from and --to name the same database"),
        (&missing, &to, "there is no source database at /"),
        (&empty, &to, "the source database has no Hearth schema"),
        (&from, "postgres://nobody@127.0.0.1:1/none", "cannot open the target database: "),
        ("postgres://nobody@127.0.0.1:1/none", &to, "cannot open the source database: "),
    ];
    for (from, to, expected) in cases {
        let err = copy_data(from, to, |_, _, _| {}).await.expect_err("refused").to_string();
        assert!(err.starts_with(expected), "{from} → {to}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
    assert!(!dir.path().join("missing.db").exists(), "a missing source is not created");
    assert!(!dir.path().join("to.db").exists(), "no target was created for a bad source");
}

#[tokio::test]
async fn a_failed_check_commits_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    let seeded = seed(&from, 60).await;
    // A source whose counter disagrees with its messages.
    let source = Store::connect(&from).await.expect("source");
    sqlx::query("UPDATE rooms SET last_number = last_number + 5 WHERE id = ?")
        .bind(seeded.rooms[1].0)
        .execute(source.sqlite_pool().expect("sqlite"))
        .await
        .expect("break a counter");

    let err = copy_data(&from, &to, |_, _, _| {}).await.expect_err("refused").to_string();
    let expected = format!("source room {}: last number", seeded.rooms[1].0);
    assert!(err.starts_with("the check after copying found 2 difference(s), so nothing was committed: "), "{err}");
    assert!(err.contains(&expected), "{err}");
    assert_eq!(row_counts(&to).await, vec![0; TABLES.len()], "the target stayed empty");
}

#[tokio::test]
async fn a_target_schema_the_copy_does_not_know_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    seed(&from, 3).await;
    let target = Store::connect(&to).await.expect("target");
    target.migrate().await.expect("migrate");
    sqlx::query("ALTER TABLE users ADD COLUMN shoe_size INTEGER")
        .execute(target.sqlite_pool().expect("sqlite"))
        .await
        .expect("a column from a future migration");
    let err = copy_data(&from, &to, |_, _, _| {}).await.expect_err("refused").to_string();
    assert_eq!(err, "copy-data does not know column users.shoe_size: this build cannot copy that schema");
}

/// Drops the copy future as soon as `messages` has had its first batch
/// written (as Ctrl-C does), then checks the target is empty and that a new
/// copy into it succeeds.
async fn interrupt_then_retry(from: &str, to: &str) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut stop = Some(stop);
    let copy = copy_data(from, to, move |table, done, _| {
        if table == "messages"
            && done >= 1000
            && let Some(stop) = stop.take()
        {
            let _ = stop.send(());
        }
    });
    tokio::select! {
        result = copy => panic!("the copy finished before it was interrupted: {result:?}"),
        _ = stopped => {}
    }
    assert_eq!(row_counts(to).await, vec![0; TABLES.len()], "nothing of an interrupted copy is in the target");
    let report = copy_data(from, to, |_, _, _| {}).await.expect("a retry copies");
    assert_eq!(report.tables[4].target, 2600);
    assert_same(&dump(to).await, &dump(from).await);
}

#[tokio::test]
async fn an_interrupted_copy_to_sqlite_leaves_the_target_empty_for_a_retry() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (sqlite_url(&dir, "from.db"), sqlite_url(&dir, "to.db"));
    seed(&from, 2600).await;
    interrupt_then_retry(&from, &to).await;
}

#[tokio::test]
async fn an_interrupted_copy_to_postgres_leaves_the_target_empty_for_a_retry() {
    let Some(pg) = BlankPostgres::create("interrupted").await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let from = sqlite_url(&dir, "from.db");
    seed(&from, 2600).await;
    interrupt_then_retry(&from, &pg.url).await;
    pg.drop_now().await;
}
