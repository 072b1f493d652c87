//! Regression tests for what an attack on a release build found (issue 11):
//! open redirects after sign-in, the token API editing people's messages,
//! search and replay exhaustion, framework errors without JSON bodies,
//! registration without a limit and split sign-in budgets.

use std::time::Duration;

use hearth::model::{RoomId, UserId};
use hearth::protocol::ServerEvent;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error, new_client, oversized_request, spawn_app, spawn_app_with};
use crate::pages::form_action;
use crate::ws_support::{connect, person};

/// Posts the no-JavaScript login form with `next`, and returns `Location`.
async fn login_form_redirect(app: &TestApp, next: &str) -> String {
    let browser = new_client();
    let html = browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/login");
    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .form(&[("login", "alice"), ("password", PASSWORD), ("next", next)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "next={next:?}: {}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_sign_in_never_redirects_off_site_whatever_next_holds() {
    let app = spawn_app().await;
    app.register("alice").await;

    for next in
        ["/\t/evil.com", "//evil.com", "/\\evil.com", "/%2F/evil.com", "https://evil.com/x", "/\n/x", "/%09/evil.com"]
    {
        assert_eq!(login_form_redirect(&app, next).await, "/", "next={next:?}");
    }
    assert_eq!(login_form_redirect(&app, "/rooms/1?around=5").await, "/rooms/1?around=5");
}

#[tokio::test]
async fn a_next_with_a_line_break_is_answered_instead_of_crashing_the_handler() {
    let app = spawn_app().await;
    app.register("alice").await;

    // Before: leptos_axum's redirect panicked building the header, and the
    // client got no answer at all.
    assert_eq!(login_form_redirect(&app, "/\r\nx").await, "/");
}

#[tokio::test]
async fn registering_never_redirects_off_site() {
    let app = spawn_app().await;
    let browser = new_client();
    let html = browser.get(app.url("/register")).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/register");

    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .form(&[
            ("email", "carol@example.com"),
            ("username", "carol"),
            ("password", PASSWORD),
            ("name", "Carol"),
            ("next", "/\t/evil.com"),
        ])
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/");
}

/// alice owns an application whose chat 1 now has bob in it, and bob has
/// written message 1 there.
async fn a_chat_with_a_persons_message() -> (TestApp, String, i64) {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let token = app.create_application(&alice.client, "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "support").await;
    let room = app.room_titled(&alice.client, "support").await;
    let added = alice
        .client
        .post(app.url(&format!("/conversations/{room}/participants")))
        .json(&json!({ "user_ids": [bob.id] }))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{}", added.status());
    app.send(&bob.client, room, "my own words").await;
    (app, token, room)
}

#[tokio::test]
async fn the_token_api_cannot_edit_a_persons_message() {
    let (app, token, room) = a_chat_with_a_persons_message().await;

    let response = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1/messages/1")))
        .json(&json!({ "message_content": "words put in bob's mouth" }))
        .send()
        .await
        .unwrap();

    assert_error(response, 403).await;
    let bob = app.hearth.store().message(RoomId(room), 1).await.unwrap().unwrap();
    assert_eq!(bob.body.as_deref(), Some("my own words"));
}

#[tokio::test]
async fn the_token_api_still_edits_its_own_messages_within_the_edit_window() {
    let (app, token, _) = a_chat_with_a_persons_message().await;
    app.post_app_message(&token, 1, "from the bot").await;

    let response = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1/messages/2")))
        .json(&json!({ "message_content": "from the bot, edited" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_token_api_keeps_the_edit_window_too() {
    let app = spawn_app_with(|c| c.edit_window_minutes = 0).await;
    let token = app.create_application(&new_client(), "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "support").await;
    app.post_app_message(&token, 1, "from the bot").await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let response = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1/messages/1")))
        .json(&json!({ "message_content": "too late" }))
        .send()
        .await
        .unwrap();

    assert_error(response, 403).await;
}

/// A room whose newest `big` messages are 10,000 characters each, with one
/// short message older than all of them.
async fn a_room_with_a_match_behind_much_text(big: usize) -> (TestApp, crate::helpers::User, i64) {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "the oldest says qz").await;
    let filler = "a".repeat(10_000);
    for _ in 0..big {
        app.hearth.post_message(UserId(alice.id), RoomId(room), &filler, None).await.unwrap();
    }
    (app, alice, room)
}

#[tokio::test]
async fn a_short_query_reads_a_bounded_amount_and_says_its_results_are_partial() {
    // 500 × 10,000 bytes is past the 2 MiB a short query may read.
    let (app, alice, _) = a_room_with_a_match_behind_much_text(500).await;

    let short = app.get_json(&alice.client, "/search?q=qz").await;

    // The scan stopped at its budget: the old match lies past it.
    assert_eq!(short["results"], json!([]), "the old match lies past the budget");
    assert_eq!(short["partial"], true);
    // Three characters or more use the index, which sees everything (a
    // quoted phrase is one term; unquoted, "s" and "qz" would be two short
    // ones, and scanned).
    let long = app.get_json(&alice.client, "/search?q=%22s%20qz%22").await;
    assert_eq!(long["results"][0]["number"], 1);
    assert_eq!(long["partial"], false);
}

/// Messages 2..=30,001 of `room`, "short 1" … newer than message 1, one a
/// second from 2027-01-01, with "late qz" as message 6,002 (the 24,000th
/// newest) and "early qz" as message 4,002 (the 26,000th); the room's
/// counters to match. Bulk SQL, SQLite's or Postgres's.
async fn thirty_thousand_short_messages(app: &TestApp, room: i64, author: i64) {
    use sqlx::Connection;
    let body = "CASE i WHEN 6001 THEN 'late qz' WHEN 4001 THEN 'early qz' ELSE 'short ' || i END";
    let counters = "UPDATE rooms SET last_number = 30001, messages_count = 30001 WHERE id = $1";
    match hearth::store::Backend::of_url(&app.database_url).expect("scheme") {
        hearth::store::Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.expect("connect");
            let insert = format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
                 INSERT INTO messages (room_id, number, user_id, body, created_at)
                 SELECT $1, i + 1, $2, {body},
                        strftime('%Y-%m-%dT%H:%M:%S', '2027-01-01', '+' || i || ' seconds') || '.000000Z'
                 FROM n"
            );
            sqlx::query(&insert).bind(room).bind(author).execute(&mut conn).await.expect("bulk insert");
            sqlx::query(counters).bind(room).execute(&mut conn).await.expect("counters");
        }
        hearth::store::Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.expect("connect");
            let insert = format!(
                "INSERT INTO messages (room_id, number, user_id, body, created_at)
                 SELECT $1, i + 1, $2, {body},
                        to_char(timestamp '2027-01-01' + i * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.000000Z'
                 FROM generate_series(1, 30000) AS i"
            );
            sqlx::query(&insert).bind(room).bind(author).execute(&mut conn).await.expect("bulk insert");
            sqlx::query(counters).bind(room).execute(&mut conn).await.expect("counters");
        }
    }
}

#[tokio::test]
async fn a_short_query_reads_at_most_25000_messages_however_short_they_are() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "the oldest says qz").await;
    // 30,000 short messages are far under the 2 MiB of text: only the
    // count of messages can stop the scan.
    thirty_thousand_short_messages(&app, room, alice.id).await;

    let short = app.get_json(&alice.client, "/search?q=qz").await;

    let numbers: Vec<i64> =
        short["results"].as_array().unwrap().iter().map(|r| r["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [6002], "the 24,000th newest is read, the 26,000th is not");
    assert_eq!(short["partial"], true);
}

#[tokio::test]
async fn a_short_query_that_reads_everything_is_not_partial() {
    let (app, alice, _) = a_room_with_a_match_behind_much_text(20).await;

    let short = app.get_json(&alice.client, "/search?q=QZ").await;

    assert_eq!(short["results"][0]["number"], 1);
    assert_eq!(short["partial"], false);
}

#[tokio::test]
async fn the_token_search_marks_partial_results_in_a_header() {
    let app = spawn_app().await;
    let token = app.create_application(&new_client(), "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "logs").await;
    app.post_app_message(&token, 1, "qz first").await;
    let search = |q: &'static str| {
        new_client().get(app.url(&format!("/api/applications/{token}/chats/1/search"))).query(&[("query", q)]).send()
    };

    let response = search("qz").await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["search-partial"], "false");
    let hits: Value = response.json().await.unwrap();
    assert_eq!(hits[0]["number"], 1);
}

#[tokio::test]
async fn searches_are_limited_per_user_and_per_application() {
    let app = spawn_app_with(|c| c.searches_per_minute = 3).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for _ in 0..3 {
        assert_eq!(app.get(&alice.client, "/search?q=hello").await.status(), 200);
    }

    let limited = app.get(&alice.client, "/search?q=hello").await;

    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429).await;
    assert_eq!(app.get(&bob.client, "/search?q=hello").await.status(), 200, "bob has his own budget");
    let token = app.create_application(&new_client(), "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "logs").await;
    let path = format!("/api/applications/{token}/chats/1/search?query=hello");
    for _ in 0..3 {
        assert_eq!(new_client().get(app.url(&path)).send().await.unwrap().status(), 200);
    }
    assert_error(new_client().get(app.url(&path)).send().await.unwrap(), 429).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_larger_than_its_byte_budget_is_a_resync() {
    // 150 messages of 10,000 characters: far under the 2,000-change limit,
    // but 1.5 MB of frames, past the 1 MiB a replay may hold.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let filler = "b".repeat(10_000);
    for _ in 0..150 {
        app.hearth.post_message(UserId(bob.id), RoomId(room), &filler, None).await.unwrap();
    }
    let mut ws = connect(&app, &alice).await;

    ws.send_json(json!({ "type": "subscribe", "room_id": room, "after": 0 })).await;

    match ws.next().await {
        ServerEvent::Resync { room_id } => assert_eq!(room_id, RoomId(room)),
        other => panic!("expected resync, got {other:?}"),
    }
    // Under the budget, the same socket gets the replay itself.
    let replayed = ws.subscribe(room, Some(100)).await;
    let seqs: Vec<i64> = replayed.iter().filter_map(ServerEvent::seq).collect();
    assert_eq!(seqs, (101..=150).collect::<Vec<_>>());
}

#[tokio::test]
async fn nul_in_text_fields_is_422_not_500() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;

    assert_error(app.get(&alice.client, "/search?q=a%00b").await, 422).await;
    assert_error(app.get(&alice.client, "/search?q=ab%00").await, 422).await;
    let sent = app.post_message(&alice.client, room, json!({ "body": "a\u{0}b" })).await;
    assert_error(sent, 422).await;
    let titled = app.create_conversation(&alice.client, json!({ "kind": "open", "title": "x\u{0}y" })).await;
    assert_error(titled, 422).await;
    let registered = new_client()
        .post(app.url("/users"))
        .json(&json!({ "email": "c\u{0}@example.com", "username": "carol", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_error(registered, 422).await;
}

#[tokio::test]
async fn too_many_participant_ids_are_refused_not_500() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    // 100,000 ids are past the body limit; 5,000 are within it, past the
    // 1,000 a list may hold.
    let everyone: Vec<i64> = (0..100_000).collect();
    let created = app.create_conversation(&alice.client, json!({ "participant_ids": everyone })).await;
    assert_error(created, 413).await;
    let ids: Vec<i64> = (0..5_000).collect();

    let created = app.create_conversation(&alice.client, json!({ "participant_ids": ids })).await;
    assert_error(created, 422).await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let added = alice
        .client
        .post(app.url(&format!("/conversations/{group}/participants")))
        .json(&json!({ "user_ids": ids }))
        .send()
        .await
        .unwrap();
    assert_error(added, 422).await;
}

#[tokio::test]
async fn oversized_bodies_are_413_with_json_errors() {
    let app = spawn_app().await;

    for (method, path) in [("POST", "/conversations/1/messages"), ("GET", "/api/applications/abc/chats/1/search")] {
        let (status, body) = oversized_request(&app, method, path).await;
        assert_eq!(status, 413, "{method} {path}");
        assert!(body["errors"].is_array(), "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn the_longest_message_fits_the_body_limit_however_it_is_escaped_and_little_more_does() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.conversation_with(&alice.client, &[app.user("bob").await.id]).await;
    let path = app.url(&format!("/conversations/{room}/messages"));
    // 10,000 characters, each outside the BMP and written as two JSON
    // escapes: 120 KB of body for the longest message there is.
    let longest = format!(r#"{{"body":"{}"}}"#, r"\ud83d\ude00".repeat(10_000));
    assert!(longest.len() > 120_000);
    let sent = alice.client.post(&path).header("Content-Type", "application/json").body(longest).send().await.unwrap();
    assert_eq!(sent.status(), 201, "the longest message, however escaped, is taken");

    // A body well past it is refused at once (declared), and so is one
    // that does not say its length (chunked), by who is not signed in too.
    let padded = format!(r#"{{"body":"hi","pad":"{}"}}"#, "x".repeat(300 << 10));
    let declared = new_client().post(app.url("/users/sign_in")).header("Content-Type", "application/json");
    assert_error(declared.body(padded.clone()).send().await.unwrap(), 413).await;
    let chunks = futures_util::stream::iter(
        padded.into_bytes().chunks(16 << 10).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let streamed = alice.client.post(&path).header("Content-Type", "application/json");
    assert_error(streamed.body(reqwest::Body::wrap_stream(chunks)).send().await.unwrap(), 413).await;
}

#[tokio::test]
async fn framework_errors_on_api_routes_have_json_bodies() {
    let app = spawn_app().await;

    let wrong_method = new_client().delete(app.url("/users/me")).send().await.unwrap();
    assert!(wrong_method.headers().contains_key("allow"));
    assert_error(wrong_method, 405).await;
    let unknown = new_client().get(app.url("/no/such/route")).header("accept", "application/json").send().await;
    assert_error(unknown.unwrap(), 404).await;
    let unknown_api = new_client().get(app.url("/conversations/1/nothing")).send().await.unwrap();
    assert_error(unknown_api, 404).await;
    // A browser asking for a page still gets the HTML one.
    let page = new_client().get(app.url("/no/such/page")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn registration_spends_the_per_ip_budget() {
    let app = spawn_app_with(|c| c.sign_ins_per_ip_per_minute = 3).await;
    for name in ["ann", "ben", "cat"] {
        assert_eq!(app.register_with(&new_client(), name).await.status(), 201);
    }

    let limited = app.register_with(&new_client(), "dan").await;

    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429).await;
}

#[tokio::test]
async fn the_register_form_spends_the_same_budget() {
    let app = spawn_app_with(|c| c.sign_ins_per_ip_per_minute = 1).await;
    assert_eq!(app.register_with(&new_client(), "ann").await.status(), 201);
    let browser = new_client();
    let html = browser.get(app.url("/register")).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/register");

    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .header("Referer", app.url("/register"))
        .form(&[("email", "ben@example.com"), ("username", "ben"), ("password", PASSWORD), ("name", ""), ("next", "")])
        .send()
        .await
        .unwrap();

    let back = response.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Too many attempts: try again in"), "{back}");
    assert!(app.hearth.store().auth_user_by_login("ben").await.unwrap().is_none());
}

#[tokio::test]
async fn an_account_has_one_sign_in_budget_however_its_login_is_typed() {
    let app = spawn_app_with(|c| c.sign_ins_per_account_per_minute = 2).await;
    app.register("bob").await;

    assert_eq!(app.sign_in_with(&new_client(), "bob", "wrong-password").await.status(), 401);
    assert_eq!(app.sign_in_with(&new_client(), "bob@example.com", "wrong-password").await.status(), 401);
    let third = app.sign_in_with(&new_client(), "BOB", PASSWORD).await;

    assert_error(third, 429).await;
}

/// Text that shows nothing is blank wherever blank is refused, and names and
/// titles refuse the direction controls that would show them reversed.
#[tokio::test]
async fn invisible_text_is_blank_and_names_refuse_direction_controls() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.conversation_with(&alice.client, &[app.user("bob").await.id]).await;
    let token =
        app.create_application(&alice.client, "Deploys").await["application_token"].as_str().expect("token").to_owned();
    let c = &alice.client;
    let errors =
        |body: Value| body["errors"].as_array().expect("errors").iter().map(|e| e.to_string()).collect::<Vec<_>>();

    for invisible in ["\u{200b}", " \u{feff}\u{2060} ", "\u{200d}"] {
        let body = assert_error(app.post_message(c, room, json!({ "body": invisible })).await, 422).await;
        assert_eq!(body["errors"][0], "Body can't be blank", "{invisible:?}");
        let open = c.post(app.url("/conversations")).json(&json!({ "kind": "open", "title": invisible }));
        let body = assert_error(open.send().await.unwrap(), 422).await;
        assert!(errors(body.clone()).iter().any(|e| e.contains("can't be blank")), "{invisible:?}: {body}");
        let made = c.post(app.url("/api/applications")).json(&json!({ "application_name": invisible }));
        let body = assert_error(made.send().await.unwrap(), 422).await;
        assert_eq!(body["errors"][0], "Application name can't be blank", "{invisible:?}");
        let chat = new_client().post(app.url(&format!("/api/applications/{token}/chats")));
        let body = assert_error(chat.json(&json!({ "chat_name": invisible })).send().await.unwrap(), 422).await;
        assert_eq!(body["errors"][0], "Chat name can't be blank", "{invisible:?}");
    }
    // A name of nothing visible is no name: the username shows instead.
    let renamed = c.put(app.url("/users/me")).json(&json!({ "user": { "name": "\u{200b}" } })).send().await.unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(app.me(c).await.json::<Value>().await.unwrap()["name"], Value::Null);

    for reversed in ["\u{202e}Carol", "Bob\u{2066}x\u{2069}"] {
        let renamed = c.put(app.url("/users/me")).json(&json!({ "user": { "name": reversed } })).send().await.unwrap();
        let body = assert_error(renamed, 422).await;
        assert_eq!(body["errors"][0], "Name can't contain text direction controls");
        let open = c.post(app.url("/conversations")).json(&json!({ "kind": "open", "title": reversed }));
        let body = assert_error(open.send().await.unwrap(), 422).await;
        assert_eq!(body["errors"][0], "Title can't contain text direction controls");
        let rename = c.patch(app.url(&format!("/conversations/{room}"))).json(&json!({ "title": reversed }));
        assert_error(rename.send().await.unwrap(), 422).await;
    }
    // Right-to-left letters are names like any other, and a message may
    // carry a direction mark.
    let renamed = c.put(app.url("/users/me")).json(&json!({ "user": { "name": "שלום" } })).send().await.unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(app.post_message(c, room, json!({ "body": "\u{202b}שלום\u{202c} ok" })).await.status(), 201);
}
