//! The seeds' remaining contracts (issue 20, part 2): seed 003's "Create
//! Message" route, `{"errors": […]}` on every 404 and 405 of the token API
//! and the REST API, PUT versus PATCH on the token API, and what
//! `GET /api/applications` means without a session.

use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_about, new_client, spawn_app};

/// An anonymous application with one chat; returns its token.
async fn application_with_a_chat(app: &TestApp) -> String {
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Help").await;
    token
}

async fn send(client: &Client, method: Method, url: String, body: Option<Value>) -> Response {
    let request = client.request(method, url);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

/// Asserts a JSON error with `status` whose first message contains each of
/// `words`, and returns the message.
async fn assert_error_saying(what: &str, response: Response, status: u16, words: &[&str]) -> String {
    let body = assert_error_about(what, response, status).await;
    let message = body["errors"][0].as_str().unwrap_or_else(|| panic!("{what}: no message in {body}")).to_owned();
    for word in words {
        assert!(message.contains(word), "{what}: {message:?} does not say {word:?}");
    }
    message
}

// Seed 003: "Create Message" is `POST /api/applications/:token/chats/:number`.

#[tokio::test]
async fn posting_to_a_chat_itself_creates_a_message_as_posting_to_its_messages_does() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let chat_url = app.url(&format!("/api/applications/{token}/chats/1"));

    let first = app.post_app_message(&token, 1, "through /messages").await;
    let response = new_client().post(&chat_url).json(&json!({ "message_content": "hello world!" })).send().await;
    let response = response.unwrap();
    let status = response.status();
    let seeds: Value = response.json().await.unwrap();
    let third = app.post_app_message(&token, 1, "through /messages again").await;

    assert_eq!(status, 201);
    assert_eq!(seeds["type"], "message");
    assert_eq!(seeds["application_token"], token);
    assert_eq!(seeds["chat_number"], 1);
    assert_eq!(seeds["message_number"], 2, "one numbering for both routes");
    assert_eq!(seeds["message_content"], "hello world!");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&seeds), keys(&first), "the same body as POST …/messages");
    assert_eq!((first["message_number"].as_i64(), third["message_number"].as_i64()), (Some(1), Some(3)));
    let shown = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages/2")).await;
    assert_eq!(shown, seeds, "stored as any other message");
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await["messages_count"], 3);
}

#[tokio::test]
async fn posting_to_a_chat_itself_refuses_what_posting_to_its_messages_refuses() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let chat = format!("/api/applications/{token}/chats/1");
    let client = new_client();

    // The seed's example request body says `application_name`: a slip in the
    // seed; the field is `message_content`, as its response shows.
    let seeds_typo = client.post(app.url(&chat)).json(&json!({ "application_name": "myapp" })).send().await.unwrap();
    assert_error_saying("the seed's example body", seeds_typo, 422, &["Message content"]).await;
    let blank = client.post(app.url(&chat)).json(&json!({ "message_content": " " })).send().await.unwrap();
    assert_error_saying("a blank message", blank, 422, &["Message content can't be blank"]).await;
    let too_long = client.post(app.url(&chat)).json(&json!({ "message_content": "x".repeat(10_001) })).send().await;
    assert_error_saying("a long message", too_long.unwrap(), 422, &["too long"]).await;
    let not_json = client.post(app.url(&chat)).body("message_content=hi").send().await.unwrap();
    assert_error(not_json, 415).await;
    let unknown_chat =
        client.post(app.url(&format!("/api/applications/{token}/chats/9"))).json(&json!({ "body": "x" }));
    assert_error(unknown_chat.send().await.unwrap(), 404).await;
    let unknown_token = client.post(app.url(&format!("/api/applications/{}/chats/1", "0".repeat(48))));
    assert_error(unknown_token.json(&json!({ "message_content": "x" })).send().await.unwrap(), 404).await;

    assert_eq!(app.get_json(&client, &chat).await["messages_count"], 0, "nothing was posted");
    assert_eq!(app.post_app_message(&token, 1, "first").await["message_number"], 1, "no number was used up");
}

// `{"errors": […]}` on every 404 and 405.

/// Each (method, path, methods the `Allow` header must list).
fn wrong_methods(token: &str) -> Vec<(Method, String, &'static [&'static str])> {
    let t = |path: &str| format!("/api/applications/{token}{path}");
    vec![
        (Method::DELETE, "/api/applications".into(), &["GET", "POST"]),
        (Method::PUT, "/api/applications".into(), &["GET", "POST"]),
        (Method::DELETE, t(""), &["GET", "PATCH", "PUT"]),
        (Method::POST, t(""), &["GET", "PATCH", "PUT"]),
        (Method::DELETE, t("/chats"), &["GET", "POST"]),
        (Method::PATCH, t("/chats"), &["GET", "POST"]),
        (Method::DELETE, t("/chats/1"), &["GET", "POST", "PATCH", "PUT"]),
        (Method::DELETE, t("/chats/1/messages"), &["GET", "POST"]),
        (Method::POST, t("/chats/1/messages/1"), &["GET", "PATCH", "PUT"]),
        (Method::DELETE, t("/chats/1/messages/1"), &["GET", "PATCH", "PUT"]),
        (Method::POST, t("/chats/1/search"), &["GET"]),
        (Method::DELETE, "/users".into(), &["GET", "POST"]),
        (Method::GET, "/users/sign_in".into(), &["POST"]),
        (Method::POST, "/users/me".into(), &["GET", "PUT"]),
        (Method::PUT, "/conversations".into(), &["GET", "POST"]),
        (Method::PUT, "/conversations/1".into(), &["GET", "PATCH", "DELETE"]),
        (Method::GET, "/conversations/1/join".into(), &["POST"]),
        (Method::PUT, "/conversations/1/messages".into(), &["GET", "POST"]),
        (Method::GET, "/conversations/1/messages/1".into(), &["PATCH", "DELETE"]),
        (Method::POST, "/messages".into(), &["GET"]),
        (Method::GET, "/message".into(), &["POST"]),
        (Method::POST, "/search".into(), &["GET"]),
        (Method::POST, "/healthz".into(), &["GET"]),
        (Method::DELETE, "/admin/users".into(), &["GET"]),
        (Method::POST, "/push/key".into(), &["GET"]),
        (Method::POST, "/attachments/1/x.png".into(), &["GET"]),
    ]
}

#[tokio::test]
async fn a_method_a_route_lacks_is_405_with_json_errors_and_an_allow_header() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "hi").await;
    let alice = app.user("alice").await;

    for (method, path, allowed) in wrong_methods(&token) {
        for client in [&new_client(), &alice.client] {
            let what = format!("{method} {path}");
            let body = matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({ "body": "x" }));
            let response = send(client, method.clone(), app.url(&path), body).await;

            assert_eq!(response.status(), 405, "{what}");
            let allow = response.headers().get("allow").map(|a| a.to_str().unwrap().to_owned());
            let allow = allow.unwrap_or_else(|| panic!("{what}: no Allow header"));
            for method in allowed {
                assert!(allow.split(',').any(|m| m.trim() == *method), "{what}: Allow: {allow} lacks {method}");
            }
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{what}");
            assert_error_saying(&what, response, 405, &["Method not allowed"]).await;
        }
    }
}

#[tokio::test]
async fn an_unknown_route_under_the_token_api_or_the_rest_api_is_404_with_json_errors() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "hi").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let t = |path: &str| format!("/api/applications/{token}{path}");
    let unknown_routes = [
        "/api".to_owned(),
        "/api/".into(),
        "/api/nope".into(),
        "/api/applications/".into(),
        "/api/applications/t/nope".into(),
        t("/nope"),
        t("/chats/"),
        t("/chats/1/nope"),
        t("/chats/1/messages/1/nope"),
        t("/chats/1/search/nope"),
        "/conversations/".into(),
        format!("/conversations/{room}/nothing"),
        format!("/conversations/{room}/messages/1/nothing/else"),
        "/users/nope".into(),
        "/users/me/nope".into(),
        "/messages/1".into(),
        "/search/nope".into(),
        "/admin/users/2/nope".into(),
        "/push/nope".into(),
        "/attachments/1/x.png/nope".into(),
    ];
    // (method, path, whether the route wants a session first: without one it is a 401)
    let mut requests: Vec<(Method, String, bool)> = unknown_routes
        .iter()
        .flat_map(|path| [Method::GET, Method::POST, Method::DELETE].map(|m| (m, path.clone(), false)))
        .collect();
    // A number that is not one names nothing, on a route that has the method.
    requests.extend([
        (Method::GET, t("/chats/one"), false),
        (Method::POST, t("/chats/one"), false),
        (Method::GET, t("/chats/1/messages/first"), false),
        (Method::PATCH, t("/chats/1/messages/first"), false),
        (Method::GET, "/conversations/abc".into(), true),
        (Method::POST, "/conversations/abc/messages".into(), true),
    ]);

    for (method, path, wants_session) in requests {
        let anonymous = (!wants_session).then(new_client);
        // A browser's Accept header does not turn an API path into a page.
        let clients = [(anonymous.as_ref(), "*/*"), (Some(&alice.client), "text/html,application/xhtml+xml")];
        for (client, accept) in clients.into_iter().filter_map(|(c, a)| Some((c?, a))) {
            let what = format!("{method} {path} (Accept: {accept})");
            let request = client.request(method.clone(), app.url(&path)).header("accept", accept);
            let response = request.json(&json!({ "message_content": "x" })).send().await.unwrap();

            let content_type = response.headers().get("content-type").map(|c| c.to_str().unwrap().to_owned());
            assert!(
                content_type.as_deref().is_some_and(|c| c.starts_with("application/json")),
                "{what}: {content_type:?}"
            );
            assert_error_about(&what, response, 404).await;
        }
    }
}

// PUT replaces the record's writable fields; PATCH changes what it is given.

/// Each writable record of the token API: its path, its one writable field,
/// and the field's label in errors.
fn records(token: &str) -> [(String, &'static str, &'static str); 3] {
    [
        (format!("/api/applications/{token}"), "application_name", "Application name"),
        (format!("/api/applications/{token}/chats/1"), "chat_name", "Chat name"),
        (format!("/api/applications/{token}/chats/1/messages/1"), "message_content", "Message content"),
    ]
}

#[tokio::test]
async fn put_without_the_records_writable_field_is_422_naming_it_and_changes_nothing() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "Keep me").await;
    let client = new_client();
    let records = records(&token);

    for (path, field, label) in records {
        let before = app.get_json(&client, &path).await;
        // Every other field a record shows is read-only, so it does not count.
        let others =
            json!({ "type": "x", "chats_count": 5, "messages_count": 5, "chat_number": 9, "message_number": 9 });
        for body in [json!({}), others] {
            let response = client.put(app.url(&path)).json(&body).send().await.unwrap();

            let message = assert_error_saying(&format!("PUT {path} {body}"), response, 422, &[field, label]).await;
            assert!(message.contains("missing"), "{message}");
        }
        assert_eq!(app.get_json(&client, &path).await, before, "PUT {path}");
    }
}

#[tokio::test]
async fn put_replaces_the_writable_field_of_an_application_a_chat_and_a_message() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "Before").await;
    let client = new_client();
    let records = [
        (
            format!("/api/applications/{token}"),
            json!({ "application_name": " Renamed " }),
            "application_name",
            "Renamed",
        ),
        (format!("/api/applications/{token}/chats/1"), json!({ "chat_name": "Moved" }), "chat_name", "Moved"),
        (
            format!("/api/applications/{token}/chats/1/messages/1"),
            json!({ "body": "After" }),
            "message_content",
            "After",
        ),
    ];

    for (path, body, field, value) in records {
        let response = client.put(app.url(&path)).json(&body).send().await.unwrap();

        assert_eq!(response.status(), 200, "PUT {path}");
        let put: Value = response.json().await.unwrap();
        assert_eq!(put[field], value, "PUT {path}");
        assert_eq!(app.get_json(&client, &path).await, put, "PUT {path} is stored");
    }
    let message = app.get_json(&client, &format!("/api/applications/{token}/chats/1/messages/1")).await;
    assert!(message["edited_at"].is_string(), "a PUT is an edit: {message}");
}

#[tokio::test]
async fn an_empty_patch_is_200_and_changes_nothing_on_an_application_a_chat_or_a_message() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "Keep me").await;
    let client = new_client();
    let paths = [
        format!("/api/applications/{token}"),
        format!("/api/applications/{token}/chats/1"),
        format!("/api/applications/{token}/chats/1/messages/1"),
    ];

    for path in paths {
        let before = app.get_json(&client, &path).await;
        for body in [json!({}), json!({ "type": "x", "chats_count": 7, "messages_count": 7 })] {
            let response = client.patch(app.url(&path)).json(&body).send().await.unwrap();

            assert_eq!(response.status(), 200, "PATCH {path} {body}");
            assert_eq!(response.json::<Value>().await.unwrap(), before, "PATCH {path} {body} answers the record");
        }
        assert_eq!(app.get_json(&client, &path).await, before, "PATCH {path} changed nothing");
    }
    let message = app.get_json(&client, &format!("/api/applications/{token}/chats/1/messages/1")).await;
    assert_eq!(message["edited_at"], Value::Null, "an empty PATCH is no edit");
}

#[tokio::test]
async fn patch_still_validates_the_fields_it_is_given_and_null_is_not_absent() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    app.post_app_message(&token, 1, "Keep me").await;
    let client = new_client();
    let records = records(&token);

    for (path, field, label) in records {
        let before = app.get_json(&client, &path).await;
        for method in [Method::PATCH, Method::PUT] {
            for value in [json!(null), json!(" ")] {
                let body = json!({ field: value });
                let what = format!("{method} {path} {body}");
                let response = send(&client, method.clone(), app.url(&path), Some(body)).await;

                assert_error_saying(&what, response, 422, &[&format!("{label} can't be blank")]).await;
            }
        }
        assert_eq!(app.get_json(&client, &path).await, before, "{path}");
    }
}

#[tokio::test]
async fn an_empty_patch_or_put_on_an_unknown_record_is_404_before_anything_else() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let client = new_client();
    let unknown = "0".repeat(48);

    for path in [
        format!("/api/applications/{unknown}"),
        format!("/api/applications/{token}/chats/2"),
        format!("/api/applications/{token}/chats/1/messages/1"),
    ] {
        for method in [Method::PATCH, Method::PUT] {
            let response = send(&client, method.clone(), app.url(&path), Some(json!({}))).await;

            assert_error_about(&format!("{method} {path}"), response, 404).await;
        }
    }
}

// `GET /api/applications` without a session.

#[tokio::test]
async fn listing_applications_without_a_session_is_401_pointing_to_the_token_route_and_shows_no_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let hers = app.create_application(&alice.client, "Alice's").await;
    let anonymous = app.create_application(&new_client(), "Nobody's").await;
    let anyone = new_client();

    let response = app.get(&anyone, "/api/applications").await;

    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    for token in [&hers["application_token"], &anonymous["application_token"]] {
        assert!(!text.contains(token.as_str().unwrap()), "{text}");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    let message = body["errors"][0].as_str().unwrap();
    assert!(message.contains("signed-in owner"), "{message}");
    assert!(message.contains("GET /api/applications/:token"), "{message}");
    assert_eq!(app.get_json(&alice.client, "/api/applications").await, json!([hers]), "the owner still lists hers");
}
