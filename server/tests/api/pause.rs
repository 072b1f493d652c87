//! Pausing my notifications ("do not disturb"): `PUT`/`DELETE
//! /users/me/notifications/pause`, shown on `/users/me` and told to every
//! tab of mine at once. (That a pause stops pushes is in `push.rs`.)

use hearth::protocol::ServerEvent;
use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};
use crate::ws_support::{QUIET, connect, person};

async fn pause(app: &TestApp, client: &Client, body: Value) -> Response {
    client.put(app.url("/users/me/notifications/pause")).json(&body).send().await.expect("sent")
}

async fn resume(app: &TestApp, client: &Client) -> Response {
    client.delete(app.url("/users/me/notifications/pause")).send().await.expect("sent")
}

fn ms_from_now(stamp: &str) -> i128 {
    let end = time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
    (end - time::OffsetDateTime::now_utc()).whole_milliseconds()
}

#[tokio::test]
async fn a_pause_shows_on_my_profile_reaches_every_tab_of_mine_and_resuming_ends_it() {
    // Arrange: two tabs of alice's, one of bob's.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let (mut tab, mut other_tab, mut bobs) =
        (connect(&app, &alice).await, connect(&app, &alice).await, connect(&app, &bob).await);
    let before = app.get_json(&alice.client, "/users/me").await;

    // Act
    let paused = pause(&app, &alice.client, json!({ "minutes": 90 })).await;

    // Assert
    assert_eq!(before["notifications_paused_until"], Value::Null, "not paused to begin with");
    assert_eq!(paused.status(), 200);
    let body: Value = paused.json().await.expect("json");
    let until = body["notifications_paused_until"].as_str().expect("until").to_owned();
    let left = ms_from_now(&until);
    assert!((89 * 60_000..=90 * 60_000).contains(&left), "90 minutes from now: {left} ms");
    assert_eq!(app.get_json(&alice.client, "/users/me").await["notifications_paused_until"], until.as_str());
    let told = ServerEvent::NotificationsPaused { until: Some(until.clone()) };
    assert_eq!(tab.next_skipping_presence().await, told);
    assert_eq!(other_tab.next_skipping_presence().await, told);
    bobs.assert_quiet(QUIET, "bob").await;
    let bobs_view = app.get_json(&bob.client, "/users?query=alice").await;
    assert!(bobs_view.to_string().contains("alice"), "{bobs_view}");
    assert!(!bobs_view.to_string().contains("paused"), "nobody else sees it: {bobs_view}");

    // Act: a new pause replaces it; resuming ends it (twice is fine).
    let until_time = pause(&app, &alice.client, json!({ "until": "2099-01-01T00:00:00Z" })).await;
    let shorter = pause(&app, &alice.client, json!({ "minutes": 5 })).await;
    let resumed = resume(&app, &alice.client).await;
    let again = resume(&app, &alice.client).await;

    // Assert
    assert_error(until_time, 422).await;
    assert_eq!(shorter.status(), 200);
    assert_eq!(resumed.status(), 200);
    assert_eq!(resumed.json::<Value>().await.expect("json"), json!({ "notifications_paused_until": null }));
    assert_eq!(again.status(), 200);
    assert_eq!(app.get_json(&alice.client, "/users/me").await["notifications_paused_until"], Value::Null);
    assert!(matches!(tab.next_skipping_presence().await, ServerEvent::NotificationsPaused { until: Some(_) }));
    assert_eq!(tab.next_skipping_presence().await, ServerEvent::NotificationsPaused { until: None });
}

#[tokio::test]
async fn a_pause_until_a_time_is_kept_in_utc_and_one_that_has_ended_reads_as_none() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let in_paris = tomorrow.to_offset(time::UtcOffset::from_hms(1, 0, 0).expect("an offset"));
    let asked = in_paris.format(&time::format_description::well_known::Rfc3339).expect("formats");

    // Act
    let paused = pause(&app, &alice.client, json!({ "until": asked })).await;
    let body: Value = paused.json().await.expect("json");
    let until = body["notifications_paused_until"].as_str().expect("until").to_owned();
    // The pause ran out (as if a day had passed).
    let past = "2000-01-01T00:00:00.000000Z";
    app.execute_sql(
        "UPDATE users SET notifications_paused_until = $1 WHERE id = $2",
        &[crate::helpers::SqlArg::Text(past.into()), crate::helpers::SqlArg::Int(alice.id)],
    )
    .await;
    let after = app.get_json(&alice.client, "/users/me").await;

    // Assert
    assert!(until.ends_with('Z'), "stored in UTC: {until}");
    assert!((ms_from_now(&until) - 86_400_000).abs() < 5_000, "the moment asked for: {until}");
    assert_eq!(after["notifications_paused_until"], Value::Null, "ended: no pause");
}

#[tokio::test]
async fn a_pause_needs_minutes_or_a_time_in_the_next_30_days_and_a_session() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let a_month_and_a_minute = time::OffsetDateTime::now_utc() + time::Duration::minutes(30 * 24 * 60 + 1);
    let too_late = a_month_and_a_minute.format(&time::format_description::well_known::Rfc3339).expect("formats");
    let refused = [
        (json!({}), "minutes"),
        (json!({ "minutes": 10, "until": "2099-01-01T00:00:00Z" }), "minutes"),
        (json!({ "minutes": 0 }), "at least 1"),
        (json!({ "minutes": -30 }), "at least 1"),
        (json!({ "minutes": 43_201 }), "at most 43200"),
        (json!({ "until": "2000-01-01T00:00:00Z" }), "in the future"),
        (json!({ "until": too_late }), "30 days"),
        (json!({ "until": "tomorrow at nine" }), "RFC 3339"),
        (json!({ "until": "" }), "RFC 3339"),
    ];

    for (body, says) in refused {
        // Act
        let response = pause(&app, &alice.client, body.clone()).await;

        // Assert
        let errors = assert_error(response, 422).await;
        assert!(errors.to_string().contains(says), "{body}: {errors}");
    }
    let longest = pause(&app, &alice.client, json!({ "minutes": 43_200 })).await;
    assert_eq!(longest.status(), 200, "30 days is allowed");
    let not_a_number = pause(&app, &alice.client, json!({ "minutes": "ten" })).await;
    assert!([400, 422].contains(&not_a_number.status().as_u16()), "{}", not_a_number.status());
    assert!(not_a_number.json::<Value>().await.expect("a JSON body")["errors"].is_array());
    let text = alice.client.put(app.url("/users/me/notifications/pause")).body("minutes=5").send().await.unwrap();
    assert_error(text, 415).await;
    let anonymous = new_client();
    assert_error(pause(&app, &anonymous, json!({ "minutes": 5 })).await, 401).await;
    assert_error(resume(&app, &anonymous).await, 401).await;
    // The refused ones changed nothing: the 30-day pause stands.
    let me = app.get_json(&alice.client, "/users/me").await;
    let left = ms_from_now(me["notifications_paused_until"].as_str().expect("paused"));
    assert!(left > 29 * 86_400_000, "{left}");
}
