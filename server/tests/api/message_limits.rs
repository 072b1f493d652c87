//! Message rate limits (issue 18, part 6): a user or an application posting
//! faster than `HEARTH_MESSAGES_PER_MINUTE` gets 429 with `Retry-After`, or
//! on the WebSocket `error {code:"rate_limited"}`; nothing accepted is lost.

use hearth::protocol::ServerEvent;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};
use crate::ws_support::{connect, person};

#[tokio::test]
async fn posting_past_the_rate_is_429_with_retry_after_on_rest_the_socket_and_the_token_api() {
    let app = spawn_app_with(|config| config.messages_per_minute = 3).await;
    let alice = person(&app, "alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for n in 1..=3 {
        app.send(&alice.client, room, &format!("message {n}")).await;
    }
    let refused = app.post_message(&alice.client, room, json!({ "body": "too fast" })).await;
    let retry: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_error(refused, 429).await;

    // The same budget on the socket.
    let mut ws = connect(&app, &alice).await;
    ws.send_json(json!({ "type": "send", "room_id": room, "body": "by socket", "client_id": "k1" })).await;
    match ws.next_skipping_presence().await {
        ServerEvent::Error { code, client_id, .. } => {
            assert_eq!(code, "rate_limited");
            assert_eq!(client_id.as_deref(), Some("k1"));
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    // Someone else's budget is their own, and nothing accepted was lost.
    app.send(&bob.client, room, "bob is fine").await;
    let page = app.history(&bob.client, room, "").await;
    let bodies: Vec<&str> =
        page["messages"].as_array().expect("messages").iter().map(|m| m["body"].as_str().expect("body")).collect();
    assert_eq!(bodies, ["message 1", "message 2", "message 3", "bob is fine"]);

    // An application spends its maker's budget: a second application, or
    // posting in person, makes no more room. One made without an account
    // has a budget of its own.
    let carol = app.user("carol").await;
    let token = |application: serde_json::Value| application["application_token"].as_str().expect("token").to_owned();
    let first = token(app.create_application(&carol.client, "Bot").await);
    let second = token(app.create_application(&carol.client, "Other bot").await);
    let anonymous = token(app.create_application(&crate::helpers::new_client(), "Stray").await);
    for token in [&first, &second, &anonymous] {
        app.create_chat(token, "Alerts").await;
    }
    for n in 1..=3 {
        app.post_app_message(&first, 1, &format!("alert {n}")).await;
    }
    for token in [&first, &second] {
        let response = post_as_app(&app, token, "one too many").await;
        assert!(response.headers().contains_key("retry-after"));
        assert_error(response, 429).await;
    }
    let chat = app.get_json(&carol.client, "/conversations").await[0]["id"].as_i64().expect("a chat of carol's");
    assert_error(app.post_message(&carol.client, chat, json!({ "body": "in person" })).await, 429).await;
    for n in 1..=3 {
        app.post_app_message(&anonymous, 1, &format!("stray {n}")).await;
    }
    assert_error(post_as_app(&app, &anonymous, "stray 4").await, 429).await;
}

async fn post_as_app(app: &crate::helpers::TestApp, token: &str, text: &str) -> reqwest::Response {
    crate::helpers::new_client()
        .post(app.url(&format!("/api/applications/{token}/chats/1/messages")))
        .json(&json!({ "message_content": text }))
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn reactions_count_against_the_same_budget_as_messages() {
    let app = spawn_app_with(|config| config.messages_per_minute = 3).await;
    let alice = person(&app, "alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&bob.client, &[alice.id]).await;
    app.send(&bob.client, room, "react to me").await;
    let url = app.url(&format!("/conversations/{room}/messages/1/reactions"));
    for _ in 0..3 {
        let toggled = alice.client.post(&url).json(&json!({ "emoji": "👍" })).send().await.expect("sent");
        assert_eq!(toggled.status(), 200);
    }

    let refused = alice.client.post(&url).json(&json!({ "emoji": "👍" })).send().await.expect("sent");

    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429).await;
    // The refused toggle changed nothing: three toggles leave it on.
    let page = app.history(&alice.client, room, "").await;
    assert_eq!(page["messages"][0]["reactions"][0]["count"], 1, "{page}");
}

#[tokio::test]
async fn pins_count_against_the_same_budget_as_messages() {
    let app = spawn_app_with(|config| config.messages_per_minute = 2).await;
    let alice = person(&app, "alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&bob.client, &[alice.id]).await;
    app.send(&bob.client, room, "pin me").await;
    let url = app.url(&format!("/conversations/{room}/messages/1/pin"));
    assert_eq!(alice.client.put(&url).send().await.expect("sent").status(), 200);
    assert_eq!(alice.client.delete(&url).send().await.expect("sent").status(), 200);

    let refused = alice.client.put(&url).send().await.expect("sent");

    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429).await;
    // The refused pin changed nothing: pinned, then unpinned.
    let page = app.history(&alice.client, room, "").await;
    assert!(page["messages"][0].get("pinned").is_none(), "{page}");
}

#[tokio::test]
async fn the_demo_seed_starts_under_the_smallest_rate_and_spends_none_of_its_peoples_budget() {
    // Alice writes two of the seed's messages: at one a minute, a seed that
    // spent her budget stopped the server starting.
    let app = spawn_app_with(|config| {
        config.messages_per_minute = 1;
        config.demo = true;
    })
    .await;
    let alice = crate::helpers::new_client();
    assert_eq!(app.sign_in_with(&alice, "alice", "secret123").await.status(), 200);
    let rooms = app.get_json(&alice, "/conversations").await;
    let general = rooms.as_array().expect("rooms").iter().find(|r| r["title"] == "General").expect("General");
    let room = general["id"].as_i64().expect("id");
    let page = app.history(&alice, room, "").await;
    assert_eq!(page["messages"][0]["body"], "Welcome to Hearth! This open room is for everyone.");
    // Her minute's one message is still hers to send; the next is refused.
    app.send(&alice, room, "my own first message").await;
    assert_error(app.post_message(&alice, room, json!({ "body": "a second" })).await, 429).await;
}
