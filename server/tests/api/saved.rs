//! Saved messages ("save for later"): `PUT`/`DELETE
//! /conversations/:id/messages/:number/save` keeps a message on my own
//! list, which no one else sees; each tab of mine is told at once;
//! `GET /users/me/saved` lists the live messages of the rooms I am in, the
//! most recently saved first, and pages; a deleted message leaves every
//! list; at most 1,000.

use hearth::model::RoomId;
use hearth::protocol::ServerEvent;
use reqwest::{Client, Response};
use serde_json::Value;

use crate::helpers::{SqlArg, TestApp, assert_error, assert_error_about, new_client, spawn_app};
use crate::ws_support::{QUIET, connect, person};

async fn save(app: &TestApp, client: &Client, room: i64, number: i64) -> Response {
    client.put(app.url(&format!("/conversations/{room}/messages/{number}/save"))).send().await.expect("sent")
}

async fn unsave(app: &TestApp, client: &Client, room: i64, number: i64) -> Response {
    client.delete(app.url(&format!("/conversations/{room}/messages/{number}/save"))).send().await.expect("sent")
}

async fn saved_at(response: Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.url());
    response.json::<Value>().await.expect("json")["saved_at"].clone()
}

/// (room, number, body) of each entry of a page of my list, in order.
fn entries(page: &Value) -> Vec<(i64, i64, String)> {
    let list = page["saved"].as_array().expect("saved");
    list.iter()
        .map(|e| {
            let m = &e["message"];
            let body = m["body"].as_str().expect("body").to_owned();
            (m["conversation_id"].as_i64().expect("room"), m["number"].as_i64().expect("number"), body)
        })
        .collect()
}

fn room_numbers(listed: &Value) -> Vec<i64> {
    listed["numbers"].as_array().expect("numbers").iter().map(|n| n.as_i64().expect("a number")).collect()
}

#[tokio::test]
async fn a_saved_message_is_mine_alone_each_of_my_tabs_hears_of_it_and_the_list_is_newest_first() {
    // Arrange: a group and a direct room; two tabs of alice's, one of bob's.
    let app = spawn_app().await;
    let (alice, bob, carol) = (person(&app, "alice").await, person(&app, "bob").await, person(&app, "carol").await);
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    for text in ["the plan", "the *budget*", "the date"] {
        app.send(&bob.client, group, text).await;
    }
    app.send(&bob.client, direct, "my number").await;
    app.send(&bob.client, direct, "call me").await;
    let (mut tab, mut other_tab, mut bobs) =
        (connect(&app, &alice).await, connect(&app, &alice).await, connect(&app, &bob).await);

    // Act
    let first = saved_at(save(&app, &alice.client, group, 1).await).await;
    let (twice, at_once) = tokio::join!(save(&app, &alice.client, direct, 2), save(&app, &alice.client, direct, 2));
    let (twice, at_once) = (saved_at(twice).await, saved_at(at_once).await);
    let budget = saved_at(save(&app, &alice.client, group, 2).await).await;
    let again = saved_at(save(&app, &alice.client, group, 1).await).await;
    let list = app.get_json(&alice.client, "/users/me/saved").await;

    // Assert
    assert!(first.is_string(), "saved, with its time: {first}");
    assert_eq!(twice, at_once, "two saves at once: one entry");
    assert_eq!(again, first, "saving again keeps the first time");
    let direct_rows = app.query_strings(&format!("SELECT saved_at FROM saved_messages WHERE room_id = {direct}")).await;
    assert_eq!(direct_rows.len(), 1, "one row for two saves at once");
    assert_eq!(
        entries(&list),
        [(group, 2, "the *budget*".to_owned()), (direct, 2, "call me".to_owned()), (group, 1, "the plan".to_owned()),],
        "the most recently saved first"
    );
    assert_eq!(list["saved"][0]["saved_at"], budget);
    assert!(list["saved"][0]["message"]["html"].as_str().expect("html").contains("<em>budget</em>"), "{list}");
    assert_eq!(list["next_before"], Value::Null, "one page");
    let in_group = app.get_json(&alice.client, &format!("/conversations/{group}/saved")).await;
    assert_eq!(room_numbers(&in_group), [1, 2]);
    // Bob, in both rooms, sees nothing of alice's list.
    assert!(entries(&app.get_json(&bob.client, "/users/me/saved").await).is_empty());
    assert!(room_numbers(&app.get_json(&bob.client, &format!("/conversations/{group}/saved")).await).is_empty());
    // Each change once, in order; a save of a saved message is none.
    let told = |room: i64, number: i64, at: &Value| ServerEvent::MessageSaved {
        room_id: RoomId(room),
        number,
        saved_at: at.as_str().map(Into::into),
    };
    for tab in [&mut tab, &mut other_tab] {
        assert_eq!(tab.next_skipping_presence().await, told(group, 1, &first));
        assert_eq!(tab.next_skipping_presence().await, told(direct, 2, &twice));
        assert_eq!(tab.next_skipping_presence().await, told(group, 2, &budget));
        tab.assert_quiet(QUIET, "alice").await;
    }
    bobs.assert_quiet(QUIET, "bob").await;

    // Act: taken off (twice is fine).
    let off = saved_at(unsave(&app, &alice.client, group, 1).await).await;
    let off_again = saved_at(unsave(&app, &alice.client, group, 1).await).await;

    // Assert
    assert_eq!((off, off_again), (Value::Null, Value::Null));
    let list = app.get_json(&alice.client, "/users/me/saved").await;
    assert_eq!(entries(&list).iter().map(|(r, n, _)| (*r, *n)).collect::<Vec<_>>(), [(group, 2), (direct, 2)]);
    assert_eq!(room_numbers(&app.get_json(&alice.client, &format!("/conversations/{group}/saved")).await), [2]);
    assert_eq!(tab.next_skipping_presence().await, told(group, 1, &Value::Null));
    tab.assert_quiet(QUIET, "alice").await;
}

#[tokio::test]
async fn the_list_pages_leaves_out_deleted_messages_and_rooms_i_left_and_refuses_what_i_cannot_see() {
    // Arrange: five of bob's messages in a group, all saved by alice.
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let mallory = app.user("mallory").await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    for n in 1..=5 {
        app.send(&bob.client, group, &format!("note {n}")).await;
        saved_at(save(&app, &alice.client, group, n).await).await;
    }

    // Act: page by two.
    let one = app.get_json(&alice.client, "/users/me/saved?limit=2").await;
    let before = one["next_before"].as_i64().expect("a next page");
    let two = app.get_json(&alice.client, &format!("/users/me/saved?limit=2&before={before}")).await;
    let before = two["next_before"].as_i64().expect("a last page");
    let three = app.get_json(&alice.client, &format!("/users/me/saved?limit=2&before={before}")).await;

    // Assert
    let numbers = |page: &Value| entries(page).iter().map(|(_, n, _)| *n).collect::<Vec<_>>();
    assert_eq!((numbers(&one), numbers(&two), numbers(&three)), (vec![5, 4], vec![3, 2], vec![1]));
    assert_eq!(three["next_before"], Value::Null, "no page after the last");
    assert_error_about("limit", app.get(&alice.client, "/users/me/saved?limit=0").await, 422).await;
    let bad = app.get(&alice.client, "/users/me/saved?before=yesterday").await;
    assert!(matches!(bad.status().as_u16(), 400 | 422), "{}", bad.status());
    assert!(bad.json::<Value>().await.expect("json")["errors"].is_array());
    assert_eq!(numbers(&app.get_json(&alice.client, "/users/me/saved?limit=1000").await), [5, 4, 3, 2, 1]);

    // Act: bob deletes note 4.
    let deleted = bob.client.delete(app.url(&format!("/conversations/{group}/messages/4"))).send().await;
    assert_eq!(deleted.expect("sent").status(), 204);

    // Assert: gone from the list and from the database, and not savable.
    assert_eq!(numbers(&app.get_json(&alice.client, "/users/me/saved").await), [5, 3, 2, 1]);
    let rows = app.query_strings("SELECT CAST(number AS TEXT) FROM saved_messages ORDER BY number").await;
    assert_eq!(rows, ["1", "2", "3", "5"]);
    assert_error(save(&app, &alice.client, group, 4).await, 404).await;
    assert_error(save(&app, &alice.client, group, 99).await, 404).await;
    assert_error(save(&app, &mallory.client, group, 1).await, 404).await;
    assert_error(app.get(&mallory.client, &format!("/conversations/{group}/saved")).await, 404).await;
    assert_error(save(&app, &new_client(), group, 1).await, 401).await;
    assert_error(app.get(&new_client(), "/users/me/saved").await, 401).await;
    assert_eq!(
        rows.len(),
        app.query_strings("SELECT saved_at FROM saved_messages").await.len(),
        "refusals saved nothing"
    );

    // Act: alice leaves the group.
    let left = alice.client.delete(app.url(&format!("/conversations/{group}/membership"))).send().await;
    assert_eq!(left.expect("sent").status(), 204);

    // Assert: what she saved there is no longer shown to her.
    assert_eq!(numbers(&app.get_json(&alice.client, "/users/me/saved").await), Vec::<i64>::new());
    assert_error(app.get(&alice.client, &format!("/conversations/{group}/saved")).await, 404).await;
    assert_error(unsave(&app, &alice.client, group, 1).await, 404).await;
}

#[tokio::test]
async fn a_list_holds_at_most_1000_messages() {
    // Arrange: 1,001 messages, the first 1,000 saved by alice.
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, bob.id, 1001).await;
    let filled = app
        .execute_sql(
            "INSERT INTO saved_messages (user_id, room_id, number, saved_at)
             SELECT $1, room_id, number, created_at FROM messages WHERE room_id = $2 AND number <= 1000",
            &[SqlArg::Int(alice.id), SqlArg::Int(room)],
        )
        .await;
    assert_eq!(filled, 1000);

    // Act
    let refused = save(&app, &alice.client, room, 1001).await;
    let already = save(&app, &alice.client, room, 7).await;
    let freed = unsave(&app, &alice.client, room, 1).await;
    let now = save(&app, &alice.client, room, 1001).await;
    let bobs = save(&app, &bob.client, room, 1001).await;

    // Assert
    let body = assert_error(refused, 409).await;
    assert!(body.to_string().contains("1000"), "{body}");
    assert_eq!(already.status(), 200, "one saved already stays saved");
    assert_eq!(freed.status(), 200);
    assert!(saved_at(now).await.is_string(), "saved once there is room");
    assert_eq!(bobs.status(), 200, "each person has their own list");
}
