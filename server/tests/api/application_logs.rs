//! The application token is the token API's only credential: it must never
//! be written to the server's logs.

use std::io;
use std::sync::{Arc, Mutex};

use hearth_server::telemetry::redact_path;
use serde_json::json;
use tracing_subscriber::EnvFilter;

use crate::helpers::{new_client, spawn_app};

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

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

/// A current-thread test runtime runs the server's tasks on this thread, so
/// a thread-local subscriber sees everything the request handling logs.
#[tokio::test]
async fn a_token_never_appears_in_the_request_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        // Everything the server side logs; not the test's own HTTP client.
        .with_env_filter(EnvFilter::new("trace,reqwest=off,hyper_util::client=off"))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Secretive").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Room").await;
    app.post_app_message(&token, 1, "hello world").await;
    let client = new_client();
    let base = app.url(&format!("/api/applications/{token}"));

    let statuses = [
        client.get(&base).send().await.unwrap().status(),
        client.patch(&base).json(&json!({ "application_name": "Renamed" })).send().await.unwrap().status(),
        client.get(format!("{base}/chats/1/messages?after_number=0")).send().await.unwrap().status(),
        client
            .put(format!("{base}/chats/1/messages/1"))
            .json(&json!({ "message_content": "hi" }))
            .send()
            .await
            .unwrap()
            .status(),
        client.get(format!("{base}/chats/1/search?query=hello")).send().await.unwrap().status(),
        client.get(format!("{base}/chats/9")).send().await.unwrap().status(),
        client
            .post(format!("{base}/chats/1/messages"))
            .json(&json!({ "message_content": "" }))
            .send()
            .await
            .unwrap()
            .status(),
        client
            .post(format!("{base}/chats"))
            .header("Content-Type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap()
            .status(),
    ];

    assert_eq!(statuses.map(|s| s.as_u16()), [200, 200, 200, 200, 200, 404, 422, 400]);
    let logs = captured.text();
    assert!(logs.contains("/api/applications/[token]/chats/1/search"), "the requests were logged, redacted:\n{logs}");
    assert!(!logs.contains(&token), "the token leaked into the logs:\n{logs}");
}
