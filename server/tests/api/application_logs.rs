//! The application token is the token API's only credential: it must never
//! be written to the server's logs.

use hearth::testing::fresh_database_url;
use hearth_server::telemetry::redact_path;
use serde_json::json;

use crate::helpers::new_client;

#[test]
fn the_log_path_of_every_token_route_hides_the_token() {
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef";
    let cases = [
        (format!("/api/applications/{token}"), "/api/applications/[token]"),
        (format!("/api/applications/{token}/"), "/api/applications/[token]/"),
        (format!("/api/applications/{token}/chats"), "/api/applications/[token]/chats"),
        (format!("/api/applications/{token}/chats/3"), "/api/applications/[token]/chats/3"),
        (format!("/api/applications/{token}/chats/3/messages"), "/api/applications/[token]/chats/3/messages"),
        (format!("/api/applications/{token}/chats/3/messages/12"), "/api/applications/[token]/chats/3/messages/12"),
        (format!("/api/applications/{token}/chats/3/search"), "/api/applications/[token]/chats/3/search"),
    ];

    for (path, expected) in cases {
        assert_eq!(redact_path(&path), expected);
    }
    assert_eq!(redact_path("/api/applications"), "/api/applications");
    assert_eq!(redact_path("/conversations/1/messages"), "/conversations/1/messages");
}

/// The real `hearth` binary, logging everything at `trace`,
/// which the test reads afterwards. (A subscriber set for the test's own
/// thread would not do: the database drivers' threads log and close spans
/// under the process's global subscriber.)
struct Server {
    child: std::process::Child,
    base: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = fresh_database_url(dir.path()).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let log = dir.path().join("server.log");
        let file = std::fs::File::create(&log).expect("a log file");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("HEARTH_DATA_DIR", dir.path())
            .env("HEARTH_LISTEN", format!("127.0.0.1:{port}"))
            .env("HEARTH_LOG", "trace,hyper_util=off,h2=off")
            .env_remove("HEARTH_DEMO")
            .stdout(file.try_clone().expect("the log file again"))
            .stderr(file)
            .spawn()
            .expect("hearth starts");
        let server = Self { child, base: format!("http://127.0.0.1:{port}"), log, _dir: dir };
        let client = new_client();
        for _ in 0..300 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("hearth did not start:\n{}", server.logs());
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_token_never_appears_in_the_request_logs() {
    let server = Server::start().await;
    let client = new_client();
    let post = |path: String, body: serde_json::Value| {
        let client = client.clone();
        async move {
            let response = client.post(&path).json(&body).send().await.expect("request sent");
            assert_eq!(response.status(), 201, "POST {path} {body}");
            response.json::<serde_json::Value>().await.expect("json")
        }
    };
    let application =
        post(format!("{}/api/applications", server.base), json!({ "application_name": "Secretive" })).await;
    let token = application["application_token"].as_str().expect("a token").to_owned();
    let base = format!("{}/api/applications/{token}", server.base);
    post(format!("{base}/chats"), json!({ "chat_name": "Room" })).await;
    post(format!("{base}/chats/1/messages"), json!({ "message_content": "hello world" })).await;

    let statuses = [
        client.get(&base).send().await.expect("sent").status(),
        client.patch(&base).json(&json!({ "application_name": "Renamed" })).send().await.expect("sent").status(),
        client.get(format!("{base}/chats/1/messages?after_number=0")).send().await.expect("sent").status(),
        client
            .put(format!("{base}/chats/1/messages/1"))
            .json(&json!({ "message_content": "hi" }))
            .send()
            .await
            .expect("sent")
            .status(),
        client.get(format!("{base}/chats/1/search?query=hello")).send().await.expect("sent").status(),
        client.get(format!("{base}/chats/9")).send().await.expect("sent").status(),
        client
            .post(format!("{base}/chats/1/messages"))
            .json(&json!({ "message_content": "" }))
            .send()
            .await
            .expect("sent")
            .status(),
        client
            .post(format!("{base}/chats"))
            .header("Content-Type", "application/json")
            .body("{")
            .send()
            .await
            .expect("sent")
            .status(),
    ];

    assert_eq!(statuses.map(|s| s.as_u16()), [200, 200, 200, 200, 200, 404, 422, 400]);
    let logs = server.logs();
    assert!(logs.contains("/api/applications/[token]/chats/1/search"), "the requests were logged, redacted:\n{logs}");
    assert!(!logs.contains(&token), "the token leaked into the logs:\n{logs}");
    // Written to a file, not a terminal: no colour codes to read through.
    assert!(logs.contains("listening") && !logs.contains('\u{1b}'), "plain text in a log file:\n{logs}");
}
