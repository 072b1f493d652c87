//! Mentions (issue 17): `@username` resolved to the room's members when a
//! message is written, stored as user ids (renames don't break them), and
//! `@everyone` only in small rooms; notification levels per member and
//! room; unread mentions counted from the read pointer, in the room list and
//! on every socket of the user.

use hearth::model::{RoomId, UserId};
use hearth::protocol::{RoomChange, ServerEvent};
use serde_json::{Value, json};

use crate::helpers::{SqlArg, TestApp, assert_error, spawn_app};
use crate::ws_support::{QUIET, connect, person};

fn mentions(message: &Value) -> Vec<i64> {
    message["mentions"].as_array().expect("mentions is a list").iter().map(|id| id.as_i64().expect("an id")).collect()
}

/// A group room of `creator` and `others` (titled "Team").
async fn group(app: &TestApp, creator: &reqwest::Client, others: &[i64]) -> i64 {
    let response =
        app.create_conversation(creator, json!({ "participant_ids": others, "title": "Team", "kind": "group" })).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

/// My entry for `room` in `GET /conversations`.
async fn listed(app: &TestApp, client: &reqwest::Client, room: i64) -> Value {
    let list = app.get_json(client, "/conversations").await;
    list.as_array().expect("a list").iter().find(|c| c["id"] == room).cloned().expect("the room is listed")
}

#[tokio::test]
async fn a_mention_is_stored_as_the_ids_of_the_members_it_names_and_survives_a_rename() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol, dave) =
        (app.user("alice").await, app.user("bob").await, app.user("carol").await, app.user("dave").await);
    let room = group(&app, &alice.client, &[bob.id, carol.id]).await;
    // dave is a member of another room of alice's, not this one.
    app.conversation_with(&alice.client, &[dave.id]).await;

    // Act
    let sent = app.send(&alice.client, room, "hi @Bob, @carol. and @dave @nobody @alice ann@carol `@bob`").await;
    let renamed = bob.client.put(app.url("/users/me")).json(&json!({ "username": "robert" })).send().await.unwrap();
    let page = app.history(&carol.client, room, "").await;

    // Assert
    assert_eq!(mentions(&sent), [bob.id, carol.id], "members only; not the writer, not a non-member");
    assert_eq!(renamed.status(), 200);
    assert_eq!(mentions(&page["messages"][0]), [bob.id, carol.id], "the ids stay after bob is renamed");
    let rows = app.query_strings("SELECT CAST(user_id AS TEXT) FROM mentions ORDER BY user_id").await;
    assert_eq!(rows, [bob.id.to_string(), carol.id.to_string()]);
    let plain = app.send(&alice.client, room, "no one here").await;
    assert_eq!(mentions(&plain), Vec::<i64>::new());
    // The page marks the @names of a message that mentions someone, the same
    // in the send's answer and in history; one that names only a
    // non-member mentions no one and marks nothing.
    let marked = r#"<span class="mention">@Bob</span>"#;
    assert!(sent["html"].as_str().expect("html").contains(marked), "{}", sent["html"]);
    assert!(page["messages"][0]["html"].as_str().expect("html").contains(marked));
    assert!(!sent["html"].as_str().expect("html").contains(r#"<span class="mention">@bob</span>"#), "not in code");
    let nobody = app.send(&alice.client, room, "hello @nobody").await;
    assert_eq!(nobody["html"], "<p>hello @nobody</p>\n");
}

#[tokio::test]
async fn a_mention_sent_over_the_socket_reaches_the_room_with_its_ids() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let mut bob_ws = connect(&app, &bob).await;
    bob_ws.subscribe(room, None).await;
    let mut alice_ws = connect(&app, &alice).await;

    // Act
    alice_ws.send_json(json!({ "type": "send", "room_id": room, "body": "@bob look", "client_id": "m1" })).await;

    // Assert
    loop {
        match bob_ws.next_skipping_presence().await {
            ServerEvent::Message { message, .. } => {
                assert_eq!(message.mentions, [UserId(bob.id)]);
                break;
            }
            ServerEvent::Room { .. } => continue,
            other => panic!("expected the message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn everyone_mentions_every_other_member_of_a_small_room_and_no_one_in_a_big_one() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let small = group(&app, &alice.client, &[bob.id, carol.id]).await;
    let big = group(&app, &alice.client, &[bob.id, carol.id]).await;
    let at = "2026-01-01T00:00:00.000000Z";
    for n in 0..hearth::mentions::EVERYONE_MAX_MEMBERS {
        app.execute_sql(
            "INSERT INTO users (username, email, password_hash, created_at, updated_at) VALUES ($1, $2, 'x', $3, $3)",
            &[
                SqlArg::Text(format!("filler{n}")),
                SqlArg::Text(format!("filler{n}@example.com")),
                SqlArg::Text(at.into()),
            ],
        )
        .await;
    }
    let fillers: Vec<i64> = app
        .query_strings("SELECT CAST(id AS TEXT) FROM users WHERE username LIKE 'filler%'")
        .await
        .iter()
        .map(|id| id.parse().expect("an id"))
        .collect();
    let added = alice
        .client
        .post(app.url(&format!("/conversations/{big}/participants")))
        .json(&json!({ "user_ids": fillers }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);

    // Act
    let in_small = app.send(&alice.client, small, "@everyone lunch?").await;
    let here_small = app.send(&bob.client, small, "@here too").await;
    let in_big = app.send(&alice.client, big, "@everyone lunch? @carol").await;

    // Assert
    assert_eq!(mentions(&in_small), [bob.id, carol.id]);
    assert_eq!(mentions(&here_small), [alice.id, carol.id]);
    assert_eq!(mentions(&in_big), [carol.id], "a room of more than the limit: @everyone is plain text");
}

#[tokio::test]
async fn an_edit_replaces_the_mentions_with_those_of_the_new_text() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let room = group(&app, &alice.client, &[bob.id, carol.id]).await;
    app.send(&alice.client, room, "@bob please").await;

    // Act
    let url = app.url(&format!("/conversations/{room}/messages/1"));
    let edited = alice.client.patch(&url).json(&json!({ "body": "@carol please" })).send().await.unwrap();

    // Assert
    assert_eq!(edited.status(), 200);
    assert_eq!(mentions(&edited.json::<Value>().await.unwrap()), [carol.id]);
    assert_eq!(mentions(&app.history(&bob.client, room, "").await["messages"][0]), [carol.id]);
    assert_eq!(listed(&app, &bob.client, room).await["unread_mentions"], 0);
    assert_eq!(listed(&app, &carol.client, room).await["unread_mentions"], 1);
}

#[tokio::test]
async fn levels_default_by_room_kind_and_each_member_sets_their_own() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let team = group(&app, &alice.client, &[bob.id]).await;
    let path = |room: i64| format!("/conversations/{room}/notifications");
    let put = |room: i64, level: &str| alice.client.put(app.url(&path(room))).json(&json!({ "level": level })).send();

    // Act
    let direct_default = app.get_json(&alice.client, &path(direct)).await;
    let team_default = app.get_json(&alice.client, &path(team)).await;
    let set = put(team, "nothing").await.unwrap();
    let set: Value = set.json().await.unwrap();
    let after = app.get_json(&alice.client, &path(team)).await;
    let bobs = app.get_json(&bob.client, &path(team)).await;
    let listed_alice = listed(&app, &alice.client, team).await;
    let bad = put(team, "loud").await.unwrap();
    let reset: Value = put(team, "default").await.unwrap().json().await.unwrap();
    let not_member = app.get(&carol.client, &path(team)).await;
    let not_member_put =
        carol.client.put(app.url(&path(team))).json(&json!({ "level": "nothing" })).send().await.unwrap();

    // Assert
    assert_eq!(direct_default, json!({ "level": "everything", "default": true }));
    assert_eq!(team_default, json!({ "level": "mentions", "default": true }));
    assert_eq!(set, json!({ "level": "nothing", "default": false }));
    assert_eq!(after, set);
    assert_eq!(bobs, json!({ "level": "mentions", "default": true }), "one member's level is theirs alone");
    assert_eq!(listed_alice["notify_level"], "nothing");
    assert_error(bad, 422).await;
    assert_eq!(reset, json!({ "level": "mentions", "default": true }));
    assert_error(not_member, 404).await;
    assert_error(not_member_put, 404).await;
}

#[tokio::test]
async fn unread_mentions_are_counted_from_the_read_marker_in_the_room_list() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = group(&app, &alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "@bob one").await;
    app.send(&alice.client, room, "plain").await;
    app.send(&alice.client, room, "@bob three").await;
    app.send(&alice.client, room, "@bob four").await;
    app.send(&bob.client, room, "@alice mine").await;

    // Act
    let before = listed(&app, &bob.client, room).await;
    // The read pointer moves through the core (the socket's `read` and the
    // web UI's server function both call it).
    let marked = app.hearth.mark_read(UserId(bob.id), RoomId(room), 3).await.expect("marked");
    let after_read = listed(&app, &bob.client, room).await;
    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/4"))).send().await.unwrap();
    let after_delete = listed(&app, &bob.client, room).await;
    let alices = listed(&app, &alice.client, room).await;

    // Assert
    assert_eq!((before["unread_count"].as_i64(), before["unread_mentions"].as_i64()), (Some(4), Some(3)));
    assert_eq!(marked, 3);
    assert_eq!((after_read["unread_count"].as_i64(), after_read["unread_mentions"].as_i64()), (Some(1), Some(1)));
    assert!(deleted.status().is_success());
    assert_eq!(after_delete["unread_mentions"], 0, "a deleted message mentions no one");
    assert_eq!(alices["unread_mentions"], 1);
}

#[tokio::test]
async fn a_mention_and_a_read_move_the_counts_on_every_socket_of_the_user() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let carol = person(&app, "carol").await;
    let room = group(&app, &alice.client, &[bob.id, carol.id]).await;
    let (mut phone, mut laptop) = (connect(&app, &bob).await, connect(&app, &bob).await);
    let mut carols = connect(&app, &carol).await;
    let unread = |count, mentions| ServerEvent::Room {
        room_id: RoomId(room),
        change: RoomChange::Unread,
        unread_count: Some(count),
        unread_mentions: Some(mentions),
    };

    // Act
    app.send(&alice.client, room, "@bob can you look?").await;
    let (phone_told, laptop_told) = (phone.next_skipping_presence().await, laptop.next_skipping_presence().await);
    phone.send_json(json!({ "type": "read", "room_id": room, "number": 1 })).await;
    let (phone_read, laptop_read) = (phone.next_skipping_presence().await, laptop.next_skipping_presence().await);

    // Assert
    assert_eq!(phone_told, unread(1, 1));
    assert_eq!(laptop_told, unread(1, 1));
    assert_eq!(phone_read, unread(0, 0));
    assert_eq!(laptop_read, unread(0, 0), "read on the phone, cleared on the laptop");
    carols.assert_quiet(QUIET, "carol, not mentioned").await;
}

#[tokio::test]
async fn the_sidebar_shows_unread_mentions_as_a_badge_of_their_own() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = group(&app, &alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "@bob one").await;
    app.send(&alice.client, room, "two").await;

    // Act
    let html = bob.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let html = crate::pages::without_markers(&html);
    let alices = alice.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();

    // Assert
    // Each badge's name says its count ("1 unread mention").
    assert!(html.contains(r#"<span role="img" aria-label="1 unread mention" class="mentions">@1</span>"#), "{html}");
    assert!(html.contains(r#"<span role="img" aria-label="2 unread messages" class="unread">2</span>"#), "{html}");
    assert!(!alices.contains("unread mention"), "the writer has none");
}

#[tokio::test]
async fn my_other_tabs_are_told_at_once_when_i_set_a_rooms_notification_level_and_nobody_else_is() {
    // Arrange: alice has a second tab open; bob shares the room.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let team = group(&app, &alice.client, &[bob.id]).await;
    let mut other_tab = connect(&app, &alice).await;
    let mut bobs = connect(&app, &bob).await;
    let path = format!("/conversations/{team}/notifications");

    // Act
    let set = alice.client.put(app.url(&path)).json(&json!({ "level": "nothing" })).send().await.unwrap();

    // Assert: her other tab reads the room again (its list then says
    // "nothing", so it stops notifying); bob hears nothing of it.
    assert_eq!(set.status(), 200);
    assert_eq!(
        other_tab.next_skipping_presence().await,
        ServerEvent::Room {
            room_id: RoomId(team),
            change: RoomChange::Updated,
            unread_count: None,
            unread_mentions: None
        }
    );
    assert_eq!(listed(&app, &alice.client, team).await["notify_level"], "nothing");
    bobs.assert_quiet(QUIET, "bob, for alice's own setting").await;
}
