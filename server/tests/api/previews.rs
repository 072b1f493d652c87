//! Link previews (issue 16): the first link of a message is fetched by the
//! server after the message is saved, through the SSRF guard, and its
//! preview arrives as an edit-like event, in history, and on replay.
//!
//! The pages come from a web server this test starts on loopback; Hearth
//! reaches it only because these tests set the test-only
//! `test_allow_loopback_fetch` (`HEARTH_TEST_ALLOW_LOOPBACK_FETCH`). Every
//! other non-public address stays refused, which the guard tests show.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hearth::model::{LinkPreview, Message};
use hearth::protocol::ServerEvent;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};
use crate::ws_support::{QUIET, connect, person};

const OG_PAGE: &str = r#"<!doctype html><html><head><title>Plain title</title>
<meta property="og:title" content="Launch notes &amp; plans">
<meta property="og:description" content="What ships on Friday.">
<meta property="og:site_name" content="Example Docs">
</head><body><p>Hello</p></body></html>"#;

/// A small web site on loopback that counts the requests for each page.
struct Site {
    base: String,
    hits: Arc<AtomicUsize>,
}

async fn og_page(State(hits): State<Arc<AtomicUsize>>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], OG_PAGE).into_response()
}

async fn hop(Path(left): Path<u32>) -> Response {
    if left == 0 {
        ([(header::CONTENT_TYPE, "text/html")], OG_PAGE).into_response()
    } else {
        Redirect::temporary(&format!("/hop/{}", left - 1)).into_response()
    }
}

async fn start_site() -> Site {
    let hits = Arc::new(AtomicUsize::new(0));
    // The tags come after 600 KiB, past the 512 KiB read.
    let late_tags = format!("<html><head><!-- {} -->{OG_PAGE}", "x".repeat(600 * 1024));
    // The tags first, then 2 MiB of body: read and cut at 512 KiB.
    let early_tags = format!("{OG_PAGE}<p>{}</p>", "y".repeat(2 * 1024 * 1024));
    let app = Router::new()
        .route("/og", get(og_page))
        .route("/og-again", get(og_page))
        .route("/hop/{left}", get(hop))
        .route("/to-private", get(|| async { Redirect::temporary("http://10.0.0.1/") }))
        .route("/to-metadata", get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }))
        .route("/to-file", get(|| async { Redirect::temporary("file:///etc/passwd") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(8)).await;
                ([(header::CONTENT_TYPE, "text/html")], OG_PAGE)
            }),
        )
        .route("/late-tags", get(move || async move { ([(header::CONTENT_TYPE, "text/html")], late_tags) }))
        .route("/early-tags", get(move || async move { ([(header::CONTENT_TYPE, "text/html")], early_tags) }))
        .route("/json", get(|| async { axum::Json(json!({ "title": "not a page" })) }))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the test site runs") });
    Site { base, hits }
}

async fn previewing_app() -> TestApp {
    spawn_app_with(|config| {
        config.link_previews = true;
        config.test_allow_loopback_fetch = true;
    })
    .await
}

/// Waits until the cache holds an answer for `url`; returns whether it was
/// a preview (a title) or nothing.
async fn cached_answer(app: &TestApp, url: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let escaped = url.replace('\'', "''");
        let rows =
            app.query_strings(&format!("SELECT COALESCE(title, '-') FROM link_previews WHERE url = '{escaped}'")).await;
        if let Some(title) = rows.first() {
            return title != "-";
        }
        assert!(Instant::now() < deadline, "no answer for {url} was kept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn message_at(app: &TestApp, client: &reqwest::Client, room: i64, number: i64) -> Message {
    let page = app.history(client, room, &format!("around={number}&limit=1")).await;
    let found = page["messages"].as_array().expect("messages").iter().find(|m| m["number"] == number).cloned();
    serde_json::from_value(found.expect("the message")).expect("a message")
}

fn expected(url: &str) -> LinkPreview {
    LinkPreview {
        url: url.to_owned(),
        title: "Launch notes & plans".into(),
        description: Some("What ships on Friday.".into()),
        site_name: Some("Example Docs".into()),
    }
}

#[tokio::test]
async fn a_links_preview_arrives_live_shows_in_history_replays_and_is_fetched_once_per_url() {
    let site = start_site().await;
    let app = previewing_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let before = app.last_seq(&bob.client, room).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, Some(before)).await;

    let url = format!("{}/og", site.base);
    let sent = app.send(&alice.client, room, &format!("See `code` and {url} for the plan")).await;
    let number = sent["number"].as_i64().expect("a number");
    assert!(sent.get("preview").is_none(), "the send is answered before any fetch");

    // The message, then the same message with its preview.
    let ServerEvent::Message { message, .. } = ws.next_skipping_presence().await else { panic!("the message first") };
    assert_eq!((message.number, message.preview), (number, None));
    let ServerEvent::MessageEdited { message, seq, .. } = ws.next_skipping_presence().await else {
        panic!("then the preview, as an edit-like event")
    };
    assert_eq!(message.preview, Some(expected(&url)));
    assert_eq!(message.edited_at, None, "a preview is not an edit");
    assert_eq!(message_at(&app, &bob.client, room, number).await.preview, Some(expected(&url)));

    // A fresh socket resuming from before the message replays both, in order.
    let mut late = connect(&app, &bob).await;
    let replayed = late.subscribe(room, Some(before)).await;
    let kinds: Vec<(i64, bool)> = replayed
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { seq, message, .. } => Some((*seq, message.preview.is_some())),
            ServerEvent::MessageEdited { seq, message, .. } => Some((*seq, message.preview.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec![(seq - 1, true), (seq, true)], "replays carry the message as it is now, in seq order");

    // The same URL again is answered from the cache: one request in all.
    let again = app.send(&alice.client, room, &format!("Again: {url}")).await;
    let again = again["number"].as_i64().expect("a number");
    ws.next_skipping_presence().await;
    let ServerEvent::MessageEdited { message, .. } = ws.next_skipping_presence().await else { panic!("its preview") };
    assert_eq!((message.number, message.preview), (again, Some(expected(&url))));
    assert_eq!(site.hits.load(Ordering::SeqCst), 1, "one fetch per URL");

    // An edit without the link takes the preview away; one with another
    // link gets that link's preview.
    let edit = |text: String| {
        let client = alice.client.clone();
        let path = app.url(&format!("/conversations/{room}/messages/{number}"));
        async move { client.patch(path).json(&json!({ "body": text })).send().await.expect("sent") }
    };
    assert_eq!(edit("No link now".into()).await.status(), 200);
    let ServerEvent::MessageEdited { message, .. } = ws.next_skipping_presence().await else { panic!("the edit") };
    assert_eq!(message.preview, None);
    ws.assert_quiet(QUIET, "bob, with no link to preview").await;
    let other = format!("{}/og-again", site.base);
    assert_eq!(edit(format!("Now [the notes]({other})")).await.status(), 200);
    let ServerEvent::MessageEdited { message, .. } = ws.next_skipping_presence().await else { panic!("the edit") };
    assert_eq!(message.preview, None);
    let ServerEvent::MessageEdited { message, .. } = ws.next_skipping_presence().await else { panic!("its preview") };
    assert_eq!(message.preview, Some(expected(&other)));
    assert_eq!(site.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_guard_refuses_private_targets_long_redirect_chains_other_schemes_slow_and_oversized_pages() {
    let site = start_site().await;
    let app = previewing_app().await;
    let alice = person(&app, "alice").await;
    let room = app.create_conversation(&alice.client, json!({ "title": "links", "kind": "open" })).await;
    let room = room.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("an id");

    let base = &site.base;
    let refused = [
        "http://10.0.0.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/".to_owned(),
        "http://nowhere.invalid/".to_owned(),
        format!("{base}/to-private"),
        format!("{base}/to-metadata"),
        format!("{base}/to-file"),
        format!("{base}/hop/4"),
        format!("{base}/late-tags"),
        format!("{base}/json"),
    ];
    let mut numbers = Vec::new();
    for url in &refused {
        // A Markdown link: a bare IPv6 literal is not a link to linkify.
        let sent = app.send(&alice.client, room, &format!("look [here]({url})")).await;
        numbers.push(sent["number"].as_i64().expect("a number"));
    }
    let slow = format!("{base}/slow");
    let slow_number = app.send(&alice.client, room, &format!("slow {slow}")).await["number"].as_i64().expect("n");
    let allowed = [format!("{base}/hop/3"), format!("{base}/early-tags")];
    let mut allowed_numbers = Vec::new();
    for url in &allowed {
        allowed_numbers
            .push(app.send(&alice.client, room, &format!("fine {url}")).await["number"].as_i64().expect("n"));
    }

    for (url, number) in refused.iter().zip(&numbers) {
        assert!(!cached_answer(&app, url).await, "{url} gives no preview");
        assert_eq!(message_at(&app, &alice.client, room, *number).await.preview, None, "{url}");
    }
    for (url, number) in allowed.iter().zip(&allowed_numbers) {
        assert!(cached_answer(&app, url).await, "{url} is previewed");
        let preview = message_at(&app, &alice.client, room, *number).await.preview.expect("a preview");
        assert_eq!(preview.title, "Launch notes & plans", "{url}");
    }
    // The page comes after 8 s; the fetch gave up at 5 s, so the answer
    // kept (well within the 15 s waited for it) is "nothing".
    assert!(!cached_answer(&app, &slow).await, "a page slower than 5 s gives none");
    assert_eq!(message_at(&app, &alice.client, room, slow_number).await.preview, None);
}

#[tokio::test]
async fn an_instance_with_previews_off_fetches_nothing() {
    let site = start_site().await;
    let app = spawn_app_with(|config| {
        config.link_previews = false;
        config.test_allow_loopback_fetch = true;
    })
    .await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await;
    app.send(&alice.client, room, &format!("{}/og", site.base)).await;
    ws.next_skipping_presence().await;
    ws.assert_quiet(Duration::from_secs(1), "bob, with previews off").await;
    assert_eq!(site.hits.load(Ordering::SeqCst), 0);
    assert!(app.query_strings("SELECT url FROM link_previews").await.is_empty());
}

#[tokio::test]
async fn a_deleted_messages_text_and_its_links_preview_leave_the_database_unless_another_message_shows_it() {
    let site = start_site().await;
    let app = previewing_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await;
    let secret = format!("{}/og?token=SECRET-IN-LINK", site.base);
    let shared = format!("{}/og-again", site.base);
    let mut numbers = Vec::new();
    for body in [
        format!("db password Hunter2Secret, see {secret}"),
        format!("shared {shared}"),
        format!("shared too {shared}"),
        "text mentioning @bob".to_owned(),
    ] {
        let sent = app.send(&alice.client, room, &body).await;
        numbers.push(sent["number"].as_i64().expect("a number"));
    }
    assert!(cached_answer(&app, &secret).await && cached_answer(&app, &shared).await, "both previews were kept");
    // Both previews are shown before anything is deleted.
    for number in &numbers[..3] {
        let deadline = Instant::now() + Duration::from_secs(15);
        while message_at(&app, &bob.client, room, *number).await.preview.is_none() {
            assert!(Instant::now() < deadline, "message {number}'s preview");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    for number in [numbers[0], numbers[1], numbers[3]] {
        let path = app.url(&format!("/conversations/{room}/messages/{number}"));
        assert_eq!(alice.client.delete(path).send().await.expect("sent").status(), 204);
    }

    // Not in the file: the deleted rows keep their numbers, not their text.
    let left = app
        .query_strings(&format!(
            "SELECT body || '|' || COALESCE(mention_ids, '-') || '|' || COALESCE(preview_url, '-') FROM messages
             WHERE room_id = {room} AND deleted_at IS NOT NULL ORDER BY number"
        ))
        .await;
    assert_eq!(left, ["|-|-", "|-|-", "|-|-"]);
    let cached = app.query_strings("SELECT url FROM link_previews ORDER BY url").await;
    assert_eq!(cached, [shared.as_str()], "the secret link went; the one a live message shows stayed");
    assert_eq!(message_at(&app, &bob.client, room, numbers[2]).await.preview, Some(expected(&shared)));
    // Search finds nothing of it either.
    let hits = app.get_json(&bob.client, "/search?q=Hunter2Secret").await;
    assert_eq!(hits["results"].as_array().map(Vec::len).unwrap_or(0), 0, "{hits}");
}
