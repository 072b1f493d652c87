//! `hearth backup <file>` (issue 19): the real binary takes an online
//! snapshot of a SQLite database while people go on posting; the snapshot
//! passes `PRAGMA integrity_check`, and a server started on it serves the
//! same history up to the snapshot's instant, numbered without gaps. It never
//! overwrites a file, and on Postgres it names `pg_dump` instead of pretending.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hearth::store::Backend;
use reqwest::Client;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{TestApp, assert_one_line_failure, numbers, spawn_app, spawn_app_with};

/// Runs `hearth backup <file>` on `database_url`, logs off.
pub async fn run_backup(database_url: &str, file: &Path) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command.arg("backup").arg(file).env("DATABASE_URL", database_url).env("HEARTH_LOG", "off").env_remove("RUST_LOG");
    tokio::task::spawn_blocking(move || command.output().expect("the hearth binary runs")).await.expect("joined")
}

/// `PRAGMA integrity_check` on a SQLite file, through a connection of its own.
pub async fn integrity_check(url: &str) -> Vec<String> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect to the SQLite file");
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await.expect("check");
    conn.close().await.expect("close");
    rows
}

/// Every message of `room` as `client` sees it on `app`, by number: its body.
pub async fn whole_history(app: &TestApp, client: &Client, room: i64) -> BTreeMap<i64, String> {
    let mut all = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = app.history(client, room, &format!("after_number={after}&limit=200")).await;
        let got = numbers(&page);
        let Some(&last) = got.last() else { return all };
        for message in page["messages"].as_array().expect("messages") {
            let number = message["number"].as_i64().expect("number");
            all.insert(number, message["body"].as_str().expect("body").to_owned());
        }
        after = last;
    }
}

/// One acknowledged post: its room, number and body, and when the 201 came.
struct Acked {
    room: i64,
    number: i64,
    body: String,
    at: Instant,
}

#[tokio::test]
async fn a_backup_taken_while_people_post_is_a_consistent_snapshot_that_a_server_serves() {
    if hearth::testing::skip_unless(Backend::Sqlite, "hearth backup copies SQLite files (Postgres: pg_dump)") {
        return;
    }
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let rooms = [
        app.conversation_with(&alice.client, &[bob.id]).await,
        app.conversation_with(&alice.client, &[bob.id, carol.id]).await,
    ];
    // Some history first, so the snapshot has pages to copy.
    for &room in &rooms {
        app.seed_messages(room, alice.id, 300).await;
    }

    // Four writers post into both rooms until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let client = [&alice, &bob][w % 2].client.clone();
        let url = app.address.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let room = rooms[n % 2];
                let body = format!("writer {w} post {n}");
                let response = client
                    .post(format!("{url}/conversations/{room}/messages"))
                    .json(&json!({ "body": body }))
                    .send()
                    .await
                    .expect("request sent");
                assert_eq!(response.status(), 201, "posting {body:?} during the backup");
                let sent: Value = response.json().await.expect("json");
                let number = sent["number"].as_i64().expect("number");
                acked.push(Acked { room, number, body, at: Instant::now() });
            }
            acked
        }));
    }

    tokio::time::sleep(Duration::from_millis(400)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("snapshot.db");
    let started = Instant::now();
    let output = run_backup(&app.database_url, &file).await;
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.expect("writer joined"));
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "backup succeeds: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("backup written to"), "says what it wrote: {stdout}");
    let snapshot_url = format!("sqlite://{}", file.display());
    assert_eq!(integrity_check(&snapshot_url).await, ["ok"], "the snapshot passes PRAGMA integrity_check");

    let before = acked.iter().filter(|a| a.at < started).count();
    let during = acked.iter().filter(|a| a.at >= started && a.at <= finished).count();
    let after = acked.iter().filter(|a| a.at > finished).count();
    eprintln!(
        "backup took {:?}; posts acknowledged before {before}, during {during}, after {after}",
        finished - started
    );
    assert!(before > 0 && after > 0, "posting went on around the backup: {before} before, {after} after");

    // A server on the snapshot: alice's session is in it too.
    let restored = spawn_app_with(|config| config.database_url = Some(snapshot_url.clone())).await;
    for &room in &rooms {
        let live = whole_history(&app, &alice.client, room).await;
        let snap = whole_history(&restored, &alice.client, room).await;
        let count = snap.len() as i64;
        assert_eq!(snap.keys().copied().collect::<Vec<_>>(), (1..=count).collect::<Vec<_>>(), "no gaps in room {room}");
        for (number, body) in &snap {
            assert_eq!(live.get(number), Some(body), "room {room} message {number} is the live one");
        }
        // Everything acknowledged before the backup began is in it; things
        // acknowledged after it ended may or may not be (the snapshot's
        // instant lies in between), but the live room went on past it.
        for a in acked.iter().filter(|a| a.room == room && a.at < started) {
            assert_eq!(snap.get(&a.number), Some(&a.body), "acknowledged before the backup: {}", a.body);
        }
        assert!(
            (live.len() as i64) > count,
            "room {room}: writes after the snapshot ({} live, {count} in it)",
            live.len()
        );
    }
}

#[tokio::test]
async fn a_backup_never_overwrites_an_existing_file() {
    if hearth::testing::skip_unless(Backend::Sqlite, "hearth backup copies SQLite files (Postgres: pg_dump)") {
        return;
    }
    let app = spawn_app().await;
    app.register("alice").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("precious.db");
    std::fs::write(&file, "keep me").expect("write");

    let output = run_backup(&app.database_url, &file).await;

    assert_one_line_failure(&output, &["precious.db", "already exists"]);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me", "the file is untouched");
}

#[tokio::test]
async fn a_backup_is_readable_by_its_owner_only_and_a_file_uri_is_refused() {
    if hearth::testing::skip_unless(Backend::Sqlite, "hearth backup copies SQLite files (Postgres: pg_dump)") {
        return;
    }
    let app = spawn_app().await;
    app.register("alice").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("snapshot.db");

    let output = run_backup(&app.database_url, &file).await;
    let as_uri = dir.path().join("uri.db");
    let uri_output = run_backup(&app.database_url, Path::new(&format!("file:{}", as_uri.display()))).await;

    // It holds every account's data and the live sessions.
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("the snapshot").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "rw for its owner only, not {mode:o}");
    assert_eq!(integrity_check(&format!("sqlite://{}", file.display())).await, ["ok"]);
    // SQLite would read a file: URI as a path of its own choosing, so it
    // is refused before anything is written.
    assert_one_line_failure(&uri_output, &["not a file: URI"]);
    assert!(!as_uri.exists(), "nothing written");
}

#[tokio::test]
async fn a_backup_of_a_postgres_database_names_pg_dump_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("hearth.dump");

    // No server need listen there: the command does not pretend to try.
    let output = run_backup("postgres://hearth:s3cret@127.0.0.1:1/hearth", &file).await;

    assert_one_line_failure(&output, &["pg_dump", "Postgres"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("s3cret"), "no password in the message: {stderr}");
    assert!(!file.exists(), "no file is made");
}

/// Runs `hearth restore <file>` on `database_url`, logs off.
async fn run_restore(database_url: &str, file: &Path) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command.arg("restore").arg(file).env("DATABASE_URL", database_url).env("HEARTH_LOG", "off").env_remove("RUST_LOG");
    tokio::task::spawn_blocking(move || command.output().expect("the hearth binary runs")).await.expect("joined")
}

#[tokio::test]
async fn hearth_restore_puts_a_snapshot_back_with_no_server_on_it_and_sets_the_old_files_aside() {
    if hearth::testing::skip_unless(Backend::Sqlite, "hearth restore puts back SQLite files (Postgres: pg_restore)") {
        return;
    }
    let mut running = crate::helpers::spawn_stoppable_app_with(|_| {}).await;
    let url = running.app.database_url.clone();
    running.app.register("alice").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("snapshot.db");
    assert!(run_backup(&url, &snapshot).await.status.success());
    running.app.register_with(&crate::helpers::new_client(), "bob").await;

    // Not while a server is using it.
    assert_one_line_failure(&run_restore(&url, &snapshot).await, &["a server is using", "stop it first"]);
    running.stop();
    running.server.await.expect("joined").expect("the server stopped");

    // Not what is no snapshot: nothing is touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").expect("write");
    assert_one_line_failure(&run_restore(&url, &junk).await, &["is not a Hearth snapshot"]);
    assert_one_line_failure(&run_restore(&url, &dir.path().join("none.db")).await, &["there is no snapshot at"]);
    // A Postgres database is pg_restore's to fill: refused, with the
    // password left out of what is said, and nothing is touched.
    let postgres = run_restore("postgres://hearth:s3cret@127.0.0.1:1/hearth", &snapshot).await;
    assert_one_line_failure(&postgres, &["SQLite snapshots", "use pg_restore on Postgres"]);
    assert!(!String::from_utf8_lossy(&postgres.stderr).contains("s3cret"));
    let file = hearth::store::sqlite_file(&url).expect("a SQLite file");
    let users = |url: String| async move {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        let names: Vec<String> =
            sqlx::query_scalar("SELECT username FROM users ORDER BY id").fetch_all(&mut conn).await.expect("users");
        conn.close().await.expect("close");
        names
    };
    assert_eq!(users(url.clone()).await, ["alice", "bob"]);

    // A log left beside the database (a server killed) would be replayed
    // into the restored file: it is set aside with it.
    let wal = format!("{}-wal", file.display());
    std::fs::write(&wal, b"a stale log").expect("write");
    let output = run_restore(&url, &snapshot).await;
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!Path::new(&wal).exists(), "{said}");
    assert!(said.contains("hearth.db-wal.before-restore-"), "the database and its log: {said}");
    assert_eq!(users(url.clone()).await, ["alice"], "the snapshot's instant, before bob");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).expect("restored").permissions().mode() & 0o777, 0o600);
    // The database before is kept, not deleted.
    let before: Vec<_> = std::fs::read_dir(file.parent().expect("its directory"))
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("hearth.db.before-restore-"))
        .collect();
    assert_eq!(before.len(), 1, "{before:?}");
    // And it serves.
    let restored = spawn_app_with(|c| c.database_url = Some(url.clone())).await;
    assert_eq!(
        restored.sign_in_with(&crate::helpers::new_client(), "alice", crate::helpers::PASSWORD).await.status(),
        200
    );
}
