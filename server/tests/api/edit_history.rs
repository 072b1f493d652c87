//! Edit history: `GET /conversations/:id/messages/:number/edits` lists what
//! a message said before each of its edits, to the room's members only, and
//! a deleted message takes its earlier texts with it.

use serde_json::Value;

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};

async fn edit(app: &TestApp, client: &reqwest::Client, room: i64, number: i64, body: &str) -> Value {
    let response = app.edit_message(client, room, number, body).await;
    assert_eq!(response.status(), 200, "editing to {body:?}");
    response.json().await.expect("json")
}

fn bodies(versions: &Value) -> Vec<String> {
    let list = versions["versions"].as_array().expect("versions");
    list.iter().map(|v| v["body"].as_str().expect("a body").to_owned()).collect()
}

#[tokio::test]
async fn each_edit_keeps_the_text_it_replaced_oldest_first_for_the_rooms_members_only() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let sent = app.send(&alice.client, room, "first **draft** <script>alert(1)</script>").await;
    let untouched = app.send(&alice.client, room, "never edited").await;
    let (number, created_at) = (sent["number"].as_i64().expect("number"), sent["created_at"].clone());

    // Act
    edit(&app, &alice.client, room, number, "second").await;
    // The same text again: nothing new to keep (saved again, though).
    let saved_again = edit(&app, &alice.client, room, number, "second").await;
    edit(&app, &alice.client, room, number, "third").await;
    let path = format!("/conversations/{room}/messages/{number}/edits");
    let seen_by_alice = app.get_json(&alice.client, &path).await;
    let seen_by_bob = app.get_json(&bob.client, &path).await;

    // Assert
    assert_eq!(bodies(&seen_by_alice), ["first **draft** <script>alert(1)</script>", "second"]);
    let first = &seen_by_alice["versions"][0];
    assert_eq!(first["written_at"], created_at, "the first text was written when the message was");
    assert_eq!(seen_by_alice["versions"][1]["written_at"], saved_again["edited_at"], "the second, when last saved");
    let html = first["html"].as_str().expect("html");
    assert!(html.contains("<strong>draft</strong>"), "rendered as the message is: {html}");
    assert!(!html.contains("<script"), "and sanitised: {html}");
    assert_eq!(seen_by_bob, seen_by_alice, "every member sees the same");
    let untouched = untouched["number"].as_i64().expect("number");
    let none = app.get_json(&bob.client, &format!("/conversations/{room}/messages/{untouched}/edits")).await;
    assert_eq!(bodies(&none), Vec::<String>::new(), "a message never edited has no earlier text");
    assert_error(app.get(&carol.client, &path).await, 404).await;
    assert_error(app.get(&new_client(), &path).await, 401).await;
    assert_error(app.get(&alice.client, &format!("/conversations/{room}/messages/99/edits")).await, 404).await;
}

#[tokio::test]
async fn a_deleted_message_takes_its_earlier_texts_with_it() {
    // Arrange
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = app.send(&alice.client, room, "my password is hunter2").await["number"].as_i64().expect("number");
    edit(&app, &alice.client, room, number, "oops").await;
    let path = format!("/conversations/{room}/messages/{number}/edits");
    assert_eq!(bodies(&app.get_json(&alice.client, &path).await), ["my password is hunter2"]);

    // Act
    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/{number}"))).send().await;

    // Assert
    assert!(deleted.expect("sent").status().is_success());
    assert_error(app.get(&alice.client, &path).await, 404).await;
    let kept = app.query_strings("SELECT body FROM message_edits").await;
    assert_eq!(kept, Vec::<String>::new(), "nothing of it is left in the database");
}

#[tokio::test]
async fn a_message_keeps_its_last_20_earlier_texts() {
    // Arrange
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let number = app.send(&alice.client, room, "v0").await["number"].as_i64().expect("number");

    // Act
    for n in 1..=22 {
        edit(&app, &alice.client, room, number, &format!("v{n}")).await;
    }

    // Assert
    let versions = app.get_json(&alice.client, &format!("/conversations/{room}/messages/{number}/edits")).await;
    let want: Vec<String> = (2..=21).map(|n| format!("v{n}")).collect();
    assert_eq!(bodies(&versions), want, "the newest 20 before the text it has now");
}
