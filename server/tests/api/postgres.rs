//! The server on a `postgres://` URL, as far as issue 12 has come: it
//! migrates the database, then stops with a one-line error instead of serving
//! queries written for SQLite. Needs `HEARTH_TEST_POSTGRES_URL` (set by
//! `make test`); without it the test records itself as skipped.

use hearth_server::startup::Application;
use leptos::config::LeptosOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::helpers::test_config;

#[tokio::test]
async fn the_server_on_postgres_migrates_then_refuses_to_serve_with_a_one_line_error() {
    if hearth::testing::skip_without_postgres() {
        return;
    }
    let url = std::env::var(hearth::testing::POSTGRES_URL_VAR).expect("checked above");
    let admin: sqlx::postgres::PgConnectOptions = url.parse().expect("a postgres:// URL");
    let name = format!("hearth_serve_{}", std::process::id());
    let mut conn = admin.connect().await.expect("connect to the test server");
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create a database");

    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path().to_path_buf());
    let (server, _) = url.rsplit_once('/').expect("the URL names a database");
    config.database_url = Some(format!("{server}/{name}"));
    let leptos = LeptosOptions::builder().output_name("hearth").site_root("target/site").build();
    let refused = Application::build(config, leptos).await.err().expect("serving from Postgres is refused");
    assert_eq!(refused.to_string(), "serving from Postgres is not built yet: only `hearth migrate` works on it");

    let mut db = admin.clone().database(&name).connect().await.expect("connect to the new database");
    let (applied,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM _sqlx_migrations WHERE success").fetch_one(&mut db).await.expect("count");
    assert_eq!(applied, 3, "migrations/postgres was applied first");
    db.close().await.expect("close");
    conn.execute(format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#).as_str()).await.expect("drop");
}
