//! The in-memory caches (sessions, users, memberships; `hearth::cache`) never
//! delay a revocation on this server: each test first makes a request that
//! fills the cache, then changes what it holds, and the very next request
//! sees the change.

use app::api::{Logout, SendMessage};
use hearth::model::{RoomId, UserId};
use hearth::protocol::{RoomChange, ServerEvent};
use leptos::server_fn::ServerFn;
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, bare_client, new_client, spawn_app};
use crate::ws_support::{Person, Ws, connect, person, try_connect};

/// `method path` with only `person`'s session cookie (no cookie jar, so a
/// response cannot change which session the next request carries).
async fn with_cookie(app: &TestApp, cookie: &str, method: reqwest::Method, path: &str) -> Response {
    bare_client()
        .request(method, app.url(path))
        .header("Cookie", cookie)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("request sent")
}

async fn get_with(app: &TestApp, cookie: &str, path: &str) -> u16 {
    with_cookie(app, cookie, reqwest::Method::GET, path).await.status().as_u16()
}

/// Reads and writes `room` as `who`, by REST and on a socket, so that their
/// session, user and membership are all cached; returns the open socket.
async fn warm(app: &TestApp, who: &Person, room: i64) -> Ws {
    for _ in 0..2 {
        assert_eq!(get_with(app, &who.cookie, "/users/me").await, 200);
        assert_eq!(get_with(app, &who.cookie, &format!("/conversations/{room}/messages")).await, 200);
    }
    app.send(&who.client, room, "warming up").await;
    let mut ws = connect(app, who).await;
    ws.subscribe(room, None).await;
    ws
}

/// What `who` may still do in `room`: read its history, post to it (REST),
/// and subscribe to it on a fresh socket.
async fn access(app: &TestApp, who: &Person, room: i64) -> (u16, u16, ServerEvent) {
    let history = get_with(app, &who.cookie, &format!("/conversations/{room}/messages")).await;
    let posted = app.post_message(&who.client, room, json!({ "body": "still here?" })).await.status().as_u16();
    let mut ws = connect(app, who).await;
    ws.send_json(json!({ "type": "subscribe", "room_id": room })).await;
    (history, posted, ws.next_skipping_presence().await)
}

fn refused(event: &ServerEvent) -> bool {
    matches!(event, ServerEvent::Error { code, .. } if code == "not_found")
}

#[tokio::test]
async fn a_signed_out_cookie_is_refused_on_its_next_request_though_the_cache_held_it() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let _ws = warm(&app, &alice, room).await;

    // Act
    let signed_out = with_cookie(&app, &alice.cookie, reqwest::Method::DELETE, "/users/sign_out").await;

    // Assert
    assert_eq!(signed_out.status(), 204);
    assert_eq!(get_with(&app, &alice.cookie, "/users/me").await, 401);
    assert_eq!(get_with(&app, &alice.cookie, &format!("/conversations/{room}/messages")).await, 401);
    let upgrade = try_connect(&app, Some(&alice.cookie), None).await;
    assert!(upgrade.is_err(), "the socket upgrade is refused");
    assert_eq!(get_with(&app, &bob.cookie, "/users/me").await, 200, "bob is still signed in");
}

#[tokio::test]
async fn a_cookie_signed_out_by_the_form_is_refused_on_its_next_request() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let _ws = warm(&app, &alice, room).await;

    // Act
    let signed_out = bare_client()
        .post(app.url(Logout::PATH))
        .header("Cookie", &alice.cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("request sent");

    // Assert
    assert!(signed_out.status().is_success() || signed_out.status().is_redirection(), "{}", signed_out.status());
    assert_eq!(get_with(&app, &alice.cookie, "/users/me").await, 401);
    assert_eq!(get_with(&app, &alice.cookie, &format!("/conversations/{room}/messages")).await, 401);
}

#[tokio::test]
async fn a_member_removed_from_a_room_is_refused_at_once_on_history_sends_and_subscribes() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut bob_ws = warm(&app, &bob, room).await;

    // Act
    let path = format!("/conversations/{room}/participants/{}", bob.id);
    let removed = alice.client.delete(app.url(&path)).send().await.expect("sent");

    // Assert
    assert_eq!(removed.status(), 204);
    let (history, posted, subscribed) = access(&app, &bob, room).await;
    assert_eq!((history, posted), (404, 404), "history and posting are refused");
    assert!(refused(&subscribed), "a new subscription is refused: {subscribed:?}");
    assert_refused_on_the_old_socket(&mut bob_ws, room).await;
    assert_eq!(app.history(&carol.client, room, "").await["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_member_who_leaves_is_refused_at_once_on_history_sends_and_subscribes() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut bob_ws = warm(&app, &bob, room).await;

    // Act
    let left = bob.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.expect("sent");

    // Assert
    assert_eq!(left.status(), 204);
    let (history, posted, subscribed) = access(&app, &bob, room).await;
    assert_eq!((history, posted), (404, 404), "history and posting are refused");
    assert!(refused(&subscribed), "a new subscription is refused: {subscribed:?}");
    assert_refused_on_the_old_socket(&mut bob_ws, room).await;
}

#[tokio::test]
async fn joining_an_open_room_is_allowed_at_once_and_so_is_coming_back_after_leaving() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let created = app.create_conversation(&alice.client, json!({ "kind": "open", "title": "Lobby" })).await;
    let room = created.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let join = |who: &Person| who.client.post(app.url(&format!("/conversations/{room}/join"))).send();
    let before = access(&app, &bob, room).await;

    // Act
    let joined = join(&bob).await.expect("sent").status();
    let after_joining = access(&app, &bob, room).await;
    let left = bob.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.expect("sent");
    let after_leaving = access(&app, &bob, room).await;
    let rejoined = join(&bob).await.expect("sent").status();
    let after_rejoining = access(&app, &bob, room).await;

    // Assert
    assert_eq!((before.0, before.1), (404, 404), "not a member yet");
    assert!(refused(&before.2), "{:?}", before.2);
    assert_eq!((joined.as_u16(), left.status().as_u16(), rejoined.as_u16()), (200, 204, 200));
    for (when, (history, posted, subscribed)) in [("joined", after_joining), ("rejoined", after_rejoining)] {
        assert_eq!((history, posted), (200, 201), "{when}");
        assert!(matches!(subscribed, ServerEvent::Subscribed { .. }), "{when}: {subscribed:?}");
    }
    assert_eq!((after_leaving.0, after_leaving.1), (404, 404), "after leaving");
    assert!(refused(&after_leaving.2), "{:?}", after_leaving.2);
}

#[tokio::test]
async fn a_rename_shows_at_once_in_users_me_and_in_what_the_next_socket_says() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let _warm = warm(&app, &alice, room).await;
    let mut bob_ws = connect(&app, &bob).await;
    bob_ws.subscribe(room, None).await;

    // Act
    let renamed = alice
        .client
        .put(app.url("/users/me"))
        .json(&json!({ "user": { "username": "alicia", "name": "Alicia" } }))
        .send()
        .await
        .expect("sent");
    let me: Value = with_cookie(&app, &alice.cookie, reqwest::Method::GET, "/users/me").await.json().await.unwrap();
    let mut alice_ws = connect(&app, &alice).await;
    alice_ws.subscribe(room, None).await;
    alice_ws.send_json(json!({ "type": "typing", "room_id": room })).await;

    // Assert
    assert_eq!(renamed.status(), 200);
    assert_eq!((me["username"].as_str(), me["name"].as_str()), (Some("alicia"), Some("Alicia")));
    let mut told = false;
    loop {
        match bob_ws.next_skipping_presence().await {
            ServerEvent::Typing { room_id, user } => {
                assert_eq!((room_id, user.id), (RoomId(room), UserId(alice.id)));
                assert_eq!(user.username, "alicia", "the socket's user is read afresh");
                assert_eq!(user.name.as_deref(), Some("Alicia"));
                break;
            }
            ServerEvent::Message { .. } => continue,
            // The rename itself, told to those who share a room with her.
            ServerEvent::Room { room_id, change: RoomChange::Updated, .. } if room_id == RoomId(room) => told = true,
            other => panic!("expected alice typing, got {other:?}"),
        }
    }
    assert!(told, "bob was told of the rename before her typing");
}

/// The socket that was in the room hears that it was removed, and a `send`
/// into the room from it is refused.
async fn assert_refused_on_the_old_socket(ws: &mut Ws, room: i64) {
    loop {
        match ws.next_skipping_presence().await {
            ServerEvent::Room { room_id, .. } if room_id == RoomId(room) => break,
            ServerEvent::Message { .. } => continue,
            other => panic!("expected the removal notice, got {other:?}"),
        }
    }
    ws.send_json(json!({ "type": "send", "room_id": room, "body": "sneaking in", "client_id": "late-1" })).await;
    loop {
        match ws.next_skipping_presence().await {
            ServerEvent::Error { code, .. } => {
                assert_eq!(code, "not_found");
                break;
            }
            ServerEvent::Room { .. } => continue,
            other => panic!("expected the send to be refused, got {other:?}"),
        }
    }
}

/// `room`'s entry in `who`'s `GET /conversations`, if listed.
async fn listed(app: &TestApp, who: &Person, room: i64) -> Option<Value> {
    let rooms = app.get_json(&who.client, "/conversations").await;
    rooms.as_array().expect("a list of rooms").iter().find(|r| r["id"].as_i64() == Some(room)).cloned()
}

/// Member names of a listed room, sorted.
fn names(entry: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        entry["users"].as_array().expect("users").iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

/// The room list is kept in memory between requests (`hearth::room_lists`);
/// each step reads it once before a change (so it is kept) and checks that
/// the very next read shows the change.
#[tokio::test]
async fn a_kept_room_list_shows_every_change_on_the_next_request() {
    // Arrange: alice's list holds a direct room with bob, a group with bob
    // and an application's chat; carol is around.
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let created =
        app.create_conversation(&bob.client, json!({ "participant_ids": [alice.id, carol.id], "title": "Crew" }));
    let group = created.await.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let token =
        app.create_application(&alice.client, "Deploys").await["application_token"].as_str().expect("token").to_owned();
    app.create_chat(&token, "builds").await;
    let chat = app.room_titled(&alice.client, "builds").await;
    let opened = app.create_conversation(&bob.client, json!({ "kind": "open", "title": "Lobby" })).await;
    let open = opened.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let mut alice_ws = connect(&app, &alice).await;
    let entry = listed(&app, &alice, direct).await.expect("direct listed");
    assert_eq!((entry["unread_count"].as_i64(), &entry["last_message"]), (Some(0), &Value::Null));

    // Act and assert, one change at a time.
    app.send(&bob.client, direct, "first").await;
    let entry = listed(&app, &alice, direct).await.expect("listed");
    assert_eq!(entry["unread_count"], 1, "a message: {entry}");
    assert_eq!(entry["last_message"]["body"], "first");

    let edited = app.edit_message(&bob.client, direct, 1, "first, edited").await;
    assert_eq!(edited.status(), 200);
    let entry = listed(&app, &alice, direct).await.unwrap();
    assert_eq!(entry["last_message"]["body"], "first, edited", "an edit");
    assert_eq!(entry["last_message"]["text"], "first, edited", "an edit's preview");

    alice_ws.send_json(json!({ "type": "read", "room_id": direct, "number": 1 })).await;
    loop {
        if let ServerEvent::Room { room_id, unread_count: Some(0), .. } = alice_ws.next_skipping_presence().await
            && room_id == RoomId(direct)
        {
            break;
        }
    }
    assert_eq!(listed(&app, &alice, direct).await.unwrap()["unread_count"], 0, "read");

    app.send(&bob.client, direct, "second").await;
    assert_eq!(listed(&app, &alice, direct).await.unwrap()["unread_count"], 1);
    let deleted = bob.client.delete(app.url(&format!("/conversations/{direct}/messages/2"))).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let entry = listed(&app, &alice, direct).await.unwrap();
    assert_eq!(
        (&entry["unread_count"], &entry["last_message"]["body"]),
        (&json!(0), &Value::Null),
        "a delete: {entry}"
    );

    app.send(&bob.client, group, "@alice look").await;
    assert_eq!(listed(&app, &alice, group).await.unwrap()["unread_mentions"], 1, "a mention");

    let path = format!("/conversations/{group}/membership");
    assert_eq!(carol.client.delete(app.url(&path)).send().await.unwrap().status(), 204);
    assert_eq!(names(&listed(&app, &alice, group).await.unwrap()), ["alice", "bob"], "carol left");
    let path = format!("/conversations/{group}/participants");
    let added = bob.client.post(app.url(&path)).json(&json!({ "user_ids": [carol.id] })).send().await.unwrap();
    assert_eq!(added.status(), 200);
    assert_eq!(names(&listed(&app, &alice, group).await.unwrap()), ["alice", "bob", "carol"], "carol added");
    let path = format!("/conversations/{group}/participants/{}", carol.id);
    assert_eq!(bob.client.delete(app.url(&path)).send().await.unwrap().status(), 204);
    assert_eq!(names(&listed(&app, &alice, group).await.unwrap()), ["alice", "bob"], "carol removed");

    let path = format!("/conversations/{group}");
    let renamed = bob.client.patch(app.url(&path)).json(&json!({ "title": "Launch crew" })).send().await.unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(listed(&app, &alice, group).await.unwrap()["title"], "Launch crew", "a room renamed");

    let path = format!("/conversations/{group}/notifications");
    let level = alice.client.put(app.url(&path)).json(&json!({ "level": "nothing" })).send().await.unwrap();
    assert_eq!(level.status(), 200);
    assert_eq!(listed(&app, &alice, group).await.unwrap()["notify_level"], "nothing", "a notification level");

    let path = format!("/api/applications/{token}/chats/1");
    let renamed = new_client().patch(app.url(&path)).json(&json!({ "chat_name": "releases" })).send().await.unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(listed(&app, &alice, chat).await.unwrap()["title"], "releases", "a chat renamed by its token");

    let profile = json!({ "user": { "username": "robert", "name": "Robert" } });
    assert_eq!(bob.client.put(app.url("/users/me")).json(&profile).send().await.unwrap().status(), 200);
    assert_eq!(names(&listed(&app, &alice, direct).await.unwrap()), ["alice", "robert"], "a member renamed");

    assert!(listed(&app, &alice, open).await.is_none());
    assert_eq!(names(&listed(&app, &bob, open).await.expect("bob's")), ["robert"]);
    let joined = alice.client.post(app.url(&format!("/conversations/{open}/join"))).send().await.unwrap();
    assert_eq!(joined.status(), 200);
    assert_eq!(names(&listed(&app, &alice, open).await.expect("joined")), ["alice", "robert"], "joined");
    assert_eq!(names(&listed(&app, &bob, open).await.expect("bob's")), ["alice", "robert"], "bob's list too");
    let path = format!("/conversations/{open}/membership");
    assert_eq!(alice.client.delete(app.url(&path)).send().await.unwrap().status(), 204);
    assert!(listed(&app, &alice, open).await.is_none(), "left");
    assert_eq!(names(&listed(&app, &bob, open).await.unwrap()), ["robert"], "bob's list after alice left");
}

/// A kept list whose changed rooms are read again (`hearth::room_lists`)
/// equals the list read whole, after each of a run of changes in several
/// rooms: the order (newest activity first) and every entry.
#[tokio::test]
async fn a_room_list_brought_up_to_date_room_by_room_equals_the_list_read_whole() {
    // Arrange: alice in a direct room and five groups with bob; dave shares
    // no room with her (renaming him makes her list be read whole).
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let dave = person(&app, "dave").await;
    let mut rooms = vec![app.conversation_with(&bob.client, &[alice.id]).await];
    for g in 0..5 {
        let body = json!({ "participant_ids": [alice.id, carol.id], "title": format!("g{g}") });
        rooms.push(
            app.create_conversation(&bob.client, body).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap(),
        );
    }
    let mut last: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    app.get_json(&alice.client, "/conversations").await;

    for step in 0..15_usize {
        // Act: a message, an edit of the room's last one, or its delete.
        let room = rooms[(step * 7 + step / 3) % rooms.len()];
        match (step % 5, last.get(&room)) {
            (3, Some(&number)) => {
                let edited = app.edit_message(&bob.client, room, number, &format!("edited at step {step}")).await;
                assert_eq!(edited.status(), 200);
            }
            (4, Some(&number)) => {
                let path = format!("/conversations/{room}/messages/{number}");
                assert_eq!(bob.client.delete(app.url(&path)).send().await.unwrap().status(), 204);
                last.remove(&room);
            }
            _ => {
                let sent = app.send(&bob.client, room, &format!("step {step} @alice")).await;
                last.insert(room, sent["number"].as_i64().expect("number"));
            }
        }
        let kept = app.get_json(&alice.client, "/conversations").await;
        let profile = json!({ "user": { "username": format!("dave{step}"), "name": "Dave" } });
        assert_eq!(dave.client.put(app.url("/users/me")).json(&profile).send().await.unwrap().status(), 200);
        let whole = app.get_json(&alice.client, "/conversations").await;

        // Assert
        assert_eq!(kept, whole, "step {step} (room {room})");
    }
}

#[tokio::test]
async fn a_send_written_as_someone_who_has_since_signed_out_is_not_sent_as_who_signed_in_next() {
    // Arrange: a tab of alice's wrote a message offline; meanwhile, in the
    // same browser, alice signed out and bob signed in.
    let app = spawn_app().await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let send = |author: i64, text: &str| {
        let form = [
            ("room_id", room.to_string()),
            ("body", text.to_owned()),
            ("client_id", format!("c-{text}")),
            ("author", author.to_string()),
        ];
        bare_client().post(app.url(SendMessage::PATH)).header("Cookie", &bob.cookie).form(&form).send()
    };

    // Act
    let as_alice = send(alice.id, "written by alice").await.expect("request sent");
    let as_bob = send(bob.id, "written by bob").await.expect("request sent");

    // Assert: refused, and nothing saved; bob's own goes.
    assert_eq!(as_alice.status(), 409);
    let error: Value = as_alice.json().await.expect("json");
    assert_eq!(error["errors"][0], app::api::SOMEONE_ELSE, "{error}");
    assert_eq!(as_bob.status(), 200);
    let page = app.history(&alice.client, room, "").await;
    let bodies: Vec<&str> =
        page["messages"].as_array().expect("messages").iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["written by bob"]);
}
