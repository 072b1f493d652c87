//! Pinned messages: any member pins a message to its room or unpins it; every
//! member gets the change live as an edit of the message (and on resume, as
//! the message is now), and the room's pins are listed, the most recently
//! pinned first.

use hearth::model::Message;
use hearth::protocol::ServerEvent;
use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};
use crate::ws_support::{QUIET, connect, person};

async fn pin(app: &TestApp, client: &Client, room: i64, number: i64) -> Response {
    client.put(app.url(&format!("/conversations/{room}/messages/{number}/pin"))).send().await.expect("sent")
}

async fn unpin(app: &TestApp, client: &Client, room: i64, number: i64) -> Response {
    client.delete(app.url(&format!("/conversations/{room}/messages/{number}/pin"))).send().await.expect("sent")
}

async fn message_of(response: Response) -> Message {
    assert_eq!(response.status(), 200, "{}", response.url());
    response.json().await.expect("a message")
}

/// The numbers of the room's pinned messages, as listed.
async fn pinned(app: &TestApp, client: &Client, room: i64) -> Vec<i64> {
    let listed = app.get_json(client, &format!("/conversations/{room}/pins")).await;
    listed["messages"].as_array().expect("messages").iter().map(|m| m["number"].as_i64().expect("number")).collect()
}

#[tokio::test]
async fn a_member_pins_and_unpins_and_every_member_sees_it_live_listed_and_on_the_page() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["the plan", "the link", "chatter"] {
        app.send(&alice.client, room, text).await;
    }
    let seq = app.last_seq(&alice.client, room).await;
    let mut bob_ws = connect(&app, &bob).await;
    bob_ws.subscribe(room, Some(seq)).await;

    // Bob pins alice's first message: he gets it back, pinned by him.
    let pinned_one = message_of(pin(&app, &bob.client, room, 1).await).await;
    let pin_of_one = pinned_one.pinned.clone().expect("pinned");
    assert_eq!(pin_of_one.by.as_ref().map(|a| a.username.as_str()), Some("bob"));
    assert_eq!(pinned_one.body.as_deref(), Some("the plan"), "the message is unchanged");
    assert!(pinned_one.edited_at.is_none(), "a pin is no edit of the text");
    // Every member's socket gets the message again, with the next seq.
    match bob_ws.next_change().await {
        ServerEvent::MessageEdited { seq: got, message, .. } => {
            assert_eq!((got, message.number), (seq + 1, 1));
            assert_eq!(message.pinned, Some(pin_of_one.clone()));
        }
        other => panic!("{other:?}"),
    }
    // Pinning it again changes nothing and sends nothing.
    assert_eq!(message_of(pin(&app, &alice.client, room, 1).await).await.pinned, Some(pin_of_one.clone()));
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 1);
    bob_ws.assert_quiet(QUIET, "bob").await;

    // Listed for both, the most recently pinned first; shown on the page.
    message_of(pin(&app, &alice.client, room, 2).await).await;
    assert_eq!(pinned(&app, &bob.client, room).await, [2, 1]);
    assert_eq!(pinned(&app, &alice.client, room).await, [2, 1]);
    let page = app.history(&alice.client, room, "").await;
    let shown: Vec<Option<&str>> =
        page["messages"].as_array().expect("messages").iter().map(|m| m["pinned"]["by"]["username"].as_str()).collect();
    assert_eq!(shown, [Some("bob"), Some("alice"), None]);

    // Unpinned by someone else than who pinned it: any member may.
    let unpinned = message_of(unpin(&app, &alice.client, room, 1).await).await;
    assert!(unpinned.pinned.is_none());
    match bob_ws.next_change().await {
        ServerEvent::MessageEdited { message, .. } => assert_eq!((message.number, message.pinned.is_some()), (2, true)),
        other => panic!("{other:?}"),
    }
    match bob_ws.next_change().await {
        ServerEvent::MessageEdited { message, .. } => assert_eq!((message.number, message.pinned), (1, None)),
        other => panic!("{other:?}"),
    }
    assert_eq!(pinned(&app, &bob.client, room).await, [2]);
    message_of(unpin(&app, &alice.client, room, 1).await).await;
    assert_eq!(app.last_seq(&alice.client, room).await, seq + 3, "unpinning again sends nothing");

    // A deleted message leaves the list, and pinning it is a 404.
    let deleted =
        alice.client.delete(app.url(&format!("/conversations/{room}/messages/2"))).send().await.expect("sent");
    assert_eq!(deleted.status(), 204);
    assert_eq!(pinned(&app, &bob.client, room).await, Vec::<i64>::new());
    assert_error(pin(&app, &bob.client, room, 2).await, 404).await;
    let page = app.history(&bob.client, room, "").await;
    assert!(page["messages"][1].get("pinned").is_none(), "{}", page["messages"][1]);
}

#[tokio::test]
async fn pins_are_for_members_of_a_message_that_is_there() {
    let app = spawn_app().await;
    let (alice, bob, eve) = (app.user("alice").await, app.user("bob").await, app.user("eve").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "between us").await;

    let not_found = json!({ "errors": ["conversation not found"] });
    for response in [
        pin(&app, &eve.client, room, 1).await,
        unpin(&app, &eve.client, room, 1).await,
        app.get(&eve.client, &format!("/conversations/{room}/pins")).await,
    ] {
        assert_eq!(assert_error(response, 404).await, not_found);
    }
    assert_eq!(
        assert_error(pin(&app, &bob.client, room, 99).await, 404).await,
        json!({ "errors": ["message not found"] })
    );
    assert_error(pin(&app, &new_client(), room, 1).await, 401).await;
    assert_error(pin(&app, &bob.client, room, 0).await, 404).await;
    // A number that is no number names nothing.
    let bad = bob.client.put(app.url(&format!("/conversations/{room}/messages/x/pin"))).send().await.expect("sent");
    assert_error(bad, 404).await;
    assert_eq!(pinned(&app, &alice.client, room).await, Vec::<i64>::new(), "nothing was pinned");
}

#[tokio::test]
async fn a_conversation_holds_at_most_100_pins() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for n in 1..=101 {
        app.send(&alice.client, room, &format!("decision {n}")).await;
    }
    for n in 1..=100 {
        message_of(pin(&app, &bob.client, room, n).await).await;
    }
    let full: Value = assert_error(pin(&app, &alice.client, room, 101).await, 409).await;
    assert_eq!(full["errors"][0], "This conversation has 100 pinned messages, the most it can have: unpin one first");
    let listed = pinned(&app, &alice.client, room).await;
    assert_eq!(listed, (1..=100).rev().collect::<Vec<_>>());
    // One unpinned makes room.
    message_of(unpin(&app, &alice.client, room, 50).await).await;
    message_of(pin(&app, &alice.client, room, 101).await).await;
    assert_eq!(pinned(&app, &alice.client, room).await[0], 101);
}
