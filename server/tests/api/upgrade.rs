//! A database written by the previous release (before the migrations moved
//! to `migrations/sqlite/`) upgrades untouched: sqlx matches migrations by
//! version and checksum, not by path. The fixture is made by
//! `scripts/make-upgrade-fixture.sh`, which says what it holds.
//!
//! SQLite only: the previous release knew no other database, so there is no
//! older Postgres database to upgrade. The Postgres pass records it as
//! skipped (`hearth::testing::skip_unless`).

use std::path::Path;

use hearth::store::Backend;
use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::helpers::{PASSWORD, new_client, spawn_app_with};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v0-previous.db");

/// `(version, checksum)` of every applied migration, in order.
async fn applied_migrations(db: &Path) -> Vec<(i64, Vec<u8>)> {
    let mut conn = SqliteConnectOptions::new().filename(db).connect().await.expect("open the database");
    let rows = sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .expect("read _sqlx_migrations");
    conn.close().await.expect("close");
    rows
}

#[tokio::test]
async fn a_database_made_by_the_previous_release_upgrades_untouched_and_keeps_its_data() {
    if hearth::testing::skip_unless(Backend::Sqlite, "the previous release's database is a SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("hearth.db");
    std::fs::copy(FIXTURE, &db).expect("copy the fixture");
    let recorded = applied_migrations(&db).await;

    // The migrations the binary carries have the checksums the old release
    // recorded, byte for byte.
    let shipped: Vec<(i64, Vec<u8>)> = sqlx::migrate!("../migrations/sqlite")
        .iter()
        .filter(|m| recorded.iter().any(|(version, _)| *version == m.version))
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect();
    assert_eq!(recorded.len(), 3, "the fixture has migrations 1 to 3");
    assert_eq!(shipped, recorded, "every recorded migration is shipped with the same checksum");

    // The app opens it as it would at startup: migrate (sqlx refuses a
    // checksum mismatch), then the session store.
    let url = format!("sqlite://{}", db.display());
    let app = spawn_app_with(move |config| config.database_url = Some(url)).await;
    let after = applied_migrations(&db).await;
    assert_eq!(after[..recorded.len()], recorded[..], "the old rows are untouched");

    // Its sessions were stored under their cookies' ids: gone, so nothing a
    // copy of the old file holds is a live cookie (everyone signs in again).
    let mut conn = SqliteConnectOptions::new().filename(&db).connect().await.expect("open the database");
    let (sessions,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM sessions").fetch_one(&mut conn).await.expect("count");
    assert_eq!(sessions, 0, "the old release's session rows are dropped");
    // Migration 0022 blanked the text the old release kept under its
    // deleted message (a deleted password stays out of every backup).
    let deleted: Vec<(String,)> = sqlx::query_as("SELECT body FROM messages WHERE deleted_at IS NOT NULL")
        .fetch_all(&mut conn)
        .await
        .expect("the deleted rows");
    assert_eq!(deleted, [(String::new(),)], "the deleted message's text is gone from the file");
    drop(conn);

    // The old accounts sign in with their old password hashes.
    let alice = new_client();
    let response = app.sign_in_with(&alice, "alice@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200, "alice signs in");

    // History: the edit kept, the deleted message a tombstone, numbers as
    // they were.
    let page = app.get_json(&alice, "/conversations/1/messages").await;
    let bodies: Vec<(i64, Option<&str>)> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["number"].as_i64().expect("number"), m["body"].as_str()))
        .collect();
    assert_eq!(
        bodies,
        [
            (1, Some("Hi Bob, this is Alice!")),
            (2, Some("Hey Alice! Good to hear from you.")),
            (3, Some("Grüße, 100% sure_thing (edited)")),
            (4, None),
        ],
        "{page}"
    );

    // The old search index still finds the edited text, and not the deleted.
    let hits = app.get_json(&alice, "/search?q=%C3%BC%C3%9F").await;
    assert_eq!(hits["results"].as_array().map(Vec::len), Some(1), "{hits}");
    assert_eq!(hits["results"][0]["number"], 3);
    let hits = app.get_json(&alice, "/search?q=is%20deleted").await;
    assert_eq!(hits["results"], json!([]), "a deleted message stays out of search");

    // The counters carry on from where the old release left them.
    let sent = alice
        .post(app.url("/conversations/1/messages"))
        .json(&json!({ "body": "after the upgrade" }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.expect("json");
    assert_eq!(sent["number"], 5, "number 4 was taken by the deleted message");
    let hits = app.get_json(&alice, "/search?q=upgrade").await;
    assert_eq!(hits["results"][0]["number"], 5, "new messages are indexed: {hits}");

    // The application and its chat still answer to their token.
    let mut conn = SqliteConnectOptions::new().filename(&db).connect().await.expect("open the database");
    let (token,): (String,) =
        sqlx::query_as("SELECT token FROM applications").fetch_one(&mut conn).await.expect("the application");
    let messages = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages")).await;
    assert_eq!(messages.to_string().matches("from the app").count(), 1, "{messages}");
}
