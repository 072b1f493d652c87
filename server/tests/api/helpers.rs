//! `spawn_app()` and request helpers that read like the spec.
//!
//! Each app gets a database of its own on the backend the run is for
//! (`HEARTH_TEST_BACKEND`: `sqlite`, the default, or `postgres`; see
//! `hearth::testing`): `make test` runs every test once on each.

use std::path::PathBuf;
use std::sync::Arc;

use hearth::Hearth;
use hearth::blobs::BlobStore;
use hearth::model::{RoomId, UserId};
use hearth::testing::fresh_database_url;
use hearth_server::config::Config;
use hearth_server::startup::Application;
use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};

pub const PASSWORD: &str = "secret123";

pub struct TestApp {
    pub address: String,
    /// A client that keeps cookies, like a browser or `curl -b -c`.
    pub client: Client,
    pub hearth: Hearth,
    /// The app's own database (a SQLite file in its temp dir, or a Postgres
    /// database copied from the migrated template).
    pub database_url: String,
    /// `http://…` of the separate `/metrics` address, when one was configured.
    pub metrics_address: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// The app's data directory (its blobs are under `blobs/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

pub fn test_config(dir: PathBuf) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("valid address"),
        database_url: None,
        data_dir: dir,
        log: "warn".into(),
        demo: false,
        secure_cookies: false,
        site_config: None,
        sign_ins_per_ip_per_minute: 1000,
        sign_ins_per_account_per_minute: 1000,
        edit_window_minutes: 15,
        anonymous_apps_per_ip_per_minute: 1000,
        ws_write_timeout_secs: 30,
        client_ip_source: axum_client_ip::ClientIpSource::ConnectInfo,
        // The binary's default, so every socket test runs with held writes.
        ws_write_delay_ms: 16,
        searches_per_minute: 1000,
        header_read_timeout_secs: 10,
        body_read_timeout_secs: 30,
        max_connections_per_ip: 1000,
        shutdown_timeout_secs: 10,
        session_cleanup_secs: 3600,
        // The binary's default, so every test runs through the caches.
        cache_ttl_secs: 30,
        sqlite_synchronous: hearth::store::SqliteSynchronous::Normal,
        metrics_token: None,
        metrics_listen: None,
        nats_url: None,
        nats_prefix: "hearth".into(),
        bus_gap_ms: 200,
        presence_ttl_secs: 10,
        test_bus_drop_percent: 0,
        // Most tests register several people freely; the sign-up policy's
        // own tests (`admin.rs`) set `None` (the binary's default, invite)
        // or another policy.
        sign_up_policy: Some(hearth::model::SignUpPolicy::Open),
        // The load and ordering tests post thousands of messages per user;
        // `message_limits.rs` sets a limit of its own.
        messages_per_minute: 0,
        // No mail unless a test starts an SMTP server (`account.rs`).
        smtp_url: None,
        smtp_from: None,
        public_url: None,
        reset_mails_per_address_per_hour: 5,
        // Off unless a test serves the page (`previews.rs`): a message with
        // a link must not reach out to the Internet from a test.
        link_previews: false,
        // The push tests' push service and the preview tests' web site are
        // servers of the test's own on loopback; every other non-public
        // address stays refused (`outbound.rs`).
        test_allow_loopback_fetch: true,
        // Short, so push tests wait little; `push.rs` sets its own.
        push_delay_secs: 1,
        push_per_device_per_minute: 6,
        push_contact: Some("mailto:ops@hearth.test".into()),
        // The binary's default; `attachments.rs` sets a small one.
        upload_max_bytes: 25 * 1024 * 1024,
        postgres_writers: hearth::POSTGRES_WRITERS,
        // Files under the test's data directory.
        blob_store: None,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_serving("target/site", configure).await
}

/// `spawn_app_with`, serving static files from `site_root`.
pub async fn spawn_app_serving(site_root: &str, configure: impl FnOnce(&mut Config)) -> TestApp {
    let (app, application) = build_app(site_root, configure, None).await;
    tokio::spawn(application.run_until_stopped());
    app
}

/// `spawn_app_with`, keeping files in `blobs` (an S3 bucket, `blobs_s3.rs`)
/// rather than under the app's data directory.
pub async fn spawn_app_with_blobs(configure: impl FnOnce(&mut Config), blobs: Arc<dyn BlobStore>) -> TestApp {
    let (app, application) = build_app("target/site", configure, Some(blobs)).await;
    tokio::spawn(application.run_until_stopped());
    app
}

/// A running app and the handle that shuts it down, as SIGTERM would.
pub struct StoppableApp {
    pub app: TestApp,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's `run_until`, finished once shutdown is done.
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl StoppableApp {
    /// Begins shutdown (the server's `run_until` future resolves).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Like [`spawn_app_with`], with a shutdown trigger instead of the signals.
pub async fn spawn_stoppable_app_with(configure: impl FnOnce(&mut Config)) -> StoppableApp {
    let (app, application) = build_app("target/site", configure, None).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    StoppableApp { app, stop: Some(stop), server }
}

async fn build_app(
    site_root: &str,
    configure: impl FnOnce(&mut Config),
    blobs: Option<Arc<dyn BlobStore>>,
) -> (TestApp, Application) {
    // As the binary does, so that tests measuring RSS see what it would, and
    // tests holding many sockets have the descriptors for them.
    static TUNED: std::sync::Once = std::sync::Once::new();
    TUNED.call_once(|| {
        hearth_server::startup::tune_allocator();
        hearth_server::startup::raise_open_file_limit();
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path().to_path_buf());
    config.database_url = Some(fresh_database_url(dir.path()).await);
    configure(&mut config);
    hearth_server::telemetry::init(&config.log);
    let database_url = config.database_url().expect("a database URL");
    let leptos = LeptosOptions::builder().output_name("hearth").site_root(site_root).build();
    let application = Application::build_with_blobs(config, leptos, blobs).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let hearth = application.hearth().clone();
    let metrics_address = application.metrics_addr().map(|addr| format!("http://{addr}"));
    (TestApp { address, client: new_client(), hearth, database_url, metrics_address, _dir: dir }, application)
}

impl TestApp {
    /// Another server on `address` (the real binary, say) on the same
    /// database as `like`: requests go there; `hearth` is `like`'s.
    pub fn at(address: &str, like: &TestApp) -> TestApp {
        TestApp {
            address: address.to_owned(),
            client: new_client(),
            hearth: like.hearth.clone(),
            database_url: like.database_url.clone(),
            metrics_address: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Waits (up to 30 s) until `/healthz` answers 200.
    pub async fn wait_until_up(&self) {
        for _ in 0..300 {
            if let Ok(response) = self.client.get(self.url("/healthz")).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{} never answered /healthz", self.address);
    }
}

/// A value bound to a `$n` placeholder by [`TestApp::execute_sql`].
pub enum SqlArg {
    Int(i64),
    Text(String),
}

impl TestApp {
    /// Runs one statement on the app's database, on whichever backend, with
    /// `$1…` placeholders (SQLite takes them too), and returns the rows it
    /// changed. For the few tests that set up a state no API call makes.
    pub async fn execute_sql(&self, sql: &str, args: &[SqlArg]) -> u64 {
        use sqlx::{ConnectOptions, Connection};
        macro_rules! run {
            ($conn:expr) => {{
                let mut conn = $conn;
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = match arg {
                        SqlArg::Int(n) => query.bind(*n),
                        SqlArg::Text(t) => query.bind(t.clone()),
                    };
                }
                let done = query.execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
                done.rows_affected()
            }};
        }
        let url = &self.database_url;
        match hearth::store::Backend::of_url(url).expect("a known scheme") {
            hearth::store::Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a sqlite URL");
                run!(options.connect().await.expect("connect to the app's SQLite file"))
            }
            hearth::store::Backend::Postgres => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a postgres URL");
                run!(options.connect().await.expect("connect to the app's Postgres database"))
            }
        }
    }

    /// The first column of every row `sql` returns, as text, on whichever
    /// backend.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        use sqlx::{ConnectOptions, Connection};
        let url = &self.database_url;
        match hearth::store::Backend::of_url(url).expect("a known scheme") {
            hearth::store::Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("a sqlite URL");
                let mut conn = options.connect().await.expect("connect to the app's SQLite file");
                let rows: Vec<(String,)> =
                    sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
                rows.into_iter().map(|(s,)| s).collect()
            }
            hearth::store::Backend::Postgres => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a postgres URL");
                let mut conn = options.connect().await.expect("connect to the app's Postgres database");
                let rows: Vec<(String,)> =
                    sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
                rows.into_iter().map(|(s,)| s).collect()
            }
        }
    }
}

/// A fresh "browser": its own cookie jar, and redirects not followed so tests
/// can see them.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .pool_idle_timeout(CLIENT_IDLE)
        .build()
        .expect("client")
}

/// A client with no cookie jar, for sending a chosen `Cookie` header.
pub fn bare_client() -> Client {
    Client::builder().redirect(redirect::Policy::none()).pool_idle_timeout(CLIENT_IDLE).build().expect("client")
}

/// How long a test client keeps an idle connection: well inside the
/// server's 10 s (`HEARTH_HEADER_READ_TIMEOUT`), after which the server
/// closes it. A client that reused a connection idle for about that long
/// (a test that paused for a 10 s bulk insert) raced the server's close and
/// got `IncompleteMessage`.
const CLIENT_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// The `hearth_session` value a response set, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hearth_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn register_with(&self, client: &Client, username: &str) -> Response {
        client
            .post(self.url("/users"))
            .json(&json!({ "user": {
                "email": format!("{username}@example.com"),
                "username": username,
                "password": PASSWORD,
                "name": format!("{username} Example"),
            }}))
            .send()
            .await
            .expect("request sent")
    }

    /// Registers `username` (email `<username>@example.com`) on the app's client.
    pub async fn register(&self, username: &str) -> Value {
        let response = self.register_with(&self.client, username).await;
        assert_eq!(response.status(), 201, "registering {username}");
        response.json().await.expect("json")
    }

    pub async fn sign_in_with(&self, client: &Client, login: &str, password: &str) -> Response {
        client
            .post(self.url("/users/sign_in"))
            .json(&json!({ "user": { "email": login, "password": password } }))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn me(&self, client: &Client) -> Response {
        client.get(self.url("/users/me")).header("Accept", "application/json").send().await.expect("request sent")
    }
}

/// A signed-in person with their own cookie jar.
pub struct User {
    pub id: i64,
    pub client: Client,
}

impl TestApp {
    /// Registers `username` on a fresh client of their own, signed in.
    pub async fn user(&self, username: &str) -> User {
        let client = new_client();
        let response = self.register_with(&client, username).await;
        assert_eq!(response.status(), 201, "registering {username}");
        let body: Value = response.json().await.expect("json");
        User { id: body["user"]["id"].as_i64().expect("user id"), client }
    }

    /// The id of the user `client` is signed in as.
    pub async fn user_id(&self, client: &Client) -> i64 {
        let me: Value = self.me(client).await.json().await.expect("json");
        me["id"].as_i64().expect("signed in")
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).header("Accept", "application/json").send().await.expect("request sent")
    }

    /// `GET path`, asserting a 200, as JSON.
    pub async fn get_json(&self, client: &Client, path: &str) -> Value {
        let response = self.get(client, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// The room's position in its change sequence, as a page load sees it.
    pub async fn last_seq(&self, client: &Client, room: i64) -> i64 {
        let shown = self.get_json(client, &format!("/conversations/{room}")).await;
        shown["conversation"]["last_seq"].as_i64().expect("conversation.last_seq")
    }

    /// `POST /conversations` with `body` as given.
    pub async fn create_conversation(&self, client: &Client, body: Value) -> Response {
        client.post(self.url("/conversations")).json(&body).send().await.expect("request sent")
    }

    /// Opens a direct room (one other id) or a group (several), asserting
    /// success, and returns its id.
    pub async fn conversation_with(&self, client: &Client, participant_ids: &[i64]) -> i64 {
        let response = self.create_conversation(client, json!({ "participant_ids": participant_ids })).await;
        assert!(matches!(response.status().as_u16(), 200 | 201), "creating a conversation: {}", response.status());
        let body: Value = response.json().await.expect("json");
        body["id"].as_i64().expect("conversation id")
    }

    /// `POST /conversations/:room/messages` with `body` as given.
    pub async fn post_message(&self, client: &Client, room: i64, body: Value) -> Response {
        client
            .post(self.url(&format!("/conversations/{room}/messages")))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// Uploads `text` to `room` as a plain-text file `name`, not sent yet:
    /// the attachment (201 asserted).
    pub async fn upload_text(&self, client: &Client, room: i64, name: &str, text: &str) -> Value {
        let response = client
            .post(self.url(&format!("/conversations/{room}/attachments?name={name}")))
            .header("Content-Type", "text/plain")
            .body(text.to_owned())
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 201, "uploading {name}");
        response.json().await.expect("an attachment")
    }

    /// `PATCH /conversations/:room/messages/:number` with a new body.
    pub async fn edit_message(&self, client: &Client, room: i64, number: i64, body: &str) -> Response {
        client
            .patch(self.url(&format!("/conversations/{room}/messages/{number}")))
            .json(&json!({ "body": body }))
            .send()
            .await
            .expect("request sent")
    }

    /// Sends `text` into `room`, asserting a 201, and returns the message.
    pub async fn send(&self, client: &Client, room: i64, text: &str) -> Value {
        let response = self.post_message(client, room, json!({ "body": text })).await;
        assert_eq!(response.status(), 201, "sending {text:?}");
        response.json().await.expect("json")
    }

    /// `GET /conversations/:room/messages?<query>`, asserting a 200.
    pub async fn history(&self, client: &Client, room: i64, query: &str) -> Value {
        self.get_json(client, &format!("/conversations/{room}/messages?{query}")).await
    }

    /// Writes `count` messages ("message 1", …) by `author` straight through
    /// the core: quicker than HTTP when only the history matters.
    pub async fn seed_messages(&self, room: i64, author: i64, count: usize) {
        for n in 1..=count {
            self.hearth
                .post_message(UserId(author), RoomId(room), &format!("message {n}"), None)
                .await
                .unwrap_or_else(|e| panic!("seeding message {n}: {e}"));
        }
    }
}

/// Asserts an error answer: `status`, and a JSON body with an `errors` array.
pub async fn assert_error(response: Response, status: u16) -> Value {
    let url = response.url().to_string();
    assert_error_about(&url, response, status).await
}

/// [`assert_error`], naming `what` was asked in a failure.
pub async fn assert_error_about(what: &str, response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "{what}");
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{what}: not a JSON error body: {e}"));
    assert!(body["errors"].is_array(), "{what}: {body}");
    body
}

/// The `number`s of a page's messages, in the order returned.
pub fn numbers(page: &Value) -> Vec<i64> {
    page["messages"].as_array().expect("messages").iter().map(|m| m["number"].as_i64().expect("number")).collect()
}

/// The token API (`/api/applications/…`): the token is the only credential,
/// so these need no signed-in client.
impl TestApp {
    /// `POST /api/applications` as `client` (signed in: its owner), asserting
    /// a 201, and returns the application.
    pub async fn create_application(&self, client: &Client, name: &str) -> Value {
        self.post_created(client, "/api/applications", json!({ "application_name": name })).await
    }

    /// `POST /api/applications/:token/chats`, asserting a 201.
    pub async fn create_chat(&self, token: &str, name: &str) -> Value {
        self.post_created(&new_client(), &format!("/api/applications/{token}/chats"), json!({ "chat_name": name }))
            .await
    }

    /// `POST /api/applications/:token/chats/:chat/messages`, asserting a 201.
    pub async fn post_app_message(&self, token: &str, chat: i64, content: &str) -> Value {
        let path = format!("/api/applications/{token}/chats/{chat}/messages");
        self.post_created(&new_client(), &path, json!({ "message_content": content })).await
    }

    /// `POST path` with `body` as `client`, asserting a 201; the JSON answer.
    async fn post_created(&self, client: &Client, path: &str, body: Value) -> Value {
        let response = client.post(self.url(path)).json(&body).send().await.expect("request sent");
        assert_eq!(response.status(), 201, "POST {path} {body}");
        response.json().await.expect("json")
    }

    /// `GET /api/applications/:token/chats/:chat/search?query=…` (encoded),
    /// asserting a 200; returns the hits' numbers, in the order returned.
    pub async fn search_chat(&self, token: &str, chat: i64, query: &str) -> Vec<i64> {
        let response = new_client()
            .get(self.url(&format!("/api/applications/{token}/chats/{chat}/search")))
            .query(&[("query", query)])
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "searching {query:?}");
        let hits: Value = response.json().await.expect("json");
        hits.as_array().expect("an array").iter().map(|h| h["number"].as_i64().expect("number")).collect()
    }

    /// The room id of the chat titled `title` in `client`'s `GET /conversations`.
    pub async fn room_titled(&self, client: &Client, title: &str) -> i64 {
        let rooms = self.get_json(client, "/conversations").await;
        let room = rooms.as_array().expect("rooms").iter().find(|r| r["title"] == title);
        room.and_then(|r| r["id"].as_i64()).unwrap_or_else(|| panic!("no room titled {title:?} in {rooms}"))
    }
}

/// Sends `method path` declaring an 11 MB JSON body but only its first bytes,
/// over a raw socket, and returns the status and body of the answer. (A
/// client that writes the whole body may see the connection reset once the
/// server has answered and stopped reading, before it reads the answer.)
pub async fn oversized_request(app: &TestApp, method: &str, path: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{\"body\": \"xxxx",
        11 << 20
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "{method} {path}: no answer to an oversized body within 10 s");
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{method} {path}: {text:.200}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    // A chunked answer: the JSON sits between the chunk size lines.
    let json = body.find('{').and_then(|start| body.rfind('}').map(|end| &body[start..=end])).unwrap_or("null");
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

/// Asserts a CLI failure: a non-zero exit and one line on stderr, starting
/// `hearth: `, that contains each of `names`; no panic.
pub fn assert_one_line_failure(output: &std::process::Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exits non-zero; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr:?}");
    assert!(lines[0].starts_with("hearth: "), "the line says who speaks: {stderr:?}");
    for name in names {
        assert!(lines[0].contains(name), "the line names {name:?}: {stderr:?}");
    }
}

/// A web site on loopback with pictures, for avatars set by URL (the test
/// app admits loopback fetches): `/photo.png` (500 × 300, any query),
/// `/other.png` (64 × 64), `/page` (HTML, not a picture) and `/gone`
/// (404). Returns its base URL.
pub async fn picture_site() -> String {
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    use hearth::testing::images::png;
    let picture = |bytes: Vec<u8>| move || async move { ([(header::CONTENT_TYPE, "image/png")], bytes) };
    let site = axum::Router::new()
        .route("/photo.png", get(picture(png(500, 300))))
        .route("/other.png", get(picture(png(64, 64))))
        .route("/page", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html><title>hi</title></html>") }))
        .route("/gone", get(|| async { StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, site).await.expect("the picture site runs") });
    base
}
