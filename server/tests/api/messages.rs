//! Sending, idempotency, numbering under load, edits and soft deletes on
//! `/conversations/:id/messages`.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{assert_error, numbers, spawn_app, spawn_app_with};

#[tokio::test]
async fn sending_a_message_returns_201_with_the_message_in_chatflows_shape() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;

    let response =
        app.post_message(&alice.client, room, json!({ "body": "  Hello, Bob!\n", "client_id": "c-1" })).await;

    assert_eq!(response.status(), 201);
    let message: Value = response.json().await.unwrap();
    assert!(message["id"].as_i64().is_some(), "{message}");
    assert_eq!(message["conversation_id"], room);
    assert_eq!(message["number"], 1);
    assert_eq!(message["user_id"], alice.id);
    assert_eq!(message["user"], json!({ "id": alice.id, "username": "alice", "name": "alice Example" }));
    assert_eq!(message["body"], "Hello, Bob!", "the body is trimmed");
    assert_eq!(message["client_id"], "c-1");
    assert!(message["created_at"].as_str().unwrap().ends_with('Z'), "{message}");
    assert_eq!(message["edited_at"], Value::Null);
    assert_eq!(message["deleted"], false);
    let page = app.history(&bob.client, room, "").await;
    assert_eq!(page["messages"], json!([message]), "bob reads exactly what alice got back");
    let second = app.send(&bob.client, room, "Hi Alice").await;
    assert_eq!(second["number"], 2);
}

#[tokio::test]
async fn each_room_numbers_its_own_messages_from_1() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let with_bob = app.conversation_with(&alice.client, &[bob.id]).await;
    let with_carol = app.conversation_with(&alice.client, &[carol.id]).await;

    let numbers: Vec<Value> = vec![
        app.send(&alice.client, with_bob, "a").await["number"].clone(),
        app.send(&alice.client, with_carol, "b").await["number"].clone(),
        app.send(&bob.client, with_bob, "c").await["number"].clone(),
        app.send(&carol.client, with_carol, "d").await["number"].clone(),
    ];

    assert_eq!(numbers, [json!(1), json!(1), json!(2), json!(2)]);
}

#[tokio::test]
async fn a_blank_or_too_long_body_is_422_with_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let cases = [
        (json!({ "body": "" }), "Body can't be blank"),
        (json!({ "body": " \n\t " }), "Body can't be blank"),
        (json!({}), "Body can't be blank"),
        (json!({ "body": "x".repeat(10_001) }), "Body is too long"),
        (json!({ "body": "ok", "client_id": "c".repeat(101) }), "Client id is too long"),
    ];

    for (body, expected) in cases {
        let response = app.post_message(&alice.client, room, body.clone()).await;

        assert_eq!(response.status(), 422, "{expected}");
        let errors: Value = response.json().await.unwrap();
        assert!(errors["errors"][0].as_str().unwrap().starts_with(expected), "{errors}");
    }
    let longest = app.post_message(&alice.client, room, json!({ "body": format!(" {} ", "é".repeat(10_000)) })).await;
    assert_eq!(longest.status(), 201, "10,000 characters (not bytes) after trimming is fine");
    assert_eq!(app.history(&alice.client, room, "").await["page_info"]["count"], 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_json_error() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let url = app.url(&format!("/conversations/{room}/messages"));

    let syntax = alice.client.post(&url).header("Content-Type", "application/json").body("{").send().await.unwrap();
    let shape = app.post_message(&alice.client, room, json!({ "body": 42 })).await;

    assert_error(syntax, 400).await;
    assert_error(shape, 422).await;
}

#[tokio::test]
async fn resending_with_the_same_client_id_returns_the_first_message_with_200() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let send = json!({ "body": "only once", "client_id": "retry-me" });

    let first = app.post_message(&alice.client, room, send.clone()).await;
    let retry =
        app.post_message(&alice.client, room, json!({ "body": "  only once\n", "client_id": "retry-me" })).await;
    // The same key on other text is refused, not answered with the first
    // message as if the new text had been sent.
    let reused =
        app.post_message(&alice.client, room, json!({ "body": "changed text", "client_id": "retry-me" })).await;

    assert_eq!(first.status(), 201);
    assert_eq!(retry.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(retry.json::<Value>().await.unwrap(), first, "the very same message");
    let errors = assert_error(reused, 422).await;
    assert!(errors["errors"][0].as_str().is_some_and(|e| e.contains("client_id")), "{errors}");
    let page = app.history(&alice.client, room, "").await;
    assert_eq!(numbers(&page), [1], "one row");
    assert_eq!(page["messages"][0]["body"], "only once");
    // The key is per author: bob may use the same one.
    let bobs = app.post_message(&bob.client, room, send).await;
    assert_eq!(bobs.status(), 201);
    assert_eq!(bobs.json::<Value>().await.unwrap()["number"], 2);

    // So is the same key on the same text answering another message, or
    // none, or carrying another upload.
    let reply = json!({ "body": "a reply", "client_id": "reply-key", "reply_to": 1 });
    assert_eq!(app.post_message(&alice.client, room, reply).await.status(), 201);
    for other in [
        json!({ "body": "a reply", "client_id": "reply-key", "reply_to": 2 }),
        json!({ "body": "a reply", "client_id": "reply-key" }),
    ] {
        let errors = assert_error(app.post_message(&alice.client, room, other.clone()).await, 422).await;
        assert_eq!(errors["errors"][0], "client_id was already used for a different message", "{other}");
    }
    let again = json!({ "body": "a reply", "client_id": "reply-key", "reply_to": 1 });
    assert_eq!(app.post_message(&alice.client, room, again).await.status(), 200);
    let plain = json!({ "body": "with or without", "client_id": "file-key" });
    assert_eq!(app.post_message(&alice.client, room, plain).await.status(), 201);
    let file = app.upload_text(&alice.client, room, "notes.txt", "some notes").await["id"].clone();
    let with_file = json!({ "body": "with or without", "client_id": "file-key", "attachment_ids": [file] });
    assert_error(app.post_message(&alice.client, room, with_file).await, 422).await;
    assert_eq!(numbers(&app.history(&alice.client, room, "").await), [1, 2, 3, 4], "nothing sent twice");
}

#[tokio::test]
async fn a_retry_of_a_saved_send_gets_it_back_after_what_it_refers_to_changed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;

    // With an upload: the first send attached it, so the retry names an
    // upload that is no longer "not sent yet".
    let file = app.upload_text(&alice.client, room, "notes.txt", "some notes").await["id"].clone();
    let with_file = json!({ "body": "with a file", "client_id": "file-1", "attachment_ids": [file] });
    let first = app.post_message(&alice.client, room, with_file.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = app.post_message(&alice.client, room, with_file).await;
    assert_eq!(retry.status(), 200, "a retry of a saved send with files");
    assert_eq!(retry.json::<Value>().await.unwrap()["number"], first["number"]);

    // A reply whose original was deleted after it was sent.
    let original = app.post_message(&bob.client, room, json!({ "body": "original" })).await;
    let original: Value = original.json().await.unwrap();
    let reply = json!({ "body": "a reply", "client_id": "reply-1", "reply_to": original["number"] });
    let first = app.post_message(&alice.client, room, reply.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let url = app.url(&format!("/conversations/{room}/messages/{}", original["number"]));
    assert!(bob.client.delete(&url).send().await.unwrap().status().is_success());
    let retry = app.post_message(&alice.client, room, reply).await;
    assert_eq!(retry.status(), 200, "a retry of a saved reply to a message deleted since");
    assert_eq!(retry.json::<Value>().await.unwrap()["number"], first["number"]);

    // A new send that is refused for the same reason is still refused, and
    // the key of a refused send was never used.
    let fresh = app
        .post_message(
            &alice.client,
            room,
            json!({ "body": "new", "client_id": "reply-2", "reply_to": original["number"] }),
        )
        .await;
    assert_error(fresh, 422).await;
    let page = app.history(&alice.client, room, "").await;
    assert_eq!(numbers(&page), [1, 2, 3], "no message twice, none for the refused send");
}

#[tokio::test]
async fn concurrent_retries_with_one_client_id_store_one_message() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let url = app.url(&format!("/conversations/{room}/messages"));
    let mut sends = JoinSet::new();
    for _ in 0..20 {
        let (client, url) = (alice.client.clone(), url.clone());
        sends.spawn(async move {
            let response = client.post(url).json(&json!({ "body": "hi", "client_id": "same" })).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap()["id"].clone())
        });
    }

    let results = sends.join_all().await;

    let created = results.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{results:?}");
    assert!(results.iter().all(|(status, id)| matches!(status, 200 | 201) && *id == results[0].1), "{results:?}");
    assert_eq!(numbers(&app.history(&alice.client, room, "").await), [1]);
}

#[tokio::test]
async fn two_hundred_concurrent_sends_are_numbered_1_to_200_with_no_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let url = app.url(&format!("/conversations/{room}/messages"));
    let mut sends = JoinSet::new();
    for n in 0..200 {
        let client = if n % 2 == 0 { alice.client.clone() } else { bob.client.clone() };
        let url = url.clone();
        sends.spawn(async move {
            let response = client.post(url).json(&json!({ "body": format!("load {n}") })).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }

    let results = sends.join_all().await;

    let failures: Vec<_> = results.iter().filter(|(status, _)| *status != 201).collect();
    assert!(failures.is_empty(), "every send is a 201, none a 5xx: {failures:?}");
    let mut returned: Vec<i64> = results.iter().map(|(_, m)| m["number"].as_i64().unwrap()).collect();
    returned.sort();
    assert_eq!(returned, (1..=200).collect::<Vec<_>>(), "no gaps, no repeats");
    let page = app.history(&alice.client, room, "limit=200").await;
    assert_eq!(numbers(&page), (1..=200).collect::<Vec<_>>());
    let times: Vec<&str> =
        page["messages"].as_array().unwrap().iter().map(|m| m["created_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "numbers and times agree");
    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    assert_eq!(shown["conversation"]["last_number"], 200);
}

#[tokio::test]
async fn the_author_edits_a_message_and_it_shows_edited_at() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let sent = app.send(&alice.client, room, "helo").await;
    let url = app.url(&format!("/conversations/{room}/messages/1"));

    let edited = alice.client.patch(&url).json(&json!({ "body": " hello " })).send().await.unwrap();

    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["body"], "hello");
    assert_eq!(edited["number"], 1);
    assert_eq!(edited["id"], sent["id"]);
    assert_eq!(edited["created_at"], sent["created_at"]);
    assert!(edited["edited_at"].as_str().is_some(), "{edited}");
    assert_eq!(app.history(&bob.client, room, "").await["messages"][0], edited);
    let blank = alice.client.patch(&url).json(&json!({ "body": "  " })).send().await.unwrap();
    assert_error(blank, 422).await;
}

#[tokio::test]
async fn only_the_author_may_edit_or_delete_a_message() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "mine").await;
    let url = app.url(&format!("/conversations/{room}/messages/1"));

    let edit = bob.client.patch(&url).json(&json!({ "body": "yours now" })).send().await.unwrap();
    let delete = bob.client.delete(&url).send().await.unwrap();

    assert_error(edit, 403).await;
    assert_error(delete, 403).await;
    let page = app.history(&bob.client, room, "").await;
    assert_eq!(page["messages"][0]["body"], "mine");
    assert_eq!(page["messages"][0]["deleted"], false);
}

#[tokio::test]
async fn a_deleted_message_keeps_its_number_loses_its_body_and_cannot_be_touched_again() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["one", "two @bob", "three"] {
        app.send(&alice.client, room, text).await;
    }
    let url = app.url(&format!("/conversations/{room}/messages/2"));
    assert_eq!(app.history(&bob.client, room, "").await["messages"][1]["mentions"], json!([bob.id]));

    let deleted = alice.client.delete(&url).send().await.unwrap();

    assert_eq!(deleted.status(), 204);
    let page = app.history(&bob.client, room, "").await;
    assert_eq!(numbers(&page), [1, 2, 3]);
    let gone = &page["messages"][1];
    assert_eq!(gone["body"], Value::Null);
    assert_eq!(gone["deleted"], true);
    assert_eq!(gone["user_id"], alice.id, "who wrote it stays");
    assert_eq!(gone["mentions"], json!([]), "whom it mentioned goes with its text");
    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    assert_eq!(shown["messages"][1]["body"], Value::Null);
    let edit_again = alice.client.patch(&url).json(&json!({ "body": "back" })).send().await.unwrap();
    let delete_again = alice.client.delete(&url).send().await.unwrap();
    assert_eq!(edit_again.status(), 404);
    assert_eq!(delete_again.status(), 404);
    assert_eq!(app.send(&alice.client, room, "four").await["number"], 4, "numbers are never reused");
}

#[tokio::test]
async fn editing_or_deleting_a_missing_message_is_404() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let url = app.url(&format!("/conversations/{room}/messages/7"));

    let edit = alice.client.patch(&url).json(&json!({ "body": "x" })).send().await.unwrap();
    let delete = alice.client.delete(&url).send().await.unwrap();

    assert_eq!(edit.status(), 404);
    assert_eq!(edit.json::<Value>().await.unwrap(), json!({ "errors": ["message not found"] }));
    assert_eq!(delete.status(), 404);
}

#[tokio::test]
async fn an_edit_after_the_edit_window_is_403() {
    let app = spawn_app_with(|c| c.edit_window_minutes = 0).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "set in stone").await;
    let url = app.url(&format!("/conversations/{room}/messages/1"));

    let edit = alice.client.patch(&url).json(&json!({ "body": "changed" })).send().await.unwrap();

    assert_eq!(edit.status(), 403);
    let body: Value = edit.json().await.unwrap();
    assert!(body["errors"][0].as_str().unwrap().contains("edit window"), "{body}");
    assert_eq!(app.history(&alice.client, room, "").await["messages"][0]["body"], "set in stone");
    let delete = alice.client.delete(&url).send().await.unwrap();
    assert_eq!(delete.status(), 204, "deleting is not bound by the edit window");
}

#[tokio::test]
async fn a_parameter_sent_blank_is_absent_as_rails_reads_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, alice.id, 60).await;

    let newest = app.history(&alice.client, room, "").await;
    assert_eq!(numbers(&newest), (11..=60).collect::<Vec<_>>());
    for blank in ["before=&limit=", "before=&after=&before_number=&after_number=&around=&limit=", "limit&before"] {
        assert_eq!(app.history(&alice.client, room, blank).await, newest, "{blank}");
    }
    // A blank one beside one with a value: the value counts.
    let page = app.history(&alice.client, room, "before=&limit=5&after_number=").await;
    assert_eq!(numbers(&page), [56, 57, 58, 59, 60]);
    let page = app.history(&alice.client, room, "before_number=3&limit=").await;
    assert_eq!(numbers(&page), [1, 2]);
    // What has a value is still read as before: not a number is a 400.
    let bad = alice.client.get(app.url(&format!("/conversations/{room}/messages?limit=many&before="))).send();
    assert_error(bad.await.unwrap(), 400).await;
    let listed = alice.client.get(app.url("/users?query=&limit=")).send().await.unwrap();
    assert_eq!(listed.status(), 200);
}
