//! Chat search on the token API: `GET /api/applications/:token/chats/:number/search`,
//! substring and case-insensitive in any script, with every query character
//! taken literally.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error_about, new_client, spawn_app};

/// An anonymous application with one chat holding `messages` (numbered from
/// 1 in order); returns its token.
async fn chat_with(app: &TestApp, messages: &[&str]) -> String {
    let application = app.create_application(&new_client(), "Searchable").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Chat").await;
    for message in messages {
        app.post_app_message(&token, 1, message).await;
    }
    token
}

#[tokio::test]
async fn search_finds_a_substring_across_a_word_boundary_in_the_seeds_shape() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello world!", "Goodbye", "yellow wormhole", "Cello WORKSHOP"]).await;

    let response = new_client()
        .get(app.url(&format!("/api/applications/{token}/chats/1/search")))
        .query(&[("query", "ello wor")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!([{ "number": 4, "content": "Cello WORKSHOP" }, { "number": 1, "content": "Hello world!" }]),
        "newest first; \"yellow wor\" is not \"ello wor\""
    );
    // The query is one substring, however many words: nine are fine.
    let words = "a b c d e f g h i";
    let token = chat_with(&app, &["x a b c d e f g h i y", "i h g f e d c b a"]).await;
    assert_eq!(app.search_chat(&token, 1, words).await, [1]);
}

#[tokio::test]
async fn search_ignores_case() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello World", "nothing here"]).await;

    for query in ["wor", "WOR", "hello world", "HeLLo wORLD", "o w"] {
        assert_eq!(app.search_chat(&token, 1, query).await, [1], "{query:?}");
    }
    assert_eq!(app.search_chat(&token, 1, "worlds").await, Vec::<i64>::new());
}

#[tokio::test]
async fn search_finds_cyrillic_and_chinese_text() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Привет, мир!", "你好世界", "Hello world", "МИРНЫЙ день"]).await;

    assert_eq!(app.search_chat(&token, 1, "мир").await, [4, 1]);
    assert_eq!(app.search_chat(&token, 1, "МИР").await, [4, 1], "case-insensitive in Cyrillic");
    assert_eq!(app.search_chat(&token, 1, "ет, м").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "世界").await, [2], "two characters");
    assert_eq!(app.search_chat(&token, 1, "你好世界").await, [2]);
    assert_eq!(app.search_chat(&token, 1, "好世").await, [2]);
    assert_eq!(app.search_chat(&token, 1, "界").await, [2], "one character");
    assert_eq!(app.search_chat(&token, 1, "世界和平").await, Vec::<i64>::new());
}

#[tokio::test]
async fn indexed_queries_ignore_case_beyond_ascii_and_take_backslashes_literally() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Über alles", "ΣΟΦΙΑ και φίλοι", "path C:\\temp\\x", "path C:tempx"]).await;

    assert_eq!(app.search_chat(&token, 1, "über").await, [1], "Ü folds to ü");
    assert_eq!(app.search_chat(&token, 1, "ÜBER ALLES").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "σοφια").await, [2], "Σ folds to σ");
    assert_eq!(app.search_chat(&token, 1, "ΦΊΛΟΙ").await, [2], "and back, with its accent");
    assert_eq!(app.search_chat(&token, 1, "C:\\temp").await, [3], "a backslash is itself");
    assert_eq!(app.search_chat(&token, 1, "\\temp\\").await, [3]);
    assert_eq!(app.search_chat(&token, 1, "C:temp").await, [4], "and not an escape");
}

#[tokio::test]
async fn queries_of_one_or_two_characters_find_substrings_too() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello", "ok", "xyz"]).await;

    assert_eq!(app.search_chat(&token, 1, "o").await, [2, 1]);
    assert_eq!(app.search_chat(&token, 1, "O").await, [2, 1], "case-insensitive");
    assert_eq!(app.search_chat(&token, 1, "lo").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "HE").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "q").await, Vec::<i64>::new());
}

#[tokio::test]
async fn queries_of_one_or_two_characters_ignore_case_in_any_script() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Привет, мир!", "Ärger", "Éclair"]).await;

    assert_eq!(app.search_chat(&token, 1, "пр").await, [1], "lower-case query, upper-case text");
    assert_eq!(app.search_chat(&token, 1, "МИ").await, [1], "upper-case query, lower-case text");
    assert_eq!(app.search_chat(&token, 1, "är").await, [2]);
    assert_eq!(app.search_chat(&token, 1, "é").await, [3]);
}

#[tokio::test]
async fn percent_and_underscore_are_literal() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["50% off", "500 off", "a_b", "axb", "plain"]).await;

    assert_eq!(app.search_chat(&token, 1, "50%").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "0% off").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "a_b").await, [3]);
    assert_eq!(app.search_chat(&token, 1, "%").await, [1], "one character");
    assert_eq!(app.search_chat(&token, 1, "_").await, [3], "one character");
    assert_eq!(app.search_chat(&token, 1, "_b").await, [3], "two characters");
    assert_eq!(app.search_chat(&token, 1, "%%%").await, Vec::<i64>::new());
    assert_eq!(app.search_chat(&token, 1, "___").await, Vec::<i64>::new());
}

#[tokio::test]
async fn quotes_stars_and_fts_operators_are_literal_text() {
    let app = spawn_app().await;
    let token = chat_with(
        &app,
        &[
            r#"she said "hi" twice"#,
            "2*3=6",
            "cats AND dogs",
            "NEAR(x, y)",
            "body: text",
            "it's fine",
            "cats dogs",
            "^start -minus +plus",
        ],
    )
    .await;

    let cases: &[(&str, &[i64])] = &[
        (r#""hi""#, &[1]),
        (r#"said ""#, &[1]),
        ("\"", &[1]),
        (r#""hi"#, &[1]),
        ("2*3", &[2]),
        ("*", &[2]),
        ("2*", &[2]),
        ("AND", &[3]),
        ("cats AND dogs", &[3]),
        ("cats OR dogs", &[]),
        ("NOT", &[]),
        ("NEAR(", &[4]),
        ("NEAR(x y)", &[]),
        ("body:", &[5]),
        ("body: text", &[5]),
        ("it's", &[6]),
        ("'", &[6]),
        ("^start", &[8]),
        ("-minus", &[8]),
        ("+plus", &[8]),
        ("(x,", &[4]),
        (")", &[4]),
    ];

    for (query, expected) in cases {
        assert_eq!(app.search_chat(&token, 1, query).await, *expected, "{query:?}");
    }
}

#[tokio::test]
async fn results_are_newest_first_and_limited() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["match 1", "other", "match 3", "match 4", "other", "match 6"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search"));
    let numbers =
        |hits: Value| -> Vec<i64> { hits.as_array().unwrap().iter().map(|h| h["number"].as_i64().unwrap()).collect() };

    let all: Value = new_client().get(&url).query(&[("query", "match")]).send().await.unwrap().json().await.unwrap();
    let two: Value =
        new_client().get(&url).query(&[("query", "match"), ("limit", "2")]).send().await.unwrap().json().await.unwrap();
    let short_two: Value =
        new_client().get(&url).query(&[("query", "ma"), ("limit", "2")]).send().await.unwrap().json().await.unwrap();

    assert_eq!(numbers(all), [6, 4, 3, 1]);
    assert_eq!(numbers(two), [6, 4]);
    assert_eq!(numbers(short_two), [6, 4], "the scan fallback pages the same way");
}

#[tokio::test]
async fn a_limit_of_zero_is_422_with_errors() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["match 1"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search"));

    let response = new_client().get(&url).query(&[("query", "match"), ("limit", "0")]).send().await.unwrap();

    let body = assert_error_about("limit", response, 422).await;
    assert!(body["errors"].to_string().contains("Limit must be at least 1 (at most 100 are returned)"), "{body}");
}

#[tokio::test]
async fn the_seeds_json_body_on_the_get_is_accepted() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello World", "other"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search"));

    let response = new_client().get(&url).json(&json!({ "search_query": "wor" })).send().await.unwrap();
    let short = new_client().get(&url).json(&json!({ "search_query": "W" })).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([{ "number": 1, "content": "Hello World" }]));
    assert_eq!(short.status(), 200);
    assert_eq!(short.json::<Value>().await.unwrap(), json!([{ "number": 1, "content": "Hello World" }]));
}

#[tokio::test]
async fn a_blank_query_is_422_with_errors() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search"));
    let client = new_client();
    let requests = [
        client.get(&url),
        client.get(&url).query(&[("query", "")]),
        client.get(&url).query(&[("query", "   ")]),
        client.get(&url).query(&[("query", "\n\t")]),
        client.get(&url).json(&json!({ "search_query": "" })),
        client.get(&url).json(&json!({ "search_query": "  " })),
        client.get(&url).json(&json!({})),
    ];

    for request in requests {
        let request = request.build().unwrap();
        let what = format!("{:?} {:?}", request.url().query(), request.body().and_then(|b| b.as_bytes()));
        let response = client.execute(request).await.unwrap();

        assert_error_about(&what, response, 422).await;
    }
}

#[tokio::test]
async fn an_edited_message_is_found_by_its_new_text_and_not_its_old() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["the old wording", "unrelated"]).await;
    assert_eq!(app.search_chat(&token, 1, "old wording").await, [1]);

    let edited = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1/messages/1")))
        .json(&json!({ "message_content": "the new phrasing" }))
        .send()
        .await
        .unwrap();

    assert_eq!(edited.status(), 200);
    assert_eq!(app.search_chat(&token, 1, "old wording").await, Vec::<i64>::new());
    assert_eq!(app.search_chat(&token, 1, "ol").await, Vec::<i64>::new(), "nor by a short query");
    assert_eq!(app.search_chat(&token, 1, "new phrasing").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "ph").await, [1]);
    let response = new_client()
        .get(app.url(&format!("/api/applications/{token}/chats/1/search")))
        .query(&[("query", "phras")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!([{ "number": 1, "content": "the new phrasing" }]));
}

#[tokio::test]
async fn search_stays_inside_its_chat_and_its_application() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["needle in chat 1"]).await;
    app.create_chat(&token, "Second").await;
    app.post_app_message(&token, 2, "needle in chat 2").await;
    let other = chat_with(&app, &["needle elsewhere"]).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "needle in a conversation").await;

    assert_eq!(app.search_chat(&token, 1, "needle").await, [1]);
    assert_eq!(app.search_chat(&token, 2, "needle").await, [1]);
    assert_eq!(app.search_chat(&other, 1, "needle").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "ne").await, [1], "the short-query scan too");
    let hits: Value = new_client()
        .get(app.url(&format!("/api/applications/{token}/chats/2/search")))
        .query(&[("query", "needle")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hits, json!([{ "number": 1, "content": "needle in chat 2" }]));
}

#[tokio::test]
async fn a_message_deleted_in_the_web_ui_leaves_the_chat_search() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let application = app.create_application(&alice.client, "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Ticket").await;
    app.post_app_message(&token, 1, "the API's question").await;
    let room = app.room_titled(&alice.client, "Ticket").await;
    app.send(&alice.client, room, "my secret answer").await;
    assert_eq!(app.search_chat(&token, 1, "secret answer").await, [2]);

    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/2"))).send().await.unwrap();

    assert_eq!(deleted.status(), 204);
    assert_eq!(app.search_chat(&token, 1, "secret answer").await, Vec::<i64>::new());
    assert_eq!(app.search_chat(&token, 1, "my").await, Vec::<i64>::new(), "nor by a short query");
    assert_eq!(app.search_chat(&token, 1, "question").await, [1]);
    let url = app.url(&format!("/api/applications/{token}/chats/1/messages/2"));
    let shown: Value = new_client().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["message_number"], 2);
    assert_eq!(shown["message_content"], Value::Null, "the number stays, the text goes");
    let edit = new_client().patch(&url).json(&json!({ "message_content": "revived" })).send().await.unwrap();
    assert_eq!(edit.status(), 404, "a deleted message can't be brought back through the API");
    assert_eq!(app.search_chat(&token, 1, "revived").await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_json_content_type_with_no_body_does_not_stop_a_query_string_search() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello World"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search?query=wor"));

    let response = new_client().get(&url).header("Content-Type", "application/json").send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([{ "number": 1, "content": "Hello World" }]));
}

#[tokio::test]
async fn a_malformed_search_body_is_a_json_error() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Hello World"]).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/search"));

    for body in ["{", "null", r#"{"search_query": 42}"#] {
        let response =
            new_client().get(&url).header("Content-Type", "application/json").body(body).send().await.unwrap();

        assert!(matches!(response.status().as_u16(), 400 | 422), "{body}: {}", response.status());
        let errors: Value = response.json().await.unwrap_or(Value::Null);
        assert!(errors["errors"].is_array(), "{body}: {errors}");
    }
}

#[tokio::test]
async fn the_token_api_finds_an_accent_however_it_was_typed() {
    let app = spawn_app().await;
    let token = chat_with(&app, &["Grüße aus Ko\u{308}ln", "Cafe\u{301} au lait", "Café noir"]).await;

    assert_eq!(app.search_chat(&token, 1, "köln").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "ko\u{308}ln").await, [1]);
    assert_eq!(app.search_chat(&token, 1, "café").await, [3, 2]);
    assert_eq!(app.search_chat(&token, 1, "cafe\u{301}").await, [3, 2]);
}
