//! The token API's chats: `/api/applications/:token/chats[/:number]`,
//! numbered 1.. per application with an exact `chats_count` under concurrency.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{assert_error, assert_error_about, new_client, spawn_app};

#[tokio::test]
async fn creating_a_chat_returns_201_numbered_from_1_and_counts_it() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();

    let response = new_client()
        .post(app.url(&format!("/api/applications/{token}/chats")))
        .json(&json!({ "chat_name": " Help " }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let chat: Value = response.json().await.unwrap();
    assert_eq!(
        chat,
        json!({ "type": "chat", "application_token": token, "chat_number": 1, "chat_name": "Help", "messages_count": 0 })
    );
    assert_eq!(app.create_chat(token, "Second").await["chat_number"], 2);
    let shown = app.get_json(&new_client(), &format!("/api/applications/{token}")).await;
    assert_eq!(shown["chats_count"], 2);
}

#[tokio::test]
async fn a_chat_without_a_name_is_still_created_as_in_the_seed_and_a_blank_one_is_refused() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();
    let url = app.url(&format!("/api/applications/{token}/chats"));

    let unnamed = new_client().post(&url).json(&json!({})).send().await.unwrap();
    let null = new_client().post(&url).json(&json!({ "chat_name": null })).send().await.unwrap();
    // No body at all, as `curl -X POST` sends, with or without a JSON type.
    let bare = new_client().post(&url).send().await.unwrap();
    let empty = new_client().post(&url).header("Content-Type", "application/json").body("").send().await.unwrap();
    let blank = new_client().post(&url).json(&json!({ "chat_name": "  " })).send().await.unwrap();
    let too_long = new_client().post(&url).json(&json!({ "chat_name": "x".repeat(101) })).send().await.unwrap();

    assert_eq!(unnamed.status(), 201);
    let unnamed: Value = unnamed.json().await.unwrap();
    assert_eq!(unnamed["chat_number"], 1);
    assert!(!unnamed["chat_name"].as_str().unwrap().trim().is_empty(), "it gets a name: {unnamed}");
    assert_eq!(null.status(), 201, "null is no name");
    assert_eq!(null.json::<Value>().await.unwrap()["chat_number"], 2);
    // A name given blank is refused, as a blank rename or application name is.
    assert_eq!(blank.status(), 422);
    assert_eq!(blank.json::<Value>().await.unwrap()["errors"][0], "Chat name can't be blank");
    assert_eq!(too_long.status(), 422);
    assert!(
        too_long.json::<Value>().await.unwrap()["errors"][0].as_str().unwrap().starts_with("Chat name is too long")
    );
    assert_eq!(bare.status(), 201, "no body is no name");
    assert_eq!(bare.json::<Value>().await.unwrap()["chat_number"], 3);
    assert_eq!(empty.status(), 201, "an empty body is no name");
    assert_eq!(empty.json::<Value>().await.unwrap()["chat_number"], 4);
    // Empty and chunked, as Go's and Java's streaming bodies send it: no
    // length until its end, which comes at once.
    let nothing =
        || reqwest::Body::wrap_stream(futures_util::stream::iter(Vec::<Result<Vec<u8>, std::io::Error>>::new()));
    let chunked = new_client().post(&url).body(nothing()).send().await.unwrap();
    assert_eq!(chunked.status(), 201, "an empty chunked body is no name");
    assert_eq!(chunked.json::<Value>().await.unwrap()["chat_number"], 5);
    let typed = new_client().post(&url).header("Content-Type", "application/json").body(nothing()).send().await;
    assert_eq!(typed.unwrap().json::<Value>().await.unwrap()["chat_number"], 6);
    // A chunked body with something in it is read as JSON, and needs its type.
    let some = || {
        reqwest::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            br#"{"chat_name":"Streamed"}"#.to_vec(),
        )]))
    };
    assert_error(new_client().post(&url).body(some()).send().await.unwrap(), 415).await;
    let named = new_client().post(&url).header("Content-Type", "application/json").body(some()).send().await;
    assert_eq!(named.unwrap().json::<Value>().await.unwrap()["chat_name"], "Streamed");
    assert_eq!(app.get_json(&new_client(), &format!("/api/applications/{token}")).await["chats_count"], 7);
}

#[tokio::test]
async fn the_client_cannot_choose_a_chat_number_or_its_messages_count() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();

    let response = new_client()
        .post(app.url(&format!("/api/applications/{token}/chats")))
        .json(&json!({ "chat_name": "Mine", "chat_number": 42, "messages_count": 9, "application_token": "x" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let chat: Value = response.json().await.unwrap();
    assert_eq!(chat["chat_number"], 1);
    assert_eq!(chat["messages_count"], 0);
    assert_eq!(chat["application_token"], token);
    assert_eq!(app.get(&new_client(), &format!("/api/applications/{token}/chats/42")).await.status(), 404);
}

#[tokio::test]
async fn chats_are_listed_shown_and_renamed_by_number() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();
    let first = app.create_chat(token, "First").await;
    let second = app.create_chat(token, "Second").await;
    let client = new_client();
    let chat_path = format!("/api/applications/{token}/chats/2");

    let listed = app.get_json(&client, &format!("/api/applications/{token}/chats")).await;
    let shown = app.get_json(&client, &chat_path).await;
    let patched = client.patch(app.url(&chat_path)).json(&json!({ "chat_name": "Patched" })).send().await.unwrap();
    let patched_status = patched.status();
    let patched: Value = patched.json().await.unwrap();
    let put = client.put(app.url(&chat_path)).json(&json!({ "chat_name": " Put " })).send().await.unwrap();
    let put_status = put.status();
    let put: Value = put.json().await.unwrap();

    assert_eq!(listed, json!([first, second]), "by number, in the same shape");
    assert_eq!(shown, second);
    assert_eq!(patched_status, 200);
    assert_eq!(patched["chat_name"], "Patched");
    assert_eq!(patched["chat_number"], 2);
    assert_eq!(put_status, 200);
    assert_eq!(
        put,
        json!({ "type": "chat", "application_token": token, "chat_number": 2, "chat_name": "Put", "messages_count": 0 })
    );
    assert_eq!(app.get_json(&client, &chat_path).await, put);
    assert_eq!(app.get_json(&client, &format!("/api/applications/{token}/chats/1")).await, first, "chat 1 untouched");
}

#[tokio::test]
async fn renaming_a_chat_to_blank_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();
    let chat = app.create_chat(token, "Keep me").await;
    let url = app.url(&format!("/api/applications/{token}/chats/1"));

    for body in
        [json!({ "chat_name": "" }), json!({ "chat_name": " \t" }), json!({}), json!({ "chat_name": "x".repeat(101) })]
    {
        let response = new_client().put(&url).json(&body).send().await.unwrap();

        assert_error(response, 422).await;
    }
    assert_eq!(new_client().get(&url).send().await.unwrap().json::<Value>().await.unwrap(), chat);
}

#[tokio::test]
async fn an_unknown_chat_number_is_404_with_errors() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Support").await;
    let token = application["application_token"].as_str().unwrap();
    app.create_chat(token, "Only").await;
    let client = new_client();
    let mut requests = vec![];
    for number in ["0", "2", "-1", "abc", "1.5", "99999999999999999999"] {
        let base = app.url(&format!("/api/applications/{token}/chats/{number}"));
        requests.extend([
            client.get(&base),
            client.patch(&base).json(&json!({ "chat_name": "x" })),
            client.put(&base).json(&json!({ "chat_name": "x" })),
            client.get(format!("{base}/messages")),
            client.post(format!("{base}/messages")).json(&json!({ "message_content": "x" })),
            client.get(format!("{base}/messages/1")),
            client.patch(format!("{base}/messages/1")).json(&json!({ "message_content": "x" })),
            client.get(format!("{base}/search?query=hello")),
        ]);
    }

    for request in requests {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let response = client.execute(request).await.unwrap();

        assert_error_about(&what, response, 404).await;
    }
    assert_eq!(app.get_json(&client, &format!("/api/applications/{token}/chats/1")).await["messages_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_chat_creations_are_numbered_1_to_100() {
    let app = spawn_app().await;
    let application = app.create_application(&new_client(), "Busy").await;
    let token = application["application_token"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/applications/{token}/chats"));
    let client = new_client();
    let mut creates = JoinSet::new();
    for n in 0..100 {
        let (client, url) = (client.clone(), url.clone());
        creates.spawn(async move {
            let response = client.post(url).json(&json!({ "chat_name": format!("chat {n}") })).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }

    let results = creates.join_all().await;

    let failures: Vec<_> = results.iter().filter(|(status, _)| *status != 201).collect();
    assert!(failures.is_empty(), "every creation is a 201, none a 5xx: {failures:?}");
    let mut numbers: Vec<i64> = results.iter().map(|(_, c)| c["chat_number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=100).collect::<Vec<_>>(), "no gaps, no repeats");
    let shown = app.get_json(&client, &format!("/api/applications/{token}")).await;
    assert_eq!(shown["chats_count"], 100);
    let listed = app.get_json(&client, &format!("/api/applications/{token}/chats")).await;
    let listed: Vec<i64> = listed.as_array().unwrap().iter().map(|c| c["chat_number"].as_i64().unwrap()).collect();
    assert_eq!(listed, (1..=100).collect::<Vec<_>>());
    for (_, chat) in &results {
        let number = chat["chat_number"].as_i64().unwrap();
        let stored = app.get_json(&client, &format!("/api/applications/{token}/chats/{number}")).await;
        assert_eq!(stored["chat_name"], chat["chat_name"], "chat {number} is the one that was created as {number}");
    }
}
