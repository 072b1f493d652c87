//! History pages: limits, `before`/`after` by time or number, `around`, and
//! following `page_info.cursor` through long histories and shared timestamps.

use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::{SqlArg, TestApp, User, assert_error, numbers, spawn_app};

/// Alice and bob's direct room holding `count` messages by alice.
async fn room_with(app: &TestApp, count: usize) -> (User, User, i64) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, alice.id, count).await;
    (alice, bob, room)
}

/// Gives messages `from..=to` of `room` one shared `created_at`: `at`, or
/// message `from`'s own time (which keeps time order and number order alike).
async fn share_timestamp(app: &TestApp, room: i64, from: i64, to: i64, at: Option<&str>) {
    let changed = match at {
        Some(at) => {
            app.execute_sql(
                "UPDATE messages SET created_at = $1 WHERE room_id = $2 AND number BETWEEN $3 AND $4",
                &[SqlArg::Text(at.to_owned()), SqlArg::Int(room), SqlArg::Int(from), SqlArg::Int(to)],
            )
            .await
        }
        None => {
            app.execute_sql(
                "UPDATE messages SET created_at = (SELECT created_at FROM messages WHERE room_id = $1 AND number = $2)
                  WHERE room_id = $1 AND number BETWEEN $2 AND $3",
                &[SqlArg::Int(room), SqlArg::Int(from), SqlArg::Int(to)],
            )
            .await
        }
    };
    assert_eq!(changed, (to - from + 1) as u64);
}

/// Reads `room` newest page first, then `before=<cursor.before>` (a time)
/// until an empty page. Returns the pages in the order read.
async fn pages_backwards(app: &TestApp, client: &Client, room: i64, limit: u32) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut query = format!("limit={limit}");
    for _ in 0..200 {
        let page = app.history(client, room, &query).await;
        if numbers(&page).is_empty() {
            assert_eq!(page["page_info"]["cursor"]["before"], Value::Null);
            return pages;
        }
        pages.push(numbers(&page));
        let before = page["page_info"]["cursor"]["before"].as_str().expect("cursor.before");
        assert_eq!(before, page["messages"][0]["created_at"], "the cursor is the oldest message's time");
        query = format!("before={before}&limit={limit}");
    }
    panic!("paging did not end: {pages:?}");
}

/// Reads `room` from `first` (a query), then `after=<cursor.after>` until an
/// empty page.
async fn pages_forwards(app: &TestApp, client: &Client, room: i64, first: &str, limit: u32) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut query = format!("{first}&limit={limit}");
    for _ in 0..200 {
        let page = app.history(client, room, &query).await;
        if numbers(&page).is_empty() {
            return pages;
        }
        pages.push(numbers(&page));
        let after = page["page_info"]["cursor"]["after"].as_str().expect("cursor.after");
        query = format!("after={after}&limit={limit}");
    }
    panic!("paging did not end: {pages:?}");
}

/// Every number the pages visited, oldest first, each as often as seen.
fn visited(pages: &[Vec<i64>]) -> Vec<i64> {
    let mut all: Vec<i64> = pages.iter().flatten().copied().collect();
    all.sort();
    all
}

#[tokio::test]
async fn history_defaults_to_the_newest_50_ascending_with_page_info() {
    let app = spawn_app().await;
    let (_, bob, room) = room_with(&app, 60).await;

    let page = app.history(&bob.client, room, "").await;

    assert_eq!(numbers(&page), (11..=60).collect::<Vec<_>>());
    let first = &page["messages"][0];
    let last = &page["messages"][49];
    assert_eq!(
        page["page_info"],
        json!({
            "count": 50,
            "oldest": 11,
            "newest": 60,
            "cursor": { "before": first["created_at"], "after": last["created_at"] },
        })
    );
    let fields = [
        "id",
        "conversation_id",
        "number",
        "user_id",
        "user",
        "body",
        "client_id",
        "created_at",
        "edited_at",
        "deleted",
    ];
    for field in fields {
        assert!(first.get(field).is_some(), "message has {field}: {first}");
    }
}

#[tokio::test]
async fn an_empty_room_has_an_empty_page() {
    let app = spawn_app().await;
    let (_, bob, room) = room_with(&app, 0).await;

    let page = app.history(&bob.client, room, "").await;

    assert_eq!(
        page,
        json!({ "messages": [], "page_info": { "count": 0, "oldest": null, "newest": null,
            "cursor": { "before": null, "after": null } } })
    );
}

#[tokio::test]
async fn a_limit_over_200_is_clamped_and_a_bad_limit_or_cursor_is_rejected() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 250).await;

    let clamped = app.history(&alice.client, room, "limit=500").await;
    let small = app.history(&alice.client, room, "limit=1").await;

    assert_eq!(numbers(&clamped), (51..=250).collect::<Vec<_>>());
    assert_eq!(numbers(&small), [250]);
    // A limit too big for any integer type is the most there is too.
    let huge = app.history(&alice.client, room, "limit=99999999999999999999").await;
    assert_eq!(numbers(&huge), numbers(&clamped));
    let bad = [
        ("limit=0", 422),
        ("before=soon", 422),
        ("after=2024-13-45T00:00:00Z", 422),
        ("before=3&after=1", 422),
        ("before_number=3&around=1", 422),
        ("limit=abc", 400),
        // Under 1 is the same mistake as 0 (it used to be serde's 400).
        ("limit=-1", 422),
        ("limit=-99999999999999999999", 422),
        ("limit=1.5", 400),
        ("before_number=x", 400),
    ];
    for (query, status) in bad {
        let response = app.get(&alice.client, &format!("/conversations/{room}/messages?{query}")).await;

        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(!body["errors"].as_array().unwrap().is_empty(), "{query}: {body}");
    }
    // Two cursors: the answer names the two given, not ones the route lacks.
    let both = app.get(&alice.client, &format!("/conversations/{room}/messages?after_number=1&before=3")).await;
    let body = assert_error(both, 422).await;
    assert_eq!(body["errors"][0], "Give one cursor at a time, not before and after_number");
}

#[tokio::test]
async fn a_time_cursors_offset_typed_with_an_unencoded_plus_is_read_as_a_plus() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 3).await;

    // In a query string `+` means a space, so `…T12:00:00+01:00` typed
    // into curl arrives as `…T12:00:00 01:00`.
    let typed = app.history(&alice.client, room, "before=9999-01-01T12:00:00+01:00").await;
    let encoded = app.history(&alice.client, room, "before=9999-01-01T12:00:00%2B01:00").await;
    let past = app.history(&alice.client, room, "before=2000-01-01T12:00:00+01:00").await;

    assert_eq!(numbers(&typed), [1, 2, 3]);
    assert_eq!(typed, encoded);
    assert!(numbers(&past).is_empty());
    let garbled = app.get(&alice.client, &format!("/conversations/{room}/messages?before=2000-01-01T12:00:00+x")).await;
    assert_error(garbled, 422).await;
}

#[tokio::test]
async fn a_time_cursor_in_the_iso_8601_forms_rails_and_python_send_pages_as_utc() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 3).await;
    let newest = app.history(&alice.client, room, "").await;
    let third = newest["messages"][2]["created_at"].as_str().expect("a time").to_owned();
    // The third message's time (stored as `…T…Z` in UTC) written without
    // its offset (Python's naive isoformat()), with a colonless one
    // (`+0000`), and a date alone.
    let naive = third.strip_suffix('Z').expect("a UTC time").to_owned();

    let before_naive = app.history(&alice.client, room, &format!("before={naive}")).await;
    let before_colonless = app.history(&alice.client, room, &format!("before={naive}%2B0000")).await;
    let before_tomorrow = app.history(&alice.client, room, "before=9999-01-01").await;

    assert_eq!(numbers(&before_naive), [1, 2]);
    assert_eq!(before_colonless, before_naive);
    assert_eq!(numbers(&before_tomorrow), [1, 2, 3]);
}

#[tokio::test]
async fn a_time_cursor_outside_years_0_to_9999_in_utc_is_a_422_not_a_dropped_connection() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 3).await;

    // Found by fuzzing: 9999-12-31T23:59:59-01:00 is in the year 10000 in
    // UTC, and converting it panicked the handler, so the client got no answer.
    for query in [
        "before=9999-12-31T23:59:59-01:00",
        "after=9999-12-31T23:59:59.9999-23:29",
        "before=0000-01-01T00:00:00%2B01:00",
    ] {
        let response = app.get(&alice.client, &format!("/conversations/{room}/messages?{query}")).await;

        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(!body["errors"].as_array().unwrap().is_empty(), "{query}: {body}");
    }
    let last = app.history(&alice.client, room, "before=9999-12-31T23:59:59Z").await;
    assert_eq!(numbers(&last), [1, 2, 3]);
}

#[tokio::test]
async fn before_and_after_take_a_time_or_a_message_number() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 20).await;
    let all = app.history(&alice.client, room, "").await;
    let time_of_5 = all["messages"][4]["created_at"].as_str().unwrap().to_owned();
    let with_offset = time_of_5.replace('Z', "%2B00:00");

    let cases = [
        ("before=5".to_owned(), vec![1, 2, 3, 4]),
        ("before_number=5".to_owned(), vec![1, 2, 3, 4]),
        (format!("before={time_of_5}"), vec![1, 2, 3, 4]),
        (format!("before={with_offset}"), vec![1, 2, 3, 4]),
        ("before=5&limit=2".to_owned(), vec![3, 4]),
        ("after=5&limit=3".to_owned(), vec![6, 7, 8]),
        ("after_number=5&limit=3".to_owned(), vec![6, 7, 8]),
        (format!("after={time_of_5}&limit=3"), vec![6, 7, 8]),
        ("after=18".to_owned(), vec![19, 20]),
        ("after=20".to_owned(), vec![]),
        ("before=1".to_owned(), vec![]),
    ];

    for (query, expected) in cases {
        assert_eq!(numbers(&app.history(&alice.client, room, &query).await), expected, "{query}");
    }
    let around = numbers(&app.history(&alice.client, room, "around=10&limit=5").await);
    assert_eq!(around.len(), 5, "{around:?}");
    assert!(around.contains(&10) && around.windows(2).all(|w| w[1] == w[0] + 1), "{around:?}");
}

#[tokio::test]
async fn paging_through_1000_messages_by_time_cursor_visits_each_number_once_in_order() {
    let app = spawn_app().await;
    let (_, bob, room) = room_with(&app, 1000).await;

    let backwards = pages_backwards(&app, &bob.client, room, 50).await;
    let forwards = pages_forwards(&app, &bob.client, room, "after_number=0", 70).await;

    assert_eq!(backwards.len(), 20);
    let read_back: Vec<i64> = backwards.iter().rev().flatten().copied().collect();
    assert_eq!(read_back, (1..=1000).collect::<Vec<_>>(), "each page ascending, pages contiguous, none repeated");
    let read_forward: Vec<i64> = forwards.iter().flatten().copied().collect();
    assert_eq!(read_forward, (1..=1000).collect::<Vec<_>>());
}

#[tokio::test]
async fn paging_through_1000_messages_by_before_number_visits_each_number_once_in_order() {
    let app = spawn_app().await;
    let (_, bob, room) = room_with(&app, 1000).await;
    let mut pages = Vec::new();
    let mut query = "limit=64".to_owned();

    loop {
        let page = app.history(&bob.client, room, &query).await;
        let Some(oldest) = page["page_info"]["oldest"].as_i64() else { break };
        pages.push(numbers(&page));
        assert!(pages.len() <= 16, "paging did not end");
        query = format!("before_number={oldest}&limit=64");
    }

    assert_eq!(pages.len(), 16);
    let read: Vec<i64> = pages.iter().rev().flatten().copied().collect();
    assert_eq!(read, (1..=1000).collect::<Vec<_>>());
}

#[tokio::test]
async fn paging_backwards_by_time_over_a_shared_timestamp_visits_every_message_once() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 10).await;
    share_timestamp(&app, room, 3, 7, Some("2024-01-01T00:00:00.000000Z")).await;

    let pages = pages_backwards(&app, &alice.client, room, 3).await;

    assert_eq!(visited(&pages), (1..=10).collect::<Vec<_>>(), "{pages:?}");
    let group_page = pages.iter().find(|p| p.contains(&5)).unwrap();
    assert_eq!(visited(std::slice::from_ref(group_page)), [3, 4, 5, 6, 7], "the group is never split: {pages:?}");
}

#[tokio::test]
async fn paging_forwards_by_time_over_a_shared_timestamp_visits_every_message_once() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 10).await;
    share_timestamp(&app, room, 3, 7, Some("2024-01-01T00:00:00.000000Z")).await;

    let pages = pages_forwards(&app, &alice.client, room, "after=2000-01-01T00:00:00Z", 3).await;

    assert_eq!(pages[0], [3, 4, 5, 6, 7], "the oldest five share a time and come whole");
    assert_eq!(visited(&pages), (1..=10).collect::<Vec<_>>(), "{pages:?}");
}

#[tokio::test]
async fn paging_forwards_over_a_shared_timestamp_in_the_middle_keeps_number_order() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 10).await;
    share_timestamp(&app, room, 3, 7, None).await;

    let pages = pages_forwards(&app, &alice.client, room, "after=2000-01-01T00:00:00Z", 3).await;

    assert_eq!(pages, [vec![1, 2], vec![3, 4, 5, 6, 7], vec![8, 9, 10]], "3 waits for the rest of its group");
}

#[tokio::test]
async fn a_before_page_made_of_one_timestamp_group_is_ascending() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 10).await;
    share_timestamp(&app, room, 3, 7, None).await;

    let pages = pages_backwards(&app, &alice.client, room, 3).await;

    assert_eq!(pages, [vec![8, 9, 10], vec![3, 4, 5, 6, 7], vec![1, 2]]);
}

#[tokio::test]
async fn the_newest_page_never_splits_a_group_of_equal_timestamps() {
    let app = spawn_app().await;
    let (alice, _, room) = room_with(&app, 10).await;
    share_timestamp(&app, room, 6, 10, None).await;

    let pages = pages_backwards(&app, &alice.client, room, 3).await;

    assert_eq!(visited(&pages), (1..=10).collect::<Vec<_>>(), "{pages:?}");
}
