//! The token API's messages: `/api/applications/:token/chats/:number/messages`,
//! numbering under load, isolation between tokens, and a chat being a room
//! of its owner's web UI.

use hearth::protocol::{RoomChange, ServerEvent};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{assert_error, assert_error_about, new_client, spawn_app};

fn message_numbers(list: &Value) -> Vec<i64> {
    list.as_array().expect("array").iter().map(|m| m["message_number"].as_i64().expect("message_number")).collect()
}

/// An anonymous application with one chat; returns its token.
async fn application_with_a_chat(app: &crate::helpers::TestApp) -> String {
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Help").await;
    token
}

#[tokio::test]
async fn posting_a_message_returns_201_numbered_from_1_in_the_seeds_shape() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/messages"));

    let response = new_client().post(&url).json(&json!({ "message_content": "  Hello!\n" })).send().await.unwrap();
    let with_body = new_client().post(&url).json(&json!({ "body": "Also accepted" })).send().await.unwrap();

    assert_eq!(response.status(), 201);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["application_token"], token);
    assert_eq!(message["chat_number"], 1);
    assert_eq!(message["message_number"], 1);
    assert_eq!(message["message_content"], "Hello!", "trimmed");
    assert!(message["created_at"].as_str().unwrap().ends_with('Z'), "{message}");
    assert_eq!(message["edited_at"], Value::Null);
    assert_eq!(with_body.status(), 201);
    let with_body: Value = with_body.json().await.unwrap();
    assert_eq!(with_body["message_number"], 2);
    assert_eq!(with_body["message_content"], "Also accepted");
    let chat = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await;
    assert_eq!(chat["messages_count"], 2);
}

#[tokio::test]
async fn a_blank_or_too_long_message_is_422_with_errors() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/messages"));
    let cases = [
        (json!({ "message_content": "" }), "Message content can't be blank"),
        (json!({ "message_content": " \n " }), "Message content can't be blank"),
        (json!({ "body": "" }), "Message content can't be blank"),
        (json!({}), "Message content can't be blank"),
        (json!({ "message_content": "x".repeat(10_001) }), "Message content is too long"),
    ];

    for (body, expected) in cases {
        let response = new_client().post(&url).json(&body).send().await.unwrap();

        assert_eq!(response.status(), 422, "{expected}");
        let errors: Value = response.json().await.unwrap();
        assert!(errors["errors"][0].as_str().unwrap().starts_with(expected), "{errors}");
    }
    let chat = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await;
    assert_eq!(chat["messages_count"], 0, "nothing was counted");
    assert_eq!(app.post_app_message(&token, 1, "first").await["message_number"], 1, "no number was used up");
}

#[tokio::test]
async fn the_client_cannot_choose_a_message_number() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;

    let response = new_client()
        .post(app.url(&format!("/api/applications/{token}/chats/1/messages")))
        .json(&json!({ "message_content": "hi", "message_number": 99, "chat_number": 7, "number": 5 }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["message_number"], 1);
    assert_eq!(message["chat_number"], 1);
    assert_eq!(app.get(&new_client(), &format!("/api/applications/{token}/chats/1/messages/99")).await.status(), 404);
}

#[tokio::test]
async fn messages_are_listed_by_number_ascending_and_paged_with_after_number() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    for n in 1..=5 {
        app.post_app_message(&token, 1, &format!("message {n}")).await;
    }
    let path = format!("/api/applications/{token}/chats/1/messages");
    let client = new_client();

    let all = app.get_json(&client, &path).await;
    let page = app.get_json(&client, &format!("{path}?after_number=2&limit=2")).await;
    let last = app.get_json(&client, &format!("{path}?after_number=4&limit=2")).await;
    let past_the_end = app.get_json(&client, &format!("{path}?after_number=5")).await;
    let first_two = app.get_json(&client, &format!("{path}?limit=2")).await;
    let zero = app.get(&client, &format!("{path}?limit=0")).await;

    assert_eq!(message_numbers(&all), [1, 2, 3, 4, 5]);
    assert_eq!(all[0]["message_content"], "message 1");
    assert_eq!(all[0]["type"], "message");
    assert_eq!(all[0]["application_token"], token);
    assert_eq!(message_numbers(&page), [3, 4]);
    assert_eq!(message_numbers(&last), [5]);
    assert_eq!(past_the_end, json!([]));
    assert_eq!(message_numbers(&first_two), [1, 2], "the first page starts at 1");
    assert_error(zero, 422).await;
    let negative = app.get(&client, &format!("{path}?limit=-1")).await;
    let body = assert_error(negative, 422).await;
    assert!(body["errors"][0].as_str().unwrap().starts_with("Limit must be at least 1"), "{body}");
    let huge = app.get_json(&client, &format!("{path}?limit=99999999999")).await;
    assert_eq!(message_numbers(&huge), [1, 2, 3, 4, 5], "as many as a page holds");
}

#[tokio::test]
async fn a_message_is_shown_and_edited_by_its_number() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let posted = app.post_app_message(&token, 1, "helo").await;
    app.post_app_message(&token, 1, "other").await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/messages/1"));
    let client = new_client();

    let shown: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    let patched = client.patch(&url).json(&json!({ "message_content": " hello " })).send().await.unwrap();
    let patched_status = patched.status();
    let patched: Value = patched.json().await.unwrap();
    let put = client.put(&url).json(&json!({ "body": "hello!" })).send().await.unwrap();
    let put_status = put.status();
    let put: Value = put.json().await.unwrap();

    assert_eq!(shown, posted);
    assert_eq!(patched_status, 200);
    assert_eq!(patched["message_content"], "hello");
    assert_eq!(patched["message_number"], 1);
    assert_eq!(patched["created_at"], posted["created_at"]);
    assert!(patched["edited_at"].as_str().is_some(), "{patched}");
    assert_eq!(put_status, 200);
    assert_eq!(put["message_content"], "hello!");
    let stored: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(stored, put);
    let chat = app.get_json(&client, &format!("/api/applications/{token}/chats/1")).await;
    assert_eq!(chat["messages_count"], 2, "an edit adds no message");
}

#[tokio::test]
async fn editing_a_message_to_blank_is_422_and_an_unknown_message_is_404() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let posted = app.post_app_message(&token, 1, "keep me").await;
    let base = app.url(&format!("/api/applications/{token}/chats/1/messages"));
    let client = new_client();

    let blank = client.patch(format!("{base}/1")).json(&json!({ "message_content": "  " })).send().await.unwrap();
    let too_long =
        client.put(format!("{base}/1")).json(&json!({ "message_content": "x".repeat(10_001) })).send().await.unwrap();
    let missing_get = client.get(format!("{base}/2")).send().await.unwrap();
    let missing_edit = client.patch(format!("{base}/2")).json(&json!({ "message_content": "x" })).send().await.unwrap();
    let not_a_number = client.get(format!("{base}/one")).send().await.unwrap();

    assert_eq!(blank.status(), 422);
    assert!(
        blank.json::<Value>().await.unwrap()["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("Message content can't be blank")
    );
    assert_error(too_long, 422).await;
    for response in [missing_get, missing_edit, not_a_number] {
        assert_error(response, 404).await;
    }
    assert_eq!(client.get(format!("{base}/1")).send().await.unwrap().json::<Value>().await.unwrap(), posted);
}

#[tokio::test]
async fn a_token_never_reaches_another_applications_chats() {
    let app = spawn_app().await;
    let a = app.create_application(&new_client(), "A").await["application_token"].as_str().unwrap().to_owned();
    let b = app.create_application(&new_client(), "B").await["application_token"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        app.create_chat(&a, &format!("A chat {n}")).await;
    }
    app.create_chat(&b, "B chat 1").await;
    for n in 1..=4 {
        app.post_app_message(&a, 2, &format!("secret of A {n}")).await;
    }
    app.post_app_message(&b, 1, "B's own").await;
    let client = new_client();
    let api = |token: &str, rest: &str| app.url(&format!("/api/applications/{token}{rest}"));
    let edit = json!({ "message_content": "overwritten", "chat_name": "overwritten" });

    // A's chat numbers 2 and 3 do not exist under B's token…
    let under_b = [
        client.get(api(&b, "/chats/2")),
        client.patch(api(&b, "/chats/2")).json(&edit),
        client.get(api(&b, "/chats/2/messages")),
        client.post(api(&b, "/chats/2/messages")).json(&edit),
        client.get(api(&b, "/chats/2/messages/1")),
        client.put(api(&b, "/chats/2/messages/1")).json(&edit),
        client.get(api(&b, "/chats/2/search?query=secret")),
        client.get(api(&b, "/chats/3")),
        // …and B's chat 1 has no message 2 even though A's chats have.
        client.get(api(&b, "/chats/1/messages/2")),
        client.patch(api(&b, "/chats/1/messages/2")).json(&edit),
    ];
    // Nor does B's message 1 of chat 1 exist in A's (empty) chat 1.
    let under_a =
        [client.get(api(&a, "/chats/1/messages/1")), client.patch(api(&a, "/chats/1/messages/1")).json(&edit)];

    for request in under_b.into_iter().chain(under_a) {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let response = client.execute(request).await.unwrap();

        assert_error_about(&what, response, 404).await;
    }
    let b_chat = app.get_json(&client, &format!("/api/applications/{b}/chats/1/messages")).await;
    assert_eq!(b_chat.as_array().unwrap().len(), 1, "{b_chat}");
    assert_eq!(b_chat[0]["message_content"], "B's own");
    assert_eq!(app.search_chat(&b, 1, "secret").await, Vec::<i64>::new(), "B's search never sees A's messages");
    assert_eq!(app.search_chat(&a, 1, "B's").await, Vec::<i64>::new(), "nor A's B's");
    let a_chats = app.get_json(&client, &format!("/api/applications/{a}/chats")).await;
    let names: Vec<&str> = a_chats.as_array().unwrap().iter().map(|c| c["chat_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["A chat 1", "A chat 2", "A chat 3"], "nothing was renamed through B");
    let a_messages = app.get_json(&client, &format!("/api/applications/{a}/chats/2/messages")).await;
    assert!(a_messages.as_array().unwrap().iter().all(|m| m["message_content"] != "overwritten"), "{a_messages}");
    assert_eq!(app.get_json(&client, &format!("/api/applications/{b}")).await["chats_count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_thousand_concurrent_messages_are_numbered_1_to_1000_with_exact_count() {
    let app = spawn_app().await;
    let token = application_with_a_chat(&app).await;
    let url = app.url(&format!("/api/applications/{token}/chats/1/messages"));
    let client = reqwest::Client::new();
    let mut sends = JoinSet::new();
    for n in 0..1000 {
        let (client, url) = (client.clone(), url.clone());
        sends.spawn(async move {
            let response =
                client.post(url).json(&json!({ "message_content": format!("load {n}") })).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (n, status, body)
        });
    }

    let results = sends.join_all().await;

    let failures: Vec<_> = results.iter().filter(|(_, status, _)| *status != 201).collect();
    assert!(
        failures.is_empty(),
        "every send is a 201, none a 5xx: {} failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    let mut returned: Vec<i64> = results.iter().map(|(_, _, m)| m["message_number"].as_i64().unwrap()).collect();
    returned.sort();
    assert_eq!(returned, (1..=1000).collect::<Vec<_>>(), "no gaps, no repeats");
    let chat = app.get_json(&client, &format!("/api/applications/{token}/chats/1")).await;
    assert_eq!(chat["messages_count"], 1000);
    let mut listed = vec![];
    let mut after = 0;
    loop {
        let page = app
            .get_json(&client, &format!("/api/applications/{token}/chats/1/messages?after_number={after}&limit=200"))
            .await;
        let page = page.as_array().unwrap().clone();
        let Some(last) = page.last() else { break };
        after = last["message_number"].as_i64().unwrap();
        listed.extend(page);
    }
    assert_eq!(message_numbers(&Value::Array(listed.clone())), (1..=1000).collect::<Vec<_>>());
    for (n, _, returned) in &results {
        let number = returned["message_number"].as_i64().unwrap();
        assert_eq!(listed[number as usize - 1]["message_content"], format!("load {n}"), "each number keeps its text");
    }
}

#[tokio::test]
async fn an_owners_chat_is_a_room_in_their_web_ui_with_the_applications_messages() {
    let app = spawn_app().await;
    // The instance's first account is its admin, who may delete any message;
    // alice is an ordinary owner here.
    app.user("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let application = app.create_application(&alice.client, "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Ticket 7").await;

    let posted = app.post_app_message(&token, 1, "Hello from the API").await;

    let room = app.room_titled(&alice.client, "Ticket 7").await;
    let page = app.history(&alice.client, room, "").await;
    let message = &page["messages"][0];
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(message["number"], posted["message_number"]);
    assert_eq!(message["body"], "Hello from the API");
    assert_eq!(message["user_id"], Value::Null);
    assert_eq!(message["application"], "Helpdesk");
    assert_eq!(app.get(&bob.client, &format!("/conversations/{room}")).await.status(), 404, "not bob's room");
    assert_eq!(app.get_json(&bob.client, "/conversations").await, json!([]));
    // The owner answers in the web UI; the API sees it in the same numbering.
    app.send(&alice.client, room, "Hi, Alice here").await;
    let through_api = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages")).await;
    assert_eq!(message_numbers(&through_api), [1, 2]);
    assert_eq!(through_api[1]["message_content"], "Hi, Alice here");
    // A bot tells its own messages from people's: a person's name their author.
    assert_eq!(through_api[1]["user"]["id"], alice.id);
    assert_eq!(through_api[0].get("user"), None, "the application's own: {}", through_api[0]);
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await["messages_count"], 2);
    // A message by the application has no user author: the owner can't delete it.
    let delete = alice.client.delete(app.url(&format!("/conversations/{room}/messages/1"))).send().await.unwrap();
    assert_eq!(delete.status(), 403);
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages/1")).await, posted);
    // Her own message she can delete; the chat's count follows, once.
    for _ in 0..2 {
        alice.client.delete(app.url(&format!("/conversations/{room}/messages/2"))).send().await.unwrap();
    }
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1")).await["messages_count"], 1);
    let deleted = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages/2")).await;
    assert_eq!((deleted["message_content"].clone(), deleted["deleted"].clone()), (Value::Null, json!(true)));
}

#[tokio::test]
async fn renaming_a_chat_renames_the_owners_room_live() {
    let app = spawn_app().await;
    let alice = crate::ws_support::person(&app, "alice").await;
    let application = app.create_application(&alice.client, "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Before").await;
    let room = app.room_titled(&alice.client, "Before").await;
    let mut ws = crate::ws_support::connect(&app, &alice).await;

    let renamed = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1")))
        .json(&json!({ "chat_name": "After" }))
        .send()
        .await
        .unwrap();

    assert_eq!(renamed.status(), 200);
    assert_eq!(app.room_titled(&alice.client, "After").await, room);
    // Her open tabs hear of it, as of a rename in the web UI.
    match ws.next_skipping_presence().await {
        ServerEvent::Room { room_id, change: RoomChange::Updated, .. } => assert_eq!(room_id.0, room),
        other => panic!("expected the room update, got {other:?}"),
    }
}

#[tokio::test]
async fn an_archived_chat_is_read_only_through_the_token_api_too() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let application = app.create_application(&alice.client, "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Closed ticket").await;
    app.post_app_message(&token, 1, "Before").await;
    let room = app.room_titled(&alice.client, "Closed ticket").await;
    assert_eq!(alice.client.delete(app.url(&format!("/conversations/{room}"))).send().await.unwrap().status(), 204);
    let chat = format!("/api/applications/{token}/chats/1");

    for method in [reqwest::Method::PUT, reqwest::Method::PATCH] {
        let renamed = new_client()
            .request(method, app.url(&chat))
            .json(&json!({ "chat_name": "Reopened" }))
            .send()
            .await
            .unwrap();
        let body = assert_error(renamed, 403).await;
        assert_eq!(body["errors"][0], "This conversation is archived and read-only");
    }
    let posted =
        new_client().post(app.url(&format!("{chat}/messages"))).json(&json!({ "message_content": "After" })).send();
    assert_error(posted.await.unwrap(), 403).await;
    let shown = app.get_json(&new_client(), &chat).await;
    assert_eq!(shown["chat_name"], "Closed ticket");
    // The chat says so, so a bot can tell before its next write.
    assert_eq!(shown["archived"], true);
    let listed = app.get_json(&new_client(), &format!("/api/applications/{token}/chats")).await;
    assert_eq!(listed[0]["archived"], true);
}

#[tokio::test]
async fn message_content_and_body_that_disagree_are_422_not_one_dropped() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Helpdesk").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "Ticket").await;
    let messages = app.url(&format!("/api/applications/{token}/chats/1/messages"));

    let both = new_client().post(&messages).json(&json!({ "message_content": "A", "body": "B" })).send().await.unwrap();
    let body = assert_error(both, 422).await;
    assert_eq!(body["errors"][0], "Give message_content or body, not both");
    let same = new_client().post(&messages).json(&json!({ "message_content": "A", "body": "A" })).send().await.unwrap();
    assert_eq!(same.status(), 201, "the same text by both names is one message");
    // A name given as null or blank beside the other is no second text.
    for other in [json!({ "message_content": "E", "body": null }), json!({ "message_content": " ", "body": "E" })] {
        let posted = new_client().post(&messages).json(&other).send().await.unwrap();
        assert_eq!(posted.status(), 201, "{other}");
        assert_eq!(posted.json::<Value>().await.unwrap()["message_content"], "E", "{other}");
    }
    let edit = new_client()
        .patch(app.url(&format!("/api/applications/{token}/chats/1/messages/1")))
        .json(&json!({ "message_content": "C", "body": "D" }))
        .send()
        .await
        .unwrap();
    assert_error(edit, 422).await;
    let listed = app.get_json(&new_client(), &format!("/api/applications/{token}/chats/1/messages")).await;
    assert_eq!(message_numbers(&listed), [1, 2, 3]);
    assert_eq!(listed[0]["message_content"], "A");
}

#[tokio::test]
async fn the_owner_of_an_application_stays_in_its_chats_which_it_goes_on_writing_to() {
    let app = spawn_app().await;
    let root = app.user("root").await; // the first account: the admin
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let application = app.create_application(&alice.client, "Alerts").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    app.create_chat(&token, "disk").await;
    let room = app.room_titled(&alice.client, "disk").await;
    let add = json!({ "user_ids": [bob.id] });
    let added = alice.client.post(app.url(&format!("/conversations/{room}/participants"))).json(&add).send();
    assert_eq!(added.await.unwrap().status(), 200);

    // Leaving would leave the application writing to a room no one could
    // open again (not even she, nor an admin adding her back).
    let leave = alice.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.unwrap();
    let body = assert_error(leave, 422).await;
    assert!(body["errors"][0].as_str().unwrap().contains("Mute or archive it instead"), "{body}");
    let by_id = format!("/conversations/{room}/participants/{}", alice.id);
    let self_removed = alice.client.delete(app.url(&by_id)).send().await.unwrap();
    assert_eq!(self_removed.status(), 422, "the same by her own id");
    assert_eq!(bob.client.delete(app.url(&by_id)).send().await.unwrap().status(), 403, "bob may remove no one");
    let by_admin = root.client.delete(app.url(&by_id)).send().await.unwrap();
    let body = assert_error(by_admin, 422).await;
    assert_eq!(body["errors"][0], "The owner of the application this chat belongs to can't be removed from it");
    app.post_app_message(&token, 1, "disk full on db1").await;
    let page = app.history(&alice.client, room, "").await;
    assert_eq!(page["messages"][0]["body"], "disk full on db1", "she still reads what it writes");

    // Others come and go as in any group.
    let bob_leaves = bob.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.unwrap();
    assert_eq!(bob_leaves.status(), 204);
}
