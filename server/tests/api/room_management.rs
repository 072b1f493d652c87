//! Renaming and archiving rooms (issue 18, part 4): `PATCH` and `DELETE
//! /conversations/:id`, by the room's creator or an admin, live to every
//! member; archived rooms are read-only and listed apart; direct rooms
//! can't be changed by one side.

use hearth::protocol::{RoomChange, ServerEvent};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, assert_error, new_client, spawn_app};
use crate::ws_support::{connect, person};

async fn call(app: &TestApp, client: &Client, method: Method, path: &str, body: Option<Value>) -> Response {
    let mut request = client.request(method, app.url(path)).header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request sent")
}

async fn deactivate(app: &TestApp, admin: &User, user: &User) {
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", user.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
}

/// Every kind of caller on `method path`: 403 for a member who is not the
/// creator, 404 for someone outside the room, 401 for a deactivated member
/// and anonymous; then `winner` (the creator or an admin who is not a
/// member) gets `status`.
#[allow(clippy::too_many_arguments)]
async fn matrix(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    member: &Client,
    outsider: &Client,
    deactivated: &Client,
    winner: &Client,
    status: u16,
) -> Response {
    for (client, expected) in [(member, 403), (outsider, 404), (deactivated, 401), (&new_client(), 401)] {
        assert_error(call(app, client, method.clone(), path, body.clone()).await, expected).await;
    }
    let response = call(app, winner, method.clone(), path, body).await;
    assert_eq!(response.status(), status, "{method} {path}");
    response
}

#[tokio::test]
async fn the_creator_or_an_admin_renames_a_room_and_every_member_sees_it_live() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let creator = app.user("creator").await;
    let member = person(&app, "member").await;
    let outsider = app.user("outsider").await;
    let gone = app.user("gone").await;
    let room = app.conversation_with(&creator.client, &[member.id, gone.id]).await;
    deactivate(&app, &admin, &gone).await;
    let mut ws = connect(&app, &member).await;
    let path = format!("/conversations/{room}");

    let body = Some(json!({ "title": "  Planning  ", "topic": "Q3 roadmap" }));
    let renamed =
        matrix(&app, Method::PATCH, &path, body, &member.client, &outsider.client, &gone.client, &creator.client, 200)
            .await;
    let renamed: Value = renamed.json().await.expect("json");
    assert_eq!(renamed["title"], "Planning");
    assert_eq!(renamed["topic"], "Q3 roadmap");
    match ws.next_skipping_presence().await {
        ServerEvent::Room { room_id, change: RoomChange::Updated, .. } => assert_eq!(room_id.0, room),
        other => panic!("expected the room update, got {other:?}"),
    }
    let shown = app.get_json(&member.client, &path).await;
    assert_eq!(shown["conversation"]["title"], "Planning");
    assert_eq!(shown["conversation"]["topic"], "Q3 roadmap");
    let listed = app.get_json(&member.client, "/conversations").await;
    assert_eq!((&listed[0]["title"], &listed[0]["topic"]), (&json!("Planning"), &json!("Q3 roadmap")), "{listed}");

    // An admin who is not a member may too, and it is audited; an empty
    // topic clears it.
    let body = Some(json!({ "topic": "" }));
    let response = call(&app, &admin.client, Method::PATCH, &path, body).await;
    assert_eq!(response.status(), 200);
    let cleared: Value = response.json().await.expect("json");
    assert_eq!(cleared["title"], "Planning");
    assert!(cleared.get("topic").is_none(), "{cleared}");
    let listed = app.get_json(&member.client, "/conversations").await;
    assert!(listed[0].get("topic").is_none(), "a cleared topic leaves the room list too: {listed}");
    let audit = app.get_json(&admin.client, "/admin/audit").await;
    assert_eq!(audit[0]["action"], "room.update");
    assert_eq!(audit[0]["target_room"], room);
    assert_eq!(audit[0]["target_room_title"], "Planning", "the room by its name too");
    assert_eq!(
        audit.as_array().expect("entries").iter().filter(|e| e["action"] == "room.update").count(),
        1,
        "the creator's rename is not an admin action"
    );

    // Bad input: 422, never a 500.
    let body =
        assert_error(call(&app, &creator.client, Method::PATCH, &path, Some(json!({ "title": " " }))).await, 422).await;
    assert_eq!(body["errors"][0], "Title can't be blank");
    // `null` is sent, not absent: a title can't be null, a topic can.
    let body =
        assert_error(call(&app, &creator.client, Method::PATCH, &path, Some(json!({ "title": null }))).await, 422)
            .await;
    assert_eq!(body["errors"][0], "Title can't be blank");
    let response = call(&app, &creator.client, Method::PATCH, &path, Some(json!({ "topic": "again" }))).await;
    assert_eq!(response.status(), 200);
    let response = call(&app, &creator.client, Method::PATCH, &path, Some(json!({ "topic": null }))).await;
    assert_eq!(response.status(), 200);
    let cleared: Value = response.json().await.expect("json");
    assert_eq!(cleared["title"], "Planning", "{cleared}");
    assert!(cleared.get("topic").is_none(), "a null topic clears it: {cleared}");
    let long = json!({ "title": "x".repeat(101), "topic": "y".repeat(251) });
    let body = assert_error(call(&app, &creator.client, Method::PATCH, &path, Some(long)).await, 422).await;
    assert_eq!(body["errors"].as_array().expect("errors").len(), 2);
    assert_error(call(&app, &admin.client, Method::PATCH, "/conversations/999999", Some(json!({}))).await, 404).await;
}

#[tokio::test]
async fn an_archived_room_is_read_only_and_listed_apart() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let creator = app.user("creator").await;
    let member = person(&app, "member").await;
    let outsider = app.user("outsider").await;
    let gone = app.user("gone").await;
    let room = app.conversation_with(&creator.client, &[member.id, gone.id]).await;
    let sent = app.send(&member.client, room, "before").await;
    deactivate(&app, &admin, &gone).await;
    let mut ws = connect(&app, &member).await;
    let path = format!("/conversations/{room}");

    matrix(&app, Method::DELETE, &path, None, &member.client, &outsider.client, &gone.client, &creator.client, 204)
        .await;
    match ws.next_skipping_presence().await {
        ServerEvent::Room { room_id, change: RoomChange::Archived, .. } => assert_eq!(room_id.0, room),
        other => panic!("expected the room archived, got {other:?}"),
    }
    assert_eq!(call(&app, &creator.client, Method::DELETE, &path, None).await.status(), 204, "again is fine");

    let refused = assert_error(app.post_message(&member.client, room, json!({ "body": "after" })).await, 403).await;
    assert_eq!(refused["errors"][0], "This conversation is archived and read-only");
    let number = sent["number"].as_i64().expect("number");
    let message = format!("{path}/messages/{number}");
    assert_error(call(&app, &member.client, Method::PATCH, &message, Some(json!({ "body": "edited" }))).await, 403)
        .await;
    assert_error(call(&app, &member.client, Method::DELETE, &message, None).await, 403).await;
    assert_error(call(&app, &creator.client, Method::PATCH, &path, Some(json!({ "title": "New" }))).await, 403).await;
    // Reactions, put on or taken off, and new members are writes too.
    let reactions = format!("{message}/reactions");
    let react = Some(json!({ "emoji": "👍" }));
    let refused = assert_error(call(&app, &member.client, Method::POST, &reactions, react).await, 403).await;
    assert_eq!(refused["errors"][0], "This conversation is archived and read-only");
    assert_error(call(&app, &member.client, Method::PUT, &format!("{reactions}/%F0%9F%91%8D"), None).await, 403).await;
    assert_error(call(&app, &member.client, Method::DELETE, &format!("{reactions}/%F0%9F%91%8D"), None).await, 403)
        .await;
    // So are pins.
    for method in [Method::PUT, Method::DELETE] {
        let refused =
            assert_error(call(&app, &member.client, method, &format!("{message}/pin"), None).await, 403).await;
        assert_eq!(refused["errors"][0], "This conversation is archived and read-only");
    }
    let add = Some(json!({ "user_ids": [outsider.id] }));
    let refused =
        assert_error(call(&app, &creator.client, Method::POST, &format!("{path}/participants"), add).await, 403).await;
    assert_eq!(refused["errors"][0], "This conversation is archived and read-only");
    assert_error(call(&app, &outsider.client, Method::GET, &path, None).await, 404).await;
    assert!(
        app.history(&member.client, room, "").await["messages"][0]["reactions"].as_array().is_none_or(Vec::is_empty)
    );
    // Still readable, and listed apart.
    assert_eq!(app.history(&member.client, room, "").await["messages"][0]["body"], "before");
    let shown = app.get_json(&member.client, &path).await;
    assert!(shown["conversation"]["archived_at"].is_string());
    let live = app.get_json(&member.client, "/conversations").await;
    assert!(live.as_array().expect("rooms").iter().all(|r| r["id"] != room), "{live}");
    let archived = app.get_json(&member.client, "/conversations?archived=true").await;
    assert_eq!(archived.as_array().expect("rooms").len(), 1);
    assert_eq!(archived[0]["id"], room);
    assert_eq!(archived[0]["archived_at"], shown["conversation"]["archived_at"], "the list says when, too");
    assert!(live.as_array().expect("rooms").iter().all(|r| r.get("archived_at").is_none()), "{live}");
    let listed: Vec<i64> =
        archived[0]["users"].as_array().expect("users").iter().filter_map(|u| u["id"].as_i64()).collect();
    assert!(
        listed.contains(&creator.id) && listed.contains(&member.id),
        "the archived room keeps its members: {listed:?}"
    );

    // An admin who is not a member archives another room: audited.
    let other = app.conversation_with(&creator.client, &[member.id, outsider.id]).await;
    assert_eq!(call(&app, &admin.client, Method::DELETE, &format!("/conversations/{other}"), None).await.status(), 204);
    let audit = app.get_json(&admin.client, "/admin/audit").await;
    assert_eq!(audit[0]["action"], "room.archive");
    assert_eq!(audit[0]["target_room"], other);
}

#[tokio::test]
async fn an_archived_open_room_is_no_longer_offered_or_joinable() {
    let app = spawn_app().await;
    let creator = app.user("creator").await;
    let walker = app.user("walker").await;
    let response = app
        .create_conversation(&creator.client, json!({ "kind": "open", "title": "Lobby", "participant_ids": [] }))
        .await;
    let room = response.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    assert_eq!(
        call(&app, &creator.client, Method::DELETE, &format!("/conversations/{room}"), None).await.status(),
        204
    );
    let offered = app.get_json(&walker.client, "/rooms").await;
    assert!(offered.as_array().expect("rooms").iter().all(|r| r["id"] != room), "{offered}");
    assert_error(call(&app, &walker.client, Method::POST, &format!("/conversations/{room}/join"), None).await, 404)
        .await;
}

#[tokio::test]
async fn a_direct_room_can_be_neither_renamed_nor_archived() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let path = format!("/conversations/{room}");
    for client in [&alice.client, &bob.client, &admin.client] {
        let body =
            assert_error(call(&app, client, Method::PATCH, &path, Some(json!({ "title": "Ours" }))).await, 422).await;
        assert_eq!(body["errors"][0], "A direct conversation can't be renamed or archived");
        assert_error(call(&app, client, Method::DELETE, &path, None).await, 422).await;
    }
    app.send(&alice.client, room, "still open").await;
}

#[tokio::test]
async fn a_deactivated_account_is_not_added_to_a_room_nor_sent_a_new_one() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let gone = app.user("gone").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    deactivate(&app, &admin, &gone).await;

    let added = call(
        &app,
        &alice.client,
        Method::POST,
        &format!("/conversations/{group}/participants"),
        Some(json!({ "user_ids": [gone.id] })),
    )
    .await;
    let body = assert_error(added, 422).await;
    let expected = format!("Deactivated accounts can't be added to a conversation: user ids {}", gone.id);
    assert_eq!(body["errors"][0], expected.as_str());
    for participants in [json!([gone.id]), json!([bob.id, gone.id])] {
        let created = app.create_conversation(&alice.client, json!({ "participant_ids": participants })).await;
        let body = assert_error(created, 422).await;
        assert!(body["errors"][0].as_str().expect("text").starts_with("Deactivated accounts"), "{body}");
    }
    let members = app.get_json(&alice.client, &format!("/conversations/{group}")).await;
    assert_eq!(members["participants"].as_array().expect("participants").len(), 3, "{members}");
    assert_eq!(app.get_json(&alice.client, "/conversations").await.as_array().expect("rooms").len(), 1);

    // Nor is one offered to pick: the directory leaves it out.
    let found = app.get_json(&alice.client, "/users?query=go").await;
    assert_eq!(found, json!([]), "{found}");
    let found = app.get_json(&alice.client, "/users?query=ca").await;
    assert_eq!(found[0]["id"], carol.id);

    // Naming only yourself says so.
    let alone = app.create_conversation(&alice.client, json!({ "participant_ids": [alice.id] })).await;
    let body = assert_error(alone, 422).await;
    assert_eq!(body["errors"][0], "Participant ids must name someone other than you");
}

#[tokio::test]
async fn a_changed_name_reaches_everyone_who_shares_a_room_at_once_and_no_one_else() {
    // Arrange
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let stranger = person(&app, "stranger").await;
    let first = app.conversation_with(&alice.client, &[bob.id]).await;
    let _second = app.conversation_with(&alice.client, &[bob.id, app.user("carl").await.id]).await;
    let mut bobs = connect(&app, &bob).await;
    let mut alices_other_tab = connect(&app, &alice).await;
    let mut strangers = connect(&app, &stranger).await;

    // Act
    let body = json!({ "user": { "name": "Alice Renamed" } });
    let response = call(&app, &alice.client, Method::PUT, "/users/me", Some(body)).await;
    assert_eq!(response.status(), 200);

    // Assert: one event for bob, however many rooms they share, and his list
    // shows the new name; alice's other tab hears too; the stranger nothing.
    match bobs.next_skipping_presence().await {
        ServerEvent::Room { change: RoomChange::Updated, .. } => {}
        other => panic!("expected a room update, got {other:?}"),
    }
    bobs.assert_quiet(crate::ws_support::QUIET, "bob, after the one update").await;
    match alices_other_tab.next_skipping_presence().await {
        ServerEvent::Room { change: RoomChange::Updated, .. } => {}
        other => panic!("expected a room update, got {other:?}"),
    }
    strangers.assert_quiet(crate::ws_support::QUIET, "someone who shares no room").await;
    let listed = app.get_json(&bob.client, "/conversations").await;
    let room = listed.as_array().expect("rooms").iter().find(|r| r["id"] == first).expect("the room");
    let names: Vec<&str> = room["users"].as_array().expect("users").iter().filter_map(|u| u["name"].as_str()).collect();
    assert!(names.contains(&"Alice Renamed"), "{room}");
}
