//! The seeds' remaining contracts (issue 20, part 2): seed 003's "Create
//! Message" route, `{"errors": […]}` on every 404 and 405 of the token API
//! and the REST API, PUT versus PATCH on the token API, and what
//! `GET /api/applications` means without a session.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_about, new_client, spawn_app};

/// An anonymous application with one chat; returns its token.
async fn application_with_a_chat(app: &TestApp) -> String {
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Help").await;
    token
}

async fn assert_error_saying(what: &str, response: Response, status: u16, words: &[&str]) -> String {
    let body = assert_error_about(what, response, status).await;
    let message = body["errors"][0].as_str().unwrap_or_else(|| panic!("{what}: no message in {body}")).to_owned();
    for word in words {
        assert!(message.contains(word), "{what}: {message:?} does not say {word:?}");
    }
    message
}

// Seed 003: "Create Message" is `POST /api/applications/:token/chats/:number`.

#[tokio::test]
async fn posting_to_a_chat_itself_creates_a_message_as_posting_to_its_messages_does() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let chat_url = app.url(&format!("/api/applications/{token}/chats/1"));

    let first = app.post_app_message(&token, 1, "through /messages").await;
    let response = new_client().post(&chat_url).json(&json!({ "message_content": "hello world!" })).send().await;
    let response = response.unwrap();
    let status = response.status();
    let seeds: Value = response.json().await.unwrap();
    let third = app.post_app_message(&token, 1, "through /messages again").await;

    assert_eq!(status, 201);
    assert_eq!(seeds["type"], "message");
    assert_eq!(seeds["application_token"], token);
    assert_eq!(seeds["chat_number"], 1);
    assert_eq!(seeds["message_number"], 2, "one numbering for both routes");
    assert_eq!(seeds["message_content"], "hello world!");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&seeds), keys(&first), "the same body as POST …/messages");
    assert_eq!((first["message_number"].as_i64(), third["message_number"].as_i64()), (Some(1), Some(3)));
    let shown = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages/2")).await;
    assert_eq!(shown, seeds, "stored as any other message");
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await["messages_count"], 3);
}

#[tokio::test]
async fn posting_to_a_chat_itself_refuses_what_posting_to_its_messages_refuses() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let chat = format!("/api/applications/{token}/chats/1");
    let client = new_client();

    // The seed's example request body says `application_name`: a slip in the
    // seed; the field is `message_content`, as its response shows.
    let seeds_typo = client.post(app.url(&chat)).json(&json!({ "application_name": "myapp" })).send().await.unwrap();
    assert_error_saying("the seed's example body", seeds_typo, 422, &["Message content"]).await;
    let blank = client.post(app.url(&chat)).json(&json!({ "message_content": " " })).send().await.unwrap();
    assert_error_saying("a blank message", blank, 422, &["Message content can't be blank"]).await;
    let too_long = client.post(app.url(&chat)).json(&json!({ "message_content": "x".repeat(10_001) })).send().await;
    assert_error_saying("a long message", too_long.unwrap(), 422, &["too long"]).await;
    let not_json = client.post(app.url(&chat)).body("message_content=hi").send().await.unwrap();
    assert_error(not_json, 415).await;
    let unknown_chat =
        client.post(app.url(&format!("/api/applications/{token}/chats/9"))).json(&json!({ "body": "x" }));
    assert_error(unknown_chat.send().await.unwrap(), 404).await;
    let unknown_token = client.post(app.url(&format!("/api/applications/{}/chats/1", "0".repeat(48))));
    assert_error(unknown_token.json(&json!({ "message_content": "x" })).send().await.unwrap(), 404).await;

    assert_eq!(app.get_json(&client, &chat).await["messages_count"], 0, "nothing was posted");
    assert_eq!(app.post_app_message(&token, 1, "first").await["message_number"], 1, "no number was used up");
}
