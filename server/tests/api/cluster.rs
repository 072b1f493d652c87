//! Several instances, one chat (issue 14): instances on one Postgres database
//! share live changes over a real NATS, and a client's view on any of them
//! equals a fresh page load, with nothing lost, doubled or out of order,
//! even when the bus loses messages or goes away.

use std::collections::BTreeMap;
use std::time::Duration;

use hearth::model::{RoomId, UserId};
use hearth::protocol::{RoomChange, ServerEvent};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::cluster_support::{Nats, instances, skip_cluster, wait_for_bus};
use crate::helpers::{PASSWORD, TestApp, new_client, session_cookie};
use crate::ws_support::{Next, Person, QUIET, Ws, connect, person};

/// A person registered on one instance, with a cookie every instance takes
/// (the sessions are in the shared database).
async fn member_of(apps: &[TestApp], name: &str) -> Person {
    person(&apps[0], name).await
}

/// The numbers of the `message` events `ws` gets until it has `count`, with
/// their seqs; fails on `resync`, an error, or silence.
async fn messages(ws: &mut Ws, count: usize, who: &str) -> Vec<(i64, i64)> {
    let mut got = Vec::new();
    while got.len() < count {
        match ws.next_within(Duration::from_secs(15)).await {
            Next::Event(ServerEvent::Message { seq, message, .. }) => got.push((seq, message.number)),
            Next::Event(event @ (ServerEvent::Resync { .. } | ServerEvent::Error { .. })) => {
                panic!("{who}: {event:?} after {} messages", got.len())
            }
            Next::Event(_) => {}
            other => panic!("{who}: {other:?} after {} of {count} messages", got.len()),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_on_one_instance_gets_what_is_sent_through_the_others() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice listens on A; bob posts through B's REST API, carol
    // over a socket on C.
    let nats = Nats::start().await;
    let apps = instances(&nats, 3, |_, _| {}).await;
    let (alice, bob, carol) =
        (member_of(&apps, "alice").await, member_of(&apps, "bob").await, member_of(&apps, "carol").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut alice_ws = connect(&apps[0], &alice).await;
    alice_ws.subscribe(room, None).await;
    let mut carol_ws = connect(&apps[2], &carol).await;
    carol_ws.subscribe(room, None).await;

    // Act
    apps[1].send(&bob.client, room, "from B over REST").await;
    carol_ws
        .send_json(json!({ "type": "send", "room_id": room, "body": "from C over a socket", "client_id": "c-1" }))
        .await;

    // Assert: both arrive on A, each once, in the database's order.
    let mut bodies = Vec::new();
    while bodies.len() < 2 {
        if let ServerEvent::Message { seq, message, .. } = alice_ws.next_skipping_presence().await {
            bodies.push((seq, message.body.expect("a body")));
        }
    }
    assert_eq!(
        bodies,
        [(1, "from B over REST".to_owned()), (2, "from C over a socket".to_owned())],
        "A delivers B's and C's messages in seq order"
    );
    alice_ws.assert_quiet(QUIET, "alice after both messages").await;

    // Typing on C shows on A too.
    carol_ws.send_json(json!({ "type": "typing", "room_id": room })).await;
    loop {
        if let ServerEvent::Typing { room_id, user } = alice_ws.next_skipping_presence().await {
            assert_eq!((room_id, user.id), (RoomId(room), UserId(carol.id)));
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_on_three_instances_see_exactly_the_databases_order_under_concurrent_senders() {
    if skip_cluster() {
        return;
    }
    // Arrange: five senders spread over three instances, a listener on each.
    const SENDERS: usize = 5;
    const EACH: usize = 40;
    let nats = Nats::start().await;
    let apps = instances(&nats, 3, |_, _| {}).await;
    let owner = member_of(&apps, "owner").await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        senders.push(member_of(&apps, &format!("sender{i}")).await);
    }
    let listeners: Vec<Person> =
        [member_of(&apps, "listener0").await, member_of(&apps, "listener1").await, member_of(&apps, "listener2").await]
            .into();
    let ids: Vec<i64> = senders.iter().chain(&listeners).map(|p| p.id).collect();
    let room = apps[0].conversation_with(&owner.client, &ids).await;
    let mut sockets = Vec::new();
    for (i, listener) in listeners.iter().enumerate() {
        let mut ws = connect(&apps[i], listener).await;
        ws.subscribe(room, None).await;
        sockets.push(ws);
    }

    // Act: every sender posts EACH messages, all at once, each through its
    // own instance.
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, sender)| {
            let url = apps[i % apps.len()].url(&format!("/conversations/{room}/messages"));
            let client = sender.client.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    let response = client.post(&url).json(&json!({ "body": format!("s{i} m{n}") })).send().await;
                    assert_eq!(response.expect("sent").status(), 201);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender finished");
    }

    // Assert: each listener got every message once, in seq order, and the
    // seq order is the database's number order.
    let total = SENDERS * EACH;
    let expected: Vec<(i64, i64)> = (1..=total as i64).map(|n| (n, n)).collect();
    for (i, ws) in sockets.iter_mut().enumerate() {
        let got = messages(ws, total, &format!("listener on instance {i}")).await;
        assert_eq!(got, expected, "listener on instance {i}");
        ws.assert_quiet(QUIET, "a listener after the last message").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_posted_while_nats_is_down_reach_listeners_in_order_from_the_log() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice listens on A, bob posts through B.
    let mut nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&apps[0], &alice).await;
    alice_ws.subscribe(room, None).await;
    apps[1].send(&bob.client, room, "before").await;
    assert_eq!(messages(&mut alice_ws, 1, "alice").await, [(1, 1)]);

    // Act: NATS goes away; bob keeps posting; NATS comes back.
    nats.stop();
    for i in 0..20 {
        apps[1].send(&bob.client, room, &format!("while down {i}")).await;
    }
    nats.restart().await;
    for app in &apps {
        wait_for_bus(app).await;
    }
    for i in 0..10 {
        apps[1].send(&bob.client, room, &format!("after {i}")).await;
    }

    // Assert: every message, in order, once; no resync.
    let got = messages(&mut alice_ws, 30, "alice").await;
    assert_eq!(got, (2..=31).map(|n| (n, n)).collect::<Vec<_>>());
    alice_ws.assert_quiet(QUIET, "alice after the outage").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_the_bus_drops_are_read_from_the_log_in_order() {
    if skip_cluster() {
        return;
    }
    // Arrange: B publishes only about half of its room changes.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |index, config| {
        if index == 1 {
            config.test_bus_drop_percent = 50;
        }
    })
    .await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&apps[0], &alice).await;
    alice_ws.subscribe(room, None).await;

    // Act: 100 messages, then edits and deletes of some, all through B.
    for i in 0..100 {
        apps[1].send(&bob.client, room, &format!("m{i}")).await;
    }
    for number in [3, 50, 100] {
        let path = apps[1].url(&format!("/conversations/{room}/messages/{number}"));
        let edited = bob.client.patch(path).json(&json!({ "body": format!("edited {number}") })).send().await;
        assert_eq!(edited.expect("sent").status(), 200);
    }
    for number in [4, 50] {
        let path = apps[1].url(&format!("/conversations/{room}/messages/{number}"));
        assert_eq!(bob.client.delete(path).send().await.expect("sent").status(), 204);
    }

    // Assert: every change once, in seq order, and the last state is what a
    // page load shows.
    let mut seqs = Vec::new();
    let mut view: BTreeMap<i64, Option<String>> = BTreeMap::new();
    while seqs.len() < 105 {
        match alice_ws.next_within(Duration::from_secs(15)).await {
            Next::Event(event @ (ServerEvent::Resync { .. } | ServerEvent::Error { .. })) => panic!("{event:?}"),
            Next::Event(event) => {
                let Some(seq) = event.seq() else { continue };
                seqs.push(seq);
                match event {
                    ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
                        view.insert(message.number, message.body);
                    }
                    ServerEvent::MessageDeleted { number, .. } => {
                        view.insert(number, None);
                    }
                    _ => {}
                }
            }
            other => panic!("after {} changes: {other:?}", seqs.len()),
        }
    }
    assert_eq!(seqs, (1..=105).collect::<Vec<_>>());
    assert_eq!(view[&3], Some("edited 3".to_owned()));
    assert_eq!((view[&4].clone(), view[&50].clone()), (None, None));
    assert_eq!(view[&100], Some("edited 100".to_owned()));
    assert_eq!(view.len(), 100);
    // Nothing of this was a bus outage: the gaps were the dropped frames.
    let health = apps[0].hearth.bus().health();
    assert!(matches!(health, hearth::bus::BusHealth::Connected { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_resumed_on_another_instance_gets_exactly_the_missed_changes_seed_5() {
    if skip_cluster() {
        return;
    }
    let nats = Nats::start().await;
    let apps = instances(&nats, 3, |_, _| {}).await;
    crate::ws_resume::resume_after_a_dropped_socket(&apps, 500, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_resumed_on_another_instance_gets_exactly_the_missed_changes_seed_2026() {
    if skip_cluster() {
        return;
    }
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    crate::ws_resume::resume_after_a_dropped_socket(&apps, 500, 2026).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_resumed_on_another_instance_gets_exactly_the_missed_changes_seed_31337() {
    if skip_cluster() {
        return;
    }
    let nats = Nats::start().await;
    let apps = instances(&nats, 3, |_, _| {}).await;
    crate::ws_resume::resume_after_a_dropped_socket(&apps, 500, 31_337).await;
}

/// The next `presence` event about `user` within `wait`, if any.
async fn presence_of(ws: &mut Ws, user: i64, wait: Duration) -> Option<bool> {
    let until = Instant::now() + wait;
    loop {
        match ws.next_within(until.saturating_duration_since(Instant::now())).await {
            Next::Event(ServerEvent::Presence { user_id, online }) if user_id.0 == user => return Some(online),
            Next::Event(_) => {}
            Next::Silent => return None,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_goes_online_and_offline_across_instances() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice on A watches her room with bob.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id]).await;
    let mut alice_ws = connect(&apps[0], &alice).await;
    alice_ws.subscribe(room, None).await;
    assert_eq!(presence_of(&mut alice_ws, alice.id, QUIET).await, Some(true));

    // Act + assert: bob's socket on B makes him online on A, and a socket
    // on A too does not announce him twice.
    let bob_on_b = connect(&apps[1], &bob).await;
    assert_eq!(presence_of(&mut alice_ws, bob.id, Duration::from_secs(5)).await, Some(true));
    assert!(apps[0].hearth.is_online(UserId(bob.id)));
    let bob_on_a = connect(&apps[0], &bob).await;
    assert_eq!(presence_of(&mut alice_ws, bob.id, QUIET).await, None, "already online");

    // Closing B's socket leaves him online (A's is open); closing A's too
    // makes him offline after the grace period.
    drop(bob_on_b);
    assert_eq!(presence_of(&mut alice_ws, bob.id, Duration::from_secs(4)).await, None, "still online on A");
    drop(bob_on_a);
    assert_eq!(presence_of(&mut alice_ws, bob.id, Duration::from_secs(6)).await, Some(false));
    assert!(!apps[1].hearth.is_online(UserId(bob.id)), "B agrees");
}

/// The real `hearth` binary as another instance beside `like` (its database,
/// NATS and prefix), with `env` on top, up: its process, an app to reach
/// it, and its data directory (kept while the test runs).
async fn binary_beside(
    nats: &Nats,
    like: &TestApp,
    env: &[(&str, &str)],
) -> (std::process::Child, TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address").port()
    };
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("serve")
        .env("DATABASE_URL", &like.database_url)
        .env("HEARTH_DATA_DIR", dir.path())
        .env("HEARTH_LISTEN", format!("127.0.0.1:{port}"))
        .env("HEARTH_NATS_URL", nats.url())
        .env("HEARTH_NATS_PREFIX", like.hearth.bus().prefix().expect("a bus"))
        .env("HEARTH_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the hearth binary starts");
    let app = TestApp::at(&format!("http://127.0.0.1:{port}"), like);
    app.wait_until_up().await;
    (child, app, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_of_an_instance_killed_with_sigkill_go_offline_within_the_presence_ttl() {
    if skip_cluster() {
        return;
    }
    // Arrange: instance A in this process, instance B the real binary on the
    // same database and NATS, with a presence TTL of 2 s; bob's socket is on B.
    let nats = Nats::start().await;
    let apps = instances(&nats, 1, |_, config| config.presence_ttl_secs = 2).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id]).await;
    let (mut instance_b, b, _dir) = binary_beside(&nats, &apps[0], &[("HEARTH_PRESENCE_TTL_SECS", "2")]).await;
    let mut alice_ws = connect(&apps[0], &alice).await;
    alice_ws.subscribe(room, None).await;
    let _bob_ws = connect(&b, &bob).await;
    assert_eq!(presence_of(&mut alice_ws, bob.id, Duration::from_secs(5)).await, Some(true));

    // Act: B dies without a word.
    instance_b.kill().expect("SIGKILL");
    let killed = Instant::now();
    instance_b.wait().expect("reaped");

    // Assert: offline within the TTL (plus a heartbeat's slack).
    assert_eq!(presence_of(&mut alice_ws, bob.id, Duration::from_secs(6)).await, Some(false));
    let took = killed.elapsed();
    assert!(took <= Duration::from_millis(3_500), "offline {took:?} after the kill (TTL 2 s)");
    assert!(!apps[0].hearth.is_online(UserId(bob.id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_instance_reports_its_bus_in_metrics_from_the_start() {
    if skip_cluster() {
        return;
    }
    // The real binary, a process of its own (the metrics recorder is one per
    // process), started on the shared database with NATS and metrics on.
    let nats = Nats::start().await;
    let apps = instances(&nats, 1, |_, _| {}).await;
    let (mut instance, app, _dir) = binary_beside(&nats, &apps[0], &[("HEARTH_METRICS_TOKEN", "scrape-me")]).await;

    let scrape = new_client().get(app.url("/metrics")).bearer_auth("scrape-me").send().await.expect("scraped");
    assert_eq!(scrape.status(), 200);
    let text = scrape.text().await.expect("text");
    instance.kill().expect("stopped");
    instance.wait().expect("reaped");

    assert!(text.lines().any(|line| line == "hearth_bus_connected 1"), "{text}");
    for counter in [
        "hearth_bus_messages_sent_total",
        "hearth_bus_messages_received_total",
        "hearth_bus_messages_dropped_total",
        "hearth_bus_gaps_total",
        "hearth_bus_filled_changes_total",
    ] {
        assert!(text.lines().any(|line| line.starts_with(counter)), "{counter} missing: {text}");
    }
}

/// Bob, with a socket on B in his session, and a socket on B in another
/// session of his: (bob, that session's socket, the other's).
async fn two_sessions_on_b(apps: &[TestApp]) -> (Person, Ws, Ws) {
    let bob = member_of(apps, "bob").await;
    let other = new_client();
    let signed_in = apps[1].sign_in_with(&other, "bob", PASSWORD).await;
    let other_cookie = session_cookie(signed_in.headers()).expect("a session cookie");
    let same_session = connect(&apps[1], &bob).await;
    let other_session = crate::ws_support::try_connect(&apps[1], Some(&other_cookie), None).await.expect("upgrade");
    (bob, same_session, other_session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_instance_closes_that_sessions_socket_on_another() {
    if skip_cluster() {
        return;
    }
    // Arrange: bob signs in through A; the same session has a socket on B,
    // and another session of his a socket on B too.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (bob, mut same_session, mut other_session) = two_sessions_on_b(&apps).await;

    // Act
    let response = bob.client.delete(apps[0].url("/users/sign_out")).send().await.expect("sent");
    assert!(response.status().is_success(), "sign-out: {}", response.status());

    // Assert: B closes the signed-out session's socket (1008), not the other,
    // and B no longer takes the cookie.
    let (code, _) = same_session.until_closed().await;
    assert_eq!(code, Some(1008));
    other_session.assert_quiet(QUIET, "bob's other session").await;
    assert_eq!(apps[1].me(&bob.client).await.status(), 401, "B forgot the session at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_one_instance_clears_the_unread_count_on_a_socket_on_another() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice has a socket on A and one on B; bob, listening on B,
    // posts twice (through each instance).
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&bob.client, &[alice.id]).await;
    let mut alice_a = connect(&apps[0], &alice).await;
    let mut alice_b = connect(&apps[1], &alice).await;
    let mut bob_b = connect(&apps[1], &bob).await;
    bob_b.subscribe(room, None).await;
    apps[1].send(&bob.client, room, "one").await;
    apps[0].send(&bob.client, room, "two").await;
    let listed = apps[1].get_json(&alice.client, "/conversations").await;
    assert_eq!(unread_listed(&listed, room), 2, "B counts both: {listed}");

    // Act: alice reads on A.
    alice_a.send_json(json!({ "type": "read", "room_id": room, "number": 2 })).await;

    // Assert: her socket on B hears the count drop to zero, bob's on B sees
    // "Seen", and B's room list agrees.
    assert_eq!(unread_on(&mut alice_b, room, 0).await, 0);
    loop {
        if let ServerEvent::Read { user_id, number, .. } = bob_b.next_skipping_presence().await {
            assert_eq!((user_id, number), (UserId(alice.id), 2));
            break;
        }
    }
    let listed = apps[1].get_json(&alice.client, "/conversations").await;
    assert_eq!(unread_listed(&listed, room), 0);
}

/// The unread count of `room` in a `GET /conversations` answer.
fn unread_listed(listed: &Value, room: i64) -> i64 {
    let rooms = listed.as_array().or_else(|| listed["conversations"].as_array()).expect("a list of rooms");
    let entry = rooms.iter().find(|r| r["id"].as_i64() == Some(room)).expect("the room is listed");
    entry["unread_count"].as_i64().expect("unread_count")
}

/// Reads `room` updates on `ws` until the unread count is `want`.
async fn unread_on(ws: &mut Ws, room: i64, want: i64) -> i64 {
    loop {
        match ws.next_skipping_presence().await {
            ServerEvent::Room { room_id, change: RoomChange::Unread, unread_count: Some(n), .. }
                if room_id == RoomId(room) && n == want =>
            {
                return n;
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_said_while_nats_is_down_reach_a_socket_on_another_instance_when_it_returns() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice has a socket on B, not subscribed to the room.
    let mut nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&bob.client, &[alice.id]).await;
    let mut alice_b = connect(&apps[1], &alice).await;

    // Act: bob posts twice through A while NATS is away (B never hears the
    // counts); NATS returns.
    nats.stop();
    apps[0].send(&bob.client, room, "one").await;
    apps[0].send(&bob.client, room, "two").await;
    nats.restart().await;

    // Assert: her socket on B is told the count the database has.
    assert_eq!(unread_on(&mut alice_b, room, 2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_from_a_room_on_one_instance_stops_delivery_and_access_on_the_others() {
    if skip_cluster() {
        return;
    }
    // Arrange: carol listens on B and has read the room through C (so C has
    // her membership cached).
    let nats = Nats::start().await;
    let apps = instances(&nats, 3, |_, _| {}).await;
    let (alice, carol) = (member_of(&apps, "alice").await, member_of(&apps, "carol").await);
    let bob = member_of(&apps, "bob").await;
    let room = apps[0].conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut carol_ws = connect(&apps[1], &carol).await;
    carol_ws.subscribe(room, None).await;
    assert_eq!(apps[2].get(&carol.client, &format!("/conversations/{room}/messages")).await.status(), 200);

    // Act: alice removes carol through A, then posts.
    let path = apps[0].url(&format!("/conversations/{room}/participants/{}", carol.id));
    let removed = alice.client.delete(path).send().await.expect("sent");
    assert!(removed.status().is_success(), "removing carol: {}", removed.status());
    let started = Instant::now();
    apps[0].send(&alice.client, room, "after carol left").await;

    // Assert: carol's socket on B hears she was removed, no message reaches
    // it, and C refuses her now.
    let mut told = false;
    loop {
        match carol_ws.next_within(Duration::from_secs(2)).await {
            Next::Event(ServerEvent::Message { message, .. }) => panic!("carol got {:?}", message.body),
            Next::Event(ServerEvent::Room { room_id, change: RoomChange::Removed, .. }) => {
                told = room_id == RoomId(room);
            }
            Next::Event(_) => {}
            Next::Silent => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(told, "B told carol's socket the room was removed");
    assert!(started.elapsed() < Duration::from_secs(5));
    let status = apps[2].get(&carol.client, &format!("/conversations/{room}/messages")).await.status();
    assert!(matches!(status.as_u16(), 403 | 404), "C still lets carol read: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_made_while_nats_is_down_closes_that_sessions_socket_on_another_instance_when_it_returns() {
    if skip_cluster() {
        return;
    }
    // Arrange: bob's session has a socket on B, and another session of his
    // a socket on B too.
    let mut nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (bob, mut same_session, mut other_session) = two_sessions_on_b(&apps).await;

    // Act: the session signs out through A while NATS is away (B never
    // hears of it); NATS returns.
    nats.stop();
    let response = bob.client.delete(apps[0].url("/users/sign_out")).send().await.expect("sent");
    assert!(response.status().is_success(), "sign-out: {}", response.status());
    nats.restart().await;

    // Assert: B closes that session's socket as signed out, and only that one.
    let (code, _) = same_session.until_closed().await;
    assert_eq!(code, Some(1008));
    other_session.assert_quiet(QUIET, "bob's other session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_made_while_nats_is_down_stops_delivery_on_the_other_instance_when_it_returns() {
    if skip_cluster() {
        return;
    }
    // Arrange: carol listens on B.
    let mut nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob, carol) =
        (member_of(&apps, "alice").await, member_of(&apps, "bob").await, member_of(&apps, "carol").await);
    let room = apps[0].conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut carol_ws = connect(&apps[1], &carol).await;
    carol_ws.subscribe(room, None).await;

    // Act: alice removes carol through A while NATS is away (B never hears
    // the signal); NATS returns; alice posts.
    nats.stop();
    let path = apps[0].url(&format!("/conversations/{room}/participants/{}", carol.id));
    let removed = alice.client.delete(path).send().await.expect("sent");
    assert!(removed.status().is_success(), "removing carol: {}", removed.status());
    nats.restart().await;
    for app in &apps {
        wait_for_bus(app).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    apps[0].send(&alice.client, room, "after carol left").await;

    // Assert: nothing of it reaches carol's socket on B.
    loop {
        match carol_ws.next_within(Duration::from_secs(3)).await {
            Next::Event(ServerEvent::Message { message, .. }) => panic!("carol got {:?}", message.body),
            Next::Event(_) => {}
            Next::Silent => break,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_and_a_deactivation_made_while_nats_is_down_reach_the_other_instance_from_the_database() {
    if skip_cluster() {
        return;
    }
    // Arrange: carol and dave listen on B; the admin and alice act on A.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let admin = member_of(&apps, "root").await; // the first account: the admin
    let (alice, carol, dave) =
        (member_of(&apps, "alice").await, member_of(&apps, "carol").await, member_of(&apps, "dave").await);
    let room = apps[0].conversation_with(&alice.client, &[carol.id, dave.id]).await;
    let mut carol_ws = connect(&apps[1], &carol).await;
    carol_ws.subscribe(room, None).await;
    let mut dave_ws = connect(&apps[1], &dave).await;
    // B has dave cached from a request of his.
    assert_eq!(apps[1].me(&dave.client).await.status(), 200);

    // Act: NATS goes away, and stays away; through A, alice removes carol
    // and the admin deactivates dave.
    let mut nats = nats;
    nats.stop();
    let started = Instant::now();
    let path = apps[0].url(&format!("/conversations/{room}/participants/{}", carol.id));
    let removed = alice.client.delete(path).send().await.expect("sent");
    assert!(removed.status().is_success(), "removing carol: {}", removed.status());
    let deactivated = admin.client.post(apps[0].url(&format!("/admin/users/{}/deactivate", dave.id))).send().await;
    assert_eq!(deactivated.expect("sent").status(), 200);

    // Assert: B reads both from the database within seconds: carol's socket
    // is told the room is gone, and gets nothing posted after; dave's
    // socket closes, and B refuses his requests.
    loop {
        match carol_ws.next_within(Duration::from_secs(8)).await {
            Next::Event(ServerEvent::Room { room_id, change: RoomChange::Removed, .. }) if room_id == RoomId(room) => {
                break;
            }
            Next::Event(ServerEvent::Message { message, .. }) => panic!("carol got {:?}", message.body),
            Next::Event(_) => {}
            other => panic!("carol's socket was not told of her removal: {other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(6), "told after {:?}", started.elapsed());
    apps[0].send(&alice.client, room, "after carol left").await;
    loop {
        match carol_ws.next_within(Duration::from_secs(4)).await {
            Next::Event(ServerEvent::Message { message, .. }) => panic!("carol got {:?}", message.body),
            Next::Event(_) => {}
            Next::Silent => break,
            other => panic!("{other:?}"),
        }
    }
    let (code, _) = dave_ws.until_closed().await;
    assert_eq!(code, Some(1008));
    assert_eq!(apps[1].me(&dave.client).await.status(), 401, "B still takes dave's requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_limit_holds_across_instances() {
    if skip_cluster() {
        return;
    }
    // Arrange: a budget of 4 sign-ins per IP per minute on each instance.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, config| config.sign_ins_per_ip_per_minute = 4).await;
    let client = new_client();

    // Act: attempts alternate between the instances.
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        let app = &apps[attempt % 2];
        let response = app.sign_in_with(&client, "nobody", "wrong password").await;
        statuses.push(response.status().as_u16());
        // Let the attempt reach the other instance.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert: the fifth attempt, wherever it lands, is over the budget.
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_503_while_nats_is_unreachable_and_200_when_it_returns() {
    if skip_cluster() {
        return;
    }
    // Arrange: an instance whose NATS is not running.
    let mut nats = Nats::start().await;
    nats.stop();
    let app = crate::helpers::spawn_app_with(|config| {
        config.nats_url = Some(nats.url());
        config.nats_prefix = crate::cluster_support::prefix();
    })
    .await;

    // Act + assert: it serves, and says the bus is unreachable.
    let down = app.get(&app.client, "/healthz").await;
    assert_eq!(down.status(), 503);
    let body: Value = down.json().await.expect("json");
    assert_eq!(body["bus"]["status"], "unreachable");
    assert_eq!(body["bus"]["url"], nats.url());
    assert_eq!(body["database"]["status"], "ok");
    let alice = app.user("alice").await;
    assert_eq!(app.me(&alice.client).await.status(), 200, "HTTP works without the bus");

    nats.restart().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.get(&app.client, "/healthz").await;
        if response.status() == 200 {
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["bus"]["status"], "connected");
            break;
        }
        assert!(Instant::now() < deadline, "healthz never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `who`'s room list on `app` until `check` holds for `room`'s entry,
/// for at most 5 s (well inside the caches' 30 s life, so only the bus can
/// make it hold); says what it saw last.
async fn listed_until(app: &TestApp, who: &Person, room: i64, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let rooms = app.get_json(&who.client, "/conversations").await;
        let entry = rooms.as_array().expect("rooms").iter().find(|r| r["id"].as_i64() == Some(room)).cloned();
        let entry = entry.unwrap_or(Value::Null);
        if check(&entry) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the other instance still lists {entry}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn usernames(entry: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = entry["users"]
        .as_array()
        .map_or_else(Vec::new, |users| users.iter().filter_map(|u| u["username"].as_str()).collect());
    names.sort_unstable();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_list_kept_on_one_instance_shows_what_changes_through_another() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice's list is read (and kept) on B; every change goes
    // through A.
    let nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let carol = member_of(&apps, "carol").await;
    let direct = apps[0].conversation_with(&bob.client, &[alice.id]).await;
    let group = apps[0].conversation_with(&bob.client, &[alice.id, carol.id]).await;
    listed_until(&apps[1], &alice, group, "kept", |e| usernames(e) == ["alice", "bob", "carol"]).await;
    listed_until(&apps[1], &alice, direct, "kept", |e| e["unread_count"] == 0).await;

    // Act and assert, one change at a time.
    apps[0].send(&bob.client, direct, "hello from A").await;
    listed_until(&apps[1], &alice, direct, "a message", |e| e["unread_count"] == 1).await;

    let path = apps[0].url(&format!("/conversations/{group}/membership"));
    assert_eq!(carol.client.delete(path).send().await.expect("sent").status(), 204);
    listed_until(&apps[1], &alice, group, "carol left", |e| usernames(e) == ["alice", "bob"]).await;

    let path = apps[0].url(&format!("/conversations/{group}/participants"));
    let added = bob.client.post(path).json(&json!({ "user_ids": [carol.id] })).send().await.expect("sent");
    assert_eq!(added.status(), 200);
    listed_until(&apps[1], &alice, group, "carol added", |e| usernames(e) == ["alice", "bob", "carol"]).await;

    let path = apps[0].url(&format!("/conversations/{group}/notifications"));
    let level = alice.client.put(path).json(&json!({ "level": "nothing" })).send().await.expect("sent");
    assert_eq!(level.status(), 200);
    listed_until(&apps[1], &alice, group, "a notification level", |e| e["notify_level"] == "nothing").await;

    let profile = json!({ "user": { "username": "robert", "name": "Robert" } });
    assert_eq!(bob.client.put(apps[0].url("/users/me")).json(&profile).send().await.expect("sent").status(), 200);
    listed_until(&apps[1], &alice, direct, "bob renamed", |e| usernames(e) == ["alice", "robert"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_nats_is_down_a_room_list_is_read_afresh_on_every_instance() {
    if skip_cluster() {
        return;
    }
    // Arrange: alice's list is kept on B.
    let mut nats = Nats::start().await;
    let apps = instances(&nats, 2, |_, _| {}).await;
    let (alice, bob) = (member_of(&apps, "alice").await, member_of(&apps, "bob").await);
    let room = apps[0].conversation_with(&bob.client, &[alice.id]).await;
    listed_until(&apps[1], &alice, room, "kept", |e| e["unread_count"] == 0).await;

    // Act: NATS goes away (B notices), and bob posts through A.
    nats.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    while apps[1].get(&new_client(), "/healthz").await.status() != 503 {
        assert!(Instant::now() < deadline, "B did not notice NATS going away");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    apps[0].send(&bob.client, room, "while the bus is down").await;

    // Assert: B's very next list has it, though no event told B.
    let rooms = apps[1].get_json(&alice.client, "/conversations").await;
    let entry = rooms.as_array().expect("rooms").iter().find(|r| r["id"] == room).expect("listed").clone();
    assert_eq!(entry["unread_count"], 1, "{entry}");
}
