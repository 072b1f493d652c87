//! Race-free numbering, on whichever backend the run is for (it is the
//! Postgres pass that matters: there, concurrent transactions really run at
//! once, and the counter row is all that orders them). 1,000 sends to one
//! room from 50 concurrent clients get the numbers 1..=1000 exactly, no 5xx;
//! while they run, readers polling the history by number and by time cursor,
//! a live socket and a socket that keeps resuming never see a gap: each page
//! or replay carries on exactly from what its reader had. And a room loaded
//! meanwhile (`GET /conversations/:id`) never shows a message newer than its
//! own `last_number`, which resuming from its `last_seq` would send again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hearth::protocol::ServerEvent;
use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::{TestApp, numbers, spawn_app};
use crate::ws_support::{Next, Person, Ws, connect, person};

const SENDERS: usize = 50;
const SENDS_EACH: usize = 20;
const TOTAL: i64 = (SENDERS * SENDS_EACH) as i64;
/// How long the whole run may take before the test gives up.
const DEADLINE: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sends_are_numbered_1_to_1000_and_readers_polling_meanwhile_never_see_a_gap() {
    let app = Arc::new(spawn_app().await);
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        people.push(person(&app, name).await);
    }
    let others: Vec<i64> = people[1..].iter().map(|p| p.id).collect();
    let room = app.conversation_with(&people[0].client, &others).await;
    let first_seq = app.last_seq(&people[0].client, room).await;

    // The readers start before the first send and stop once they have read
    // everything (or the senders are done and a last read found the rest).
    let sent_all = Arc::new(AtomicBool::new(false));
    let by_number = tokio::spawn(poll_by_number(app.clone(), people[1].client.clone(), room, sent_all.clone()));
    let by_time = tokio::spawn(poll_by_time(app.clone(), people[2].client.clone(), room, sent_all.clone()));
    let snapshots = tokio::spawn(poll_snapshots(app.clone(), people[0].client.clone(), room, sent_all.clone()));
    let mut live = connect(&app, &people[3]).await;
    assert_eq!(live.subscribe(room, Some(first_seq)).await.len(), 0, "nothing to replay yet");
    let live = tokio::spawn(read_live(live, room, first_seq));
    let resumer = tokio::spawn(keep_resuming(app.clone(), people.remove(4), room, first_seq, sent_all.clone()));

    let started = std::time::Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let app = app.clone();
            let client = people[sender % people.len()].client.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for send in 0..SENDS_EACH {
                    let body = json!({ "body": format!("sender {sender} send {send}"), "client_id": format!("{sender}-{send}") });
                    let response = app.post_message(&client, room, body).await;
                    let status = response.status().as_u16();
                    let number = match status {
                        201 => response.json::<Value>().await.expect("json")["number"].as_i64(),
                        _ => None,
                    };
                    answers.push((status, number));
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for sender in senders {
        answers.extend(tokio::time::timeout(DEADLINE, sender).await.expect("the senders finish").expect("a sender"));
    }
    sent_all.store(true, Ordering::SeqCst);
    let sending = started.elapsed();

    let refused: Vec<_> = answers.iter().filter(|(status, _)| *status != 201).collect();
    assert!(refused.is_empty(), "every send is a 201 (no 5xx, no 409): {} were not: {refused:?}", refused.len());
    let mut got: Vec<i64> = answers.iter().map(|(_, number)| number.expect("a number")).collect();
    got.sort_unstable();
    assert_eq!(got, (1..=TOTAL).collect::<Vec<_>>(), "the numbers are 1..={TOTAL}, each once");

    let by_number = by_number.await.expect("the number reader");
    let by_time = by_time.await.expect("the time reader");
    let snapshots = snapshots.await.expect("the room loader");
    let live = live.await.expect("the live socket");
    let resumes = resumer.await.expect("the resumer");
    eprintln!(
        "{TOTAL} sends in {sending:?}; pages read: {by_number} by number, {by_time} by time; \
         {snapshots} room loads; the live socket resynced {live} times; {resumes} resumes"
    );
    assert!(by_number > 1 && by_time > 1 && snapshots > 1, "the readers read while the senders sent");

    // What a fresh page load shows agrees.
    let shown = app.get_json(&people[0].client, &format!("/conversations/{room}")).await;
    assert_eq!(shown["conversation"]["last_number"], TOTAL);
    assert_eq!(shown["conversation"]["last_seq"], first_seq + TOTAL);
}

/// Reads `after_number=<last>` pages until it has all; each page must begin
/// right after what it had and be contiguous. Returns the pages read.
async fn poll_by_number(app: Arc<TestApp>, client: Client, room: i64, sent_all: Arc<AtomicBool>) -> usize {
    let mut last = 0;
    let mut pages = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while last < TOTAL {
        let done = sent_all.load(Ordering::SeqCst);
        let page = app.history(&client, room, &format!("after_number={last}&limit=200")).await;
        let got = numbers(&page);
        assert_contiguous("after_number", last, &got);
        last += got.len() as i64;
        pages += 1;
        assert!(!(done && got.is_empty() && last < TOTAL), "all sent, but the reader stopped at {last}");
        assert!(tokio::time::Instant::now() < deadline, "the number reader is stuck at {last}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    pages
}

/// Loads the room as a window opening it does until the senders are done:
/// every message it shows is within its `last_number`, so that subscribing
/// from its `last_seq` (as docs/protocol.md says) sends none of them again,
/// and the page is the newest as of that number, not an empty one.
async fn poll_snapshots(app: Arc<TestApp>, client: Client, room: i64, sent_all: Arc<AtomicBool>) -> usize {
    let mut loads = 0;
    while !sent_all.load(Ordering::SeqCst) {
        let shown = app.get_json(&client, &format!("/conversations/{room}")).await;
        let last_number = shown["conversation"]["last_number"].as_i64().expect("last_number");
        let shown = numbers(&shown);
        let newer: Vec<i64> = shown.iter().copied().filter(|number| *number > last_number).collect();
        assert!(newer.is_empty(), "a load with last_number {last_number} showed {newer:?}, which resuming sends again");
        // Nothing is deleted here: the page ends at that message itself.
        assert_eq!(shown.last().copied().unwrap_or(0), last_number, "the newest page as of the load: {shown:?}");
        loads += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    loads
}

/// Reads by time cursor (`after=<page_info.cursor.after>`, ChatFlow's) until
/// it has all: time order is number order, and no page skips one.
async fn poll_by_time(app: Arc<TestApp>, client: Client, room: i64, sent_all: Arc<AtomicBool>) -> usize {
    let mut last = 0;
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while last < TOTAL {
        let done = sent_all.load(Ordering::SeqCst);
        let query = match &cursor {
            Some(after) => format!("after={after}&limit=200"),
            None => "after_number=0&limit=200".to_owned(),
        };
        let page = app.history(&client, room, &query).await;
        let got = numbers(&page);
        assert_contiguous("the time cursor", last, &got);
        if let Some(after) = page["page_info"]["cursor"]["after"].as_str() {
            cursor = Some(after.to_owned());
        }
        last += got.len() as i64;
        pages += 1;
        assert!(!(done && got.is_empty() && last < TOTAL), "all sent, but the time reader stopped at {last}");
        assert!(tokio::time::Instant::now() < deadline, "the time reader is stuck at {last}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    pages
}

fn assert_contiguous(how: &str, had: i64, page: &[i64]) {
    let expected: Vec<i64> = (had + 1..).take(page.len()).collect();
    assert_eq!(page, expected, "a page read by {how} after {had} has a gap or a repeat");
}

/// A socket subscribed from the start: every message arrives once, in seq
/// order, seq and number in step (number n is seq first_seq + n, since the
/// room has no other changes). A `resync` (it fell behind the room's channel)
/// resumes from the last seq, which must close the gap as well. Returns the
/// number of resyncs.
async fn read_live(mut ws: Ws, room: i64, first_seq: i64) -> usize {
    let mut last = first_seq;
    let mut resyncs = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while last < first_seq + TOTAL {
        assert!(tokio::time::Instant::now() < deadline, "the live socket is stuck at seq {last}");
        match ws.next_within(Duration::from_secs(30)).await {
            Next::Event(ServerEvent::Message { seq, message, .. }) => {
                assert_eq!(seq, last + 1, "the live socket got seq {seq} after {last}");
                assert_eq!(message.number, seq - first_seq, "number and seq move together");
                last = seq;
            }
            Next::Event(ServerEvent::Resync { .. }) => {
                resyncs += 1;
                for event in ws.subscribe(room, Some(last)).await {
                    if let ServerEvent::Message { seq, message, .. } = event {
                        assert_eq!(seq, last + 1, "the resumed replay gave seq {seq} after {last}");
                        assert_eq!(message.number, seq - first_seq);
                        last = seq;
                    }
                }
            }
            Next::Event(ServerEvent::Presence { .. } | ServerEvent::Room { .. } | ServerEvent::Typing { .. }) => {}
            other => panic!("the live socket at seq {last} got {other:?}"),
        }
    }
    resyncs
}

/// Opens a socket, subscribes with `after` = the last seq it had, checks the
/// replay carries on exactly from there up to the `subscribed` seq, closes
/// it, and again, until it has every change: each resume reads what was
/// committed at that moment. Returns the number of resumes.
async fn keep_resuming(app: Arc<TestApp>, who: Person, room: i64, first_seq: i64, sent_all: Arc<AtomicBool>) -> usize {
    let mut last = first_seq;
    let mut resumes = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while last < first_seq + TOTAL {
        let done = sent_all.load(Ordering::SeqCst);
        let mut ws = connect(&app, &who).await;
        ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": last })).await;
        let had = last;
        loop {
            match ws.next().await {
                ServerEvent::Message { seq, .. } => {
                    assert_eq!(seq, last + 1, "a replay after {had} gave seq {seq} after {last}");
                    last = seq;
                }
                ServerEvent::Subscribed { seq, .. } => {
                    assert_eq!(seq, last, "the replay after {had} ended at {last}, but subscribed says {seq}");
                    break;
                }
                ServerEvent::Presence { .. } | ServerEvent::Room { .. } => {}
                other => panic!("resuming after {had}: {other:?}"),
            }
        }
        drop(ws);
        resumes += 1;
        assert!(!(done && last == had && last < first_seq + TOTAL), "all sent, but a resume stopped at {last}");
        assert!(tokio::time::Instant::now() < deadline, "the resumer is stuck at seq {last}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    resumes
}
