//! `GET /ws` against docs/protocol.md: who may connect, who gets which
//! events, close codes, and the client → server events.

use futures_util::SinkExt;
use hearth::model::{RoomId, UserId};
use hearth::protocol::{RoomChange, ServerEvent};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::helpers::spawn_app;
use crate::ws_support::{Next, QUIET, connect, person, try_connect};

#[tokio::test]
async fn a_message_reaches_the_subscribed_members_and_no_one_else() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let (mut alice_ws, mut bob_ws, mut carol_ws) =
        (connect(&app, &alice).await, connect(&app, &bob).await, connect(&app, &carol).await);
    alice_ws.subscribe(room, None).await;
    bob_ws.subscribe(room, None).await;
    carol_ws.send_json(json!({ "type": "subscribe", "room_id": room })).await;
    let refused = carol_ws.next().await;

    // Act
    let sent = app.send(&bob.client, room, "Hello, Alice").await;

    // Assert
    assert!(matches!(&refused, ServerEvent::Error { code, .. } if code == "not_found"), "{refused:?}");
    // It names the room refused, for a client with several subscriptions.
    assert!(
        matches!(&refused, ServerEvent::Error { room_id: Some(refused_room), .. } if refused_room.0 == room),
        "{refused:?}"
    );
    for (who, ws) in [("alice", &mut alice_ws), ("bob", &mut bob_ws)] {
        match ws.next_skipping_presence().await {
            ServerEvent::Message { room_id, message, .. } => {
                assert_eq!(room_id, RoomId(room), "{who}");
                assert_eq!(message.number, 1, "{who}");
                assert_eq!(message.number, sent["number"].as_i64().unwrap(), "{who}");
                assert_eq!(message.body.as_deref(), Some("Hello, Alice"), "{who}");
                assert_eq!(message.user_id, Some(UserId(bob.id)), "{who}");
            }
            other => panic!("{who} expected the message, got {other:?}"),
        }
    }
    match carol_ws.next_within(QUIET).await {
        Next::Silent => {}
        other => panic!("carol is not a member and must get nothing, got {other:?}"),
    }
}

#[tokio::test]
async fn the_upgrade_needs_a_session_and_a_same_host_origin() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let own_origin = app.address.clone();
    let status = |result: Result<_, tungstenite::Error>| match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    };

    // Act
    let no_session = try_connect(&app, None, None).await;
    let stale_session = try_connect(&app, Some("hearth_session=not-a-session"), None).await;
    let foreign = try_connect(&app, Some(&alice.cookie), Some("https://evil.example")).await;
    let same_host = try_connect(&app, Some(&alice.cookie), Some(&own_origin)).await;
    let no_origin = try_connect(&app, Some(&alice.cookie), None).await;

    // Assert
    assert_eq!(status(no_session), 401);
    assert_eq!(status(stale_session), 401);
    assert_eq!(status(foreign), 403);
    assert!(same_host.is_ok(), "the page's own origin is allowed: {:?}", same_host.err());
    assert!(no_origin.is_ok(), "a client without Origin is allowed: {:?}", no_origin.err());
}

#[tokio::test]
async fn a_socket_asked_for_one_account_is_refused_the_session_of_another() {
    // Arrange: a tab's page was alice's; the browser's cookie is bob's now.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let open = |user: String| {
        let url = format!("{}/ws?user={user}", app.address.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("a valid ws url");
        request.headers_mut().insert("Cookie", HeaderValue::from_str(&bob.cookie).expect("cookie header"));
        tokio_tungstenite::connect_async(request)
    };

    // Act
    let as_alice = open(alice.id.to_string()).await;
    let as_bob = open(bob.id.to_string()).await;

    // Assert
    match as_alice {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 409);
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("a JSON body");
            assert_eq!(body["errors"][0], hearth_server::ws::SOMEONE_ELSE);
        }
        other => panic!("expected 409, got {:?}", other.map(|_| "an open socket")),
    }
    assert!(as_bob.is_ok(), "the session's own account is allowed: {:?}", as_bob.err());
}

#[tokio::test]
async fn a_text_frame_over_64_kib_is_closed_with_1009() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let mut ws = connect(&app, &alice).await;
    let oversize = format!(r#"{{"type":"typing","room_id":1,"pad":"{}"}}"#, "x".repeat(70 * 1024));

    // Act
    SinkExt::send(&mut ws.inner, tungstenite::Message::text(oversize)).await.expect("sent");
    let (code, events) = ws.until_closed().await;

    // Assert
    assert_eq!(code, Some(1009), "events before the close: {events:?}");
}

#[tokio::test]
async fn a_message_over_64_kib_in_small_fragments_is_closed_with_1009() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let mut ws = connect(&app, &alice).await;
    let chunk = "x".repeat(16 * 1024);

    // Act: five 16 KiB frames of one text message, each under the frame cap.
    let mut frames = vec![Frame::message(chunk.clone(), OpCode::Data(Data::Text), false)];
    frames.extend((0..3).map(|_| Frame::message(chunk.clone(), OpCode::Data(Data::Continue), false)));
    frames.push(Frame::message(chunk, OpCode::Data(Data::Continue), true));
    for frame in frames {
        if SinkExt::send(&mut ws.inner, tungstenite::Message::Frame(frame)).await.is_err() {
            break; // the server may already have closed
        }
    }
    let (code, events) = ws.until_closed().await;

    // Assert
    assert_eq!(code, Some(1009), "events before the close: {events:?}");
}

#[tokio::test]
async fn an_unreadable_event_gets_bad_request_and_the_socket_stays_open() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &alice).await;

    // Act
    ws.send_json(json!({ "type": "shout", "room_id": room })).await;
    let refused = ws.next().await;
    ws.subscribe(room, None).await;
    app.send(&bob.client, room, "still here").await;

    // Assert
    assert!(matches!(&refused, ServerEvent::Error { code, .. } if code == "bad_request"), "{refused:?}");
    assert!(matches!(ws.next_skipping_presence().await, ServerEvent::Message { .. }));
}

#[tokio::test]
async fn a_binary_frame_gets_bad_request_and_the_socket_stays_open() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &alice).await;
    let event = json!({ "type": "subscribe", "room_id": room }).to_string();

    // Act: a well-formed event, but in a binary frame.
    ws.inner.send(tungstenite::Message::binary(event.into_bytes())).await.expect("sent");
    let refused = ws.next().await;
    ws.subscribe(room, None).await;
    app.send(&bob.client, room, "still here").await;

    // Assert
    assert!(
        matches!(&refused, ServerEvent::Error { code, message, .. } if code == "bad_request" && message.contains("text frames")),
        "{refused:?}"
    );
    assert!(matches!(ws.next_skipping_presence().await, ServerEvent::Message { .. }));
}

#[tokio::test]
async fn signing_out_closes_that_sessions_sockets_with_1008_and_delivery_stops() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    // A second session of alice's (another browser) must stay open.
    let other_browser = crate::helpers::new_client();
    let signed_in = app.sign_in_with(&other_browser, "alice@example.com", crate::helpers::PASSWORD).await;
    let other_cookie = crate::helpers::session_cookie(signed_in.headers()).expect("a second session");
    let mut ws = connect(&app, &alice).await;
    let mut other_ws = try_connect(&app, Some(&other_cookie), None).await.expect("second session connects");
    ws.subscribe(room, None).await;
    other_ws.subscribe(room, None).await;

    // Act
    let signed_out = alice.client.delete(app.url("/users/sign_out")).send().await.expect("sent");
    let (code, before_close) = ws.until_closed().await;
    app.send(&bob.client, room, "Anyone there?").await;

    // Assert
    assert_eq!(signed_out.status(), 204);
    assert_eq!(code, Some(1008), "closed as signed out");
    assert!(before_close.iter().all(|e| e.seq().is_none()), "no changes before the close: {before_close:?}");
    loop {
        match ws.next_within(QUIET).await {
            Next::Event(event) => panic!("a signed-out socket got {event:?}"),
            Next::Silent | Next::Ended(_) => break,
            Next::Closed(_) => continue,
        }
    }
    assert!(matches!(other_ws.next_skipping_presence().await, ServerEvent::Message { .. }), "other session");
}

#[tokio::test]
async fn being_removed_from_a_room_stops_its_delivery() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut carol_ws = connect(&app, &carol).await;
    carol_ws.subscribe(room, None).await;

    // Act
    let removed = alice.client.delete(app.url(&format!("/conversations/{room}/participants/{}", carol.id))).send();
    let removed = removed.await.expect("sent");
    let told = carol_ws.next_skipping_presence().await;
    app.send(&bob.client, room, "Carol has gone").await;

    // Assert
    assert!(removed.status().is_success(), "{}", removed.status());
    assert_eq!(
        told,
        ServerEvent::Room {
            room_id: RoomId(room),
            change: RoomChange::Removed,
            unread_count: None,
            unread_mentions: None
        }
    );
    carol_ws.assert_quiet(QUIET, "carol after removal").await;
}

#[tokio::test]
async fn every_socket_of_a_user_is_told_when_they_are_added_to_a_room() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let (mut bob_tab_1, mut bob_tab_2) = (connect(&app, &bob).await, connect(&app, &bob).await);
    let mut carol_ws = connect(&app, &carol).await;
    let created = app.create_conversation(&alice.client, json!({ "participant_ids": [carol.id], "kind": "group" }));
    let room = created.await.json::<Value>().await.expect("json")["id"].as_i64().expect("a group");
    let carol_told = carol_ws.next_skipping_presence().await;

    // Act
    let added = alice.client.post(app.url(&format!("/conversations/{room}/participants")));
    let added = added.json(&json!({ "user_ids": [bob.id] })).send().await.expect("sent");
    let (tab_1, tab_2) = (bob_tab_1.next_skipping_presence().await, bob_tab_2.next_skipping_presence().await);
    bob_tab_1.subscribe(room, None).await;

    // Assert
    assert!(added.status().is_success(), "{}", added.status());
    let joined = ServerEvent::Room {
        room_id: RoomId(room),
        change: RoomChange::Added,
        unread_count: None,
        unread_mentions: None,
    };
    assert_eq!(carol_told, joined, "creating the room tells its members");
    assert_eq!(tab_1, joined);
    assert_eq!(tab_2, joined);
}

#[tokio::test]
async fn the_other_members_are_told_when_someone_is_added_leaves_or_is_removed() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let dave = person(&app, "dave").await;
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let (mut bob_ws, mut dave_ws) = (connect(&app, &bob).await, connect(&app, &dave).await);
    let participants = format!("/conversations/{room}/participants");
    let changed =
        |change| ServerEvent::Room { room_id: RoomId(room), change, unread_count: None, unread_mentions: None };

    // Act
    let added = alice.client.post(app.url(&participants)).json(&json!({ "user_ids": [dave.id] })).send();
    assert!(added.await.expect("sent").status().is_success());
    let (bob_on_add, dave_on_add) = (bob_ws.next_skipping_presence().await, dave_ws.next_skipping_presence().await);
    let left = carol.client.delete(app.url(&format!("{participants}/{}", carol.id))).send();
    assert!(left.await.expect("sent").status().is_success());
    let (bob_on_leave, dave_on_leave) = (bob_ws.next_skipping_presence().await, dave_ws.next_skipping_presence().await);
    let removed = alice.client.delete(app.url(&format!("{participants}/{}", dave.id))).send();
    assert!(removed.await.expect("sent").status().is_success());
    let (bob_on_removal, dave_on_removal) =
        (bob_ws.next_skipping_presence().await, dave_ws.next_skipping_presence().await);

    // Assert
    assert_eq!(bob_on_add, changed(RoomChange::Updated), "bob hears that the members changed");
    assert_eq!(dave_on_add, changed(RoomChange::Added), "dave hears he is in it, once");
    assert_eq!((bob_on_leave, dave_on_leave), (changed(RoomChange::Updated), changed(RoomChange::Updated)));
    assert_eq!(bob_on_removal, changed(RoomChange::Updated));
    assert_eq!(dave_on_removal, changed(RoomChange::Removed), "dave hears only that he is out");
    dave_ws.assert_quiet(QUIET, "dave after removal").await;
    let members = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    let names: Vec<&str> = members["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| p["username"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["alice", "bob"], "what bob reads again");
}

#[tokio::test]
async fn joining_an_open_room_tells_the_members_once_and_joining_again_tells_no_one() {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let created = alice
        .client
        .post(app.url("/conversations"))
        .json(&json!({ "participant_ids": [], "title": "Lobby", "kind": "open" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), 201);
    let room = created.json::<Value>().await.expect("json")["id"].as_i64().expect("an id");
    let (mut alice_ws, mut bob_ws) = (connect(&app, &alice).await, connect(&app, &bob).await);
    let changed =
        |change| ServerEvent::Room { room_id: RoomId(room), change, unread_count: None, unread_mentions: None };
    let join = || bob.client.post(app.url(&format!("/conversations/{room}/join"))).send();

    assert_eq!(join().await.expect("sent").status(), 200);
    assert_eq!(bob_ws.next_skipping_presence().await, changed(RoomChange::Added));
    assert_eq!(alice_ws.next_skipping_presence().await, changed(RoomChange::Updated));
    assert_eq!(join().await.expect("sent").status(), 200, "joining again is fine");
    bob_ws.assert_quiet(QUIET, "bob after joining again").await;
    alice_ws.assert_quiet(QUIET, "alice after bob joined again").await;
}

#[tokio::test]
async fn typing_is_shown_to_the_room_with_the_typists_name() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    let mut bob_ws = connect(&app, &bob).await;

    // Act
    bob_ws.send_json(json!({ "type": "typing", "room_id": room })).await;

    // Assert
    match alice_ws.next_skipping_presence().await {
        ServerEvent::Typing { room_id, user } => {
            assert_eq!(room_id, RoomId(room));
            assert_eq!(user.id, UserId(bob.id));
            assert_eq!(user.username, "bob");
        }
        other => panic!("expected typing, got {other:?}"),
    }
}

#[tokio::test]
async fn typing_notices_reach_the_room_at_most_once_a_second_per_person() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    let mut bob_ws = connect(&app, &bob).await;

    // Act: a client that sends a notice for every key, fast.
    for _ in 0..50 {
        bob_ws.send_json(json!({ "type": "typing", "room_id": room })).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    bob_ws.send_json(json!({ "type": "typing", "room_id": room })).await;

    // Assert: one for the burst, one after the second had passed.
    let mut notices = 0;
    loop {
        match alice_ws.next_within(std::time::Duration::from_millis(800)).await {
            Next::Event(ServerEvent::Typing { user, .. }) if user.id == UserId(bob.id) => notices += 1,
            Next::Event(_) => {}
            Next::Silent => break,
            other => panic!("expected typing notices, got {other:?}"),
        }
    }
    assert_eq!(notices, 2);
}

#[tokio::test]
async fn read_tells_the_room_and_the_readers_own_sockets_their_unread_count() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["one", "two", "three"] {
        app.send(&alice.client, room, text).await;
    }
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    let mut bob_ws = connect(&app, &bob).await;

    // Act
    bob_ws.send_json(json!({ "type": "read", "room_id": room, "number": 2 })).await;
    let (seen_2, unread_1) = (alice_ws.next_skipping_presence().await, bob_ws.next_skipping_presence().await);
    bob_ws.send_json(json!({ "type": "read", "room_id": room, "number": 3 })).await;
    let (seen_3, unread_0) = (alice_ws.next_skipping_presence().await, bob_ws.next_skipping_presence().await);
    // Backwards, and the same again: the marker does not move, and no one
    // is told anything. The next read that alice hears of is the next move.
    bob_ws.send_json(json!({ "type": "read", "room_id": room, "number": 1 })).await;
    bob_ws.send_json(json!({ "type": "read", "room_id": room, "number": 3 })).await;
    app.send(&alice.client, room, "four").await;
    bob_ws.send_json(json!({ "type": "read", "room_id": room, "number": 4 })).await;
    let next_read = loop {
        match alice_ws.next_skipping_presence().await {
            event @ ServerEvent::Read { .. } => break event,
            _ => continue,
        }
    };

    // Assert
    let read = |number| ServerEvent::Read { room_id: RoomId(room), user_id: UserId(bob.id), number };
    let unread = |n| ServerEvent::Room {
        room_id: RoomId(room),
        change: RoomChange::Unread,
        unread_count: Some(n),
        unread_mentions: Some(0),
    };
    assert_eq!(seen_2, read(2));
    assert_eq!(unread_1, unread(1));
    assert_eq!(seen_3, read(3));
    assert_eq!(unread_0, unread(0));
    assert_eq!(next_read, read(4), "a read that moves nothing is not told");
}

#[tokio::test]
async fn send_over_the_socket_reaches_everyone_once_per_client_id() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let (mut alice_ws, mut bob_ws) = (connect(&app, &alice).await, connect(&app, &bob).await);
    alice_ws.subscribe(room, None).await;
    bob_ws.subscribe(room, None).await;
    let send = json!({ "type": "send", "room_id": room, "body": "Hello!", "client_id": "k3x9-1" });

    // Act
    alice_ws.send_json(send.clone()).await;
    let (to_alice, to_bob) = (alice_ws.next_skipping_presence().await, bob_ws.next_skipping_presence().await);
    alice_ws.send_json(send).await;
    alice_ws.send_json(json!({ "type": "send", "room_id": room, "body": "  ", "client_id": "k3x9-2" })).await;
    let blank = alice_ws.next_skipping_presence().await;

    // Assert
    for (who, event) in [("alice", &to_alice), ("bob", &to_bob)] {
        match event {
            ServerEvent::Message { room_id, seq, message } => {
                assert_eq!((*room_id, *seq, message.number), (RoomId(room), 1, 1), "{who}");
                assert_eq!(message.body.as_deref(), Some("Hello!"), "{who}");
                assert_eq!(message.client_id.as_deref(), Some("k3x9-1"), "{who}");
                assert_eq!(message.user_id, Some(UserId(alice.id)), "{who}");
            }
            other => panic!("{who} expected the message, got {other:?}"),
        }
    }
    match blank {
        ServerEvent::Error { code, client_id, .. } => {
            assert_eq!(code, "invalid");
            assert_eq!(client_id.as_deref(), Some("k3x9-2"));
        }
        other => panic!("the retry must publish nothing; expected the blank body's error, got {other:?}"),
    }
    bob_ws.assert_quiet(QUIET, "bob after the retry").await;
    let page: Value = app.history(&bob.client, room, "after_number=0&limit=200").await;
    assert_eq!(crate::helpers::numbers(&page), vec![1], "one message in the room");
}

#[tokio::test]
async fn a_ping_is_answered_with_pong_at_once_and_nothing_else() {
    // A browser cannot see the protocol's pings: it asks this way whether a
    // socket that looks open still carries anything.
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let mut ws = connect(&app, &alice).await;

    ws.send_json(json!({ "type": "ping" })).await;

    assert_eq!(ws.next_skipping_presence().await, ServerEvent::Pong);
    ws.send_json(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_skipping_presence().await, ServerEvent::Pong);
    assert!(matches!(ws.next_within(QUIET).await, Next::Silent | Next::Event(ServerEvent::Presence { .. })));
}
