//! ChatFlow's README walkthrough, run with the real `curl` exactly as a user
//! would type it: only the host (the test server's address) and the folder
//! holding the cookie jars (a temp dir) differ.

use std::path::Path;
use std::process::Command;

use hearth::model::UserId;
use serde_json::Value;

use crate::helpers::spawn_app;

const SIGN_IN_ALICE: &str = r#"curl -i -c cookies_alice.txt -X POST http://localhost:3000/users/sign_in -H "Content-Type: application/json" -d '{"user":{"email":"alice@example.com","password":"secret123"}}'"#;
const SIGN_IN_BOB: &str = r#"curl -i -c cookies_bob.txt -X POST http://localhost:3000/users/sign_in -H "Content-Type: application/json" -d '{"user":{"email":"bob@example.com","password":"secret123"}}'"#;
const ME: &str = r#"curl -i -b cookies_alice.txt -H "Accept: application/json" http://localhost:3000/users/me"#;
const CONVERSATIONS: &str =
    r#"curl -i -b cookies_alice.txt -H "Accept: application/json" http://localhost:3000/conversations"#;
const CREATE: &str = r#"curl -i -b cookies_alice.txt -X POST http://localhost:3000/conversations -H "Content-Type: application/json" -d '{"participant_ids":[2],"title":"CLI Chat"}'"#;
const SEND: &str = r#"curl -i -b cookies_alice.txt -X POST http://localhost:3000/conversations/1/messages -H "Content-Type: application/json" -d '{"body":"Hello from Alice via CLI"}'"#;
const READ: &str =
    r#"curl -i -b cookies_bob.txt -H "Accept: application/json" http://localhost:3000/conversations/1/messages"#;

/// What `curl -i` printed: the status code and the body as JSON.
struct Reply {
    status: u16,
    body: Value,
}

/// Runs one walkthrough line through `sh` in `dir` (where the cookie jars
/// live), against `address` instead of localhost:3000.
async fn run(command: &str, address: &str, dir: &Path) -> Reply {
    let command = command.replace("http://localhost:3000", address);
    let dir = dir.to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("sh").arg("-c").arg(&command).current_dir(dir).output().expect("curl runs")
    })
    .await
    .expect("curl finished");
    assert!(output.status.success(), "curl failed: {}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).expect("utf-8");
    let (head, body) = printed.split_once("\r\n\r\n").expect("headers, blank line, body");
    let status_line = head.lines().next().expect("a status line");
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {printed}"));
    Reply { status, body }
}

#[tokio::test]
async fn the_chatflow_readme_curl_walkthrough_works_verbatim() {
    let app = spawn_app().await;
    app.hearth.seed_demo().await.expect("demo accounts");
    // The demo seed also opens alice and bob's "Seed Chat", so step 5 finds
    // that direct room (200) rather than creating one (201).
    let seed_chat =
        app.hearth.store().direct_room(UserId(1), UserId(2)).await.unwrap().expect("the seeded direct room");
    let jars = tempfile::tempdir().expect("temp dir");
    let dir = jars.path();

    let alice = run(SIGN_IN_ALICE, &app.address, dir).await;
    let bob = run(SIGN_IN_BOB, &app.address, dir).await;
    let me = run(ME, &app.address, dir).await;
    let rooms = run(CONVERSATIONS, &app.address, dir).await;
    let created = run(CREATE, &app.address, dir).await;
    let id = created.body["id"].as_i64().expect("the conversation's id");
    let path = format!("/conversations/{id}/messages");
    let sent = run(&SEND.replace("/conversations/1/messages", &path), &app.address, dir).await;
    let read = run(&READ.replace("/conversations/1/messages", &path), &app.address, dir).await;

    assert_eq!(alice.status, 200, "{}", alice.body);
    assert_eq!(alice.body["user"]["username"], "alice");
    assert!(dir.join("cookies_alice.txt").exists(), "curl kept alice's cookie");
    assert_eq!(bob.status, 200, "{}", bob.body);
    assert_eq!(bob.body["user"]["id"], 2);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["username"], "alice");
    assert_eq!(me.body["email"], "alice@example.com");
    assert_eq!(rooms.status, 200, "{}", rooms.body);
    let listed: Vec<i64> = rooms.body.as_array().expect("a list").iter().filter_map(|r| r["id"].as_i64()).collect();
    assert!(listed.contains(&seed_chat.0), "{}", rooms.body);
    assert_eq!(created.status, 200, "alice and bob's existing direct room: {}", created.body);
    assert_eq!(id, seed_chat.0);
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.body["body"], "Hello from Alice via CLI");
    assert_eq!(sent.body["user"]["username"], "alice");
    assert_eq!(read.status, 200, "{}", read.body);
    let messages = read.body["messages"].as_array().expect("messages");
    let newest = messages.last().expect("a message");
    assert_eq!(newest["body"], "Hello from Alice via CLI");
    assert_eq!(newest["user"]["username"], "alice");
    assert_eq!(newest["number"], sent.body["number"]);
}
