//! Closing a direct conversation (`PUT`/`DELETE /conversations/:id/closed`):
//! it is read and leaves my room list, not the other person's, until
//! someone writes in it, I start it again, or I reopen it; a group or open
//! room is left, not closed.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, new_client, spawn_app};

async fn listed(app: &TestApp, client: &reqwest::Client) -> Vec<i64> {
    let rooms = app.get_json(client, "/conversations").await;
    rooms.as_array().expect("rooms").iter().map(|r| r["id"].as_i64().expect("an id")).collect()
}

async fn close(app: &TestApp, client: &reqwest::Client, room: i64) -> reqwest::Response {
    client.put(app.url(&format!("/conversations/{room}/closed"))).send().await.expect("sent")
}

#[tokio::test]
async fn a_closed_direct_conversation_leaves_my_list_until_someone_writes_or_i_start_it_again() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let other = app.conversation_with(&alice.client, &[carol.id]).await;
    app.send(&bob.client, direct, "one").await;
    app.send(&bob.client, direct, "two").await;

    // Act
    let closed = close(&app, &alice.client, direct).await;

    // Assert: gone from alice's list (read), not from bob's.
    assert_eq!(closed.status(), 204);
    assert_eq!(listed(&app, &alice.client).await, [other]);
    assert!(listed(&app, &bob.client).await.contains(&direct));
    let page = app.history(&alice.client, direct, "").await;
    assert_eq!(page["messages"].as_array().expect("messages").len(), 2, "still readable");
    let unread = app.get_json(&alice.client, "/conversations").await;
    assert_eq!(unread[0]["unread_count"], 0);

    // Act: bob writes again.
    app.send(&bob.client, direct, "still there?").await;

    // Assert: back, counting it.
    let rooms = app.get_json(&alice.client, "/conversations").await;
    let back = rooms.as_array().expect("rooms").iter().find(|r| r["id"] == direct).expect("listed again");
    assert_eq!(back["unread_count"], 1, "{rooms}");

    // Act: closed again, then started again from the people picker's route.
    assert_eq!(close(&app, &alice.client, direct).await.status(), 204);
    assert!(!listed(&app, &alice.client).await.contains(&direct));
    let again = app.create_conversation(&alice.client, json!({ "participant_ids": [bob.id] })).await;

    // Assert
    assert_eq!(again.status(), 200, "the same room");
    assert_eq!(again.json::<Value>().await.expect("json")["id"], direct);
    assert!(listed(&app, &alice.client).await.contains(&direct));

    // Act: closed, and reopened (twice is fine).
    assert_eq!(close(&app, &alice.client, direct).await.status(), 204);
    let path = format!("/conversations/{direct}/closed");
    let reopened = alice.client.delete(app.url(&path)).send().await.expect("sent");
    let twice = alice.client.delete(app.url(&path)).send().await.expect("sent");

    // Assert
    assert_eq!((reopened.status().as_u16(), twice.status().as_u16()), (204, 204));
    assert!(listed(&app, &alice.client).await.contains(&direct));
}

#[tokio::test]
async fn only_a_member_closes_and_only_a_direct_conversation() {
    let app = spawn_app().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;

    let body = assert_error(close(&app, &alice.client, group).await, 422).await;
    assert!(body.to_string().contains("leave"), "{body}");
    assert_error(close(&app, &carol.client, direct).await, 404).await;
    assert_error(close(&app, &new_client(), direct).await, 401).await;
    assert_error(
        carol.client.delete(app.url(&format!("/conversations/{direct}/closed"))).send().await.expect("sent"),
        404,
    )
    .await;
    assert!(listed(&app, &alice.client).await.contains(&group), "a refused close changes nothing");
    assert!(listed(&app, &bob.client).await.contains(&direct));
}
