//! The `hearth` binary on either database: `migrate` and `seed-demo` work on
//! a `postgres://` URL as on the default SQLite file, and a database it cannot
//! use (a bad URL, an unreachable server, one a newer Hearth migrated) stops
//! it with one line that names the problem, a non-zero exit and no panic.

use std::process::Output;

use hearth::testing::BlankPostgres;

use crate::helpers::assert_one_line_failure;
use sqlx::Connection;

/// Runs the real binary with `DATABASE_URL` and the given arguments.
fn hearth(database_url: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("HEARTH_DATA_DIR", dir.path())
        .env("HEARTH_LOG", "off")
        .env_remove("RUST_LOG")
        .output()
        .expect("the hearth binary runs")
}

/// A new SQLite file in `dir` and, when the tests have a Postgres server, a
/// blank Postgres database: their URLs, and the database to drop at the end.
async fn each_database(dir: &tempfile::TempDir, label: &str) -> (Vec<String>, Option<BlankPostgres>) {
    let mut urls = vec![format!("sqlite://{}/hearth.db", dir.path().display())];
    let blank = BlankPostgres::create(label).await;
    urls.extend(blank.as_ref().map(|db| db.url.clone()));
    (urls, blank)
}

/// The newest migration's version, as numbered in `migrations/sqlite/`
/// (`0020_room_exits.sql`: 20; both databases have the same).
fn latest_migration() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
    std::fs::read_dir(dir)
        .expect("the migrations")
        .filter_map(|e| e.ok()?.file_name().to_str()?.split('_').next()?.parse::<i64>().ok())
        .max()
        .expect("one migration at least")
}

#[tokio::test]
async fn migrate_and_seed_demo_work_on_postgres_as_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (urls, blank) = each_database(&dir, "seed").await;
    for url in &urls {
        let migrated = hearth(url, &["migrate"]);
        assert!(migrated.status.success(), "migrate on {url}: {}", String::from_utf8_lossy(&migrated.stderr));
        let latest = latest_migration();
        assert_eq!(
            String::from_utf8_lossy(&migrated.stdout).trim(),
            format!("applied {latest} migrations: the database is now at migration {latest}"),
            "on {url}"
        );
        let again = hearth(url, &["migrate"]);
        assert_eq!(
            String::from_utf8_lossy(&again.stdout).trim(),
            format!("nothing to apply: the database is at migration {latest}, this Hearth's latest"),
            "on {url}"
        );
        let seeded = hearth(url, &["seed-demo"]);
        assert!(seeded.status.success(), "seed-demo on {url}: {}", String::from_utf8_lossy(&seeded.stderr));
        assert_eq!(String::from_utf8_lossy(&seeded.stdout).trim(), "demo seed: 3 user(s) created");
        let again = hearth(url, &["seed-demo"]);
        assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), "demo seed: 0 user(s) created", "on {url}");

        let store = hearth::store::Store::open(url).await.expect("open");
        let alice = store.auth_user_by_login("alice").await.expect("query").expect("alice was seeded");
        assert_eq!(alice.username, "alice");
    }
    if let Some(db) = blank {
        db.drop_now().await;
    }
}

#[tokio::test]
async fn a_database_url_hearth_cannot_use_is_one_line_naming_the_problem() {
    let unknown = hearth("mysql://root@127.0.0.1/hearth", &["migrate"]);
    assert_one_line_failure(&unknown, &["DATABASE_URL \"mysql://root@127.0.0.1/hearth\" is not a database URL"]);

    let unreachable = hearth("postgres://hearth:s3cret@127.0.0.1:1/hearth", &["migrate"]);
    assert_one_line_failure(&unreachable, &["cannot reach the database at postgres://hearth:***@127.0.0.1:1/hearth"]);
    assert!(!String::from_utf8_lossy(&unreachable.stderr).contains("s3cret"), "the password is never printed");

    // `sqlite:${DB_PATH}` with the variable unset, and a database in memory:
    // each connection would see its own, empty, and all of it gone at exit.
    for url in ["sqlite:", "sqlite://", "sqlite::memory:"] {
        for command in ["migrate", "serve"] {
            assert_one_line_failure(
                &hearth(url, &[command]),
                &[&format!("DATABASE_URL \"{url}\" names no database file")],
            );
        }
    }

    let malformed = hearth("postgres://hearth@127.0.0.1:notaport/hearth", &["migrate"]);
    assert_one_line_failure(&malformed, &["invalid database URL"]);

    let dir = tempfile::tempdir().expect("temp dir");
    let missing_dir = format!("sqlite://{}/no/such/dir/hearth.db", dir.path().display());
    assert_one_line_failure(&hearth(&missing_dir, &["migrate"]), &["hearth.db"]);
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_hearth_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (urls, blank) = each_database(&dir, "newer").await;
    for url in &urls {
        assert!(hearth(url, &["migrate"]).status.success(), "migrate on {url}");
        // What a later release leaves behind: a migration this one lacks.
        let store = hearth::store::Store::connect(url).await.expect("connect");
        let newer = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                     VALUES (9999, 'from the future', TRUE, $1, 0)";
        match store.sqlite_pool() {
            Some(pool) => sqlx::query(newer).bind(vec![0u8; 48]).execute(pool).await.map(|_| ()),
            None => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query(newer).bind(vec![0u8; 48]).execute(&mut conn).await.map(|_| ())
            }
        }
        .expect("record a newer migration");
        for command in ["migrate", "serve", "seed-demo"] {
            let refused = hearth(url, &[command]);
            assert_one_line_failure(&refused, &["was migrated by a newer Hearth (it has migration 9999"]);
        }
    }
    if let Some(db) = blank {
        db.drop_now().await;
    }
}

/// Instances started together on a new Postgres database (a deploy that
/// starts every replica at once) all start: each migrates, and the session
/// table is made once, not raced (it failed one of two in most tries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_at_once_on_a_new_postgres_database_all_start() {
    for round in 0..4 {
        let Some(blank) = BlankPostgres::create(&format!("together{round}")).await else { return };
        let start = || async {
            let store = hearth::store::Store::open(&blank.url).await.map_err(|e| e.to_string())?;
            store.sessions().await.map(drop).map_err(|e| e.to_string())
        };
        let (a, b, c) = tokio::join!(start(), start(), start());
        for started in [a, b, c] {
            started.unwrap_or_else(|e| panic!("round {round}: an instance failed to start: {e}"));
        }
        blank.drop_now().await;
    }
}

/// Instances on one Postgres database find each other unless every one of
/// them shares live changes over NATS: those share the serving lock, one
/// without NATS holds it alone (and so warns, or makes the others warn).
#[tokio::test]
async fn instances_on_one_postgres_database_without_nats_on_each_find_each_other() {
    use hearth::store::{Serving, serve_marker};
    let Some(blank) = BlankPostgres::create("serving").await else { return };
    let alone = |s: Serving| match s {
        Serving::Alone(marker) => marker,
        other => panic!("expected to serve alone, got {other:?}"),
    };
    let shared = |s: &Serving| matches!(s, Serving::Shared(lock) if lock.contains("advisory lock"));

    // Two with NATS share it; one without then finds them.
    let (a, b) = (alone(serve_marker(&blank.url, true).await), alone(serve_marker(&blank.url, true).await));
    let without = serve_marker(&blank.url, false).await;
    assert!(shared(&without), "{without:?}");
    a.release().await;
    b.release().await;

    // One without NATS: any other finds it, with NATS or not.
    let lone = alone(serve_marker(&blank.url, false).await);
    let with_bus = serve_marker(&blank.url, true).await;
    assert!(shared(&with_bus), "{with_bus:?}");
    let another = serve_marker(&blank.url, false).await;
    assert!(shared(&another), "{another:?}");
    lone.release().await;
    drop(alone(serve_marker(&blank.url, true).await));
    blank.drop_now().await;
}
