//! `GET /metrics` (issue 19): absent unless configured; behind its bearer
//! token on the main address (401 without it or with a wrong one); open on
//! its own address; and after real traffic (REST posts, a failed and a
//! rate-limited sign-in, a `/ws` socket that gets frames (some held for the
//! write delay) and a `resync`, a
//! `/cable` socket) every named series is there with a non-zero value.
//!
//! The Prometheus recorder is one per process, shared by every app the test
//! binary runs, so counters are compared before and after this test's own
//! traffic rather than read as absolute numbers.

use hearth::model::{RoomId, UserId};
use hearth::protocol::ServerEvent;
use reqwest::header::AUTHORIZATION;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{TestApp, assert_error, bare_client, spawn_app, spawn_app_with};
use crate::ws_support::{connect, person};

const TOKEN: &str = "metrics-token-for-tests";

/// `GET /metrics` on the main address, with `authorization` if given.
async fn scrape_with(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut request = bare_client().get(app.url("/metrics"));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.send().await.expect("request sent")
}

/// The scrape's text, through the token.
async fn scrape(app: &TestApp) -> String {
    let response = scrape_with(app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(response.status(), 200, "scraping with the token");
    let kind = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "Prometheus text format: {kind}");
    response.text().await.expect("text")
}

/// The sum of the samples of `name` whose labels include every `labels`
/// pair (`None` when there is no such sample at all).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else { continue };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        if !labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))) {
            continue;
        }
        let sample: f64 = rest.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a sample value");
        *found.get_or_insert(0.0) += sample;
    }
    found
}

fn grew(before: &str, after: &str, name: &str, labels: &[(&str, &str)]) -> bool {
    value(after, name, labels).unwrap_or(0.0) > value(before, name, labels).unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_do_not_exist_unless_configured() {
    let app = spawn_app().await;

    assert_eq!(scrape_with(&app, None).await.status(), 404);
    assert_eq!(scrape_with(&app, Some(&format!("Bearer {TOKEN}"))).await.status(), 404);
    assert!(app.metrics_address.is_none());
}

#[tokio::test]
async fn metrics_are_refused_without_their_token_or_with_a_wrong_one() {
    let app = spawn_app_with(|config| config.metrics_token = Some(TOKEN.into())).await;

    for authorization in [None, Some("Bearer wrong-token"), Some(TOKEN), Some("Basic bWV0cmljczp4")] {
        let response = scrape_with(&app, authorization).await;
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.as_bytes()), Some(&b"Bearer"[..]));
        let body = assert_error(response, 401).await;
        assert!(body.to_string().contains("HEARTH_METRICS_TOKEN"), "{body}");
    }
    assert_eq!(scrape_with(&app, Some(&format!("Bearer {TOKEN}"))).await.status(), 200);
    // The scheme's name in any case, as HTTP's are.
    assert_eq!(scrape_with(&app, Some(&format!("bearer {TOKEN}"))).await.status(), 200);
    assert_eq!(scrape_with(&app, Some(&format!("BEARER  {TOKEN}"))).await.status(), 200);
    assert_eq!(scrape_with(&app, Some(&format!("Bearer{TOKEN}"))).await.status(), 401);
}

#[tokio::test]
async fn a_scrape_after_traffic_finds_every_named_series_with_non_zero_values() {
    let app = spawn_app_with(|config| {
        config.metrics_token = Some(TOKEN.into());
        config.metrics_listen = Some("127.0.0.1:0".parse().expect("an address"));
        config.sign_ins_per_account_per_minute = 2;
        // Long enough that a post right after another's frame is held.
        config.ws_write_delay_ms = 300;
    })
    .await;
    let before = scrape(&app).await;

    // REST: two people, a room, posts.
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    // A socket that is subscribed gets the posts as frames.
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await;
    for n in 0..3 {
        app.send(&alice.client, room, &format!("hello {n}")).await;
    }
    loop {
        if let ServerEvent::Message { message, .. } = ws.next().await
            && message.body.as_deref() == Some("hello 2")
        {
            break;
        }
    }
    // The room again from its start, now more than a replay's worth of
    // bytes behind: `resync`.
    let big = room;
    let body = "x".repeat(10_000);
    for _ in 0..110 {
        app.hearth.post_message(UserId(alice.id), RoomId(big), &body, None).await.expect("posted");
    }
    ws.send_json(json!({ "type": "subscribe", "room_id": big, "after": 0 })).await;
    loop {
        if let ServerEvent::Resync { room_id } = ws.next().await {
            assert_eq!(room_id, RoomId(big));
            break;
        }
    }
    // A `/cable` socket.
    let mut request =
        format!("{}/cable", app.address.replacen("http://", "ws://", 1)).into_client_request().expect("a valid ws url");
    request.headers_mut().insert("Cookie", HeaderValue::from_str(&alice.cookie).expect("cookie"));
    let (_cable, _) = tokio_tungstenite::connect_async(request).await.expect("the cable upgrade succeeds");
    // A write from another site, refused before it reaches the handler.
    let response = alice
        .client
        .post(app.url(&format!("/conversations/{room}/messages")))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({ "body": "from elsewhere" }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 403);
    // Wrong passwords, then the account's sign-in limit (2 a minute).
    for expected in [401, 401, 429] {
        let response = app.sign_in_with(&bare_client(), "alice", "not-her-password").await;
        assert_eq!(response.status(), expected);
    }
    // A search, answered from the instance's newest messages: the two
    // newest of the three "hello"s are newer than the oldest one looked at.
    let response = alice.client.get(app.url("/search?q=hello&limit=2")).send().await.expect("request sent");
    assert_eq!(response.status(), 200);
    // A two-letter search, answered by the scan, which read every message.
    let response = alice.client.get(app.url("/search?q=he")).send().await.expect("request sent");
    assert_eq!(response.status(), 200);

    let after = scrape(&app).await;
    let posts = [("method", "POST"), ("route", "/conversations/{id}/messages"), ("status", "201")];
    assert!(grew(&before, &after, "hearth_http_requests_total", &posts), "requests by route and status:\n{after}");
    assert!(grew(&before, &after, "hearth_http_request_duration_seconds_count", &posts), "latency by route");
    assert!(
        value(&after, "hearth_http_request_duration_seconds_bucket", &[("route", "/conversations/{id}/messages")])
            .is_some(),
        "latency is a histogram with buckets"
    );
    let unauthorized = [("route", "/users/sign_in"), ("status", "401")];
    assert!(grew(&before, &after, "hearth_http_requests_total", &unauthorized), "401s by route");
    // Refused by an outer layer (the cross-site write guard) still counts.
    let foreign = [("route", "/conversations/{id}/messages"), ("status", "403")];
    assert!(grew(&before, &after, "hearth_http_requests_total", &foreign), "403s from the cross-site guard");
    assert!(value(&after, "hearth_websockets_open", &[("endpoint", "ws")]).unwrap_or(0.0) >= 1.0, "open /ws");
    assert!(value(&after, "hearth_websockets_open", &[("endpoint", "cable")]).unwrap_or(0.0) >= 1.0, "open /cable");
    assert!(grew(&before, &after, "hearth_ws_frames_delivered_total", &[]), "frames delivered");
    assert!(grew(&before, &after, "hearth_ws_holds_total", &[]), "frames held for the write delay");
    assert!(value(&after, "hearth_ws_frames_dropped_total", &[]).is_some(), "frames dropped is reported (0 here)");
    assert!(grew(&before, &after, "hearth_ws_resyncs_total", &[("endpoint", "ws")]), "resyncs sent");
    assert!(grew(&before, &after, "hearth_message_publish_seconds_count", &[]), "message publish latency");
    assert!(grew(&before, &after, "hearth_sign_in_failures_total", &[]), "sign-in failures");
    assert!(grew(&before, &after, "hearth_rate_limited_total", &[]), "rate-limit hits");
    let newest = [("step", "newest")];
    assert!(grew(&before, &after, "hearth_search_answers_total", &newest), "searches by the step that answered");
    let scan = [("step", "scan")];
    assert!(grew(&before, &after, "hearth_search_answers_total", &scan), "short searches by the scan");
    assert!(value(&after, "hearth_db_pool_connections", &[]).unwrap_or(0.0) >= 1.0, "pool size");
    assert!(grew(&before, &after, "hearth_db_query_seconds_count", &[("pool", "read")]), "read query latency");
    assert!(grew(&before, &after, "hearth_db_query_seconds_count", &[("pool", "write")]), "write query latency");
    assert!(value(&after, "hearth_db_pool_idle_connections", &[]).is_some(), "pool idle");
    // Eight on Postgres; eight readers and the one writer on SQLite.
    let max = value(&after, "hearth_db_pool_max_connections", &[]);
    assert!(max == Some(8.0) || max == Some(9.0), "pool max: {max:?}");
    // Paths that match no route share one label, whatever they are.
    let _ = scrape_with(&app, None).await;
    for n in 0..3 {
        bare_client().get(app.url(&format!("/no/such/path/{n}"))).send().await.expect("request sent");
    }
    let last = scrape(&app).await;
    assert!(!last.contains("/no/such/path"), "no series per unmatched path");

    // The separate address serves the same, without a token.
    let own = app.metrics_address.clone().expect("a metrics address");
    let response = bare_client().get(format!("{own}/metrics")).send().await.expect("request sent");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(value(&text, "hearth_http_requests_total", &posts).is_some(), "{text}");
    drop(ws);
}

#[tokio::test]
async fn connections_refused_over_the_per_address_limit_are_counted() {
    let app = spawn_app_with(|config| {
        config.metrics_token = Some(TOKEN.into());
        config.max_connections_per_ip = 2;
    })
    .await;
    let before = scrape(&app).await;
    let address = app.address.trim_start_matches("http://").to_owned();

    // Four at once from one address, two allowed: the rest are closed.
    let mut opened = Vec::new();
    for _ in 0..4 {
        opened.push(tokio::net::TcpStream::connect(&address).await.expect("connects"));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(opened);

    // A scrape once a place is free again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let after = loop {
        let response = bare_client().get(app.url("/metrics")).bearer_auth(TOKEN).send().await;
        if let Ok(response) = response.map(reqwest::Response::error_for_status).and_then(|r| r) {
            break response.text().await.expect("text");
        }
        assert!(std::time::Instant::now() < deadline, "a scrape gets through once the connections close");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(grew(&before, &after, "hearth_connections_refused_total", &[]), "refusals counted:\n{after}");
}
