//! `GET|POST /conversations` and `GET /conversations/:id`: direct rooms and
//! their reuse, groups, the room list.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{SqlArg, TestApp, spawn_app};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().expect("array").iter().map(|c| c["id"].as_i64().expect("id")).collect()
}

fn user_ids(people: &Value) -> Vec<i64> {
    let mut ids = ids(people);
    ids.sort();
    ids
}

#[tokio::test]
async fn opening_a_direct_conversation_twice_returns_the_same_room_with_201_then_200() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let first = app.create_conversation(&alice.client, json!({ "participant_ids": [bob.id] })).await;
    let first_status = first.status();
    let first: Value = first.json().await.unwrap();
    let again = app.create_conversation(&alice.client, json!({ "participant_ids": [bob.id] })).await;
    let again_status = again.status();
    let again: Value = again.json().await.unwrap();

    assert_eq!(first_status, 201);
    assert_eq!(again_status, 200);
    assert!(first["id"].as_i64().is_some(), "{first}");
    assert_eq!(again["id"], first["id"]);
}

#[tokio::test]
async fn the_other_person_opening_the_direct_conversation_gets_the_same_room() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;

    let response = app.create_conversation(&bob.client, json!({ "participant_ids": [alice.id] })).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["id"], room);
    // Listing me among the participants changes nothing.
    let with_me = app.create_conversation(&bob.client, json!({ "participant_ids": [alice.id, bob.id] })).await;
    assert_eq!(with_me.status(), 200);
    assert_eq!(with_me.json::<Value>().await.unwrap()["id"], room);
    let bobs_rooms = app.get_json(&bob.client, "/conversations").await;
    assert_eq!(ids(&bobs_rooms), [room]);
}

#[tokio::test]
async fn both_people_opening_their_direct_room_at_once_share_one_room() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut opens = JoinSet::new();
    for n in 0..20 {
        let (client, other) = if n % 2 == 0 { (alice.client.clone(), bob.id) } else { (bob.client.clone(), alice.id) };
        let url = app.url("/conversations");
        opens.spawn(async move {
            let response = client.post(url).json(&json!({ "participant_ids": [other] })).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap()["id"].as_i64())
        });
    }

    let results = opens.join_all().await;

    assert_eq!(results.iter().filter(|(status, _)| *status == 201).count(), 1, "{results:?}");
    assert!(results.iter().all(|(status, id)| matches!(status, 200 | 201) && *id == results[0].1), "{results:?}");
    assert_eq!(app.get_json(&alice.client, "/conversations").await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn three_people_make_a_group_titled_group_chat_unless_titled() {
    let app = spawn_app().await;
    app.register("alice").await;
    let alice_id = app.user_id(&app.client).await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;

    let untitled = app.conversation_with(&app.client, &[bob.id, carol.id]).await;
    let titled = app
        .create_conversation(&app.client, json!({ "participant_ids": [bob.id, carol.id], "title": "  Book club " }))
        .await;

    assert_eq!(titled.status(), 201);
    let titled = titled.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_ne!(titled, untitled, "groups are never reused");
    let shown = app.get_json(&carol.client, &format!("/conversations/{untitled}")).await;
    assert_eq!(shown["conversation"]["kind"], "group");
    assert_eq!(shown["conversation"]["group"], true);
    assert_eq!(shown["conversation"]["title"], "Group Chat");
    assert_eq!(shown["conversation"]["created_by"], alice_id);
    assert_eq!(user_ids(&shown["participants"]), [alice_id, bob.id, carol.id]);
    let shown = app.get_json(&bob.client, &format!("/conversations/{titled}")).await;
    assert_eq!(shown["conversation"]["title"], "Book club");
}

/// `POST /conversations`: its status and the room's id.
async fn create(app: &TestApp, client: &reqwest::Client, body: Value) -> (u16, i64) {
    let response = app.create_conversation(client, body).await;
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap()["id"].as_i64().unwrap())
}

#[tokio::test]
async fn the_same_people_without_a_title_find_their_untitled_group_again() {
    // Arrange
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (bob, carol, dave) = (app.user("bob").await, app.user("carol").await, app.user("dave").await);
    let (first_status, first) = create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id] })).await;

    // Act
    let again = create(&app, &alice.client, json!({ "participant_ids": [carol.id, bob.id, carol.id] })).await;
    let from_bob = create(&app, &bob.client, json!({ "participant_ids": [alice.id, carol.id] })).await;
    let more = create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id, dave.id] })).await;
    let titled =
        create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id], "title": "Book club" })).await;
    let patch = alice.client.patch(app.url(&format!("/conversations/{first}"))).json(&json!({ "title": "Renamed" }));
    assert_eq!(patch.send().await.unwrap().status(), 200);
    let after_rename = create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id] })).await;
    let archive = alice.client.delete(app.url(&format!("/conversations/{}", after_rename.1)));
    assert!(archive.send().await.unwrap().status().is_success());
    let after_archive = create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id] })).await;
    // The default title is no title: the untitled group, found or made.
    let defaulted =
        create(&app, &alice.client, json!({ "participant_ids": [bob.id, carol.id], "title": " Group Chat " })).await;
    let (_, with_dave_titled) =
        create(&app, &alice.client, json!({ "participant_ids": [dave.id], "title": "Group Chat", "kind": "group" }))
            .await;
    let with_dave = create(&app, &alice.client, json!({ "participant_ids": [dave.id], "kind": "group" })).await;

    // Assert
    assert_eq!(first_status, 201);
    assert_eq!(again, (200, first), "the same people, in any order, open the same group");
    assert_eq!(from_bob, (200, first), "whoever picks them");
    assert_eq!(more.0, 201, "another set of people is another group");
    assert_ne!(more.1, first);
    assert_eq!(titled.0, 201, "a titled group is always new");
    assert_ne!(titled.1, first);
    assert_eq!(after_rename.0, 201, "a renamed group is no longer the untitled one");
    assert_ne!(after_rename.1, first);
    assert_eq!(after_archive.0, 201, "an archived group is not reopened");
    assert_ne!(after_archive.1, after_rename.1);
    assert_eq!(defaulted, (200, after_archive.1), "titled \"Group Chat\" is the untitled group");
    assert_eq!(with_dave, (200, with_dave_titled), "and an untitled request finds one made so");
    let rooms = app.get_json(&carol.client, "/conversations").await;
    assert_eq!(rooms.as_array().unwrap().len(), 4, "{rooms}");
}

#[tokio::test]
async fn a_double_submitted_untitled_group_is_one_group() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (bob, carol) = (app.user("bob").await, app.user("carol").await);
    let mut opens = JoinSet::new();
    for _ in 0..10 {
        let (client, url) = (alice.client.clone(), app.url("/conversations"));
        let body = json!({ "participant_ids": [bob.id, carol.id] });
        opens.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap()["id"].as_i64())
        });
    }

    let results = opens.join_all().await;

    assert_eq!(results.iter().filter(|(status, _)| *status == 201).count(), 1, "{results:?}");
    assert!(results.iter().all(|(status, id)| matches!(status, 200 | 201) && *id == results[0].1), "{results:?}");
}

#[tokio::test]
async fn creating_a_conversation_with_no_or_unknown_participants_is_422() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let cases = [
        json!({ "participant_ids": [] }),
        json!({}),
        json!({ "participant_ids": [alice.id] }),
        json!({ "participant_ids": [9999] }),
        json!({ "participant_ids": [bob.id, 9999] }),
        json!({ "participant_ids": [bob.id], "kind": "party" }),
        json!({ "participant_ids": [bob.id], "title": "x".repeat(101) }),
    ];

    for body in cases {
        let response = app.create_conversation(&alice.client, body.clone()).await;

        assert_eq!(response.status(), 422, "{body}");
        let errors: Value = response.json().await.unwrap();
        assert!(!errors["errors"].as_array().unwrap().is_empty(), "{body}: {errors}");
    }
    let unknown: Value =
        app.create_conversation(&alice.client, json!({ "participant_ids": [9999] })).await.json().await.unwrap();
    assert!(unknown["errors"][0].as_str().unwrap().contains("9999"), "{unknown}");
    assert_eq!(app.get_json(&alice.client, "/conversations").await, json!([]), "nothing was created");
}

#[tokio::test]
async fn showing_a_conversation_gives_the_room_its_participants_and_the_last_50_messages_ascending() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.seed_messages(room, alice.id, 55).await;

    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;

    let conversation = &shown["conversation"];
    assert_eq!(conversation["id"], room);
    assert_eq!(conversation["kind"], "direct");
    assert_eq!(conversation["group"], false);
    assert_eq!(conversation["created_by"], alice.id);
    assert_eq!(conversation["last_number"], 55);
    assert!(conversation["updated_at"].as_str().is_some());
    assert!(conversation.get("title").is_some());
    assert_eq!(user_ids(&shown["participants"]), [alice.id, bob.id]);
    let person = &shown["participants"][0];
    for field in ["id", "username", "name", "avatar_url"] {
        assert!(person.get(field).is_some(), "participant has {field}: {person}");
    }
    assert!(person.get("email").is_none(), "no emails of others: {person}");
    let numbers: Vec<i64> =
        shown["messages"].as_array().unwrap().iter().map(|m| m["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (6..=55).collect::<Vec<_>>());
    assert_eq!(shown["messages"][49]["body"], "message 55");
}

#[tokio::test]
async fn a_missing_conversation_is_404_with_a_json_error() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let response = app.get(&alice.client, "/conversations/9999").await;

    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "errors": ["conversation not found"] }));
}

#[tokio::test]
async fn the_room_list_is_ordered_by_activity_with_a_preview_and_unread_counts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let direct = app.conversation_with(&alice.client, &[bob.id]).await;
    let group = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let before = app.get_json(&bob.client, "/conversations").await;

    app.send(&alice.client, direct, "first").await;
    app.send(&alice.client, direct, "second").await;
    let latest = app.send(&alice.client, direct, "  third  ").await;
    let after = app.get_json(&bob.client, "/conversations").await;
    let alices = app.get_json(&alice.client, "/conversations").await;

    assert_eq!(ids(&before), [group, direct], "newest room first while both are empty");
    assert_eq!(ids(&after), [direct, group], "the room with the newest message first");
    let entry = &after[0];
    for field in ["id", "title", "group", "kind", "updated_at", "users", "last_message", "unread_count"] {
        assert!(entry.get(field).is_some(), "room list entry has {field}: {entry}");
    }
    assert_eq!(entry["kind"], "direct");
    assert_eq!(entry["group"], false);
    assert_eq!(user_ids(&entry["users"]), [alice.id, bob.id]);
    assert_eq!(
        entry["last_message"],
        json!({ "number": 3, "body": "third", "text": "third", "user_id": alice.id, "created_at": latest["created_at"] })
    );
    assert_eq!(entry["updated_at"], latest["created_at"]);
    assert_eq!(entry["unread_count"], 3, "bob has not read alice's three messages");
    assert_eq!(after[1]["last_message"], Value::Null);
    assert_eq!(after[1]["unread_count"], 0);
    assert_eq!(after[1]["title"], "Group Chat");
    assert_eq!(user_ids(&after[1]["users"]), [alice.id, bob.id, carol.id]);
    assert_eq!(alices[0]["id"], direct);
    assert_eq!(alices[0]["unread_count"], 0, "your own messages are never unread");
    let carols = app.get_json(&carol.client, "/conversations").await;
    assert_eq!(ids(&carols), [group], "only your own rooms are listed");
}

#[tokio::test]
async fn the_room_list_shows_each_members_name_and_picture_exactly() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    // Quotes, backslashes, non-ASCII and an emoji: the list carries the
    // members as text the database assembles, and must give them back as set.
    let name = r#"Bob "the \ builder" Ünal 🧱"#;
    let updated = bob.client.put(app.url("/users/me")).json(&json!({"user": {"name": name}})).send().await.unwrap();
    assert_eq!(updated.status(), 200);
    // An address as one set before avatars were copied (stored as given).
    let avatar = r#"https://example.com/b%22ob".png?size=64&x=1"#;
    app.execute_sql(
        "UPDATE users SET avatar_url = $1 WHERE id = $2",
        &[SqlArg::Text(avatar.into()), SqlArg::Int(bob.id)],
    )
    .await;
    let group = app.conversation_with(&alice.client, &[carol.id, bob.id]).await;
    let empty_room_of_carol = app.conversation_with(&carol.client, &[bob.id]).await;

    let list = app.get_json(&alice.client, "/conversations").await;

    assert_eq!(ids(&list), [group]);
    assert_eq!(
        list[0]["users"],
        json!([
            { "id": alice.id, "username": "alice", "name": "alice Example", "avatar_url": null },
            { "id": bob.id, "username": "bob", "name": name, "avatar_url": avatar },
            { "id": carol.id, "username": "carol", "name": "carol Example", "avatar_url": null },
        ]),
        "every member (those who joined together by id), with name and picture as set"
    );
    let carols = app.get_json(&carol.client, "/conversations").await;
    assert_eq!(ids(&carols), [empty_room_of_carol, group]);
    assert_eq!(carols[0]["last_message"], Value::Null);
}

#[tokio::test]
async fn the_preview_reads_as_the_message_shows_without_its_markdown() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let source = "**Ship** it: `v2`\n\n> see [the notes](https://example.com/notes)";
    app.send(&alice.client, room, source).await;

    let list = app.get_json(&bob.client, "/conversations").await;

    assert_eq!(list[0]["last_message"]["body"], source, "the source, as the messages have it");
    assert_eq!(list[0]["last_message"]["text"], "Ship it: v2 see the notes", "on one line, without the markup");
}

#[tokio::test]
async fn the_preview_of_a_deleted_last_message_has_no_body() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    app.send(&alice.client, room, "oops").await;

    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/1"))).send().await.unwrap();

    assert_eq!(deleted.status(), 204);
    let list = app.get_json(&bob.client, "/conversations").await;
    assert_eq!(list[0]["last_message"]["number"], 1);
    assert_eq!(list[0]["last_message"]["body"], Value::Null);
    assert!(list[0]["last_message"].get("text").is_none(), "{}", list[0]);
}

#[tokio::test]
async fn the_conversation_routes_need_a_session() {
    let app = spawn_app().await;

    for path in ["/conversations", "/rooms"] {
        let response = app.get(&app.client, path).await;

        assert_eq!(response.status(), 401, "{path}");
        assert!(response.json::<Value>().await.unwrap()["errors"][0].as_str().unwrap().contains("sign in"));
    }
    let create = app.create_conversation(&app.client, json!({ "participant_ids": [1] })).await;
    assert_eq!(create.status(), 401);
}

#[tokio::test]
async fn a_rest_client_marks_a_room_read_and_its_counts_follow() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    for n in 1..=3 {
        let sent = app.post_message(&alice.client, room, json!({ "body": format!("m{n} @bob") })).await;
        assert_eq!(sent.status(), 201);
    }
    let counts = |client: reqwest::Client| {
        let app = &app;
        async move {
            let list = app.get_json(&client, "/conversations").await;
            let entry = list.as_array().unwrap().iter().find(|r| r["id"] == room).cloned().expect("the room");
            (entry["unread_count"].as_i64().unwrap(), entry["unread_mentions"].as_i64().unwrap())
        }
    };
    assert_eq!(counts(bob.client.clone()).await, (3, 3));
    let url = app.url(&format!("/conversations/{room}/read"));

    let read = bob.client.put(&url).json(&json!({ "number": 2 })).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.json::<Value>().await.unwrap(), json!({ "read_up_to": 2 }));
    assert_eq!(counts(bob.client.clone()).await, (1, 1));
    // Only forward: an older number leaves it where it is.
    let back = bob.client.put(&url).json(&json!({ "number": 1 })).send().await.unwrap();
    assert_eq!(back.json::<Value>().await.unwrap(), json!({ "read_up_to": 2 }));
    // No body: everything there is.
    let all = bob.client.put(&url).send().await.unwrap();
    assert_eq!(all.json::<Value>().await.unwrap(), json!({ "read_up_to": 3 }));
    assert_eq!(counts(bob.client.clone()).await, (0, 0));

    // Not a member, not signed in, not a number.
    crate::helpers::assert_error(carol.client.put(&url).send().await.unwrap(), 404).await;
    crate::helpers::assert_error(crate::helpers::new_client().put(&url).send().await.unwrap(), 401).await;
    let bad = bob.client.put(&url).json(&json!({ "number": "two" })).send().await.unwrap();
    crate::helpers::assert_error(bad, 422).await;
}

#[tokio::test]
async fn a_rails_client_may_wrap_its_fields_in_the_models_key_and_send_ids_as_strings() {
    // `params.require(:conversation)` / `params.require(:message)`: the
    // shape a Rails client sends, beside the seed's bare one.
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let created = alice
        .client
        .post(app.url("/conversations"))
        .json(&json!({ "conversation": { "participant_ids": [bob.id.to_string()], "title": "Wrapped" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let room = created.json::<Value>().await.unwrap()["id"].as_i64().expect("the room's id");
    let shown = app.get_json(&bob.client, &format!("/conversations/{room}")).await;
    assert_eq!(shown["conversation"]["title"], "Wrapped");

    let sent = alice
        .client
        .post(app.url(&format!("/conversations/{room}/messages")))
        .json(&json!({ "message": { "body": "wrapped hello" }, "client_id": "w-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let again = alice
        .client
        .post(app.url(&format!("/conversations/{room}/messages")))
        .json(&json!({ "message": { "body": "wrapped hello", "client_id": "w-1" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "the same client_id, beside the key or in it");
    let history = app.get_json(&bob.client, &format!("/conversations/{room}/messages")).await;
    let bodies: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["wrapped hello"]);

    // Wrapped or bare, wrong fields are still a 422 with errors, and an id
    // that is no number says so.
    for body in [
        json!({ "message": { "body": "" } }),
        json!({ "message": "just text" }),
        json!({ "conversation": { "participant_ids": ["two"] } }),
    ] {
        let path = if body.get("message").is_some() {
            format!("/conversations/{room}/messages")
        } else {
            "/conversations".into()
        };
        let refused = alice.client.post(app.url(&path)).json(&body).send().await.unwrap();
        assert_eq!(refused.status(), 422, "{body}");
        let errors: Value = refused.json().await.unwrap();
        assert!(errors["errors"].as_array().is_some_and(|e| !e.is_empty()), "{errors}");
    }
}
