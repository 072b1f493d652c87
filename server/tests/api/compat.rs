//! The first seed's compatibility routes: `GET /messages?from_user&to_user`
//! and `POST /message`, both over the pair's direct room.

use serde_json::{Value, json};

use crate::helpers::{assert_error, numbers, spawn_app};

#[tokio::test]
async fn posting_to_message_creates_the_direct_room_and_stamps_server_time() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let response = alice
        .client
        .post(app.url("/message"))
        .json(&json!({ "from_user": alice.id, "to_user": bob.id, "body": " Hi Bob ", "created_at": "1999-12-31T23:59:59Z" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["number"], 1);
    assert_eq!(message["user_id"], alice.id);
    assert_eq!(message["body"], "Hi Bob");
    let created_at = message["created_at"].as_str().unwrap();
    assert!(created_at > "2020", "the client's created_at is ignored: {created_at}");
    let room = app.conversation_with(&bob.client, &[alice.id]).await;
    assert_eq!(message["conversation_id"], room, "it went into their direct room");
    let again = alice
        .client
        .post(app.url("/message"))
        .json(&json!({ "from_user": alice.id, "to_user": bob.id, "body": "again" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    assert_eq!((again["conversation_id"].as_i64(), again["number"].as_i64()), (Some(room), Some(2)));
    assert_eq!(app.get_json(&alice.client, "/conversations").await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn posting_to_message_as_someone_else_is_403_and_bad_input_is_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = |body: Value| alice.client.post(app.url("/message")).json(&body).send();

    let forged = post(json!({ "from_user": bob.id, "to_user": alice.id, "body": "I am bob" })).await.unwrap();

    assert_error(forged, 403).await;
    let invalid = [
        json!({ "from_user": alice.id, "to_user": 9999, "body": "hello?" }),
        json!({ "from_user": alice.id, "to_user": alice.id, "body": "note to self" }),
        json!({ "from_user": alice.id, "to_user": bob.id, "body": "   " }),
        json!({ "from_user": alice.id, "to_user": bob.id }),
    ];
    for body in invalid {
        let response = post(body.clone()).await.unwrap();
        assert_eq!(response.status(), 422, "{body}");
        assert!(!response.json::<Value>().await.unwrap()["errors"].as_array().unwrap().is_empty(), "{body}");
    }
    assert_eq!(app.get_json(&bob.client, "/conversations").await, json!([]), "nothing was created");
    let anonymous = app
        .client
        .post(app.url("/message"))
        .json(&json!({ "from_user": alice.id, "to_user": bob.id, "body": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn reading_messages_by_pair_returns_the_direct_rooms_page_either_way_round() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["one", "two", "three"] {
        app.send(&alice.client, room, text).await;
    }
    let expected = app.history(&alice.client, room, "").await;

    let mine = app.get_json(&alice.client, &format!("/messages?from_user={}&to_user={}", alice.id, bob.id)).await;
    let theirs = app.get_json(&alice.client, &format!("/messages?from_user={}&to_user={}", bob.id, alice.id)).await;
    let bobs = app.get_json(&bob.client, &format!("/messages?from_user={}&to_user={}", alice.id, bob.id)).await;
    let before =
        app.get_json(&bob.client, &format!("/messages?from_user={}&to_user={}&before=3", alice.id, bob.id)).await;

    assert_eq!(mine, expected, "the same page shape as /conversations/:id/messages");
    assert_eq!(theirs, expected);
    assert_eq!(bobs, expected);
    assert_eq!(numbers(&before), [1, 2]);
}

#[tokio::test]
async fn reading_messages_by_pair_takes_the_paging_parameters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, alice.id, 5).await;
    let pair = format!("/messages?from_user={}&to_user={}", alice.id, bob.id);

    let limited = app.get(&bob.client, &format!("{pair}&limit=2")).await;
    let before = app.get(&bob.client, &format!("{pair}&before=3&limit=1")).await;
    let before_number = app.get(&bob.client, &format!("{pair}&before_number=3")).await;
    let zero = app.get(&bob.client, &format!("{pair}&limit=0")).await;

    assert_eq!(limited.status(), 200, "{:?}", limited.text().await);
    assert_eq!(numbers(&limited.json().await.unwrap()), [4, 5]);
    assert_eq!(before.status(), 200);
    assert_eq!(numbers(&before.json().await.unwrap()), [2]);
    assert_eq!(before_number.status(), 200);
    assert_eq!(numbers(&before_number.json().await.unwrap()), [1, 2]);
    assert_eq!(zero.status(), 422);
}

#[tokio::test]
async fn reading_a_pair_with_no_room_yet_is_an_empty_page() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let page = app.get_json(&alice.client, &format!("/messages?from_user={}&to_user={}", alice.id, bob.id)).await;

    assert_eq!(page["messages"], json!([]));
    assert_eq!(page["page_info"]["count"], 0);
}

#[tokio::test]
async fn reading_someone_elses_pair_is_403_and_a_malformed_query_400() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "private").await;

    let snooping = app.get(&carol.client, &format!("/messages?from_user={}&to_user={}", alice.id, bob.id)).await;
    let missing = app.get(&carol.client, &format!("/messages?from_user={}", carol.id)).await;
    let garbage = app.get(&carol.client, "/messages?from_user=me&to_user=you").await;
    let anonymous = app.get(&app.client, &format!("/messages?from_user={}&to_user={}", alice.id, bob.id)).await;

    assert_eq!(snooping.status(), 403);
    let body: Value = snooping.json().await.unwrap();
    assert!(body["errors"].is_array() && body.get("messages").is_none(), "{body}");
    assert_error(missing, 400).await;
    assert_eq!(garbage.status(), 400);
    assert_eq!(anonymous.status(), 401);
}
