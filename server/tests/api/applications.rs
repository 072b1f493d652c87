//! The token API's applications: `/api/applications[/:token]`, in the Chat
//! System seeds' shapes; anonymous creation and its rate limit.

use serde_json::{Value, json};

use crate::helpers::{assert_error, new_client, spawn_app, spawn_app_with};

fn tokens(list: &Value) -> Vec<String> {
    list.as_array().expect("array").iter().map(|a| a["application_token"].as_str().expect("token").to_owned()).collect()
}

#[tokio::test]
async fn creating_an_application_returns_201_with_a_fresh_url_safe_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let response = alice
        .client
        .post(app.url("/api/applications"))
        .json(&json!({ "application_name": " Support " }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let token = created["application_token"].as_str().expect("a token").to_owned();
    assert_eq!(
        created,
        json!({ "type": "application", "application_token": token, "application_name": "Support", "chats_count": 0 }),
        "exactly the seed's fields, the name trimmed"
    );
    assert_eq!(token.len(), 48, "192 bits as hex: more than 128 bits");
    assert!(token.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')), "URL-safe lower-case hex: {token}");
    let second = app.create_application(&alice.client, "Support").await;
    assert_ne!(second["application_token"], token, "every application gets its own token, even with the same name");
}

#[tokio::test]
async fn the_client_cannot_choose_the_token_or_the_chats_count() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let response = alice
        .client
        .post(app.url("/api/applications"))
        .json(&json!({ "application_name": "Mine", "application_token": "chosen", "chats_count": 7, "type": "x" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_ne!(created["application_token"], "chosen");
    assert_eq!(created["application_token"].as_str().unwrap().len(), 48);
    assert_eq!(created["chats_count"], 0);
    assert_eq!(created["type"], "application");
    assert_eq!(app.get(&new_client(), "/api/applications/chosen").await.status(), 404);
}

#[tokio::test]
async fn a_blank_or_too_long_application_name_is_422_with_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let cases = [
        (json!({ "application_name": "" }), "Application name can't be blank"),
        (json!({ "application_name": " \n\t " }), "Application name can't be blank"),
        (json!({}), "Application name can't be blank"),
        (json!({ "application_name": "x".repeat(101) }), "Application name is too long"),
    ];

    for (body, expected) in cases {
        let response = alice.client.post(app.url("/api/applications")).json(&body).send().await.unwrap();

        assert_eq!(response.status(), 422, "{body}");
        let errors: Value = response.json().await.unwrap();
        assert!(errors["errors"][0].as_str().unwrap().starts_with(expected), "{errors}");
    }
    assert_eq!(app.get_json(&alice.client, "/api/applications").await, json!([]), "nothing was created");
    let longest = app.create_application(&alice.client, &"é".repeat(100)).await;
    assert_eq!(longest["application_name"].as_str().unwrap().chars().count(), 100, "100 characters is fine");
}

#[tokio::test]
async fn a_signed_in_user_lists_only_the_applications_they_created() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = app.create_application(&alice.client, "First").await;
    let theirs = app.create_application(&bob.client, "Bob's").await;
    let anonymous = app.create_application(&new_client(), "Nobody's").await;
    let second = app.create_application(&alice.client, "Second").await;

    let alices = app.get_json(&alice.client, "/api/applications").await;
    let bobs = app.get_json(&bob.client, "/api/applications").await;

    assert_eq!(alices, json!([first, second]), "in creation order, in the same shape");
    assert_eq!(tokens(&bobs), tokens(&json!([theirs])));
    let everyone: Vec<String> = [tokens(&alices), tokens(&bobs)].concat();
    assert!(!everyone.iter().any(|t| anonymous["application_token"] == *t), "an anonymous application has no owner");
}

#[tokio::test]
async fn listing_applications_needs_a_signed_in_user() {
    let app = spawn_app().await;
    app.create_application(&new_client(), "Anonymous").await;

    let response = app.get(&new_client(), "/api/applications").await;

    assert_error(response, 401).await;
}

#[tokio::test]
async fn anonymous_creation_is_rate_limited_per_ip_with_retry_after() {
    let app = spawn_app_with(|c| c.anonymous_apps_per_ip_per_minute = 2).await;
    let anonymous = new_client();
    let alice = app.user("alice").await;
    let create = |client: reqwest::Client| {
        let url = app.url("/api/applications");
        async move { client.post(url).json(&json!({ "application_name": "Bot" })).send().await.unwrap() }
    };

    // A refused name spends nothing of the budget.
    for _ in 0..3 {
        let blank = anonymous.post(app.url("/api/applications")).json(&json!({ "application_name": " " })).send();
        assert_error(blank.await.unwrap(), 422).await;
    }
    let first = create(anonymous.clone()).await;
    let second = create(anonymous.clone()).await;
    let third = create(anonymous.clone()).await;
    let from_a_fresh_client = create(new_client()).await;
    let signed_in = create(alice.client.clone()).await;

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    assert_eq!(third.status(), 429);
    let retry_after: u64 = third.headers()["retry-after"].to_str().unwrap().parse().expect("whole seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    assert!(third.json::<Value>().await.unwrap()["errors"].is_array());
    assert_eq!(from_a_fresh_client.status(), 429, "the budget is per IP, not per cookie jar");
    assert_eq!(signed_in.status(), 201, "a signed-in creator is not held to the anonymous budget");
}

#[tokio::test]
async fn an_application_is_shown_and_renamed_by_its_token() {
    let app = spawn_app().await;
    let created = app.create_application(&new_client(), "Old name").await;
    let token = created["application_token"].as_str().unwrap();
    let path = format!("/api/applications/{token}");
    let anyone = new_client();

    let shown = app.get_json(&anyone, &path).await;
    let patched = anyone.patch(app.url(&path)).json(&json!({ "application_name": "Patched" })).send().await.unwrap();
    let patched_status = patched.status();
    let patched: Value = patched.json().await.unwrap();
    let put = anyone.put(app.url(&path)).json(&json!({ "application_name": " Put " })).send().await.unwrap();
    let put_status = put.status();
    let put: Value = put.json().await.unwrap();

    assert_eq!(shown, created, "the token alone is the credential");
    assert_eq!(patched_status, 200);
    assert_eq!(patched["application_name"], "Patched");
    assert_eq!(put_status, 200);
    assert_eq!(
        put,
        json!({ "type": "application", "application_token": token, "application_name": "Put", "chats_count": 0 })
    );
    assert_eq!(app.get_json(&anyone, &path).await, put);
}

#[tokio::test]
async fn renaming_an_application_to_blank_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let created = app.create_application(&new_client(), "Keep me").await;
    let url = app.url(&format!("/api/applications/{}", created["application_token"].as_str().unwrap()));

    for body in [json!({ "application_name": " " }), json!({ "application_name": "x".repeat(101) })] {
        let patched = app.client.patch(&url).json(&body).send().await.unwrap();
        let put = app.client.put(&url).json(&body).send().await.unwrap();

        assert_error(patched, 422).await;
        assert_error(put, 422).await;
    }
    // A PUT must send the name; a PATCH without it changes nothing (contracts.rs).
    assert_error(app.client.put(&url).json(&json!({})).send().await.unwrap(), 422).await;
    assert_eq!(app.client.get(&url).send().await.unwrap().json::<Value>().await.unwrap(), created);
}

#[tokio::test]
async fn an_unknown_token_is_404_with_errors_on_every_route() {
    let app = spawn_app().await;
    let real = app.create_application(&new_client(), "Real").await;
    let real = real["application_token"].as_str().unwrap();
    app.create_chat(real, "Chat").await;
    let unknown = "0".repeat(48);
    let client = new_client();
    let name = json!({ "application_name": "x", "chat_name": "x", "message_content": "x" });
    let mut requests = vec![];
    for token in [unknown.as_str(), &real[..47], &real.to_uppercase(), "not-a-token"] {
        let base = app.url(&format!("/api/applications/{token}"));
        requests.extend([
            client.get(&base),
            client.patch(&base).json(&name),
            client.put(&base).json(&name),
            client.get(format!("{base}/chats")),
            client.post(format!("{base}/chats")).json(&name),
            client.get(format!("{base}/chats/1")),
            client.patch(format!("{base}/chats/1")).json(&name),
            client.get(format!("{base}/chats/1/messages")),
            client.post(format!("{base}/chats/1/messages")).json(&name),
            client.get(format!("{base}/chats/1/search?query=abc")),
        ]);
    }

    for request in requests {
        let request = request.build().unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let response = client.execute(request).await.unwrap();

        assert_eq!(response.status(), 404, "{what}");
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{what}: {body}");
    }
}

#[tokio::test]
async fn a_session_cookie_that_no_longer_signs_in_is_refused_instead_of_making_an_ownerless_application() {
    let app = spawn_app().await;
    let client = new_client();
    let registered = app.register_with(&client, "alice").await;
    // A cookie from before a sign-out, or one made up: 401, not an
    // application its sender could never see or claim.
    let cookie = crate::helpers::session_cookie(registered.headers()).expect("a session cookie");
    let signed_out = client.delete(app.url("/users/sign_out")).send().await.unwrap();
    assert!(signed_out.status().is_success());
    for stale in [cookie.as_str(), "hearth_session=made-up"] {
        let response = new_client()
            .post(app.url("/api/applications"))
            .header("Cookie", stale)
            .json(&json!({ "application_name": "Bot" }))
            .send()
            .await
            .unwrap();
        let body = assert_error(response, 401).await;
        assert!(body["errors"][0].as_str().unwrap().contains("Your session has ended"), "{body}");
    }
    // Other cookies are not a session: anonymous, as before.
    let response = new_client()
        .post(app.url("/api/applications"))
        .header("Cookie", "theme=dark; hearth_session_x=1")
        .json(&json!({ "application_name": "Bot" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
