//! Test databases, for the integration tests of this crate and the server's:
//! every test gets a database of its own on the backend the run is for, so
//! the whole suite runs once on SQLite and once on Postgres (`make test`).
//!
//! - [`test_backend`]: `HEARTH_TEST_BACKEND` (`sqlite`, the default, or
//!   `postgres`).
//! - [`fresh_database_url`]: a new, empty database on that backend: a SQLite
//!   file in the test's directory, or a Postgres database copied from a
//!   migrated template (`CREATE DATABASE … TEMPLATE hearth_template`, about
//!   0.1 s) on the server `HEARTH_TEST_POSTGRES_URL` names
//!   (`scripts/test-postgres.sh run …` starts a throwaway one and sets it).
//! - [`skip_unless`]: for the few tests that are about one backend only (the
//!   upgrade from the previous release's SQLite file): it records the skip in
//!   `HEARTH_TEST_SKIPS` so the run's summary counts it as skipped, not passed.
//!
//! The template is made and migrated through [`Store`] once per process; a
//! template left by an earlier process is migrated again (a no-op when it is
//! current). Creating a database from the template fails while anyone is
//! connected to the template, so making, migrating and copying it are
//! serialised across threads and processes by a Postgres advisory lock held
//! on a short-lived maintenance connection. No connection outlives the call:
//! each test runs its own tokio runtime.
//!
//! A Postgres database lives as long as the directory it was made for: each
//! call drops (`WITH (FORCE)`) the databases this process made for
//! directories that are gone since, so a run does not leave hundreds of
//! copies behind. The cluster is throwaway, so the last few stay.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

use crate::store::{Backend, Store};

/// Names the backend the tests run on.
pub const BACKEND_VAR: &str = "HEARTH_TEST_BACKEND";
/// A superuser URL to a Postgres server's `postgres` database.
pub const POSTGRES_URL_VAR: &str = "HEARTH_TEST_POSTGRES_URL";
/// A file to which [`skip_unless`] appends one line per skipped test.
pub const SKIPS_VAR: &str = "HEARTH_TEST_SKIPS";
/// The migrated database every test database on Postgres is copied from.
pub const TEMPLATE: &str = "hearth_template";

/// The key of the advisory lock that serialises the template's users.
const TEMPLATE_LOCK: i64 = 0x4845_4152_5448; // "HEARTH"

/// The backend this test run is for: `HEARTH_TEST_BACKEND` is `sqlite` (or
/// unset) or `postgres`. Panics on another value, and on `postgres` without
/// a server to use.
pub fn test_backend() -> Backend {
    let backend = match std::env::var(BACKEND_VAR) {
        Err(std::env::VarError::NotPresent) => Backend::Sqlite,
        Ok(name) => match name.trim().to_ascii_lowercase().as_str() {
            "" | "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            _ => panic!("{BACKEND_VAR}={name:?} is not a backend the tests know: use `sqlite` or `postgres`"),
        },
        Err(e) => panic!("{BACKEND_VAR} is not readable: {e}"),
    };
    if backend == Backend::Postgres {
        postgres_server_url();
    }
    backend
}

/// The backend's name as the summaries print it.
pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Whether a Postgres server is there for the tests (`HEARTH_TEST_POSTGRES_URL`).
pub fn postgres_available() -> bool {
    std::env::var_os(POSTGRES_URL_VAR).is_some_and(|url| !url.is_empty())
}

/// `HEARTH_TEST_POSTGRES_URL`, or a panic saying how to get one.
fn postgres_server_url() -> String {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "the Postgres tests need a server in {POSTGRES_URL_VAR}: run them through \
             `scripts/test-postgres.sh run cargo test …` or `make test`, or \
             `export {POSTGRES_URL_VAR}=$(scripts/test-postgres.sh start)`"
        ),
    }
}

/// The store at `url`, migrated, with one user, alice (`alice@example.com`,
/// a placeholder password hash): for the tests of the store alone.
pub async fn store_with_alice(url: &str) -> (Store, crate::model::UserId) {
    let store = Store::connect(url).await.expect("store opens");
    store.migrate().await.expect("migrates");
    let alice = store
        .insert_user(crate::store::NewUserRow {
            email: "alice@example.com",
            username: "alice",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            name: None,
        })
        .await
        .expect("user")
        .id;
    (store, alice)
}

/// A new, empty database for one test on [`test_backend`]; see
/// [`fresh_database_url_on`].
pub async fn fresh_database_url(dir: &Path) -> String {
    fresh_database_url_on(test_backend(), dir).await
}

/// A new, empty database on `backend`, for as long as `dir` exists: on
/// SQLite the file `<dir>/hearth.db`, on Postgres a database copied from the
/// migrated template (so it is already migrated; migrating it again is a
/// no-op). Its URL, for `DATABASE_URL` or [`Store::connect`].
pub async fn fresh_database_url_on(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("hearth.db").display()),
        Backend::Postgres => fresh_postgres_database(dir).await,
    }
}

/// On a backend other than `only`, records that the calling test was skipped
/// (on stderr, and as a line in the file `HEARTH_TEST_SKIPS` names, which the
/// run's summary counts) and answers true: the test then returns at once.
/// For the few tests about one backend only; say why in `why`.
pub fn skip_unless(only: Backend, why: &str) -> bool {
    let backend = test_backend();
    if backend == only {
        return false;
    }
    record_skip(backend_name(backend), why);
    true
}

/// For a test that needs a Postgres server whatever the run's backend (the
/// schema checks): without `HEARTH_TEST_POSTGRES_URL` (a plain `cargo test`)
/// it records the skip as [`skip_unless`] does and answers true. `make test`
/// always sets it.
pub fn skip_without_postgres() -> bool {
    if postgres_available() {
        return false;
    }
    record_skip(backend_name(test_backend()), &format!("{POSTGRES_URL_VAR} is not set (make test sets it)"));
    true
}

/// Records that the running test was skipped on `backend` (the run's summary
/// counts it as skipped, not passed), saying `why`.
pub fn record_skip(backend: &str, why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    let line = format!("skipped on {backend}: {test}: {why}");
    eprintln!("{line}");
    if let Some(file) = std::env::var_os(SKIPS_VAR).filter(|f| !f.is_empty()) {
        let written =
            std::fs::OpenOptions::new().create(true).append(true).open(&file).and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            panic!("could not record the skip in {SKIPS_VAR}={}: {e}", PathBuf::from(file).display());
        }
    }
}

/// A new Postgres database with nothing in it, not even the migrations (for
/// tests of what migrates or copies into one), on the test server; `None`,
/// with the skip recorded, when there is no server (a plain `cargo test`).
pub struct BlankPostgres {
    pub url: String,
    name: String,
    admin: PgConnectOptions,
}

impl BlankPostgres {
    pub async fn create(label: &str) -> Option<Self> {
        if skip_without_postgres() {
            return None;
        }
        let server = postgres_server_url();
        let admin = admin_options(&server).disable_statement_logging();
        let name = unique_name(&format!("hearth_blank_{label}"));
        let mut conn = maintenance(&admin).await;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|e| panic!("creating the blank database {name}: {e}"));
        conn.close().await.expect("close the maintenance connection");
        Some(Self { url: database_url(&server, &name), name, admin })
    }

    /// Drops it now, whoever is still connected.
    pub async fn drop_now(self) {
        let mut conn = maintenance(&self.admin).await;
        conn.execute(format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, self.name).as_str())
            .await
            .unwrap_or_else(|e| panic!("dropping {}: {e}", self.name));
    }
}

/// `<prefix>_<pid>_<counter>_<micros>`: unique across processes and runs.
fn unique_name(prefix: &str) -> String {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970");
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        micros.as_micros() % 1_000_000_000_000
    )
}

/// Set once this process has migrated the template: how to copy it.
static TEMPLATE_READY: OnceCell<&'static str> = OnceCell::const_new();
/// The databases this process made, with the directory each lives for.
static MADE: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

async fn fresh_postgres_database(dir: &Path) -> String {
    let server = postgres_server_url();
    let admin = admin_options(&server);
    let strategy = TEMPLATE_READY.get_or_init(|| prepare_template(&server, &admin)).await;

    let name = unique_name("hearth_test");
    let mut conn = maintenance(&admin).await;
    for gone in finished_databases() {
        conn.execute(format!(r#"DROP DATABASE IF EXISTS "{gone}" WITH (FORCE)"#).as_str())
            .await
            .unwrap_or_else(|e| panic!("dropping the finished test database {gone}: {e}"));
    }
    lock(&mut conn).await;
    let created = conn.execute(format!(r#"CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}{strategy}"#).as_str()).await;
    unlock(&mut conn).await;
    created.unwrap_or_else(|e| panic!("creating the test database {name} from {TEMPLATE}: {e}"));
    conn.close().await.expect("close the maintenance connection");
    MADE.lock().unwrap_or_else(|e| e.into_inner()).push((name.clone(), dir.to_path_buf()));
    database_url(&server, &name)
}

/// Creates the template if missing, then migrates it, holding the lock.
/// Answers how to copy it: on Postgres 15 and later, by copying its files
/// (`STRATEGY FILE_COPY`), which takes a third of the default's time for a
/// small database on a cluster without fsync.
async fn prepare_template(server: &str, admin: &PgConnectOptions) -> &'static str {
    let mut conn = maintenance(admin).await;
    let (version,): (String,) =
        sqlx::query_as("SHOW server_version_num").fetch_one(&mut conn).await.expect("the server's version");
    let strategy = match version.parse::<u32>() {
        Ok(v) if v >= 150_000 => " STRATEGY FILE_COPY",
        _ => "",
    };
    lock(&mut conn).await;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(TEMPLATE)
        .fetch_optional(&mut conn)
        .await
        .expect("look for the template");
    if exists.is_none() {
        conn.execute(format!("CREATE DATABASE {TEMPLATE}").as_str()).await.expect("create the template database");
    }
    let url = database_url(server, TEMPLATE);
    if let Err(e) = migrate(&url).await {
        // A template an earlier run left, migrated by a migration that has
        // changed since (one not landed yet): make it again.
        eprintln!("hearth::testing: making {TEMPLATE} again: {e}");
        conn.execute(format!("DROP DATABASE {TEMPLATE} WITH (FORCE)").as_str()).await.expect("drop the old template");
        conn.execute(format!("CREATE DATABASE {TEMPLATE}").as_str()).await.expect("create the template database");
        migrate(&url).await.unwrap_or_else(|e| panic!("{e}"));
    }
    // The pool's connections close as it drops, a moment later; a copy made
    // while one is still there would fail.
    conn.execute(
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{TEMPLATE}'").as_str(),
    )
    .await
    .expect("end the template's connections");
    unlock(&mut conn).await;
    conn.close().await.expect("close the maintenance connection");
    strategy
}

/// Applies the migrations through the store, as the server does at startup.
async fn migrate(url: &str) -> Result<(), String> {
    let store = Store::connect(url).await.map_err(|e| format!("connect to the template {url}: {e}"))?;
    store.migrate().await.map_err(|e| format!("migrate the template {url}: {e}"))
}

/// The databases this process made whose directories are gone (their tests
/// are over), taken off the list.
fn finished_databases() -> Vec<String> {
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let (gone, live): (Vec<_>, Vec<_>) = made.drain(..).partition(|(_, dir)| !dir.exists());
    *made = live;
    gone.into_iter().map(|(name, _)| name).collect()
}

/// The test server's URL as connect options.
fn admin_options(server: &str) -> PgConnectOptions {
    server.parse().unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a postgres:// URL: {e}"))
}

async fn maintenance(admin: &PgConnectOptions) -> PgConnection {
    admin.connect().await.unwrap_or_else(|e| panic!("connect to the test Postgres server ({POSTGRES_URL_VAR}): {e}"))
}

async fn lock(conn: &mut PgConnection) {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut *conn).await.expect("take the lock");
}

async fn unlock(conn: &mut PgConnection) {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *conn)
        .await
        .expect("release the lock");
}

/// The server URL with its database replaced by `name` (query kept).
fn database_url(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_database_is_swapped_in_the_server_url() {
        assert_eq!(database_url("postgres://u@h:5/postgres", "t1"), "postgres://u@h:5/t1");
        assert_eq!(database_url("postgres://u@h:5", "t1"), "postgres://u@h:5/t1");
        assert_eq!(database_url("postgres://u:p@h/db?sslmode=disable", "t1"), "postgres://u:p@h/t1?sslmode=disable");
    }
}

/// Images for the attachment tests: real files, made here, with the
/// metadata and the lies the upload path must deal with.
pub mod images {
    use std::io::Cursor;

    use image::{ImageFormat, Rgb, RgbImage};

    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| Rgb([(x % 256) as u8, 10, 200]));
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("png");
        bytes
    }

    /// A JPEG with an EXIF block saying "rotate 90° clockwise" and holding
    /// a GPS position.
    pub fn rotated_jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| Rgb([(x * 3) as u8, (y * 3) as u8, 90]));
        let mut jpeg = Vec::new();
        image.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).expect("jpeg");
        insert_exif(&jpeg, &exif_orientation_6_with_gps())
    }

    /// TIFF-in-EXIF, little-endian: IFD0 with Orientation = 6 and a GPS IFD
    /// pointer; the GPS IFD with GPSLatitudeRef = "N".
    pub fn exif_orientation_6_with_gps() -> Vec<u8> {
        let mut t: Vec<u8> = b"Exif\0\0II*\0".to_vec();
        t.extend(8u32.to_le_bytes()); // IFD0 at 8
        t.extend(2u16.to_le_bytes()); // two entries
        t.extend([0x12, 0x01, 3, 0]); // Orientation, SHORT
        t.extend(1u32.to_le_bytes());
        t.extend([6, 0, 0, 0]);
        t.extend([0x25, 0x88, 4, 0]); // GPS IFD pointer, LONG
        t.extend(1u32.to_le_bytes());
        t.extend(38u32.to_le_bytes()); // the GPS IFD's offset
        t.extend(0u32.to_le_bytes()); // no next IFD
        t.extend(1u16.to_le_bytes()); // GPS IFD: one entry
        t.extend([0x01, 0x00, 2, 0]); // GPSLatitudeRef, ASCII
        t.extend(2u32.to_le_bytes());
        t.extend([b'N', 0, 0, 0]);
        t.extend(0u32.to_le_bytes());
        t
    }

    /// `jpeg` with `exif` as an APP1 segment right after SOI.
    pub fn insert_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(exif.len() + 2).expect("a small segment").to_be_bytes());
        out.extend(exif);
        out.extend(&jpeg[2..]);
        out
    }

    /// A PNG whose header says `width` × `height` and whose data is a few
    /// bytes: what a decompression bomb looks like before it is decoded.
    pub fn bomb_png(width: u32, height: u32) -> Vec<u8> {
        let small = png(1, 1);
        let mut out = small[..8].to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        out.extend(13u32.to_be_bytes());
        out.extend(&ihdr);
        out.extend(crc32(&ihdr).to_be_bytes());
        // The rest of the 1×1 file (its IDAT and IEND).
        out.extend(&small[8 + 25..]);
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
