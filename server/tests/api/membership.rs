//! Open rooms (`GET /rooms`, joining) and membership: leaving, adding and
//! removing participants.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().expect("array").iter().map(|c| c["id"].as_i64().expect("id")).collect()
}

fn user_ids(people: &Value) -> Vec<i64> {
    let mut ids = ids(people);
    ids.sort();
    ids
}

#[tokio::test]
async fn open_rooms_are_listed_for_everyone_and_joined_at_will() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let untitled = app.create_conversation(&alice.client, json!({ "kind": "open" })).await;
    let created = app.create_conversation(&alice.client, json!({ "kind": "open", "title": "Lobby" })).await;
    let _direct = app.conversation_with(&alice.client, &[bob.id]).await;

    assert_eq!(untitled.status(), 422, "an open room needs a title");
    assert_eq!(created.status(), 201);
    let room = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let listed = app.get_json(&bob.client, "/rooms").await;
    assert_eq!(ids(&listed), [room], "only open rooms are listed");
    let entry = &listed[0];
    assert_eq!(entry["title"], "Lobby");
    assert_eq!(entry["member_count"], 1);
    assert_eq!(entry["is_member"], false);
    assert_eq!(entry["topic"], Value::Null, "no topic yet");
    assert!(entry["updated_at"].as_str().is_some());
    assert_eq!(app.get(&bob.client, &format!("/conversations/{room}")).await.status(), 404, "not a member yet");

    let joined = bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap();

    assert_eq!(joined.status(), 200);
    let listed = app.get_json(&bob.client, "/rooms").await;
    assert_eq!(listed[0]["member_count"], 2);
    assert_eq!(listed[0]["is_member"], true);
    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    assert_eq!(shown["conversation"]["kind"], "open");
    assert_eq!(shown["conversation"]["group"], true);
    assert!(ids(&app.get_json(&bob.client, "/conversations").await).contains(&room));
    let again = bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap();
    assert_eq!(again.status(), 200, "joining twice is harmless");
    assert_eq!(app.get_json(&bob.client, "/rooms").await[0]["member_count"], 2);

    // Its topic, once set, says what it is for before anyone joins.
    let topic = json!({ "topic": "Hellos and help finding your way" });
    let set = alice.client.patch(app.url(&format!("/conversations/{room}"))).json(&topic).send().await.unwrap();
    assert_eq!(set.status(), 200);
    let carol = app.user("carol").await;
    assert_eq!(app.get_json(&carol.client, "/rooms").await[0]["topic"], "Hellos and help finding your way");
}

#[tokio::test]
async fn joining_a_private_room_you_are_not_in_or_a_missing_room_is_404() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let group = app.conversation_with(&alice.client, &[bob.id, app.user("dave").await.id]).await;

    for room in [direct, group, 9999] {
        let response = carol.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap();

        assert_eq!(response.status(), 404, "room {room}");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({ "errors": ["conversation not found"] }));
    }
    assert_eq!(app.get(&carol.client, &format!("/conversations/{group}")).await.status(), 404);
}

#[tokio::test]
async fn leaving_a_group_is_204_and_the_room_is_then_hidden() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;

    let left = bob.client.delete(app.url(&format!("/conversations/{group}/membership"))).send().await.unwrap();

    assert_eq!(left.status(), 204);
    assert_eq!(app.get(&bob.client, &format!("/conversations/{group}")).await.status(), 404);
    assert_eq!(app.get_json(&bob.client, "/conversations").await, json!([]));
    let shown = app.get_json(&alice.client, &format!("/conversations/{group}")).await;
    assert_eq!(user_ids(&shown["participants"]), [alice.id, carol.id]);
}

#[tokio::test]
async fn leaving_a_direct_conversation_is_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;

    let response = bob.client.delete(app.url(&format!("/conversations/{direct}/membership"))).send().await.unwrap();

    assert_eq!(response.status(), 422);
    assert!(!response.json::<Value>().await.unwrap()["errors"].as_array().unwrap().is_empty());
    assert_eq!(app.get(&bob.client, &format!("/conversations/{direct}")).await.status(), 200);
}

#[tokio::test]
async fn any_member_adds_participants_to_a_group_but_not_to_a_direct_room() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let add = |room: i64, body: Value| {
        bob.client.post(app.url(&format!("/conversations/{room}/participants"))).json(&body).send()
    };

    let added = add(group, json!({ "user_ids": [dave.id] })).await.unwrap();

    assert_eq!(added.status(), 200);
    let body: Value = added.json().await.unwrap();
    assert_eq!(user_ids(&body["participants"]), [alice.id, bob.id, carol.id, dave.id]);
    assert_eq!(app.get(&dave.client, &format!("/conversations/{group}")).await.status(), 200);
    assert_eq!(add(direct, json!({ "user_ids": [dave.id] })).await.unwrap().status(), 422);
    assert_eq!(add(group, json!({ "user_ids": [] })).await.unwrap().status(), 422);
    assert_eq!(add(group, json!({ "user_ids": [9999] })).await.unwrap().status(), 422);
    assert_eq!(app.get(&dave.client, &format!("/conversations/{direct}")).await.status(), 404);
}

#[tokio::test]
async fn only_the_creator_removes_other_participants() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let remove = |client: &reqwest::Client, user: i64| {
        client.delete(app.url(&format!("/conversations/{group}/participants/{user}"))).send()
    };

    let by_member = remove(&bob.client, carol.id).await.unwrap();
    let by_creator = remove(&alice.client, carol.id).await.unwrap();
    let self_removal = remove(&bob.client, bob.id).await.unwrap();

    assert_eq!(by_member.status(), 403);
    assert!(!by_member.json::<Value>().await.unwrap()["errors"].as_array().unwrap().is_empty());
    assert_eq!(by_creator.status(), 204);
    assert_eq!(self_removal.status(), 204, "removing yourself is leaving");
    let shown = app.get_json(&alice.client, &format!("/conversations/{group}")).await;
    assert_eq!(user_ids(&shown["participants"]), [alice.id]);
    assert_eq!(app.get(&carol.client, &format!("/conversations/{group}")).await.status(), 404);
    assert_eq!(remove(&alice.client, carol.id).await.unwrap().status(), 404, "no longer a participant");
}

#[tokio::test]
async fn the_creator_cannot_remove_the_other_person_from_a_direct_room() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;

    let by_creator = alice.client.delete(app.url(&format!("/conversations/{direct}/participants/{}", bob.id))).send();
    let by_other = bob.client.delete(app.url(&format!("/conversations/{direct}/participants/{}", alice.id))).send();

    assert_eq!(by_creator.await.unwrap().status(), 422);
    assert_eq!(by_other.await.unwrap().status(), 403);
}

#[tokio::test]
async fn an_open_room_may_start_with_participants() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;

    let created = app
        .create_conversation(&alice.client, json!({ "kind": "open", "title": "Lobby", "participant_ids": [bob.id] }))
        .await;
    let unknown = app
        .create_conversation(&alice.client, json!({ "kind": "open", "title": "Lobby", "participant_ids": [9999] }))
        .await;

    assert_eq!(created.status(), 201);
    let room = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(unknown.status(), 422);
    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    assert_eq!(user_ids(&shown["participants"]), [alice.id, bob.id]);
    let carols_view = app.get_json(&carol.client, "/rooms").await;
    assert_eq!(carols_view[0]["member_count"], 2);
    assert_eq!(carols_view[0]["is_member"], false);
    let left = bob.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.unwrap();
    assert_eq!(left.status(), 204);
    assert_eq!(app.get_json(&carol.client, "/rooms").await[0]["member_count"], 1);
}

#[tokio::test]
async fn adding_someone_already_in_the_group_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;

    let response = alice
        .client
        .post(app.url(&format!("/conversations/{group}/participants")))
        .json(&json!({ "user_ids": [bob.id, bob.id, carol.id] }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(user_ids(&body["participants"]), [alice.id, bob.id, carol.id]);
}

#[tokio::test]
async fn leaving_an_open_room_and_joining_again_at_once_keeps_the_new_subscription() {
    use std::time::Duration;

    use hearth::model::RoomId;
    use hearth::protocol::{RoomChange, ServerEvent};

    use crate::ws_support::{Next, connect, person};

    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let created = app.create_conversation(&alice.client, json!({ "kind": "open", "title": "Lobby" })).await;
    let room = created.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    assert_eq!(bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap().status(), 200);
    let mut ws = connect(&app, &bob).await;
    ws.subscribe(room, None).await;

    // Bob leaves and joins again at once, and follows the room again.
    let left = bob.client.delete(app.url(&format!("/conversations/{room}/participants/{}", bob.id))).send().await;
    assert!(left.unwrap().status().is_success());
    assert_eq!(bob.client.post(app.url(&format!("/conversations/{room}/join"))).send().await.unwrap().status(), 200);
    ws.subscribe(room, None).await;

    // Past the next read of the room exits (every two seconds), which finds
    // him a member again: his new subscription is kept, and nothing says
    // he was removed.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    app.send(&alice.client, room, "still here?").await;
    loop {
        match ws.next_within(Duration::from_secs(5)).await {
            Next::Event(ServerEvent::Message { message, .. }) => {
                assert_eq!(message.body.as_deref(), Some("still here?"));
                break;
            }
            Next::Event(ServerEvent::Room { room_id, change: RoomChange::Removed, .. }) if room_id == RoomId(room) => {
                panic!("told he was removed from a room he is in")
            }
            Next::Event(_) => {}
            other => panic!("the message never came: {other:?}"),
        }
    }
}

/// `unread_count` and `unread_mentions` of `room` in `client`'s room list.
async fn unread_of(app: &crate::helpers::TestApp, client: &reqwest::Client, room: i64) -> (i64, i64) {
    let listed = app.get_json(client, "/conversations").await;
    let entry = listed.as_array().expect("rooms").iter().find(|r| r["id"] == room).cloned().expect("listed");
    (entry["unread_count"].as_i64().expect("unread"), entry["unread_mentions"].as_i64().expect("mentions"))
}

#[tokio::test]
async fn joining_or_being_added_starts_caught_up_with_the_history_and_counts_what_comes_after() {
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let open = app.create_conversation(&alice.client, json!({ "kind": "open", "title": "Backlog" })).await;
    let open = open.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for n in 0..30 {
        app.send(&alice.client, open, &format!("history {n} @everyone")).await;
    }

    // Joined: thirty old messages are history, not thirty unread.
    assert_eq!(bob.client.post(app.url(&format!("/conversations/{open}/join"))).send().await.unwrap().status(), 200);
    assert_eq!(unread_of(&app, &bob.client, open).await, (0, 0));
    app.send(&alice.client, open, "news @bob").await;
    assert_eq!(unread_of(&app, &bob.client, open).await, (1, 1));
    // Left and joined again: caught up again, whatever was missed.
    let left = bob.client.delete(app.url(&format!("/conversations/{open}/membership"))).send().await.unwrap();
    assert_eq!(left.status(), 204);
    app.send(&alice.client, open, "while bob was away").await;
    assert_eq!(bob.client.post(app.url(&format!("/conversations/{open}/join"))).send().await.unwrap().status(), 200);
    assert_eq!(unread_of(&app, &bob.client, open).await, (0, 0));

    // Added to a group with history: the same.
    let dave = app.user("dave").await;
    let made =
        app.create_conversation(&alice.client, json!({ "participant_ids": [bob.id, dave.id], "title": "Crew" })).await;
    let group = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for n in 0..5 {
        app.send(&alice.client, group, &format!("crew {n}")).await;
    }
    let added = alice
        .client
        .post(app.url(&format!("/conversations/{group}/participants")))
        .json(&json!({ "user_ids": [carol.id] }));
    assert!(added.send().await.unwrap().status().is_success());
    assert_eq!(unread_of(&app, &carol.client, group).await, (0, 0));
    assert_eq!(unread_of(&app, &bob.client, group).await, (5, 0), "those already in count as before");
    app.send(&alice.client, group, "hello carol").await;
    assert_eq!(unread_of(&app, &carol.client, group).await, (1, 0));
}
