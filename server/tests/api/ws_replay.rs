//! Replay details (docs/protocol.md, "Sequence numbers and resume"): the
//! 2,000-change replay limit, live edits and deletes, and subscribing again on
//! a socket that is already live.

use hearth::protocol::ServerEvent;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::ws_support::{Next, Person, QUIET, connect, person};

/// A room with 2,001 changes, and alice with two sockets.
async fn a_room_with_2001_changes() -> (TestApp, Person, Person, i64) {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, bob.id, 2_001).await;
    (app, alice, bob, room)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_2000_missing_changes_are_replayed_in_full_then_live() {
    // Arrange
    let (app, alice, bob, room) = a_room_with_2001_changes().await;
    let mut ws = connect(&app, &alice).await;

    // Act
    let replayed = ws.subscribe(room, Some(1)).await;
    app.send(&bob.client, room, "one more").await;

    // Assert
    let seqs: Vec<i64> = replayed.iter().filter_map(ServerEvent::seq).collect();
    assert_eq!(seqs, (2..=2_001).collect::<Vec<_>>());
    assert!(replayed.iter().all(|e| e.seq().is_some() || matches!(e, ServerEvent::Presence { .. })), "only changes");
    match ws.next_skipping_presence().await {
        ServerEvent::Message { seq, message, .. } => assert_eq!((seq, message.number), (2_002, 2_002)),
        other => panic!("expected the live message, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_2000_missing_changes_get_resync_and_the_subscription_stops() {
    // Arrange
    let (app, alice, bob, room) = a_room_with_2001_changes().await;
    let mut ws = connect(&app, &alice).await;

    // Act
    ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": 0 })).await;
    let told = ws.next_skipping_presence().await;
    app.send(&bob.client, room, "one more").await;
    let mut after_resync = Vec::new();
    while let Next::Event(event) = ws.next_within(QUIET).await {
        if !matches!(event, ServerEvent::Presence { .. }) {
            after_resync.push(event);
        }
    }

    // Assert (docs/protocol.md: "sends `resync` instead and stops that room's subscription")
    assert_eq!(told, ServerEvent::Resync { room_id: hearth::model::RoomId(room) });
    assert!(after_resync.is_empty(), "a resync stops the subscription, yet came: {after_resync:?}");
}

#[tokio::test]
async fn live_edits_and_deletes_take_the_next_seqs_and_keep_the_number() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &alice).await;
    ws.subscribe(room, None).await;
    app.send(&bob.client, room, "frist").await;
    app.send(&bob.client, room, "second").await;
    let path = |n: i64| app.url(&format!("/conversations/{room}/messages/{n}"));

    // Act
    let edited = bob.client.patch(path(1)).json(&json!({ "body": "first" })).send().await.expect("sent");
    let deleted = bob.client.delete(path(2)).send().await.expect("sent");
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(ws.next_skipping_presence().await);
    }

    // Assert
    assert_eq!((edited.status().as_u16(), deleted.status().as_u16()), (200, 204));
    assert_eq!(events.iter().map(|e| e.seq().expect("a change")).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    match &events[2] {
        ServerEvent::MessageEdited { message, .. } => {
            assert_eq!((message.number, message.body.as_deref()), (1, Some("first")));
            assert!(message.edited_at.is_some());
        }
        other => panic!("expected message_edited, got {other:?}"),
    }
    assert!(matches!(events[3], ServerEvent::MessageDeleted { number: 2, .. }), "{:?}", events[3]);
    assert_eq!(app.last_seq(&alice.client, room).await, 4);
}

#[tokio::test]
async fn subscribing_again_on_a_live_socket_replays_what_was_asked_without_duplicates() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &alice).await;
    ws.subscribe(room, None).await;
    for n in 1..=10 {
        app.send(&bob.client, room, &format!("m{n}")).await;
    }
    for _ in 0..10 {
        assert!(ws.next_skipping_presence().await.seq().is_some());
    }

    // Act
    let replayed = ws.subscribe(room, Some(5)).await;
    app.send(&bob.client, room, "m11").await;
    let live = ws.next_skipping_presence().await;

    // Assert
    assert_eq!(replayed.iter().filter_map(ServerEvent::seq).collect::<Vec<_>>(), vec![6, 7, 8, 9, 10]);
    assert_eq!(live.seq(), Some(11), "{live:?}");
    ws.assert_quiet(QUIET, "alice after m11").await;
}

#[tokio::test]
async fn a_position_past_the_rooms_newest_change_gets_resync() {
    // A tab that saw changes a restored database no longer has.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&bob.client, room, "one").await;
    let last_seq = app.last_seq(&alice.client, room).await;
    let mut ws = connect(&app, &alice).await;

    ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": last_seq + 5 })).await;

    assert_eq!(ws.next_skipping_presence().await, ServerEvent::Resync { room_id: hearth::model::RoomId(room) });
    // At its own position, the same socket subscribes as usual.
    ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": last_seq })).await;
    assert_eq!(
        ws.next_skipping_presence().await,
        ServerEvent::Subscribed { room_id: hearth::model::RoomId(room), seq: last_seq }
    );
}
