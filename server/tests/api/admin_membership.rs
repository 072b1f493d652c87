//! An admin removes a user from rooms (issue 18, moderation): the same
//! `DELETE /conversations/:id/participants/:user_id` as the room's creator,
//! allowed to an admin whether or not they are in the room, and audited.
//! The removed user's sockets stop getting the room at once.

use hearth::model::RoomId;
use hearth::protocol::{RoomChange, ServerEvent};
use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};
use crate::ws_support::{QUIET, connect, person};

async fn remove(app: &TestApp, client: &Client, room: i64, user: i64) -> reqwest::Response {
    let path = format!("/conversations/{room}/participants/{user}");
    client.delete(app.url(&path)).header("Accept", "application/json").send().await.expect("sent")
}

fn audited(entries: &Value, action: &str) -> Vec<Value> {
    entries.as_array().expect("entries").iter().filter(|e| e["action"] == action).cloned().collect()
}

#[tokio::test]
async fn an_admin_or_the_creator_removes_a_member_and_the_removed_user_loses_the_room_at_once() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let creator = app.user("creator").await;
    let member = app.user("member").await;
    let outsider = app.user("outsider").await;
    let gone = app.user("gone").await;
    let first = app.user("first").await;
    let second = person(&app, "second").await;
    let ids = [member.id, gone.id, first.id, second.id];
    let room = app.conversation_with(&creator.client, &ids).await;
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", gone.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    let mut ws = connect(&app, &second).await;
    ws.subscribe(room, None).await;

    // Who may remove someone else: a member who did not create the room
    // 403, someone outside it 404, a deactivated member and anonymous 401.
    for (who, client, status) in [
        ("a member", &member.client, 403),
        ("an outsider", &outsider.client, 404),
        ("a deactivated member", &gone.client, 401),
        ("anonymous", &new_client(), 401),
    ] {
        let response = remove(&app, client, room, first.id).await;
        assert_eq!(response.status(), status, "{who}");
        assert_error(response, status).await;
    }
    // The creator may, and that is no admin action.
    assert_eq!(remove(&app, &creator.client, room, first.id).await.status(), 204);
    assert!(audited(&app.get_json(&admin.client, "/admin/audit").await, "room.remove_member").is_empty());

    // The members left are told who is in the room changed.
    assert_eq!(
        ws.next_skipping_presence().await,
        ServerEvent::Room {
            room_id: RoomId(room),
            change: RoomChange::Updated,
            unread_count: None,
            unread_mentions: None
        }
    );

    // An admin who is not in the room may, and it is audited.
    assert_eq!(remove(&app, &admin.client, room, second.id).await.status(), 204);
    assert_eq!(
        ws.next_skipping_presence().await,
        ServerEvent::Room {
            room_id: RoomId(room),
            change: RoomChange::Removed,
            unread_count: None,
            unread_mentions: None
        }
    );
    app.send(&creator.client, room, "after the removal").await;
    ws.assert_quiet(QUIET, "the removed user's socket").await;
    assert_error(app.get(&second.client, &format!("/conversations/{room}")).await, 404).await;
    let shown = app.get_json(&creator.client, &format!("/conversations/{room}")).await;
    let left: Vec<i64> =
        shown["participants"].as_array().expect("participants").iter().map(|p| p["id"].as_i64().expect("id")).collect();
    assert_eq!(left, [creator.id, member.id, gone.id]);
    let entries = app.get_json(&admin.client, "/admin/audit").await;
    let entry = &audited(&entries, "room.remove_member")[..];
    assert_eq!(entry.len(), 1, "{entries}");
    assert_eq!(entry[0]["actor"], "root");
    assert_eq!(entry[0]["target_user"], second.id);
    assert_eq!(entry[0]["target_room"], room);

    // What can't be done: someone no longer there 404, a missing room 404,
    // one side of a direct room 422.
    assert_error(remove(&app, &admin.client, room, second.id).await, 404).await;
    assert_error(remove(&app, &admin.client, 999_999, member.id).await, 404).await;
    let direct = app.conversation_with(&member.client, &[outsider.id]).await;
    assert_error(remove(&app, &admin.client, direct, outsider.id).await, 422).await;
    assert_eq!(audited(&app.get_json(&admin.client, "/admin/audit").await, "room.remove_member").len(), 1);

    // An admin's removal is audited in a room the admin made as well (the
    // rooms everyone starts in are the first admin's).
    let own = app.conversation_with(&admin.client, &[member.id, outsider.id]).await;
    assert_eq!(remove(&app, &admin.client, own, outsider.id).await.status(), 204);
    let entries = app.get_json(&admin.client, "/admin/audit").await;
    let entry = audited(&entries, "room.remove_member");
    assert_eq!(entry.len(), 2, "{entries}");
    assert_eq!((entry[0]["target_user"].as_i64(), entry[0]["target_room"].as_i64()), (Some(outsider.id), Some(own)));
}

#[tokio::test]
async fn an_admin_lists_the_group_and_open_rooms_a_user_is_in_and_nobody_else_may() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let creator = app.user("creator").await;
    let member = app.user("member").await;
    let gone = app.user("gone").await;
    let group = app.conversation_with(&creator.client, &[member.id, gone.id]).await;
    let body = json!({ "kind": "open", "title": "Lobby", "participant_ids": [member.id] });
    let open: Value = app.create_conversation(&creator.client, body).await.json().await.expect("json");
    app.conversation_with(&creator.client, &[member.id]).await; // direct: not offered
    let body = json!({ "title": "Old plans", "participant_ids": [member.id, gone.id] });
    let archived: Value = app.create_conversation(&creator.client, body).await.json().await.expect("json");
    let archived = archived["id"].as_i64().expect("id");
    let response = creator.client.delete(app.url(&format!("/conversations/{archived}"))).send().await;
    assert!(response.expect("sent").status().is_success());
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", gone.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    let path = format!("/admin/users/{}/conversations", member.id);

    for (who, client, status) in [
        ("a member", &member.client, 403),
        ("a room's creator", &creator.client, 403),
        ("a deactivated account", &gone.client, 401),
        ("anonymous", &new_client(), 401),
    ] {
        let response = client.get(app.url(&path)).header("Accept", "application/json").send().await.expect("sent");
        assert_eq!(response.status(), status, "{who}");
        assert_error(response, status).await;
    }
    let rooms = app.get_json(&admin.client, &path).await;
    let mut ids: Vec<i64> = rooms.as_array().expect("rooms").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    ids.sort_unstable();
    assert_eq!(ids, [group, open["id"].as_i64().expect("id")]);
    assert_error(app.get(&admin.client, "/admin/users/999999/conversations").await, 404).await;
}
