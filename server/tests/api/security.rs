//! Rate limits, cross-site write refusal, content types and sessions.

use serde_json::{Value, json};

use tokio_tungstenite::tungstenite;
use tower_sessions::session::Id;
use tower_sessions::session_store::SessionStore;

use crate::helpers::{PASSWORD, assert_error, new_client, session_cookie, spawn_app, spawn_app_with};
use crate::ws_support::{person, try_connect};

#[tokio::test]
async fn repeated_failed_sign_ins_on_one_account_get_429_with_retry_after() {
    let app = spawn_app_with(|c| c.sign_ins_per_account_per_minute = 5).await;
    app.register("alice").await;

    for _ in 0..5 {
        let response = app.sign_in_with(&new_client(), "alice", "wrong-password").await;
        assert_eq!(response.status(), 401);
    }
    let limited = app.sign_in_with(&new_client(), "alice", PASSWORD).await;

    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert!(body["errors"][0].as_str().unwrap().contains("Too many attempts: try again in"));
    // Another account is unaffected.
    app.register_with(&new_client(), "bob").await;
    assert_eq!(app.sign_in_with(&new_client(), "bob", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn repeated_sign_ins_from_one_ip_get_429() {
    let app = spawn_app_with(|c| c.sign_ins_per_ip_per_minute = 3).await;

    for n in 0..3 {
        let response = app.sign_in_with(&new_client(), &format!("user{n}"), "wrong-password").await;
        assert_eq!(response.status(), 401);
    }

    assert_eq!(app.sign_in_with(&new_client(), "someone-else", "x").await.status(), 429);
}

/// A failed sign-in as if forwarded by a proxy for `client`.
async fn failed_sign_in_for(app: &crate::helpers::TestApp, client: &str) -> u16 {
    let response = new_client()
        .post(app.url("/users/sign_in"))
        .header("X-Forwarded-For", format!("203.0.113.99, {client}"))
        .json(&json!({ "user": { "email": "nobody", "password": "wrong" } }))
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn behind_a_proxy_each_forwarded_client_has_its_own_sign_in_budget() {
    let app = spawn_app_with(|c| {
        c.sign_ins_per_ip_per_minute = 2;
        c.client_ip_source = axum_client_ip::ClientIpSource::RightmostXForwardedFor;
    })
    .await;

    let first = [failed_sign_in_for(&app, "198.51.100.1").await, failed_sign_in_for(&app, "198.51.100.1").await];
    let first_again = failed_sign_in_for(&app, "198.51.100.1").await;
    let second = failed_sign_in_for(&app, "198.51.100.2").await;

    assert_eq!(first, [401, 401]);
    assert_eq!(first_again, 429, "the rightmost forwarded address is the client");
    assert_eq!(second, 401, "another client behind the same proxy is not limited");
}

/// A wrong password through the login form, forwarded for `client`: the
/// login page it is sent back to.
async fn login_form_for(app: &crate::helpers::TestApp, action: &str, client: &str) -> String {
    let response = new_client()
        .post(app.url(action))
        .header("Accept", "text/html")
        .header("Referer", app.url("/login"))
        .header("X-Forwarded-For", client)
        .form(&[("login", "nobody"), ("password", "wrong"), ("next", "")])
        .send()
        .await
        .unwrap();
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    new_client().get(back).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn the_login_form_behind_a_proxy_limits_each_forwarded_client_on_its_own() {
    let app = spawn_app_with(|c| {
        c.sign_ins_per_ip_per_minute = 1;
        c.client_ip_source = axum_client_ip::ClientIpSource::RightmostXForwardedFor;
    })
    .await;
    let html = new_client().get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let action = crate::pages::form_action(&html, "/fn/login");
    let first = login_form_for(&app, &action, "198.51.100.1").await;
    let first_again = login_form_for(&app, &action, "198.51.100.1").await;
    let second = login_form_for(&app, &action, "198.51.100.2").await;

    assert!(first.contains("Invalid email or password"), "{first}");
    assert!(first_again.contains("Too many attempts: try again in"), "{first_again}");
    assert!(second.contains("Invalid email or password"), "{second}");
}

#[tokio::test]
async fn without_a_configured_proxy_a_forwarded_header_cannot_dodge_the_limit() {
    let app = spawn_app_with(|c| c.sign_ins_per_ip_per_minute = 2).await;

    let statuses = [
        failed_sign_in_for(&app, "198.51.100.1").await,
        failed_sign_in_for(&app, "198.51.100.2").await,
        failed_sign_in_for(&app, "198.51.100.3").await,
    ];

    assert_eq!(statuses, [401, 401, 429], "the TCP peer is the client");
}

#[tokio::test]
async fn a_cookie_write_from_a_foreign_origin_is_refused_with_403() {
    let app = spawn_app().await;
    app.register("alice").await;

    let evil = app
        .client
        .put(app.url("/users/me"))
        .header("Origin", "https://evil.example")
        .json(&json!({"user": {"name": "pwned"}}))
        .send()
        .await
        .unwrap();
    let cross_site =
        app.client.delete(app.url("/users/sign_out")).header("Sec-Fetch-Site", "cross-site").send().await.unwrap();

    assert_eq!(evil.status(), 403);
    assert_eq!(evil.json::<Value>().await.unwrap(), json!({"errors": ["Cross-site request refused"]}));
    assert_eq!(cross_site.status(), 403);
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!(me["name"], "alice Example", "the forged write did not land and the session lives");
}

#[tokio::test]
async fn same_origin_browser_writes_and_plain_curl_writes_are_allowed() {
    let app = spawn_app().await;
    app.register("alice").await;
    let origin = app.address.clone();

    let same_origin = app
        .client
        .put(app.url("/users/me"))
        .header("Origin", &origin)
        .header("Sec-Fetch-Site", "same-origin")
        .json(&json!({"user": {"name": "From the browser"}}))
        .send()
        .await
        .unwrap();
    let curl_like =
        app.client.put(app.url("/users/me")).json(&json!({"user": {"name": "From curl"}})).send().await.unwrap();

    assert_eq!(same_origin.status(), 200);
    assert_eq!(curl_like.status(), 200);
}

#[tokio::test]
async fn a_cross_site_server_function_call_is_refused() {
    let app = spawn_app().await;
    let html = app.client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let action = crate::pages::form_action(&html, "/fn/login");

    let response = app
        .client
        .post(app.url(&action))
        .header("Origin", "https://evil.example")
        .form(&[("login", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_write_whose_only_clue_is_a_foreign_referer_is_refused_with_403() {
    let app = spawn_app().await;
    app.register("alice").await;

    // No Origin and no Sec-Fetch-Site, as an old browser would send it.
    let forged = app
        .client
        .put(app.url("/users/me"))
        .header("Referer", "https://evil.example/cats.html")
        .json(&json!({"user": {"name": "pwned"}}))
        .send()
        .await
        .unwrap();

    assert_eq!(forged.status(), 403);
    assert_eq!(forged.json::<Value>().await.unwrap(), json!({"errors": ["Cross-site request refused"]}));
    let me: Value = app.me(&app.client).await.json().await.unwrap();
    assert_eq!(me["name"], "alice Example");
}

#[tokio::test]
async fn a_write_with_a_same_origin_referer_is_allowed() {
    let app = spawn_app().await;
    app.register("alice").await;

    let response = app
        .client
        .put(app.url("/users/me"))
        .header("Referer", app.url("/profile?tab=1"))
        .json(&json!({"user": {"name": "From the profile page"}}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_https_origin_is_refused_by_a_server_on_http_and_the_reverse() {
    let http = spawn_app().await;
    let https = spawn_app_with(|c| c.secure_cookies = true).await;
    let register = |app: &crate::helpers::TestApp, origin: String, username: &str| {
        new_client()
            .post(app.url("/users"))
            .header("Origin", origin)
            .json(&json!({ "user": {
                "email": format!("{username}@example.com"), "username": username,
                "password": PASSWORD, "name": "Someone",
            }}))
            .send()
    };
    let host = |app: &crate::helpers::TestApp| app.address.trim_start_matches("http://").to_owned();

    let https_on_http = register(&http, format!("https://{}", host(&http)), "alice").await.unwrap();
    let http_on_http = register(&http, format!("http://{}", host(&http)), "bob").await.unwrap();
    let http_on_https = register(&https, format!("http://{}", host(&https)), "carol").await.unwrap();
    let https_on_https = register(&https, format!("https://{}", host(&https)), "dave").await.unwrap();

    assert_eq!(https_on_http.status(), 403, "https page, http server");
    assert_eq!(http_on_http.status(), 201);
    assert_eq!(http_on_https.status(), 403, "http page, https server");
    assert_eq!(https_on_https.status(), 201);
}

#[tokio::test]
async fn a_websocket_from_the_other_scheme_is_refused() {
    let http = spawn_app().await;
    let https = spawn_app_with(|c| c.secure_cookies = true).await;
    let (on_http, on_https) = (person(&http, "alice").await, person(&https, "alice").await);
    let host = |app: &crate::helpers::TestApp| app.address.trim_start_matches("http://").to_owned();
    let status = |result: Result<_, tungstenite::Error>| match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => 101,
    };

    let https_on_http = try_connect(&http, Some(&on_http.cookie), Some(&format!("https://{}", host(&http)))).await;
    let http_on_https = try_connect(&https, Some(&on_https.cookie), Some(&format!("http://{}", host(&https)))).await;
    let https_on_https = try_connect(&https, Some(&on_https.cookie), Some(&format!("https://{}", host(&https)))).await;

    assert_eq!(status(https_on_http), 403);
    assert_eq!(status(http_on_https), 403);
    assert_eq!(status(https_on_https), 101);
}

/// The login form's server function, posted with `content_type` and the
/// form's fields as the body.
async fn post_login_as(app: &crate::helpers::TestApp, content_type: &str) -> reqwest::Response {
    let html = app.client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let action = crate::pages::form_action(&html, "/fn/login");
    app.client
        .post(app.url(&action))
        .header("Content-Type", content_type)
        .body(format!("login=alice&password={PASSWORD}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_server_function_takes_only_url_encoded_form_bodies() {
    let app = spawn_app().await;
    app.register_with(&new_client(), "alice").await;

    let text = post_login_as(&app, "text/plain").await;
    let multipart = post_login_as(&app, "multipart/form-data; boundary=x").await;
    let json_body = post_login_as(&app, "application/json").await;
    let form = post_login_as(&app, "application/x-www-form-urlencoded; charset=UTF-8").await;

    for refused in [text, multipart, json_body] {
        assert_eq!(refused.status(), 415);
        assert_eq!(
            refused.json::<Value>().await.unwrap(),
            json!({"errors": ["Content-Type must be application/x-www-form-urlencoded"]})
        );
    }
    assert!(form.status().is_success() || form.status().is_redirection(), "{}", form.status());
    assert_eq!(app.me(&app.client).await.status(), 200, "the form body signed alice in");
}

#[tokio::test]
async fn expired_sessions_are_deleted_by_the_periodic_cleanup() {
    let app = spawn_app_with(|c| c.session_cleanup_secs = 1).await;
    let alice = app.register_with(&new_client(), "alice").await;
    let bob = app.register_with(&new_client(), "bob").await;
    // As the database knows each session: by a hash of its cookie.
    let id = |response: &reqwest::Response| {
        let cookie: Id =
            session_cookie(response.headers()).unwrap().trim_start_matches("hearth_session=").parse().unwrap();
        hearth::auth::stored_id(cookie).to_string()
    };
    let (expired, live) = (id(&alice), id(&bob));
    // Alice's session expired an hour ago, as the session store writes it
    // on either backend.
    let sessions = app.hearth.store().sessions().await.unwrap();
    let alice_id: Id = expired.parse().unwrap();
    let mut record = sessions.load(&alice_id).await.unwrap().expect("alice's session is live");
    record.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    sessions.save(&record).await.unwrap();
    let rows = || app.query_strings("SELECT id FROM sessions");
    assert!(rows().await.contains(&expired), "the expired row is there before the sweep");
    // Its record (what the sessions list and a device's push subscription
    // hang on) was last seen long ago.
    let seen_long_ago = "UPDATE user_sessions SET last_seen_at = '2000-01-01T00:00:00.000000Z' WHERE session_id = $1";
    app.execute_sql(seen_long_ago, &[crate::helpers::SqlArg::Text(expired.clone())]).await;
    let records = || app.query_strings("SELECT session_id FROM user_sessions");

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while records().await.contains(&expired) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let left = rows().await;
    assert!(!left.contains(&expired), "the expired session was deleted");
    assert!(left.contains(&live), "a live session is kept");
    let recorded = records().await;
    assert!(!recorded.contains(&expired), "and its record, so nothing is pushed for it any more");
    assert!(recorded.contains(&live), "a live session's record is kept");
}

#[tokio::test]
async fn the_database_holds_no_session_cookie_and_a_stored_id_signs_no_one_in() {
    let app = spawn_app().await;
    let laptop = new_client();
    let registered = app.register_with(&laptop, "alice").await;
    let phone = new_client();
    let signed_in = app.sign_in_with(&phone, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let cookies: Vec<String> = [registered.headers(), signed_in.headers()]
        .into_iter()
        .map(|headers| session_cookie(headers).unwrap().trim_start_matches("hearth_session=").to_owned())
        .collect();
    // Both made a request since, so both are on the sessions list.
    assert_eq!(app.get_json(&laptop, "/users/me/sessions").await.as_array().map(Vec::len), Some(2));

    let stored = app.query_strings("SELECT id FROM sessions").await;
    let recorded = app.query_strings("SELECT session_id FROM user_sessions").await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    for cookie in &cookies {
        assert!(!stored.contains(cookie), "a session row is keyed by its cookie: {stored:?}");
        assert!(!recorded.contains(cookie), "a session record is keyed by its cookie: {recorded:?}");
        let hashed = hearth::auth::stored_id(cookie.parse().unwrap()).to_string();
        assert!(stored.contains(&hashed) && recorded.contains(&hashed), "{hashed} in {stored:?} and {recorded:?}");
    }

    // Someone who read the database (or a backup) holds only stored ids:
    // presented as cookies, they find no session, on REST and the socket.
    for id in &stored {
        let thief = reqwest::Client::new();
        let me = thief.get(app.url("/users/me")).header("Cookie", format!("hearth_session={id}")).send().await.unwrap();
        assert_eq!(me.status(), 401, "a stored id is not a cookie");
        let socket = try_connect(&app, Some(&format!("hearth_session={id}")), None).await;
        assert!(
            matches!(&socket, Err(tungstenite::Error::Http(response)) if response.status() == 401),
            "nor a socket's cookie: {:?}",
            socket.err()
        );
    }
    // The cookies themselves still work.
    assert_eq!(app.me(&laptop).await.status(), 200);
    assert_eq!(app.me(&phone).await.status(), 200);
}

#[tokio::test]
async fn a_form_body_on_a_json_route_gets_415() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/users/sign_in"))
        .form(&[("email", "alice@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0], "Content-Type must be application/json");
}

#[tokio::test]
async fn malformed_json_gets_400_and_a_wrong_shape_gets_422() {
    let app = spawn_app().await;

    let syntax = app
        .client
        .post(app.url("/users"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let shape = app.client.post(app.url("/users")).json(&json!({"user": {"email": 42}})).send().await.unwrap();

    assert_error(syntax, 400).await;
    assert_eq!(shape.status(), 422);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;

    let response = app.register_with(&app.client, "alice").await;

    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("hearth_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn secure_cookies_can_be_turned_on() {
    let app = spawn_app_with(|c| c.secure_cookies = true).await;

    let response = app.register_with(&app.client, "alice").await;

    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn password_hashes_are_argon2id() {
    let app = spawn_app().await;
    app.register("alice").await;

    let user = app.hearth.store().auth_user_by_login("alice").await.unwrap().unwrap();

    assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!format!("{user:?}").contains("argon2"), "Debug redacts the hash");
}
