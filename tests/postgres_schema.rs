//! The Postgres schema (`migrations/postgres/`) applies to a fresh database
//! and is the SQLite schema (`migrations/sqlite/`) in Postgres terms: the same
//! migration versions, tables, columns and named indexes, plus the trigram
//! index that replaces FTS5.
//!
//! It needs a server: `HEARTH_TEST_POSTGRES_URL=postgres://…` (`make test`
//! starts a throwaway one with `scripts/test-postgres.sh` and runs these on
//! both passes). Without it each Postgres test records itself as skipped
//! (`hearth::testing::skip_without_postgres`), which the run's summary counts.

use std::collections::BTreeSet;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgPool, SqlitePool};

/// Where the template copies' directory would be: they are dropped by
/// [`TestDb::drop_now`], not when a directory goes.
const DIR: &str = env!("CARGO_TARGET_TMPDIR");

/// A new, empty database on the test server, dropped by [`TestDb::drop_now`].
struct TestDb {
    pool: PgPool,
    admin: PgConnectOptions,
    name: String,
    url: String,
}

impl TestDb {
    /// An empty database (not migrated), for the tests that apply the
    /// migrations themselves.
    async fn create(label: &str) -> Option<Self> {
        if hearth::testing::skip_without_postgres() {
            return None;
        }
        let url = std::env::var(hearth::testing::POSTGRES_URL_VAR).expect("checked above");
        let admin: PgConnectOptions = url.parse().expect("HEARTH_TEST_POSTGRES_URL is a postgres:// URL");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos();
        let name = format!("hearth_{label}_{}_{nanos}", std::process::id());
        let mut conn = admin.connect().await.expect("connect to the test server");
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("create a database");
        conn.close().await.expect("close");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(admin.clone().database(&name))
            .await
            .expect("connect to the new database");
        let (server, _) = url.rsplit_once('/').expect("the URL names a database");
        let url = format!("{server}/{name}");
        Some(Self { pool, admin, name, url })
    }

    /// A database copied from the migrated template (`hearth::testing`).
    async fn from_template() -> Option<Self> {
        if hearth::testing::skip_without_postgres() {
            return None;
        }
        let url = hearth::testing::fresh_database_url_on(hearth::store::Backend::Postgres, DIR.as_ref()).await;
        let options: PgConnectOptions = url.parse().expect("a postgres:// URL");
        let name = options.get_database().expect("the URL names a database").to_owned();
        let server = std::env::var(hearth::testing::POSTGRES_URL_VAR).expect("checked above");
        let admin: PgConnectOptions = server.parse().expect("HEARTH_TEST_POSTGRES_URL is a postgres:// URL");
        let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.expect("connect to the copy");
        Some(Self { pool, admin, name, url })
    }

    async fn drop_now(self) {
        self.pool.close().await;
        let mut conn = self.admin.connect().await.expect("connect to the test server");
        conn.execute(format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name).as_str()).await.expect("drop");
    }
}

async fn migrated_postgres(label: &str) -> Option<TestDb> {
    let db = TestDb::create(label).await?;
    sqlx::migrate!("./migrations/postgres").run(&db.pool).await.expect("the Postgres migrations apply");
    Some(db)
}

async fn migrated_sqlite() -> SqlitePool {
    let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.expect("in-memory SQLite");
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.expect("the SQLite migrations apply");
    pool
}

#[tokio::test]
async fn both_backends_have_the_same_migrations_by_version_and_name() {
    let names = |m: &sqlx::migrate::Migrator| -> Vec<(i64, String)> {
        m.iter().map(|m| (m.version, m.description.to_string())).collect()
    };
    let sqlite = names(&sqlx::migrate!("./migrations/sqlite"));
    let postgres = names(&sqlx::migrate!("./migrations/postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(postgres, sqlite, "one Postgres file per SQLite file, with the same version and name");
}

#[tokio::test]
async fn the_postgres_schema_applies_twice_and_matches_the_sqlite_tables_columns_and_indexes() {
    let Some(db) = migrated_postgres("schema").await else { return };
    // A second run finds nothing to do (and would fail on a changed file).
    sqlx::migrate!("./migrations/postgres").run(&db.pool).await.expect("migrating again is a no-op");
    let sqlite = migrated_sqlite().await;

    // Tables and their columns, apart from the FTS5 table and its shadows.
    let sqlite_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
          WHERE m.type = 'table' AND m.name NOT LIKE 'messages_fts%' AND m.name NOT LIKE '\\_%' ESCAPE '\\'
            AND m.name NOT LIKE 'sqlite%'",
    )
    .fetch_all(&sqlite)
    .await
    .expect("SQLite columns")
    .into_iter()
    .collect();
    let postgres_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name NOT LIKE '\\_%'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("Postgres columns")
    .into_iter()
    .collect();
    assert!(sqlite_columns.contains(&("rooms".into(), "last_seq".into())), "{sqlite_columns:?}");
    assert_eq!(postgres_columns, sqlite_columns, "the same tables with the same columns");

    // Every integer is BIGINT: sqlx-postgres decodes i64 only from it.
    let narrow: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('integer', 'smallint', 'numeric')",
    )
    .fetch_all(&db.pool)
    .await
    .expect("column types");
    assert_eq!(narrow, [], "no narrow integers");

    // The same named indexes, unique where SQLite's are.
    let sqlite_indexes: BTreeSet<(String, bool)> = sqlx::query_as(
        "SELECT name, sql LIKE 'CREATE UNIQUE INDEX%' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(&sqlite)
    .await
    .expect("SQLite indexes")
    .into_iter()
    .collect();
    let postgres_indexes: BTreeSet<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public'
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
    )
    .fetch_all(&db.pool)
    .await
    .expect("Postgres indexes")
    .into_iter()
    .collect();
    let mut expected = sqlite_indexes.clone();
    expected.insert(("messages_body_trgm".into(), false));
    assert!(sqlite_indexes.contains(&("messages_client_id".into(), true)), "{sqlite_indexes:?}");
    assert_eq!(postgres_indexes, expected, "SQLite's indexes, and the trigram index in place of FTS5");

    let trgm: Option<(String,)> = sqlx::query_as("SELECT extname::text FROM pg_extension WHERE extname = 'pg_trgm'")
        .fetch_optional(&db.pool)
        .await
        .expect("extensions");
    assert!(trgm.is_some(), "pg_trgm is installed");

    // Times default to SQLite's strftime('%Y-%m-%dT%H:%M:%fZ', 'now') form.
    let insert_user = "INSERT INTO users (username, email, password_hash) VALUES ('alice', 'alice@example.com', 'x') RETURNING created_at";
    let (pg_time,): (String,) = sqlx::query_as(insert_user).fetch_one(&db.pool).await.expect("a user");
    let (sqlite_time,): (String,) = sqlx::query_as(insert_user).fetch_one(&sqlite).await.expect("a user");
    let shape = |t: &str| t.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect::<String>();
    assert_eq!(shape(&pg_time), shape(&sqlite_time), "{pg_time} vs {sqlite_time}");
    assert_eq!(shape(&pg_time), "9999-99-99T99:99:99.999Z");

    // Usernames are unique ignoring (ASCII) case, as on SQLite.
    let duplicate =
        sqlx::query("INSERT INTO users (username, email, password_hash) VALUES ('ALICE', 'other@example.com', 'x')")
            .execute(&db.pool)
            .await;
    assert!(duplicate.is_err(), "ALICE collides with alice");

    sqlite.close().await;
    db.drop_now().await;
}

/// The columns every send moves (a batch's counters, its rooms' activity
/// and its authors' own counts).
const MOVED_BY_A_SEND: [(&str, &str); 6] = [
    ("rooms", "last_number"),
    ("rooms", "messages_count"),
    ("rooms", "last_seq"),
    ("rooms", "last_message_at"),
    ("rooms", "updated_at"),
    ("memberships", "own_count"),
];

/// No index covers a column that every send changes: each such index had
/// an entry rewritten per room per batch, and on Postgres it stopped every
/// counter update from being heap-only (HOT), which cost 64 posters into 64
/// rooms a tenth of their rate (docs/benchmarks.md).
#[tokio::test]
async fn no_index_covers_a_column_that_every_send_changes() {
    let sqlite = migrated_sqlite().await;
    let sqlite_indexed: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT m.name, c.name FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) c
          WHERE m.type = 'table' AND m.name IN ('rooms', 'memberships')",
    )
    .fetch_all(&sqlite)
    .await
    .expect("SQLite index columns")
    .into_iter()
    .collect();
    assert!(
        sqlite_indexed.contains(&("rooms".into(), "kind".into())),
        "open rooms are found by kind: {sqlite_indexed:?}"
    );
    for (table, column) in MOVED_BY_A_SEND {
        assert!(!sqlite_indexed.contains(&(table.into(), column.into())), "SQLite indexes {table}.{column}");
    }
    sqlite.close().await;

    let Some(db) = migrated_postgres("hot").await else { return };
    let postgres_indexed: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT t.relname::text, a.attname::text FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey)
          WHERE t.relname IN ('rooms', 'memberships')",
    )
    .fetch_all(&db.pool)
    .await
    .expect("Postgres index columns")
    .into_iter()
    .collect();
    assert!(postgres_indexed.contains(&("rooms".into(), "kind".into())), "{postgres_indexed:?}");
    for (table, column) in MOVED_BY_A_SEND {
        assert!(!postgres_indexed.contains(&(table.into(), column.into())), "Postgres indexes {table}.{column}");
    }
    db.drop_now().await;
}

#[tokio::test]
async fn the_counter_row_numbers_concurrent_inserts_one_to_n_without_gaps() {
    let Some(db) = TestDb::from_template().await else { return };
    let (room,): (i64,) = sqlx::query_as(
        "INSERT INTO rooms (kind, created_at, updated_at) VALUES ('open', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a room");

    // The insert transaction's shape: bump the counter row, insert with the
    // number it returned, log the change; 50 at once on 8 connections.
    let sends = (0..50).map(|i| {
        let pool = db.pool.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.expect("begin");
            let (number, seq): (i64, i64) = sqlx::query_as(
                "UPDATE rooms SET last_number = last_number + 1, last_seq = last_seq + 1,
                        messages_count = messages_count + 1
                  WHERE id = $1 RETURNING last_number, last_seq",
            )
            .bind(room)
            .fetch_one(&mut *tx)
            .await
            .expect("bump the counter row");
            sqlx::query("INSERT INTO messages (room_id, number, body, created_at) VALUES ($1, $2, $3, '2026-01-01T00:00:00.000000Z')")
                .bind(room)
                .bind(number)
                .bind(format!("message {i}"))
                .execute(&mut *tx)
                .await
                .expect("insert the message");
            sqlx::query("INSERT INTO room_events (room_id, seq, kind, number) VALUES ($1, $2, 'message', $3)")
                .bind(room)
                .bind(seq)
                .bind(number)
                .execute(&mut *tx)
                .await
                .expect("log the change");
            tx.commit().await.expect("commit");
        })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("a send");
    }

    let numbers: Vec<(i64,)> = sqlx::query_as("SELECT number FROM messages WHERE room_id = $1 ORDER BY number")
        .bind(room)
        .fetch_all(&db.pool)
        .await
        .expect("numbers");
    assert_eq!(numbers.into_iter().map(|(n,)| n).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());
    let counters: (i64, i64, i64) =
        sqlx::query_as("SELECT last_number, last_seq, messages_count FROM rooms WHERE id = $1")
            .bind(room)
            .fetch_one(&db.pool)
            .await
            .expect("counters");
    assert_eq!(counters, (50, 50, 50));

    // A number taken twice is refused by the unique index.
    let again = sqlx::query("INSERT INTO messages (room_id, number, body, created_at) VALUES ($1, 7, 'again', 'x')")
        .bind(room)
        .execute(&db.pool)
        .await;
    assert!(again.is_err(), "number 7 is taken");
    db.drop_now().await;
}

#[tokio::test]
async fn the_trigram_index_serves_a_case_insensitive_substring_search_in_any_script() {
    let Some(db) = TestDb::from_template().await else { return };
    sqlx::query("INSERT INTO rooms (kind, created_at, updated_at) VALUES ('open', 'x', 'x')")
        .execute(&db.pool)
        .await
        .expect("a room");
    let bodies =
        ["Hello world!", "GRÜSSE aus Köln", "ΣΟΦΙΑ", "東京タワーで会おう", "100% sure_thing", "100 percent surething"];
    for (i, body) in bodies.iter().enumerate() {
        sqlx::query("INSERT INTO messages (room_id, number, body, created_at) VALUES (1, $1, $2, 'x')")
            .bind(i as i64 + 1)
            .bind(body)
            .execute(&db.pool)
            .await
            .expect("a message");
    }
    // The expression the index is on (see 0003); `%`, `_` and `\` escaped.
    let search = |query: &str| {
        let pattern = format!("%{}%", query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.acquire().await.expect("a connection");
            // Too few rows for the planner to choose the index by itself.
            conn.execute("SET enable_seqscan = off").await.expect("set");
            let sql = r#"SELECT number FROM messages
                          WHERE lower(body COLLATE "und-x-icu") LIKE lower($1 COLLATE "und-x-icu") ESCAPE '\'
                          ORDER BY number"#;
            let plan: Vec<(String,)> =
                sqlx::query_as(&format!("EXPLAIN {sql}")).bind(&pattern).fetch_all(&mut *conn).await.expect("plan");
            assert!(plan.iter().any(|(line,)| line.contains("messages_body_trgm")), "{plan:?}");
            let rows: Vec<(i64,)> = sqlx::query_as(sql).bind(&pattern).fetch_all(&mut *conn).await.expect("search");
            conn.execute("RESET enable_seqscan").await.expect("reset");
            rows.into_iter().map(|(n,)| n).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("ello wor").await, [1], "across a word boundary");
    assert_eq!(search("grüsse aus kö").await, [2], "Ü/ü and Ö/ö");
    assert_eq!(search("σοφ").await, [3], "Σ/σ");
    assert_eq!(search("タワー").await, [4], "CJK");
    assert_eq!(search("0% sure_t").await, [5], "% and _ are literal");
    db.drop_now().await;
}

#[tokio::test]
async fn the_database_url_chooses_the_backend_and_another_scheme_is_refused_by_name() {
    use hearth::store::Backend;
    assert_eq!(Backend::of_url("sqlite://data/hearth.db").ok(), Some(Backend::Sqlite));
    assert_eq!(Backend::of_url("sqlite::memory:").ok(), Some(Backend::Sqlite));
    assert_eq!(
        Backend::of_url("data/hearth.db").ok(),
        Some(Backend::Sqlite),
        "a bare path is a SQLite file, as before"
    );
    assert_eq!(Backend::of_url("postgres://u@localhost/hearth").ok(), Some(Backend::Postgres));
    assert_eq!(Backend::of_url("postgresql://u@localhost/hearth").ok(), Some(Backend::Postgres));
    let refused = hearth::store::Store::connect("mysql://u@localhost/hearth").await.expect_err("mysql is refused");
    assert!(refused.to_string().contains("\"mysql\""), "{refused}");

    let store = hearth::store::Store::connect("sqlite::memory:").await.expect("in-memory SQLite");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await.expect("migrate");
    assert_eq!(store.profile_by_email("nobody@example.com").await.expect("a query on SQLite"), None);
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_error_not_a_panic() {
    // Port 1 on loopback: nothing listens there.
    let started = std::time::Instant::now();
    let unreachable =
        hearth::store::Store::connect("postgres://hearth@127.0.0.1:1/hearth").await.expect_err("unreachable");
    assert!(unreachable.to_string().contains("refused"), "the message names the problem: {unreachable}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "at once, not after the pool's retries");
}

#[tokio::test]
async fn the_store_connects_migrates_pings_and_queries_on_postgres() {
    let Some(db) = TestDb::create("store").await else { return };
    let store = hearth::store::Store::connect(&db.url).await.expect("the store connects to Postgres");
    assert_eq!(store.backend(), hearth::store::Backend::Postgres);
    store.migrate().await.expect("the Postgres migrations apply");
    store.migrate().await.expect("and again, as a no-op");
    store.ping().await.expect("ping");
    assert!(store.sqlite_pool().is_none());
    let (tables,): (i64,) = sqlx::query_as("SELECT count(*) FROM information_schema.tables WHERE table_name = 'rooms'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(tables, 1, "migrate ran migrations/postgres");

    assert_eq!(store.profile_by_email("nobody@example.com").await.expect("a query on Postgres"), None);
    db.drop_now().await;
}

/// Saves a session, loads it back, and lets an expired one be swept: the
/// store's session store on whichever database it is on.
async fn sessions_round_trip(store: &hearth::store::Store) {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::{ExpiredDeletion, SessionStore};
    let sessions = store.sessions().await.expect("the session table is created");
    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let mut live = Record { id: Id::default(), data: Default::default(), expiry_date: in_a_day };
    live.data.insert("user".into(), serde_json::json!(7));
    sessions.create(&mut live).await.expect("create");
    let expired = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    };
    sessions.save(&expired).await.expect("save");

    let loaded = sessions.load(&live.id).await.expect("load").expect("the live session is there");
    assert_eq!(loaded.data["user"], 7);
    sessions.delete_expired().await.expect("sweep");
    assert!(sessions.load(&live.id).await.expect("load").is_some(), "a live session stays");
    sessions.delete(&live.id).await.expect("delete");
    assert!(sessions.load(&live.id).await.expect("load").is_none());
}

#[tokio::test]
async fn the_store_hands_out_a_session_store_on_sqlite_and_on_postgres() {
    let sqlite = hearth::store::Store::connect("sqlite::memory:").await.expect("in-memory SQLite");
    sessions_round_trip(&sqlite).await;
    let Some(db) = TestDb::from_template().await else { return };
    let postgres = hearth::store::Store::connect(&db.url).await.expect("the store connects to Postgres");
    postgres.migrate().await.expect("migrate");
    sessions_round_trip(&postgres).await;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'sessions'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(tables, 1, "the sessions live beside the rest, in public.sessions");
    drop(postgres);
    db.drop_now().await;
}
