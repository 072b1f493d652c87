//! "Mark unread": my read marker moves back to just before a message, so it
//! and the others' messages after it count again, in every tab of mine at
//! once; it never moves forward this way, and only members may.

use hearth::model::RoomId;
use hearth::protocol::{RoomChange, ServerEvent};
use reqwest::{Client, Response};
use serde_json::json;

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};
use crate::ws_support::{QUIET, connect, person};

async fn mark_unread(app: &TestApp, client: &Client, room: i64, number: i64) -> Response {
    client.put(app.url(&format!("/conversations/{room}/messages/{number}/unread"))).send().await.expect("sent")
}

async fn read_up_to(response: Response) -> i64 {
    assert_eq!(response.status(), 200, "{}", response.url());
    let body: serde_json::Value = response.json().await.expect("json");
    body["read_up_to"].as_i64().expect("read_up_to")
}

/// `unread_count` and `unread_mentions` of `room` in `client`'s room list.
async fn unread_of(app: &TestApp, client: &Client, room: i64) -> (i64, i64) {
    let listed = app.get_json(client, "/conversations").await;
    let entry = listed.as_array().expect("rooms").iter().find(|r| r["id"] == room).cloned().expect("listed");
    (entry["unread_count"].as_i64().expect("unread"), entry["unread_mentions"].as_i64().expect("mentions"))
}

#[tokio::test]
async fn marking_unread_counts_a_message_and_the_later_ones_again_in_every_tab_and_only_moves_back() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["one", "two", "three", "four @bob", "five"] {
        app.send(&alice.client, room, text).await;
    }
    assert_eq!(bob.client.put(app.url(&format!("/conversations/{room}/read"))).send().await.unwrap().status(), 200);
    assert_eq!(unread_of(&app, &bob.client, room).await, (0, 0));
    // Bob's other tab, and alice's, are open.
    let (mut bob_tab, mut alice_tab) = (connect(&app, &bob).await, connect(&app, &alice).await);
    bob_tab.subscribe(room, None).await;
    alice_tab.subscribe(room, None).await;

    assert_eq!(read_up_to(mark_unread(&app, &bob.client, room, 3).await).await, 2);
    assert_eq!(unread_of(&app, &bob.client, room).await, (3, 1), "three, four (a mention) and five");
    let told = bob_tab.next_skipping_presence().await;
    assert_eq!(
        told,
        ServerEvent::Room {
            room_id: RoomId(room),
            change: RoomChange::Unread,
            unread_count: Some(3),
            unread_mentions: Some(1),
        }
    );
    // Alice is told nothing.
    alice_tab.assert_quiet(QUIET, "alice").await;

    // From a later message: it is unread already, so nothing moves.
    assert_eq!(read_up_to(mark_unread(&app, &bob.client, room, 4).await).await, 2);
    assert_eq!(unread_of(&app, &bob.client, room).await, (3, 1));
    // From the first: all five.
    assert_eq!(read_up_to(mark_unread(&app, &bob.client, room, 1).await).await, 0);
    assert_eq!(unread_of(&app, &bob.client, room).await, (5, 1));
    // Reading moves it forward again as before.
    let read = bob.client.put(app.url(&format!("/conversations/{room}/read"))).json(&json!({ "number": 4 }));
    assert_eq!(read.send().await.unwrap().status(), 200);
    assert_eq!(unread_of(&app, &bob.client, room).await, (1, 0));
    // My own messages never count: from my newest, nothing is unread.
    let mine = app.send(&bob.client, room, "six, mine").await["number"].as_i64().expect("number");
    assert_eq!(bob.client.put(app.url(&format!("/conversations/{room}/read"))).send().await.unwrap().status(), 200);
    assert_eq!(read_up_to(mark_unread(&app, &bob.client, room, mine).await).await, mine - 1);
    assert_eq!(unread_of(&app, &bob.client, room).await, (0, 0));
}

#[tokio::test]
async fn only_a_member_marks_unread_and_only_from_a_message_that_is_there() {
    let app = spawn_app().await;
    let (alice, bob, eve) = (app.user("alice").await, app.user("bob").await, app.user("eve").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "one").await;
    app.send(&alice.client, room, "two").await;
    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/2"))).send().await.unwrap();
    assert_eq!(deleted.status(), 204);

    let hidden = assert_error(mark_unread(&app, &eve.client, room, 1).await, 404).await;
    assert_eq!(hidden, json!({ "errors": ["conversation not found"] }));
    for number in [2, 99, 0] {
        let missing = assert_error(mark_unread(&app, &bob.client, room, number).await, 404).await;
        assert_eq!(missing, json!({ "errors": ["message not found"] }), "#{number}");
    }
    assert_error(mark_unread(&app, &new_client(), room, 1).await, 401).await;
    assert_eq!(unread_of(&app, &bob.client, room).await, (1, 0), "nothing moved");
}
