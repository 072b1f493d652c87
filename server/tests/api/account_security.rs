//! Changing a password (issue 18, part 5): the current password is needed,
//! this session stays signed in and every other one ends, sockets included.

use reqwest::{Client, Response};
use serde_json::json;

use crate::helpers::{PASSWORD, SqlArg, TestApp, assert_error, new_client, spawn_app};
use crate::ws_support::{Next, try_connect};

const NEW: &str = "a much longer secret";

async fn change(app: &TestApp, client: &Client, current: &str, new: &str) -> Response {
    client
        .put(app.url("/users/me/password"))
        .json(&json!({ "current_password": current, "password": new }))
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_every_other_one() {
    let app = spawn_app().await;
    let here = app.user("alice").await;
    let elsewhere = new_client();
    let signed_in = app.sign_in_with(&elsewhere, "alice", PASSWORD).await;
    let cookie = crate::helpers::session_cookie(signed_in.headers()).expect("a session cookie");
    let mut socket = try_connect(&app, Some(&cookie), None).await.expect("the upgrade succeeds");

    assert_eq!(change(&app, &here.client, PASSWORD, NEW).await.status(), 204);
    assert_eq!(app.me(&here.client).await.status(), 200, "this session stays");
    assert_error(app.me(&elsewhere).await, 401).await;
    let closed = loop {
        match socket.next_within(std::time::Duration::from_secs(5)).await {
            Next::Event(_) => continue,
            Next::Closed(frame) => break frame.map(|f| u16::from(f.code)),
            other => panic!("the other session's socket should close, got {other:?}"),
        }
    };
    assert_eq!(closed, Some(1008));
    assert_error(app.sign_in_with(&new_client(), "alice", PASSWORD).await, 401).await;
    assert_eq!(app.sign_in_with(&new_client(), "alice", NEW).await.status(), 200);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_a_valid_new_one_and_a_live_session() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let gone = app.user("gone").await;
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", gone.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);

    let body = assert_error(change(&app, &member.client, "wrong-password", NEW).await, 422).await;
    assert_eq!(body["errors"][0], "Current password is incorrect");
    let body = assert_error(change(&app, &member.client, PASSWORD, "short").await, 422).await;
    assert!(body["errors"][0].as_str().expect("message").starts_with("Password is too short"), "{body}");
    let body = assert_error(change(&app, &member.client, PASSWORD, "          ").await, 422).await;
    assert_eq!(body["errors"][0], "Password can't be only spaces");
    assert_error(change(&app, &gone.client, PASSWORD, NEW).await, 401).await;
    assert_error(change(&app, &new_client(), PASSWORD, NEW).await, 401).await;
    // Nothing changed by the refusals; admin and member each change their own.
    assert_eq!(change(&app, &member.client, PASSWORD, NEW).await.status(), 204);
    assert_eq!(change(&app, &admin.client, PASSWORD, NEW).await.status(), 204);
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Response {
    new_client()
        .post(app.url("/users/password/reset"))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .expect("request sent")
}

async fn reset_link(app: &TestApp, client: &Client, user: i64) -> Response {
    client.post(app.url(&format!("/admin/users/{user}/reset_link"))).send().await.expect("request sent")
}

#[tokio::test]
async fn an_admins_reset_link_sets_a_password_once_within_the_hour_and_ends_every_session() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let creator = app.user("creator").await;
    app.conversation_with(&creator.client, &[member.id, admin.id]).await;
    let gone = app.user("gone").await;
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", gone.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);

    // Who may make one.
    assert_error(reset_link(&app, &member.client, member.id).await, 403).await;
    assert_error(reset_link(&app, &creator.client, member.id).await, 403).await;
    assert_error(reset_link(&app, &gone.client, member.id).await, 401).await;
    assert_error(reset_link(&app, &new_client(), member.id).await, 401).await;
    assert_error(reset_link(&app, &admin.client, 999_999).await, 404).await;
    let response = reset_link(&app, &admin.client, member.id).await;
    assert_eq!(response.status(), 201);
    let link: serde_json::Value = response.json().await.expect("json");
    let token = link["token"].as_str().expect("token");
    assert_eq!(link["path"], format!("/reset-password?token={token}"));
    let stored = app.query_strings("SELECT token_hash FROM password_resets").await;
    assert!(!stored.contains(&token.to_owned()), "stored hashed");

    let body = assert_error(reset(&app, "not-a-token", NEW).await, 422).await;
    assert_eq!(body["errors"][0], "This reset link is invalid, expired or already used");
    assert_error(reset(&app, token, "short").await, 422).await;
    assert_eq!(reset(&app, token, NEW).await.status(), 204);
    assert_error(app.me(&member.client).await, 401).await;
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);
    assert_error(reset(&app, token, "yet another secret").await, 422).await;

    // An hour later it is dead.
    let late = reset_link(&app, &admin.client, member.id).await.json::<serde_json::Value>().await.expect("json");
    app.execute_sql(
        "UPDATE password_resets SET expires_at = $1 WHERE used_at IS NULL",
        &[SqlArg::Text("2000-01-01T00:00:00.000000Z".into())],
    )
    .await;
    assert_error(reset(&app, late["token"].as_str().expect("token"), "yet another secret").await, 422).await;
    // A deactivated account gets none (it could never be used), and a link
    // made before its account was deactivated no longer works.
    let body = assert_error(reset_link(&app, &admin.client, gone.id).await, 409).await;
    assert_eq!(body["errors"][0], "This account is deactivated: reactivate it before making a reset link");
    let theirs = reset_link(&app, &admin.client, creator.id).await.json::<serde_json::Value>().await.expect("json");
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", creator.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    assert_error(reset(&app, theirs["token"].as_str().expect("token"), "yet another secret").await, 422).await;
    let actions = app.get_json(&admin.client, "/admin/audit").await;
    assert_eq!((&actions[0]["action"], &actions[0]["target_user"]), (&json!("user.deactivate"), &json!(creator.id)));
    assert_eq!((&actions[1]["action"], &actions[1]["target_user"]), (&json!("user.reset_link"), &json!(creator.id)));
    let links_for_gone = actions.as_array().expect("entries").iter().filter(|a| a["target_user"] == gone.id);
    assert!(links_for_gone.clone().all(|a| a["action"] != "user.reset_link"), "{actions}");
    // The one link used is written down, by whom it was used; the refused
    // tries are not.
    let used: Vec<_> =
        actions.as_array().expect("entries").iter().filter(|a| a["action"] == "user.reset_password").collect();
    assert_eq!(used.len(), 1, "{actions}");
    assert_eq!((&used[0]["actor"], &used[0]["target"]), (&json!("member"), &json!("member")));
}

#[tokio::test]
async fn a_password_set_by_a_link_or_by_its_owner_spends_every_other_link_of_the_account() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let link = || async {
        let made = reset_link(&app, &admin.client, member.id).await;
        assert_eq!(made.status(), 201);
        made.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_owned()
    };
    let (first, second) = (link().await, link().await);

    // One link used: the other, still in a mailbox or a chat, is dead.
    assert_eq!(reset(&app, &first, NEW).await.status(), 204);
    let body = assert_error(reset(&app, &second, "taken back by a stale link").await, 422).await;
    assert_eq!(body["errors"][0], "This reset link is invalid, expired or already used");
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);

    // A link made before the owner changes the password dies with the change.
    let third = link().await;
    let owner = new_client();
    assert_eq!(app.sign_in_with(&owner, "member", NEW).await.status(), 200);
    assert_eq!(change(&app, &owner, NEW, "the owner's own choice").await.status(), 204);
    assert_error(reset(&app, &third, "taken back by a stale link").await, 422).await;
    assert_eq!(app.sign_in_with(&new_client(), "member", "the owner's own choice").await.status(), 200);
    let live: Vec<String> = app.query_strings("SELECT token_hash FROM password_resets WHERE used_at IS NULL").await;
    assert!(live.is_empty(), "{live:?}");
}

#[tokio::test]
async fn hearth_reset_password_prints_a_link_that_works_once() {
    let app = spawn_app().await;
    let member = app.user("member").await;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command
        .args(["reset-password", "member@example.com", "--url", "https://chat.example"])
        .env("DATABASE_URL", &app.database_url)
        .env("HEARTH_LOG", "off")
        .env_remove("RUST_LOG");
    let output = tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("joined");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let link = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let token = link.strip_prefix("https://chat.example/reset-password?token=").unwrap_or_else(|| panic!("{link}"));
    assert_eq!(reset(&app, token, NEW).await.status(), 204);
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);
    assert_error(app.me(&member.client).await, 401).await;
    assert_error(reset(&app, token, NEW).await, 422).await;

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command.args(["reset-password", "nobody"]).env("DATABASE_URL", &app.database_url).env("HEARTH_LOG", "off");
    let output = tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("joined");
    crate::helpers::assert_one_line_failure(&output, &["no user", "nobody"]);
}
