//! Changing a password (issue 18, part 5): the current password is needed,
//! this session stays signed in and every other one ends, sockets included.

use reqwest::{Client, Response};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_error, new_client, spawn_app};
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
    assert_error(change(&app, &gone.client, PASSWORD, NEW).await, 401).await;
    assert_error(change(&app, &new_client(), PASSWORD, NEW).await, 401).await;
    // Nothing changed by the refusals; admin and member each change their own.
    assert_eq!(change(&app, &member.client, PASSWORD, NEW).await.status(), 204);
    assert_eq!(change(&app, &admin.client, PASSWORD, NEW).await.status(), 204);
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);
}
