//! Presence (docs/protocol.md): a user's first socket announces them online
//! to their rooms; their last socket closing announces them offline after a
//! 3 s grace period, so a reload does not flap.

use std::time::Duration;

use hearth::model::UserId;
use hearth::protocol::ServerEvent;
use tokio::time::Instant;

use crate::helpers::{TestApp, spawn_app};
use crate::ws_support::{Next, Person, QUIET, Ws, connect, person};

/// Alice subscribed to her room with bob (bob offline), her own presence read.
async fn alice_watching_bob() -> (TestApp, Person, Ws) {
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    let alice_online = ServerEvent::Presence { user_id: UserId(alice.id), online: true };
    assert_eq!(alice_ws.next().await, alice_online, "a subscribe is followed by who is online");
    (app, bob, alice_ws)
}

async fn close(mut ws: Ws) {
    ws.inner.close(None).await.expect("close sent");
    // Read to the end so the close handshake completes.
    while let Next::Event(_) | Next::Closed(_) = ws.next_within(QUIET).await {}
}

/// The `presence` events for `user` that reach `ws` before `until`, with when.
async fn presence_until(ws: &mut Ws, user: i64, until: Instant) -> Vec<(bool, Instant)> {
    let mut seen = Vec::new();
    loop {
        match ws.next_within(until.saturating_duration_since(Instant::now())).await {
            Next::Silent => return seen,
            Next::Event(ServerEvent::Presence { user_id, online }) if user_id.0 == user => {
                seen.push((online, Instant::now()));
            }
            Next::Event(_) => {}
            other => panic!("alice's socket: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_users_first_socket_announces_them_online_to_their_rooms() {
    // Arrange
    let (app, bob, mut alice_ws) = alice_watching_bob().await;
    alice_ws.assert_quiet(QUIET, "alice before bob connects").await;

    // Act
    let _bob_ws = connect(&app, &bob).await;
    let announced = alice_ws.next().await;
    let _second_tab = connect(&app, &bob).await;
    let after_second = presence_until(&mut alice_ws, bob.id, Instant::now() + QUIET).await;

    // Assert
    assert_eq!(announced, ServerEvent::Presence { user_id: UserId(bob.id), online: true });
    assert!(after_second.is_empty(), "only the first socket announces: {after_second:?}");
}

#[tokio::test]
async fn closing_the_last_socket_announces_offline_after_the_grace_period() {
    // Arrange
    let (app, bob, mut alice_ws) = alice_watching_bob().await;
    let bob_ws = connect(&app, &bob).await;
    assert!(matches!(alice_ws.next().await, ServerEvent::Presence { online: true, .. }));

    // Act
    let closed_at = Instant::now();
    close(bob_ws).await;
    let seen = presence_until(&mut alice_ws, bob.id, closed_at + Duration::from_secs(8)).await;

    // Assert
    assert_eq!(seen.iter().map(|(online, _)| *online).collect::<Vec<_>>(), vec![false], "one offline");
    let after = seen[0].1 - closed_at;
    assert!(after >= Duration::from_millis(2_500), "offline {after:?} after the close, before the grace period");
}

#[tokio::test]
async fn a_reload_within_the_grace_period_does_not_announce_offline() {
    // Arrange
    let (app, bob, mut alice_ws) = alice_watching_bob().await;
    let bob_ws = connect(&app, &bob).await;
    assert!(matches!(alice_ws.next().await, ServerEvent::Presence { online: true, .. }));

    // Act
    let closed_at = Instant::now();
    close(bob_ws).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _reloaded = connect(&app, &bob).await;
    let seen = presence_until(&mut alice_ws, bob.id, closed_at + Duration::from_secs(5)).await;

    // Assert
    assert!(seen.iter().all(|(online, _)| *online), "a reload flapped: {seen:?}");
}

#[tokio::test]
async fn two_reloads_in_a_row_do_not_announce_offline() {
    // Arrange
    let (app, bob, mut alice_ws) = alice_watching_bob().await;
    let first = connect(&app, &bob).await;
    assert!(matches!(alice_ws.next().await, ServerEvent::Presence { online: true, .. }));
    let bob_again = Person { id: bob.id, client: bob.client.clone(), cookie: bob.cookie.clone() };

    // Act: away 1.0 s, back 1.7 s, away 0.6 s: never 3 s in a row. The first
    // close's grace period ends while bob is away the second time.
    let start = Instant::now();
    let watcher = tokio::spawn(async move {
        let seen = presence_until(&mut alice_ws, bob.id, start + Duration::from_secs(7)).await;
        seen.into_iter().map(|(online, at)| (online, at - start)).collect::<Vec<_>>()
    });
    close(first).await;
    tokio::time::sleep_until(start + Duration::from_millis(1_000)).await;
    let second = connect(&app, &bob_again).await;
    tokio::time::sleep_until(start + Duration::from_millis(2_700)).await;
    close(second).await;
    tokio::time::sleep_until(start + Duration::from_millis(3_300)).await;
    let _third = connect(&app, &bob_again).await;
    let seen = watcher.await.expect("watcher");

    // Assert
    assert!(seen.iter().all(|(online, _)| *online), "bob was never away 3 s, yet: {seen:?}");
}

#[tokio::test]
async fn someone_online_who_joins_or_is_added_is_announced_online_to_the_room() {
    // Arrange: alice follows her open room; bob and carol are online
    // elsewhere, members of no room of hers.
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let body = serde_json::json!({ "participant_ids": [], "kind": "open", "title": "Lobby" });
    let created: serde_json::Value = app.create_conversation(&alice.client, body).await.json().await.unwrap();
    let room = created["id"].as_i64().expect("a room id");
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    assert_eq!(alice_ws.next().await, ServerEvent::Presence { user_id: UserId(alice.id), online: true });
    let (_bob_ws, _carol_ws) = (connect(&app, &bob).await, connect(&app, &carol).await);
    let _ = presence_until(&mut alice_ws, bob.id, Instant::now() + QUIET).await;

    // Act: bob joins; alice adds carol.
    let joined = bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap();
    assert!(joined.status().is_success(), "{}", joined.status());
    let bob_seen = presence_until(&mut alice_ws, bob.id, Instant::now() + QUIET).await;
    let added = alice
        .client
        .post(app.url(&format!("/conversations/{room}/participants")))
        .json(&serde_json::json!({ "user_ids": [carol.id] }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let carol_seen = presence_until(&mut alice_ws, carol.id, Instant::now() + QUIET).await;

    // Assert
    assert_eq!(bob_seen.iter().map(|(online, _)| *online).collect::<Vec<_>>(), [true], "bob joined");
    assert_eq!(carol_seen.iter().map(|(online, _)| *online).collect::<Vec<_>>(), [true], "carol was added");
}
