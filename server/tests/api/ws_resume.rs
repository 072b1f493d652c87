//! Resuming a room after a dropped socket (docs/protocol.md, "Sequence numbers
//! and resume"): the replay holds exactly the missed changes, the hand-over to
//! live has no gap or duplicate while others keep sending (alice drops and
//! resumes some 25 to 30 times per run), and applying every frame ends at what
//! a fresh page load shows.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hearth::protocol::ServerEvent;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::sync::watch;

use crate::helpers::{TestApp, spawn_app};
use crate::ws_support::{Next, Person, QUIET, Ws, connect, person};

/// Messages bob sends in all, on one instance.
const TOTAL: usize = 800;
const SENDERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_subscription_gets_exactly_the_missed_changes_seed_7() {
    resume_after_a_dropped_socket(&[spawn_app().await], TOTAL, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_subscription_gets_exactly_the_missed_changes_seed_1234() {
    resume_after_a_dropped_socket(&[spawn_app().await], TOTAL, 1234).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_subscription_gets_exactly_the_missed_changes_seed_99991() {
    resume_after_a_dropped_socket(&[spawn_app().await], TOTAL, 99_991).await;
}

/// Every message as a fresh load shows it: number → (body, deleted).
async fn fresh_load(app: &TestApp, client: &reqwest::Client, room: i64) -> BTreeMap<i64, (Option<String>, bool)> {
    let mut view = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = app.history(client, room, &format!("after_number={after}&limit=200")).await;
        let messages = page["messages"].as_array().expect("messages").clone();
        if messages.is_empty() {
            return view;
        }
        for m in messages {
            let number = m["number"].as_i64().expect("number");
            view.insert(number, (m["body"].as_str().map(str::to_owned), m["deleted"].as_bool().expect("deleted")));
            after = after.max(number);
        }
    }
}

/// Applies change events by message number, as a client does.
fn apply(view: &mut BTreeMap<i64, (Option<String>, bool)>, events: &[ServerEvent]) {
    for event in events {
        match event {
            ServerEvent::Message { message, .. } | ServerEvent::MessageEdited { message, .. } => {
                view.insert(message.number, (message.body.clone(), message.deleted));
            }
            ServerEvent::MessageDeleted { number, .. } => {
                view.insert(*number, (None, true));
            }
            _ => {}
        }
    }
}

/// A new socket for alice, asking to resume after `after`.
async fn resume(app: &TestApp, alice: &Person, room: i64, after: i64) -> Ws {
    let mut ws = connect(app, alice).await;
    ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": after })).await;
    ws
}

/// Alice's socket drops and resumes while bob sends `total` messages, and
/// edits and deletes some. With several `apps` (instances of one cluster),
/// bob sends through the last, edits through the second, and alice's socket
/// moves to the next instance at each resume.
///
/// Bob's senders hold the second half of the messages until alice first asks
/// to resume, so the later resumes (every 5 to 40 changes) happen while they
/// send.
pub(crate) async fn resume_after_a_dropped_socket(apps: &[TestApp], total: usize, seed: u64) {
    // Arrange: alice live in a room with bob, bob sending from several tasks.
    let app = &apps[0];
    let (sender_app, editor_app) = (&apps[apps.len() - 1], &apps[1 % apps.len()]);
    let gate = total / 2;
    let (alice, bob) = (person(app, "alice").await, person(app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let drop_after = rng.random_range(60..=240);
    let mut ws = connect(app, &alice).await;
    ws.subscribe(room, Some(app.last_seq(&alice.client, room).await)).await;

    let claimed = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let (resuming, resumed) = watch::channel(false);
    let url = sender_app.url(&format!("/conversations/{room}/messages"));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (claimed, sent, url, client, mut resumed) =
                (claimed.clone(), sent.clone(), url.clone(), bob.client.clone(), resumed.clone());
            tokio::spawn(async move {
                loop {
                    let i = claimed.fetch_add(1, Ordering::SeqCst) + 1;
                    if i > total {
                        return;
                    }
                    if i > gate {
                        resumed.wait_for(|go| *go).await.expect("the test is still running");
                    }
                    let response = client.post(&url).json(&json!({ "body": format!("bob {i}") })).send().await;
                    assert_eq!(response.expect("sent").status(), 201, "bob's message {i}");
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Act: alice's socket dies after `drop_after` changes; while she is away
    // bob sends more and edits and deletes messages she saw. Then she resumes,
    // and keeps dropping and resuming every few changes while bob sends.
    let mut changes: Vec<ServerEvent> = Vec::new();
    let (mut edited, mut deleted, mut edited_then_deleted) = (vec![], vec![], vec![]);
    let mut segments = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    'segments: loop {
        let quota = if segments == 0 { drop_after } else { rng.random_range(5..=40) };
        let (mut got, mut markers) = (0, Vec::new());
        while got < quota {
            assert!(tokio::time::Instant::now() < deadline, "seed {seed}: alice never caught up");
            match ws.next_within(Duration::from_millis(200)).await {
                Next::Event(ServerEvent::Subscribed { seq, .. }) => markers.push((seq, got)),
                Next::Event(event) if event.seq().is_some() => {
                    if let Some((marker, before)) = markers.last() {
                        let live = got >= *before;
                        assert!(!live || event.seq() > Some(*marker), "seed {seed}: live {event:?} after {marker}");
                    }
                    changes.push(event);
                    got += 1;
                }
                Next::Event(event @ (ServerEvent::Resync { .. } | ServerEvent::Error { .. })) => {
                    panic!("seed {seed}, segment {segments}: {event:?}")
                }
                Next::Event(_) => {}
                Next::Silent if sent.load(Ordering::SeqCst) == total => {
                    let newest = changes.last().and_then(ServerEvent::seq).unwrap_or(0);
                    if newest >= app.last_seq(&alice.client, room).await {
                        break 'segments;
                    }
                }
                Next::Silent => {}
                other => panic!("seed {seed}, segment {segments}: {other:?}"),
            }
        }
        assert!(markers.len() <= 1, "seed {seed}: one subscribed marker per subscribe: {markers:?}");
        drop(ws);
        if segments == 0 {
            tokio::time::timeout(Duration::from_secs(30), async {
                while sent.load(Ordering::SeqCst) < drop_after + 60 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await
            .expect("bob keeps sending");
            let mut seen: Vec<i64> = changes.iter().filter_map(message_number).collect();
            seen.shuffle(&mut rng);
            (edited, deleted, edited_then_deleted) = (seen[..5].to_vec(), seen[5..10].to_vec(), seen[10..12].to_vec());
            for number in edited.iter().chain(&edited_then_deleted) {
                let path = editor_app.url(&format!("/conversations/{room}/messages/{number}"));
                let response = bob.client.patch(path).json(&json!({ "body": format!("edited {number}") })).send();
                assert_eq!(response.await.expect("sent").status(), 200, "editing {number}");
            }
            for number in deleted.iter().chain(&edited_then_deleted) {
                let path = editor_app.url(&format!("/conversations/{room}/messages/{number}"));
                assert_eq!(bob.client.delete(path).send().await.expect("sent").status(), 204, "deleting {number}");
            }
        }
        let last_seen = changes.last().and_then(ServerEvent::seq).expect("alice saw changes");
        ws = resume(&apps[(segments + 1) % apps.len()], &alice, room, last_seen).await;
        resuming.send_replace(true);
        segments += 1;
    }
    ws.assert_quiet(QUIET, "alice after catching up").await;
    eprintln!("seed {seed}: dropped after {drop_after} changes, then resumed {segments} times");
    for sender in senders {
        sender.await.expect("sender finished");
    }

    // Assert: every seq once, in order, across every replay → live hand-over.
    let final_seq = app.last_seq(&alice.client, room).await;
    let seqs: Vec<i64> = changes.iter().filter_map(ServerEvent::seq).collect();
    assert_eq!(seqs, (1..=final_seq).collect::<Vec<_>>(), "seed {seed}: {segments} resumes, each seq once");
    assert!(segments >= 5, "seed {seed}: only {segments} resumes");
    assert_eq!(final_seq, total as i64 + 14, "seed {seed}: the messages, 7 edits and 7 deletes");

    // The right kinds: every message once, and the outage's edits and deletes.
    let mut numbers: Vec<i64> = changes.iter().filter_map(message_number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=total as i64).collect::<Vec<_>>(), "seed {seed}: each message once");
    let mut edits: Vec<i64> = changes
        .iter()
        .filter_map(|e| if let ServerEvent::MessageEdited { message, .. } = e { Some(message.number) } else { None })
        .collect();
    let mut deletes: Vec<i64> = changes
        .iter()
        .filter_map(|e| if let ServerEvent::MessageDeleted { number, .. } = e { Some(*number) } else { None })
        .collect();
    let (mut want_edits, mut want_deletes) =
        ([&edited[..], &edited_then_deleted].concat(), [&deleted[..], &edited_then_deleted].concat());
    for list in [&mut edits, &mut deletes, &mut want_edits, &mut want_deletes] {
        list.sort_unstable();
    }
    assert_eq!(edits, want_edits, "seed {seed}: message_edited for each edit");
    assert_eq!(deletes, want_deletes, "seed {seed}: message_deleted for each delete");

    // Applying every frame ends at a fresh load.
    let mut view = BTreeMap::new();
    apply(&mut view, &changes);
    let loaded = fresh_load(app, &alice.client, room).await;
    assert_eq!(loaded.len(), total);
    assert_eq!(view, loaded, "seed {seed}: the socket's view equals a fresh load");
    for number in &edited {
        assert_eq!(loaded[number], (Some(format!("edited {number}")), false));
    }
    for number in deleted.iter().chain(&edited_then_deleted) {
        assert_eq!(loaded[number], (None, true));
    }
}

fn message_number(event: &ServerEvent) -> Option<i64> {
    match event {
        ServerEvent::Message { message, .. } => Some(message.number),
        _ => None,
    }
}
