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

/// "Mark all as read" (`PUT /conversations/read`): every room of mine with
/// unread messages is read to its newest, each member of it is told as a
/// single read would tell them, my tabs get the counts, and a room already
/// read, or archived, is left as it is.
#[tokio::test]
async fn mark_all_as_read_reads_every_room_with_unread_messages_and_tells_who_a_read_would() {
    // Arrange: bob writes to alice in a direct room and a group (once
    // mentioning her); a third room alice has read; an archived one.
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let direct = app.conversation_with(&bob.client, &[alice.id]).await;
    let group = app.conversation_with(&bob.client, &[alice.id, carol.id]).await;
    let read =
        app.create_conversation(&bob.client, json!({ "participant_ids": [alice.id, carol.id], "title": "Read" })).await;
    let read = read.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id");
    let archived = app
        .create_conversation(&bob.client, json!({ "participant_ids": [alice.id], "title": "Old", "kind": "group" }))
        .await;
    let archived = archived.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id");
    for (room, text) in [
        (direct, "one"),
        (direct, "two"),
        (group, "hi @alice"),
        (group, "and all"),
        (read, "seen"),
        (archived, "old news"),
    ] {
        app.send(&bob.client, room, text).await;
    }
    assert_eq!(
        read_up_to(alice.client.put(app.url(&format!("/conversations/{read}/read"))).send().await.unwrap()).await,
        1
    );
    let gone = bob.client.delete(app.url(&format!("/conversations/{archived}"))).send().await.expect("sent");
    assert_eq!(gone.status(), 204);
    assert_eq!(unread_of(&app, &alice.client, group).await, (2, 1));
    let (mut alice_tab, mut bob_tab) = (connect(&app, &alice).await, connect(&app, &bob).await);
    bob_tab.subscribe(direct, None).await;

    // Act
    let marked = alice.client.put(app.url("/conversations/read")).send().await.expect("sent");

    // Assert
    assert_eq!(marked.status(), 200);
    let mut rooms: Vec<i64> = marked.json::<serde_json::Value>().await.expect("json")["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| r.as_i64().expect("an id"))
        .collect();
    rooms.sort_unstable();
    assert_eq!(rooms, [direct, group], "the rooms with unread messages, and no other");
    for room in [direct, group, read] {
        assert_eq!(unread_of(&app, &alice.client, room).await, (0, 0), "room {room}");
    }
    let archived_now = app.get_json(&alice.client, "/conversations?archived=true").await;
    assert_eq!(archived_now[0]["unread_count"], 1, "an archived room keeps its marker: {archived_now}");
    // Bob, in the direct room, sees alice has read his two messages.
    assert_eq!(
        bob_tab.next_skipping_presence().await,
        ServerEvent::Read { room_id: RoomId(direct), user_id: hearth::model::UserId(alice.id), number: 2 }
    );
    // Alice's tab hears each room's count.
    let mut counted = Vec::new();
    for _ in 0..2 {
        match alice_tab.next_skipping_presence().await {
            ServerEvent::Room {
                room_id,
                change: RoomChange::Unread,
                unread_count: Some(0),
                unread_mentions: Some(0),
            } => counted.push(room_id.0),
            other => panic!("expected a room's count, got {other:?}"),
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, [direct, group]);

    // Act: again, with nothing unread; and signed out.
    let again = alice.client.put(app.url("/conversations/read")).send().await.expect("sent");
    let anonymous = new_client().put(app.url("/conversations/read")).send().await.expect("sent");

    // Assert
    assert_eq!(again.json::<serde_json::Value>().await.expect("json"), json!({ "rooms": [] }));
    alice_tab.assert_quiet(QUIET, "alice").await;
    assert_error(anonymous, 401).await;
}
