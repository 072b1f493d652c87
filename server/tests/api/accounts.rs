//! `POST /users`, `/users/sign_in`, `/users/sign_out`, `/users/me`, `/users`.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, bare_client, new_client, session_cookie, spawn_app};

#[tokio::test]
async fn register_returns_201_with_the_user_and_signs_them_in() {
    let app = spawn_app().await;

    let response = app.register_with(&app.client, "alice").await;

    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "success");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["user"]["name"], "alice Example");
    assert!(body["user"]["id"].as_i64().is_some());
    assert!(body["user"]["avatar_url"].is_null());
    assert!(body["user"].get("password_hash").is_none());
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn register_accepts_the_body_without_the_user_wrapper() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/users"))
        .json(&json!({ "email": "bare@example.com", "username": "bare", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn register_rejects_invalid_input_with_422_and_every_error() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": "nope", "username": "ok_name", "password": PASSWORD}), "Email is invalid"),
        // A lookalike of another address, with a zero-width space.
        (json!({"email": "a@example.com\u{200b}", "username": "ok_name", "password": PASSWORD}), "Email is invalid"),
        (json!({"email": "a@example.com", "username": "x", "password": PASSWORD}), "Username is too short"),
        (json!({"email": "a@example.com", "username": "bad name", "password": PASSWORD}), "Username may only use"),
        (json!({"email": "a@example.com", "username": "okname", "password": "short"}), "Password is too short"),
        (json!({"email": "a@example.com", "username": "okname", "password": "x".repeat(129)}), "Password is too long"),
        (json!({"username": "okname", "password": PASSWORD}), "Email can't be blank"),
        (
            json!({"email": "a@example.com", "username": "okname", "password": PASSWORD, "password_confirmation": "typo"}),
            "Password confirmation doesn't match Password",
        ),
    ];

    for (user, expected) in cases {
        let response = app.client.post(app.url("/users")).json(&json!({ "user": user })).send().await.unwrap();

        assert_eq!(response.status(), 422, "{user}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "error");
        let errors = body["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e.as_str().unwrap().starts_with(expected)), "{user}: {errors:?}");
    }
    // Nothing refused was created; the same account with a matching
    // confirmation is.
    let matching = json!({"user": {"email": "a@example.com", "username": "okname", "password": PASSWORD,
                                   "password_confirmation": PASSWORD}});
    assert_eq!(app.client.post(app.url("/users")).json(&matching).send().await.unwrap().status(), 201);
    let all_bad = json!({"user": {"email": "", "username": "", "password": ""}});
    let body: Value = app.client.post(app.url("/users")).json(&all_bad).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");
}

#[tokio::test]
async fn register_rejects_a_taken_email_or_username_in_any_case() {
    let app = spawn_app().await;
    app.register("alice").await;
    let other = new_client();

    let response = other
        .post(app.url("/users"))
        .json(&json!({"user": {"email": "ALICE@Example.com", "username": "ALICE", "password": PASSWORD}}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let errors: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(errors, ["Email has already been taken", "Username has already been taken"]);
}

#[tokio::test]
async fn sign_in_by_email_or_username_returns_the_user_and_a_session() {
    let app = spawn_app().await;
    app.register("alice").await;

    for login in ["alice@example.com", "Alice@Example.COM", "alice", "ALICE"] {
        let client = new_client();
        let response = app.sign_in_with(&client, login, PASSWORD).await;

        assert_eq!(response.status(), 200, "{login}");
        assert!(session_cookie(response.headers()).is_some());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "success");
        assert_eq!(body["user"]["username"], "alice");
        assert_eq!(app.me(&client).await.status(), 200);
    }
}

#[tokio::test]
async fn sign_in_accepts_a_username_field_and_no_wrapper() {
    let app = spawn_app().await;
    app.register("alice").await;
    let client = new_client();

    let response = client
        .post(app.url("/users/sign_in"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_identical_401() {
    let app = spawn_app().await;
    app.register("alice").await;

    let wrong_password = app.sign_in_with(&new_client(), "alice@example.com", "not-the-password").await;
    let unknown_user = app.sign_in_with(&new_client(), "nobody@example.com", "not-the-password").await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_user.status(), 401);
    assert!(session_cookie(wrong_password.headers()).is_none());
    let a = wrong_password.text().await.unwrap();
    let b = unknown_user.text().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(serde_json::from_str::<Value>(&a).unwrap(), json!({"errors": ["Invalid email or password"]}));
}

#[tokio::test]
async fn signing_in_cycles_the_session_id_and_kills_the_old_one() {
    let app = spawn_app().await;
    app.register("alice").await;
    let client = bare_client();
    let first = app.sign_in_with(&client, "alice", PASSWORD).await;
    let first_cookie = session_cookie(first.headers()).expect("first session");

    let second = client
        .post(app.url("/users/sign_in"))
        .header("Cookie", &first_cookie)
        .json(&json!({ "user": { "email": "alice", "password": PASSWORD } }))
        .send()
        .await
        .unwrap();

    assert_eq!(second.status(), 200);
    let second_cookie = session_cookie(second.headers()).expect("a new session cookie");
    assert_ne!(first_cookie, second_cookie);
    let with_old = client.get(app.url("/users/me")).header("Cookie", &first_cookie).send().await.unwrap();
    assert_eq!(with_old.status(), 401);
    let with_new = client.get(app.url("/users/me")).header("Cookie", &second_cookie).send().await.unwrap();
    assert_eq!(with_new.status(), 200);
}

#[tokio::test]
async fn sign_out_returns_204_and_the_old_cookie_is_dead() {
    let app = spawn_app().await;
    app.register("alice").await;
    let client = bare_client();
    let cookie = session_cookie(app.sign_in_with(&client, "alice", PASSWORD).await.headers()).unwrap();

    let response = client.delete(app.url("/users/sign_out")).header("Cookie", &cookie).send().await.unwrap();

    assert_eq!(response.status(), 204);
    let replay = client.get(app.url("/users/me")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(replay.status(), 401);
}

#[tokio::test]
async fn sessions_survive_a_server_restart_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = hearth::testing::fresh_database_url(dir.path()).await;
    let build = || async {
        let mut config = crate::helpers::test_config(dir.path().to_path_buf());
        config.database_url = Some(database_url.clone());
        let leptos = leptos::config::LeptosOptions::builder().output_name("hearth").build();
        hearth_server::startup::Application::build(config, leptos).await.unwrap()
    };
    let first = build().await;
    let url = format!("http://127.0.0.1:{}", first.port());
    let server = tokio::spawn(first.run_until_stopped());
    let client = new_client();
    let response = client
        .post(format!("{url}/users"))
        .json(&json!({"user": {"email": "r@example.com", "username": "restart", "password": PASSWORD}}))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(response.headers()).unwrap();
    server.abort();

    let second = build().await;
    let url = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let me = bare_client().get(format!("{url}/users/me")).header("Cookie", cookie).send().await.unwrap();

    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn me_without_a_session_is_401_with_errors() {
    let app = spawn_app().await;

    let response = app.me(&app.client).await;

    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(!body["errors"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn put_me_updates_the_profile() {
    let app = spawn_app().await;
    app.register("alice").await;
    let picture = format!("{}/photo.png", crate::helpers::picture_site().await);

    let response = app
        .client
        .put(app.url("/users/me"))
        .json(&json!({"user": {"username": "alice2", "name": "Alice Two", "avatar_url": picture}}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["user"]["username"], "alice2");
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!(me["name"], "Alice Two");
    let id = me["id"].as_i64().unwrap();
    let copied = me["avatar_url"].as_str().unwrap();
    assert!(copied.starts_with(&format!("/users/{id}/avatar?v=")), "the picture is copied: {copied}");
    assert_eq!(me["email"], "alice@example.com");

    // `null` clears a field, as a Rails client sends it; absent keeps it.
    let response = app.client.put(app.url("/users/me")).json(&json!({"user": {"username": "alice2"}})).send().await;
    assert_eq!(response.unwrap().status(), 200);
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!((&me["name"], me["avatar_url"].is_string()), (&json!("Alice Two"), true));
    let response =
        app.client.put(app.url("/users/me")).json(&json!({"user": {"name": null, "avatar_url": null}})).send().await;
    assert_eq!(response.unwrap().status(), 200);
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert!(me["name"].is_null() && me["avatar_url"].is_null(), "{me}");
}

#[tokio::test]
async fn put_me_rejects_a_taken_username_and_bad_urls_with_422() {
    let app = spawn_app().await;
    app.register_with(&new_client(), "bob").await;
    app.register("alice").await;

    for (user, expected) in [
        (json!({"username": "BOB"}), "Username has already been taken"),
        (json!({"avatar_url": "javascript:alert(1)"}), "Avatar url must be an http(s) URL"),
        (json!({"name": "n".repeat(101)}), "Name is too long (maximum is 100 characters)"),
    ] {
        let response = app.client.put(app.url("/users/me")).json(&json!({ "user": user })).send().await.unwrap();

        assert_eq!(response.status(), 422, "{user}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"], json!([expected]));
    }
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn put_me_without_a_session_is_401() {
    let app = spawn_app().await;

    let response = app.client.put(app.url("/users/me")).json(&json!({"user": {"name": "x"}})).send().await.unwrap();

    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_directory_searches_by_prefix_with_a_limit_and_never_shows_emails() {
    let app = spawn_app().await;
    for name in ["carol", "carla", "bob"] {
        app.register_with(&new_client(), name).await;
    }
    app.register("alice").await;

    let all: Value = app.client.get(app.url("/users")).send().await.unwrap().json().await.unwrap();
    let car: Value = app.client.get(app.url("/users?query=CAR")).send().await.unwrap().json().await.unwrap();
    let one: Value = app.client.get(app.url("/users?query=car&limit=1")).send().await.unwrap().json().await.unwrap();
    let percent: Value = app.client.get(app.url("/users?query=%25")).send().await.unwrap().json().await.unwrap();

    assert_eq!(all.as_array().unwrap().len(), 4);
    let usernames = |v: &Value| {
        v.as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(usernames(&car), ["carla", "carol"]);
    assert_eq!(usernames(&one), ["carla"]);
    assert!(percent.as_array().unwrap().is_empty(), "% is literal: {percent}");
    for person in all.as_array().unwrap() {
        assert!(person.get("email").is_none(), "{person}");
        assert!(person["id"].is_i64() && person.get("avatar_url").is_some() && person.get("name").is_some());
    }
}

#[tokio::test]
async fn the_directory_needs_a_session_and_a_well_formed_query() {
    let app = spawn_app().await;

    assert_eq!(app.client.get(app.url("/users")).send().await.unwrap().status(), 401);
    app.register("alice").await;
    let bad = app.client.get(app.url("/users?limit=lots")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(body["errors"].is_array());
}

/// Registers `username` with `email` and display name `name` on a client of its own.
async fn register_as(app: &crate::helpers::TestApp, username: &str, email: &str, name: &str) -> reqwest::Client {
    let client = new_client();
    let response = client
        .post(app.url("/users"))
        .json(&json!({ "user": { "email": email, "username": username, "password": PASSWORD, "name": name } }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 201, "registering {username}");
    client
}

#[tokio::test]
async fn names_and_emails_beyond_ascii_are_found_and_signed_in_with_in_any_case() {
    let app = spawn_app().await;
    let admin = register_as(&app, "admin", "admin@example.com", "The Admin").await;
    // Élodie's É as macOS pastes it: "E" and a combining accent.
    register_as(&app, "elodie", "elodie@example.com", "E\u{301}lodie Dubois").await;
    register_as(&app, "lukasz", "ŁUKASZ@example.com", "Łukasz Nowak").await;
    register_as(&app, "oyvind", "oyvind@example.com", "Øyvind Ås").await;
    let found = |query: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let people = admin.get(app.url("/users")).query(&[("query", query)]).send().await.unwrap();
            let people: Value = people.json().await.unwrap();
            people.as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    for query in ["Élodie", "élodie", "ÉLODIE", "E\u{301}lo", "dubois", "DUB"] {
        assert_eq!(found(query).await, ["elodie"], "{query}");
    }
    for query in ["Łukasz", "łuk", "ŁUK", "nowak"] {
        assert_eq!(found(query).await, ["lukasz"], "{query}");
    }
    for query in ["øyvind", "ØYV", "ås"] {
        assert_eq!(found(query).await, ["oyvind"], "{query}");
    }
    assert!(found("ukasz").await.is_empty(), "the start of a word, not inside one");
    // The admin's list searches the same way.
    let listed = admin.get(app.url("/admin/users")).query(&[("query", "łuk")]).send().await.unwrap();
    let listed: Value = listed.json().await.unwrap();
    let listed: Vec<_> = listed.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(listed, ["lukasz"]);

    // An email is one address in any case, at sign-in as at registration.
    for login in ["ŁUKASZ@example.com", "łukasz@example.com", "Łukasz@Example.com"] {
        assert_eq!(app.sign_in_with(&new_client(), login, PASSWORD).await.status(), 200, "{login}");
    }
    let again = new_client()
        .post(app.url("/users"))
        .json(&json!({ "user": { "email": "łukasz@EXAMPLE.com", "username": "lukasz2", "password": PASSWORD } }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 422);
}
