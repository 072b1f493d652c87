//! One table over every API route and server function, each sent every kind
//! of malformed input an attack tried (issue 11, item 6): NUL in every text
//! field, 100,000 ids, broken and oversized bodies, the wrong content type,
//! multipart, and junk in the query string. No answer may be a 5xx, and
//! every error answer carries a JSON `errors` body.

use app::api::*;
use leptos::server_fn::ServerFn;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, oversized_request, spawn_app};

/// Every REST route, with `{room}` for a room the caller belongs to.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/users"),
    ("GET", "/users"),
    ("POST", "/users/sign_in"),
    ("DELETE", "/users/sign_out"),
    ("GET", "/users/me"),
    ("PUT", "/users/me"),
    ("GET", "/conversations"),
    ("POST", "/conversations"),
    ("GET", "/conversations/{room}"),
    ("POST", "/conversations/{room}/join"),
    ("DELETE", "/conversations/{room}/membership"),
    ("POST", "/conversations/{room}/participants"),
    ("DELETE", "/conversations/{room}/participants/2"),
    ("GET", "/rooms"),
    ("GET", "/conversations/{room}/messages"),
    ("POST", "/conversations/{room}/messages"),
    ("PATCH", "/conversations/{room}/messages/1"),
    ("DELETE", "/conversations/{room}/messages/2"),
    ("GET", "/messages"),
    ("POST", "/message"),
    ("GET", "/search"),
    ("GET", "/healthz"),
    ("GET", "/api/applications"),
    ("POST", "/api/applications"),
    ("GET", "/api/applications/{token}"),
    ("PATCH", "/api/applications/{token}"),
    ("GET", "/api/applications/{token}/chats"),
    ("POST", "/api/applications/{token}/chats"),
    ("GET", "/api/applications/{token}/chats/1"),
    ("PATCH", "/api/applications/{token}/chats/1"),
    ("GET", "/api/applications/{token}/chats/1/messages"),
    ("POST", "/api/applications/{token}/chats/1/messages"),
    ("GET", "/api/applications/{token}/chats/1/messages/1"),
    ("PATCH", "/api/applications/{token}/chats/1/messages/1"),
    ("GET", "/api/applications/{token}/chats/1/search"),
];

/// Every server function's path (they carry a hash suffix).
fn server_fns() -> Vec<&'static str> {
    vec![
        GetMe::PATH,
        DemoAccounts::PATH,
        Login::PATH,
        Register::PATH,
        Logout::PATH,
        UpdateProfile::PATH,
        ListConversations::PATH,
        SearchPeople::PATH,
        StartConversation::PATH,
        ListOpenRooms::PATH,
        CreateOpenRoom::PATH,
        JoinRoom::PATH,
        LeaveRoom::PATH,
        RoomDetail::PATH,
        SearchMessages::PATH,
        LoadMessages::PATH,
        SendMessage::PATH,
        EditMessage::PATH,
        DeleteMessage::PATH,
        MarkRead::PATH,
    ]
}

const NUL: &str = "a\u{0}b";

/// Every text field any route reads, set to text holding NUL, bare and
/// wrapped as ChatFlow's clients wrap them, and odd ids.
fn hostile_json() -> Value {
    let mut fields = serde_json::Map::new();
    for name in [
        "body",
        "title",
        "name",
        "email",
        "username",
        "password",
        "login",
        "query",
        "q",
        "search_query",
        "kind",
        "chat_name",
        "application_name",
        "message_content",
        "content",
        "client_id",
        "avatar_url",
    ] {
        fields.insert(name.into(), json!(NUL));
    }
    let mut all = fields.clone();
    for wrapper in ["user", "message", "conversation", "chat", "application"] {
        all.insert(wrapper.into(), Value::Object(fields.clone()));
    }
    // Short lists here; the 100,000-id lists go only to the routes that read
    // them (a 1 MB body sent to a route that answers without reading it can
    // see the connection reset under it, which says nothing about the server).
    all.insert("participant_ids".into(), json!([0, -1, i64::MAX]));
    all.insert("user_ids".into(), json!([0, -1, i64::MAX]));
    Value::Object(all)
}

/// The kinds of malformed request, each as (what, content type, body, query).
fn inputs() -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let junk_query = "q=a%00b&query=a%00b&search_query=%00&before=%00&after=x%00&limit=%00&around=-1&before_number=x\
                      &after_number=99999999999999999999&from_user=%00&to_user=x&room_id=%00";
    vec![
        ("NUL text and odd ids", "application/json", hostile_json().to_string().into_bytes(), ""),
        ("broken JSON", "application/json", b"{\"body\": ".to_vec(), ""),
        ("JSON of the wrong shape", "application/json", b"[1, 2, 3]".to_vec(), ""),
        ("text/plain", "text/plain", b"body=hello".to_vec(), ""),
        (
            "multipart",
            "multipart/form-data; boundary=XX",
            b"--XX\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--XX--\r\n".to_vec(),
            "",
        ),
        ("junk in the query string", "application/json", b"{}".to_vec(), junk_query),
    ]
}

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    method: &str,
    path: &str,
    input: &(&str, &str, Vec<u8>, &str),
) -> Response {
    let (_, content_type, body, query) = input;
    let url = if query.is_empty() { app.url(path) } else { app.url(&format!("{path}?{query}")) };
    client
        .request(Method::from_bytes(method.as_bytes()).expect("method"), url)
        .header("content-type", *content_type)
        .header("accept", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path} with {}: no answer: {e}", input.0))
}

/// Asserts no 5xx, and a JSON `errors` body on any error; returns the status.
async fn check(what: String, response: Response) -> u16 {
    let status = response.status().as_u16();
    assert!(status < 500, "{what}: {status} {}", response.text().await.unwrap_or_default());
    if status >= 400 {
        let text = response.text().await.unwrap_or_default();
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {status}, not JSON ({e}): {text:.200}"));
        assert!(body["errors"].is_array(), "{what}: {status}: {body}");
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_malformed_input_with_a_4xx_json_error_never_a_5xx() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "hello").await;
    app.send(&alice.client, room, "delete me").await;
    // Routes that would sign alice out or take her out of the room go
    // through a client of their own.
    let anonymous = crate::helpers::new_client();
    let ends_session = |path: &str| {
        path == "/users/sign_out" || path.ends_with("/membership") || path == Logout::PATH || path == LeaveRoom::PATH
    };
    let token = app.create_application(&alice.client, "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "logs").await;
    app.post_app_message(&token, 1, "hello").await;

    let mut answered = 0;
    for input in inputs() {
        for (method, template) in ROUTES {
            let path = template.replace("{room}", &room.to_string()).replace("{token}", &token);
            let client = if ends_session(&path) { &anonymous } else { &alice.client };
            let response = send(&app, client, method, &path, &input).await;
            check(format!("{method} {path} with {}", input.0), response).await;
            answered += 1;
        }
        for path in server_fns() {
            let client = if ends_session(path) { &anonymous } else { &alice.client };
            let response = send(&app, client, "POST", path, &input).await;
            check(format!("POST {path} with {}", input.0), response).await;
            answered += 1;
        }
    }
    assert_eq!(answered, inputs().len() * (ROUTES.len() + server_fns().len()));
    // 5,000 ids (within the body limit, past the 1,000 a list may hold),
    // where lists of ids are read.
    let ids: Vec<i64> = (0..5_000).collect();
    for path in ["/conversations".to_owned(), format!("/conversations/{room}/participants")] {
        let body = json!({ "participant_ids": ids, "user_ids": ids }).to_string().into_bytes();
        let response = send(&app, &alice.client, "POST", &path, &("5,000 ids", "application/json", body, "")).await;
        assert_eq!(check(format!("POST {path} with 5,000 ids"), response).await, 422);
    }
    // An 11 MB body is refused by its declared length, before anything reads it.
    let routes = ROUTES.iter().map(|(m, p)| (*m, p.replace("{room}", &room.to_string()).replace("{token}", &token)));
    for (method, path) in routes.chain(server_fns().into_iter().map(|p| ("POST", p.to_owned()))) {
        let (status, body) = oversized_request(&app, method, &path).await;
        assert_eq!(status, 413, "{method} {path} with an 11 MB body: {body}");
        assert!(body["errors"].is_array(), "{method} {path} with an 11 MB body: {body}");
    }
    // Nothing above hurt the data.
    assert_eq!(app.history(&alice.client, room, "").await["messages"][0]["body"], "hello");
}

#[tokio::test]
async fn what_no_route_could_read_as_sent_is_refused_with_its_own_status_on_every_route() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let token = app.create_application(&alice.client, "bots").await["application_token"].as_str().unwrap().to_owned();
    let gzip_of_json =
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00\x00\x00".to_vec();
    for (method, template) in ROUTES {
        let path = template.replace("{room}", &room.to_string()).replace("{token}", &token);
        // Escapes that are not UTF-8: decoded lossily, a search would run
        // on U+FFFD instead of what was sent.
        let input = ("a query that is not UTF-8", "application/json", b"{}".to_vec(), "q=%FF&query=%C3");
        let response = send(&app, &alice.client, method, &path, &input).await;
        assert_eq!(check(format!("{method} {path} with ?q=%FF"), response).await, 400);
        // A compressed body, which no route decodes.
        let url = app.url(&path);
        let response = alice
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gzip_of_json.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers().get("accept-encoding").map(|v| v.to_str().unwrap()), Some("identity"));
        assert_eq!(check(format!("{method} {path} gzip-coded"), response).await, 415);
    }
    // Ids and plain text still pass, escaped or not.
    let found = alice.client.get(app.url("/users?query=b%C3%B6b&limit=5")).send().await.unwrap();
    assert_eq!(found.status(), 200);
    let identity = alice
        .client
        .post(app.url(&format!("/conversations/{room}/messages")))
        .header("content-encoding", "identity")
        .json(&json!({ "body": "uncompressed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), 201);
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_a_422_not_a_failed_sign_in_and_a_zero_limit_is_refused() {
    let app = spawn_app().await;
    app.register("alice").await;
    let sign_in = |body: Value| {
        let client = crate::helpers::new_client();
        let url = app.url("/users/sign_in");
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    for body in [json!({ "user": { "email": 5, "password": "x" } }), json!({ "email": ["alice"], "password": "x" })] {
        assert_eq!(check(format!("sign-in with {body}"), sign_in(body.clone()).await).await, 422, "{body}");
    }
    // Both shapes still sign in.
    let wrapped = json!({ "user": { "email": "alice@example.com", "password": crate::helpers::PASSWORD } });
    assert_eq!(sign_in(wrapped).await.status(), 200);
    let bare = json!({ "login": "alice", "password": crate::helpers::PASSWORD });
    assert_eq!(sign_in(bare).await.status(), 200);
    assert_eq!(sign_in(json!({ "user": { "email": "alice@example.com", "password": "wrong" } })).await.status(), 401);

    let zero = app.client.get(app.url("/users?limit=0")).send().await.unwrap();
    let errors = crate::helpers::assert_error(zero, 422).await;
    assert!(errors["errors"][0].as_str().unwrap().contains("Limit"), "{errors}");
    let many = app.client.get(app.url("/users?limit=100000")).send().await.unwrap();
    assert_eq!(many.status(), 200, "more than the most is served as the most");
}

#[tokio::test]
async fn a_body_that_does_not_read_says_which_field_and_what_was_wrong_in_plain_words() {
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let post = |body: &'static str| {
        let client = alice.client.clone();
        let url = app.url(&format!("/conversations/{room}/messages"));
        async move { client.post(url).header("content-type", "application/json").body(body).send().await.unwrap() }
    };

    let wrong_type = crate::helpers::assert_error(post(r#"{"body": 5}"#).await, 422).await;
    let broken = crate::helpers::assert_error(post(r#"{"body": "x"#).await, 400).await;

    assert_eq!(
        wrong_type["errors"][0],
        "Invalid request body: body: invalid type: integer `5`, expected a string at line 1 column 10"
    );
    assert_eq!(broken["errors"][0], "Invalid JSON: body: EOF while parsing a string at line 1 column 11");
}

#[tokio::test]
async fn an_array_where_an_object_belongs_is_a_422_not_read_field_by_field() {
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "hello").await;
    let token = app.create_application(&alice.client, "bots").await["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "logs").await;
    app.post_app_message(&token, 1, "hello").await;
    // Each would have been read by position: a name, a chat, a message with
    // a client_id, an edit.
    let writes = [
        ("POST", "/api/applications".to_owned(), r#"["made from an array"]"#),
        ("POST", format!("/api/applications/{token}/chats"), r#"["chat from array"]"#),
        ("POST", format!("/api/applications/{token}/chats/1/messages"), r#"["msg"]"#),
        ("POST", format!("/conversations/{room}/messages"), r#" ["hi", "cid-1", null, []]"#),
        ("PATCH", format!("/conversations/{room}/messages/1"), r#"["edited"]"#),
        ("PUT", "/users/me".to_owned(), r#"[{"name": "Array"}]"#),
    ];
    for (method, path, body) in writes {
        let input = ("an array", "application/json", body.as_bytes().to_vec(), "");
        let response = send(&app, &alice.client, method, &path, &input).await;
        let errors = crate::helpers::assert_error(response, 422).await;
        assert_eq!(
            errors["errors"][0], "Invalid request body: expected a JSON object, not an array",
            "{method} {path}"
        );
    }
    // Nothing was made or changed.
    assert_eq!(app.history(&alice.client, room, "").await["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.history(&alice.client, room, "").await["messages"][0]["body"], "hello");
    let chats = app.client.get(app.url(&format!("/api/applications/{token}/chats"))).send().await.unwrap();
    assert_eq!(chats.json::<Value>().await.unwrap().as_array().map(Vec::len), Some(1));
    // A `+json` type is still JSON.
    let object = alice
        .client
        .post(app.url(&format!("/conversations/{room}/messages")))
        .header("content-type", "application/vnd.api+json; charset=utf-8")
        .body(r#"{"body": "typed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(object.status(), 201);
}
