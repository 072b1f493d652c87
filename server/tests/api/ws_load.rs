//! `/ws` under load: concurrent senders are seen in one order by everyone,
//! room frames that come in quick succession share one write, and a client
//! that stops reading is cut loose (resync or close) without holding up the
//! others or growing the server's memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hearth::model::{RoomId, UserId};
use hearth::protocol::ServerEvent;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};
use crate::ws_support::{Next, QUIET, WAIT, Ws, connect, connect_small_buffer, person, rss_bytes};

/// Reads `ws` until it has `count` `message` events of `room`, returning
/// (seq, number, body) of each in arrival order (the body only if `bodies`,
/// so a flood's text is not held by the test); `progress` counts them.
async fn read_messages(
    mut ws: Ws,
    room: i64,
    count: usize,
    bodies: bool,
    progress: Arc<AtomicUsize>,
) -> Vec<(i64, i64, String)> {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        match ws.next().await {
            ServerEvent::Message { room_id, seq, message } if room_id == RoomId(room) => {
                got.push((seq, message.number, message.body.filter(|_| bodies).unwrap_or_default()));
                progress.fetch_add(1, Ordering::SeqCst);
            }
            ServerEvent::Presence { .. } => {}
            other => panic!("a listener got {other:?} after {} messages", got.len()),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_senders_are_seen_by_every_listener_in_the_databases_order() {
    // Arrange
    let app = spawn_app().await;
    let mut people = Vec::new();
    for name in ["ann", "ben", "cat", "dan", "eve"] {
        people.push(person(&app, name).await);
    }
    let others: Vec<i64> = people[1..].iter().map(|p| p.id).collect();
    let room = app.conversation_with(&people[0].client, &others).await;
    let mut readers = Vec::new();
    for listener in &people[..3] {
        let mut ws = connect(&app, listener).await;
        ws.subscribe(room, None).await;
        readers.push(tokio::spawn(read_messages(ws, room, 200, true, Arc::default())));
    }

    // Act
    let url = app.url(&format!("/conversations/{room}/messages"));
    let senders: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(k, sender)| {
            let (client, url) = (sender.client.clone(), url.clone());
            tokio::spawn(async move {
                for i in 1..=40 {
                    let response = client.post(&url).json(&json!({ "body": format!("{k}:{i}") })).send().await;
                    assert_eq!(response.expect("sent").status(), 201, "sender {k}, message {i}");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender finished");
    }
    let mut seen = Vec::new();
    for reader in readers {
        seen.push(tokio::time::timeout(Duration::from_secs(30), reader).await.expect("in time").expect("reader"));
    }

    // Assert
    let page = app.history(&people[0].client, room, "after_number=0&limit=200").await;
    let stored: Vec<(i64, String)> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (m["number"].as_i64().unwrap(), m["body"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(stored.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (1..=200).collect::<Vec<_>>());
    for (i, got) in seen.iter().enumerate() {
        let numbers: Vec<i64> = got.iter().map(|(_, n, _)| *n).collect();
        assert_eq!(numbers, (1..=200).collect::<Vec<_>>(), "listener {i}: numbers 1..=200 in order");
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "listener {i}: seqs strictly increase");
        let as_stored: Vec<(i64, String)> = got.iter().map(|(_, n, b)| (*n, b.clone())).collect();
        assert_eq!(as_stored, stored, "listener {i} saw the database's order");
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    for k in 0..5 {
        let own: Vec<String> =
            stored.iter().filter(|(_, b)| b.starts_with(&format!("{k}:"))).map(|(_, b)| b.clone()).collect();
        let sent: Vec<String> = (1..=40).map(|i| format!("{k}:{i}")).collect();
        assert_eq!(own, sent, "sender {k}'s messages keep their order");
    }
}

/// Messages flooded past the client that stopped reading.
const FLOOD: usize = 3_000;
/// How far the test lets its well-behaved listeners fall behind the senders.
const LISTENER_SLACK: usize = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_loose_without_holding_up_others_or_memory() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut slow = connect_small_buffer(&app, &carol).await;
    slow.subscribe(room, None).await;
    let progress: Vec<Arc<AtomicUsize>> = vec![Arc::default(), Arc::default()];
    let mut readers = Vec::new();
    for (listener, progress) in [&alice, &bob].into_iter().zip(&progress) {
        let mut ws = connect(&app, listener).await;
        ws.subscribe(room, None).await;
        readers.push(tokio::spawn(read_messages(ws, room, FLOOD, false, progress.clone())));
    }
    let rss_before = rss_bytes();
    let started = tokio::time::Instant::now();

    // Act: alice and bob flood the room; carol's socket is never read.
    let posted = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = [alice.id, bob.id]
        .into_iter()
        .map(|author| {
            let (hearth, posted, progress) = (app.hearth.clone(), posted.clone(), progress.clone());
            tokio::spawn(async move {
                let padding = "x".repeat(6_000);
                while posted.fetch_add(1, Ordering::SeqCst) < FLOOD {
                    let slowest = || progress.iter().map(|p| p.load(Ordering::SeqCst)).min().unwrap_or(0);
                    let deadline = tokio::time::Instant::now() + WAIT;
                    while posted.load(Ordering::SeqCst) > slowest() + LISTENER_SLACK {
                        assert!(tokio::time::Instant::now() < deadline, "the listeners stopped receiving");
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    hearth.post_message(UserId(author), RoomId(room), &padding, None).await.expect("posted");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender finished");
    }
    let mut delivered = Vec::new();
    for reader in readers {
        delivered.push(tokio::time::timeout(Duration::from_secs(30), reader).await.expect("in time").expect("reader"));
    }
    let rss_after = rss_bytes();
    let flood_took = started.elapsed();

    // Carol reads again: what did the server keep for her?
    let mut carol_messages = 0;
    let outcome = loop {
        match slow.next_within(WAIT).await {
            Next::Event(ServerEvent::Message { .. }) => carol_messages += 1,
            Next::Event(ServerEvent::Presence { .. } | ServerEvent::Typing { .. }) => {}
            Next::Event(ServerEvent::Resync { room_id }) => break format!("resync {}", room_id.0),
            Next::Closed(_) | Next::Ended(_) => break "closed".to_owned(),
            other => panic!(
                "carol expected messages then resync or close, got {other:?} after {carol_messages} (flood {flood_took:?})"
            ),
        }
    };

    // Assert
    for (i, got) in delivered.iter().enumerate() {
        let numbers: Vec<i64> = got.iter().map(|(_, n, _)| *n).collect();
        assert_eq!(numbers, (1..=FLOOD as i64).collect::<Vec<_>>(), "listener {i} got every message in order");
    }
    assert!(outcome == format!("resync {room}") || outcome == "closed", "{outcome}");
    assert!(carol_messages < FLOOD, "carol was cut loose, not buffered for: got {carol_messages}");
    let growth = rss_after.saturating_sub(rss_before);
    assert!(growth < 100 * 1024 * 1024, "RSS grew by {} MiB", growth / (1024 * 1024));
    if outcome != "closed" {
        // After a resync, a reload's subscribe (at the current last_seq) is live again.
        slow.assert_quiet(QUIET, "carol after resync").await;
        slow.subscribe(room, Some(app.last_seq(&carol.client, room).await)).await;
        app.send(&alice.client, room, "welcome back").await;
        match slow.next_skipping_presence().await {
            ServerEvent::Message { message, .. } => assert_eq!(message.number, FLOOD as i64 + 1),
            other => panic!("carol expected the new message, got {other:?}"),
        }
    }
    eprintln!(
        "slow client: {carol_messages} messages then {outcome}; RSS +{} KiB; flood {flood_took:?}",
        growth / 1024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_for_the_write_timeout_is_dropped() {
    // Arrange
    let app = crate::helpers::spawn_app_with(|config| config.ws_write_timeout_secs = 1).await;
    let (alice, carol) = (person(&app, "alice").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[carol.id]).await;
    let mut stuck = connect_small_buffer(&app, &carol).await;
    stuck.subscribe(room, None).await;
    let mut listener = connect(&app, &alice).await;
    listener.subscribe(room, None).await;
    let listening = tokio::spawn(read_messages(listener, room, FLOOD, false, Arc::default()));

    // Act: the room floods while carol's socket is never read, long enough
    // for her writes to wait past the timeout.
    let padding = "x".repeat(6_000);
    for _ in 0..FLOOD {
        app.hearth.post_message(UserId(alice.id), RoomId(room), &padding, None).await.expect("posted");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Assert: what reached carol's buffers, then the end of the connection:
    // no resync, since the server let go of her socket.
    let mut received = 0;
    let outcome = loop {
        match stuck.next_within(WAIT).await {
            Next::Event(ServerEvent::Message { .. }) => received += 1,
            Next::Event(ServerEvent::Presence { .. } | ServerEvent::Typing { .. }) => {}
            other => break other,
        }
    };
    assert!(matches!(outcome, Next::Ended(_)), "expected the connection to end, got {outcome:?} after {received}");
    assert!(received < FLOOD, "carol was dropped, not served: got {received}");
    let delivered = tokio::time::timeout(Duration::from_secs(30), listening).await.expect("in time").expect("reader");
    assert_eq!(delivered.len(), FLOOD, "alice, who reads, got everything");
}

#[tokio::test]
async fn room_messages_soon_after_a_write_wait_for_the_write_delay_and_arrive_together_in_order() {
    // Arrange: a long delay, so that what it holds back is unmistakable.
    let delay = Duration::from_millis(600);
    let app = spawn_app_with(|config| config.ws_write_delay_ms = delay.as_millis() as u64).await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await;
    tokio::time::sleep(delay).await; // the `subscribed` write's delay has passed

    // Act: one message, then three more as soon as the first has arrived.
    app.send(&alice.client, room, "first").await;
    let first = ws.next_skipping_presence().await;
    let first_at = std::time::Instant::now();
    for text in ["second", "third", "fourth"] {
        app.send(&alice.client, room, text).await;
    }
    let mut rest = Vec::new();
    while rest.len() < 3 {
        match ws.next_skipping_presence().await {
            ServerEvent::Message { message, .. } => rest.push(message.body.unwrap_or_default()),
            other => panic!("expected a message, got {other:?}"),
        }
    }
    let held_for = first_at.elapsed();

    // Assert
    assert!(
        matches!(&first, ServerEvent::Message { message, .. } if message.body.as_deref() == Some("first")),
        "{first:?}"
    );
    assert_eq!(rest, ["second", "third", "fourth"]);
    assert!(
        held_for >= delay - Duration::from_millis(150),
        "messages right after a write must wait for the delay ({delay:?}), came after {held_for:?}"
    );
}

#[tokio::test]
async fn replies_to_a_clients_own_events_are_not_held_by_the_write_delay() {
    // Arrange: a delay longer than the test is allowed to wait.
    let app = spawn_app_with(|config| config.ws_write_delay_ms = 60_000).await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await; // a write, so room frames are now held

    // Act: a room message (held), then an event of bob's own that needs a reply.
    app.send(&alice.client, room, "held back").await;
    ws.send_json(json!({ "type": "subscribe", "room_id": room + 1000 })).await;
    let mut events = Vec::new();
    loop {
        match ws.next_within(Duration::from_secs(5)).await {
            Next::Event(ServerEvent::Presence { .. }) => continue,
            Next::Event(event @ ServerEvent::Error { .. }) => {
                events.push(event);
                break;
            }
            Next::Event(event) => events.push(event),
            other => panic!("the reply must come at once, got {other:?} after {events:?}"),
        }
    }

    // Assert: the reply went out at once, and took the held message with it, in order.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        matches!(&events[0], ServerEvent::Message { message, .. } if message.body.as_deref() == Some("held back")),
        "{events:?}"
    );
    assert!(matches!(&events[1], ServerEvent::Error { code, .. } if code == "not_found"), "{events:?}");
}

/// Signals the tests below send a user after their removal or sign-out:
/// more than the user's channel holds, so a socket that was not reading
/// them loses some.
const SIGNALS_AFTER: usize = 90;

/// A socket slow to read (its writes wait on the client) while its user is
/// removed from the room or signed out, then gets more signals than the
/// user's channel holds: what the client sees when it reads again.
async fn slow_socket_after(signed_out: bool) -> (Vec<String>, bool, Next) {
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let other = app.conversation_with(&alice.client, &[carol.id]).await;
    let mut slow = connect_small_buffer(&app, &carol).await;
    slow.subscribe(room, None).await;

    // Carol stops reading while the room fills her socket's buffers: each
    // of these frames is about 80 KB (4-byte characters, body and HTML).
    let big = "𝕏".repeat(9_900);
    for i in 0..70 {
        app.hearth.post_message(UserId(alice.id), RoomId(room), &format!("{big}{i}"), None).await.expect("posted");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    if signed_out {
        let response = carol.client.delete(app.url("/users/sign_out")).send().await.expect("sent");
        assert!(response.status().is_success(), "{}", response.status());
    } else {
        let response = alice.client.delete(app.url(&format!("/conversations/{room}/participants/{}", carol.id))).send();
        assert_eq!(response.await.expect("sent").status(), 204);
    }
    for i in 0..SIGNALS_AFTER {
        app.hearth
            .post_message(UserId(alice.id), RoomId(other), &format!("@carol ping {i}"), None)
            .await
            .expect("posted");
    }
    app.hearth.post_message(UserId(alice.id), RoomId(room), "after the change", None).await.expect("posted");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Carol reads again.
    let mut leaked = Vec::new();
    let mut removed = false;
    let end = loop {
        match slow.next_within(WAIT).await {
            Next::Event(ServerEvent::Message { room_id, message, .. }) if room_id.0 == room => {
                if message.body.as_deref() == Some("after the change") {
                    leaked.push("after the change".to_owned());
                }
            }
            Next::Event(ServerEvent::Room { room_id, change: hearth::protocol::RoomChange::Removed, .. })
                if room_id.0 == room =>
            {
                removed = true;
            }
            Next::Event(_) => {}
            other => break other,
        }
    };
    (leaked, removed, end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_while_a_socket_is_slow_to_read_still_stops_the_room_reaching_it() {
    let (leaked, removed, end) = slow_socket_after(false).await;

    assert_eq!(leaked, Vec::<String>::new(), "nothing of the room after the removal (notice: {removed}, end: {end:?})");
    // Told, or cut loose to reconnect and be checked again.
    assert!(removed || matches!(end, Next::Closed(_) | Next::Ended(_)), "{end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_while_a_socket_is_slow_to_read_still_closes_it() {
    let (leaked, _, end) = slow_socket_after(true).await;

    assert_eq!(leaked, Vec::<String>::new(), "nothing of the room after the sign-out (end: {end:?})");
    assert!(matches!(end, Next::Closed(_) | Next::Ended(_)), "the socket ends: {end:?}");
}
