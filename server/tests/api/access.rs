//! Who may touch a room: every route that takes a conversation id answers a
//! member, hides the room from everyone else behind the same 404 as a
//! missing room, and asks anonymous callers to sign in.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_client, numbers, spawn_app};

struct Route {
    method: Method,
    /// With `{id}` for the conversation id.
    path: String,
    body: Option<Value>,
    /// What a member gets.
    member: u16,
}

fn route(method: Method, path: &str, body: Option<Value>, member: u16) -> Route {
    Route { method, path: path.to_owned(), body, member }
}

async fn call(app: &TestApp, client: &Client, route: &Route, room: i64) -> (u16, Option<Value>) {
    let url = app.url(&route.path.replace("{id}", &room.to_string()));
    let mut request = client.request(route.method.clone(), url).header("Accept", "application/json");
    if let Some(body) = &route.body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.ok())
}

#[tokio::test]
async fn members_may_use_every_conversation_route_others_get_404_and_anonymous_callers_401() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let mallory = app.user("mallory").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    app.send(&alice.client, group, "one").await;
    app.send(&alice.client, group, "two").await;
    let routes = [
        route(Method::GET, "/conversations/{id}", None, 200),
        route(Method::GET, "/conversations/{id}/messages", None, 200),
        route(Method::GET, "/conversations/{id}/messages?before=2&limit=1", None, 200),
        route(Method::POST, "/conversations/{id}/messages", Some(json!({ "body": "hi" })), 201),
        route(Method::PATCH, "/conversations/{id}/messages/1", Some(json!({ "body": "edited" })), 200),
        route(Method::DELETE, "/conversations/{id}/messages/2", None, 204),
        route(Method::PUT, "/conversations/{id}/messages/1/pin", None, 200),
        route(Method::GET, "/conversations/{id}/pins", None, 200),
        route(Method::DELETE, "/conversations/{id}/messages/1/pin", None, 200),
        route(Method::PUT, "/conversations/{id}/messages/1/unread", None, 200),
        route(Method::PUT, "/conversations/{id}/messages/1/save", None, 200),
        route(Method::GET, "/conversations/{id}/saved", None, 200),
        route(Method::DELETE, "/conversations/{id}/messages/1/save", None, 200),
        route(Method::POST, "/conversations/{id}/participants", Some(json!({ "user_ids": [dave.id] })), 200),
        route(Method::DELETE, &format!("/conversations/{{id}}/participants/{}", dave.id), None, 204),
        route(Method::DELETE, "/conversations/{id}/closed", None, 204),
        route(Method::POST, "/conversations/{id}/join", None, 200),
        route(Method::DELETE, "/conversations/{id}/membership", None, 204),
    ];
    let not_found = json!({ "errors": ["conversation not found"] });

    for r in &routes {
        let what = format!("{} {}", r.method, r.path);
        let (anonymous, body) = call(&app, &new_client(), r, group).await;
        assert_eq!(anonymous, 401, "anonymous {what}");
        assert!(body.is_some_and(|b| b["errors"].is_array()), "anonymous {what}: JSON errors");

        let (outsider, body) = call(&app, &mallory.client, r, group).await;
        assert_eq!(outsider, 404, "non-member {what}");
        assert_eq!(body.as_ref(), Some(&not_found), "non-member {what}");

        let (missing, body) = call(&app, &alice.client, r, 9999).await;
        assert_eq!(missing, 404, "missing room {what}");
        assert_eq!(body.as_ref(), Some(&not_found), "a missing room looks the same: {what}");
    }
    let untouched = app.history(&bob.client, group, "").await;
    assert_eq!(numbers(&untouched), [1, 2], "no outsider wrote anything");
    assert_eq!(untouched["messages"][0]["body"], "one");
    assert_eq!(untouched["messages"][1]["deleted"], false);
    assert_eq!(app.get(&dave.client, &format!("/conversations/{group}")).await.status(), 404);

    for r in &routes {
        let (status, body) = call(&app, &alice.client, r, group).await;
        assert_eq!(status, r.member, "member {} {}: {body:?}", r.method, r.path);
    }
    let after = app.history(&bob.client, group, "").await;
    assert_eq!(numbers(&after), [1, 2, 3]);
    assert_eq!(after["messages"][0]["body"], "edited");
    assert_eq!(after["messages"][1]["deleted"], true);
    assert_eq!(after["messages"][2]["body"], "hi");
    assert_eq!(app.get(&alice.client, &format!("/conversations/{group}")).await.status(), 404, "alice left at the end");
}

#[tokio::test]
async fn a_direct_room_is_hidden_from_a_third_person() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "just between us").await;

    let show = app.get(&eve.client, &format!("/conversations/{room}")).await;
    let read = app.get(&eve.client, &format!("/conversations/{room}/messages")).await;
    let write = app.post_message(&eve.client, room, json!({ "body": "hello?" })).await;
    let join = eve.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap();

    for response in [show, read, write, join] {
        assert_eq!(response.status(), 404);
    }
    assert_eq!(app.get_json(&eve.client, "/conversations").await, json!([]));
    assert_eq!(numbers(&app.history(&bob.client, room, "").await), [1]);
}

#[tokio::test]
async fn a_malformed_conversation_or_message_id_gets_a_json_error() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "hi").await;

    let requests = [
        alice.client.get(app.url("/conversations/abc")),
        alice.client.get(app.url("/conversations/abc/messages")),
        alice.client.patch(app.url(&format!("/conversations/{room}/messages/first"))).json(&json!({ "body": "x" })),
        alice.client.delete(app.url(&format!("/conversations/{room}/participants/bob"))),
    ];

    let mut wrong = Vec::new();
    for request in requests {
        let response = request.send().await.unwrap();
        let what = format!("{} {}", response.status(), response.url().path());
        let status_ok = matches!(response.status().as_u16(), 400 | 404);
        let body = response.text().await.unwrap();
        let json_ok = serde_json::from_str::<Value>(&body).is_ok_and(|json| json["errors"].is_array());
        if !(status_ok && json_ok) {
            wrong.push(format!("{what}: {body:?}"));
        }
    }

    assert!(wrong.is_empty(), "not a 400/404 with JSON errors: {wrong:#?}");
}
