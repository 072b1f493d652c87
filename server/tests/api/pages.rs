//! Server-rendered pages, and the forms working without JavaScript.

use hearth::model::{RoomId, UserId};

use crate::helpers::{PASSWORD, User, new_client, session_cookie, spawn_app, spawn_app_with};

/// The `action` of the form whose action starts with `prefix` (server
/// function URLs carry a hash suffix, so tests never hard-code them).
pub fn form_action(html: &str, prefix: &str) -> String {
    let start = html.find(&format!("action=\"{prefix}")).expect("form present") + "action=\"".len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_with_a_way_back() {
    let app = spawn_app().await;

    let home = app.client.get(app.url("/")).send().await.unwrap();
    let profile = app.client.get(app.url("/profile?tab=1")).send().await.unwrap();

    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/login?next=/");
    assert_eq!(profile.headers()["location"], "/login?next=/profile%3Ftab%3D1");
}

/// A browser's `Accept` for a page load (Chromium's).
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

#[tokio::test]
async fn a_browser_that_opens_an_api_path_is_sent_to_its_page_and_api_clients_are_not() {
    let app = spawn_app().await;
    let (user, other) = (app.user("navigator").await, app.user("guide").await);
    let room = app.conversation_with(&user.client, &[other.id]).await;
    for client in [&app.client, &user.client] {
        for (path, page) in [
            ("/users/sign_in", "/login".to_owned()),
            ("/users/sign_up", "/register".to_owned()),
            ("/rooms", "/browse".to_owned()),
            ("/search?q=ell%20w", "/find?q=ell%20w".to_owned()),
            ("/conversations", "/".to_owned()),
            (&format!("/conversations/{room}"), format!("/rooms/{room}")),
        ] {
            let response = client.get(app.url(path)).header("accept", BROWSER_ACCEPT).send().await.expect("sent");
            assert_eq!(response.status(), 303, "{path}");
            assert_eq!(response.headers()["location"], page.as_str(), "{path}");
            assert_eq!(response.headers()["vary"], "accept", "{path}");
        }
    }
    // Anything else than a page load gets the API as before: curl's `*/*`,
    // JSON, no Accept at all, a write, and paths with no page of their own.
    let me = user.client.get(app.url("/users/me")).header("accept", BROWSER_ACCEPT).send().await.expect("sent");
    assert_eq!(me.status(), 200);
    for accept in [Some("*/*"), Some("application/json"), Some("application/json, text/html"), None] {
        let mut request = user.client.get(app.url(&format!("/conversations/{room}")));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.expect("sent");
        assert_eq!(response.status(), 200, "{accept:?}");
        let vary: Vec<_> = response.headers().get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(vary.iter().any(|v| v.eq_ignore_ascii_case("accept")), "the JSON says it varies too: {vary:?}");
        assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("application/json"));
    }
    let anonymous = app.client.get(app.url("/rooms")).header("accept", "*/*").send().await.expect("sent");
    assert_eq!(anonymous.status(), 401);
    let sign_in = app
        .client
        .post(app.url("/users/sign_in"))
        .header("accept", BROWSER_ACCEPT)
        .json(&serde_json::json!({ "user": { "email": "nobody@example.com", "password": "wrong-password" } }))
        .send()
        .await
        .expect("sent");
    assert_eq!(sign_in.status(), 401, "a POST is the API's");
}

#[tokio::test]
async fn someone_signed_in_is_sent_on_from_the_sign_in_and_sign_up_pages_never_off_the_site() {
    let app = spawn_app().await;
    let user = app.user("onward").await;
    let location = |path: &'static str| {
        let client = user.client.clone();
        let url = app.url(path);
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 303, "{path}");
            response.headers()["location"].to_str().unwrap().to_owned()
        }
    };

    assert_eq!(location("/login").await, "/");
    assert_eq!(location("/register?next=/browse").await, "/browse");
    assert_eq!(location("/login?next=%2Frooms%2F3%3Fat%3D9").await, "/rooms/3?at=9");
    assert_eq!(location("/login?next=https://evil.example/").await, "/");
    assert_eq!(location("/login?next=//evil.example/").await, "/");
    // Signed out, both pages render.
    assert_eq!(app.client.get(app.url("/register")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_login_page_is_server_rendered_with_the_shell_and_a_progressive_form() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/login")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Sign in · Hearth</title>"));
    assert!(html.contains("/pkg/hearth.css"));
    assert!(html.contains("/pkg/hearth.js"), "the hydration script is referenced");
    assert!(html.contains(r#"method="post""#));
    assert!(form_action(&html, "/fn/login").starts_with("/fn/login"));
    assert!(!html.contains("demo-picker"), "demo mode is off by default");
}

#[tokio::test]
async fn demo_mode_offers_the_demo_accounts_on_the_login_page() {
    let app = spawn_app_with(|c| c.demo = true).await;

    let html = app.client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();

    assert!(html.contains("demo-picker"));
    assert!(html.contains("Alice Liddell") && html.contains("Bob Builder") && html.contains("Carol Danvers"));

    // As the accounts are now: alice renamed, carol deactivated (by alice,
    // the instance's first account and so its admin).
    let alice = new_client();
    assert_eq!(app.sign_in_with(&alice, "alice@example.com", "secret123").await.status(), 200);
    let renamed = alice.put(app.url("/users/me")).json(&serde_json::json!({ "user": { "name": "Alice Pleasance" } }));
    assert_eq!(renamed.send().await.unwrap().status(), 200);
    let people: serde_json::Value =
        alice.get(app.url("/users?query=carol")).send().await.unwrap().json().await.unwrap();
    let carol = people[0]["id"].as_i64().expect("carol's id");
    let gone = alice.post(app.url(&format!("/admin/users/{carol}/deactivate"))).send().await.unwrap();
    assert_eq!(gone.status(), 200);

    let html = new_client().get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Alice Pleasance") && !html.contains("Alice Liddell"), "the name as it is now");
    assert!(html.contains("Bob Builder"));
    assert!(!html.contains("Carol Danvers") && !html.contains("carol@example.com"), "no account that cannot sign in");
}

#[tokio::test]
async fn signed_in_users_see_their_name_on_the_server_rendered_home_page() {
    let app = spawn_app().await;
    app.register("alice").await;

    let response = app.client.get(app.url("/")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("alice Example"), "{html}");
}

#[tokio::test]
async fn user_text_is_escaped_in_pages() {
    let app = spawn_app().await;
    app.register("alice").await;
    app.client
        .put(app.url("/users/me"))
        .json(&serde_json::json!({"user": {"name": "<script>alert(1)</script>"}}))
        .send()
        .await
        .unwrap();

    let html = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();

    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn the_login_form_works_without_javascript() {
    let app = spawn_app().await;
    app.register_with(&new_client(), "alice").await;
    let browser = new_client();
    let login_url = app.url("/login?next=/profile");
    let html = browser.get(&login_url).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/login");

    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .header("Referer", &login_url)
        .form(&[("login", "alice"), ("password", PASSWORD), ("next", "/profile")])
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/profile");
    assert!(session_cookie(response.headers()).is_some());
    let profile = browser.get(app.url("/profile")).send().await.unwrap();
    assert_eq!(profile.status(), 200);
    assert!(profile.text().await.unwrap().contains("alice@example.com"));
}

#[tokio::test]
async fn a_wrong_password_without_javascript_shows_the_error_on_the_login_page() {
    let app = spawn_app().await;
    app.register_with(&new_client(), "alice").await;
    let browser = new_client();
    let login_url = app.url("/login");
    let html = browser.get(&login_url).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/login");

    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .header("Referer", &login_url)
        .form(&[("login", "alice"), ("password", "wrong-password"), ("next", "")])
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection());
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "{back}");
    let page = browser.get(back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Invalid email or password"));
}

#[tokio::test]
async fn registration_errors_show_beside_their_fields_without_javascript() {
    let app = spawn_app().await;
    let browser = new_client();
    let register_url = app.url("/register");
    let html = browser.get(&register_url).send().await.unwrap().text().await.unwrap();
    let action = form_action(&html, "/fn/register");

    let response = browser
        .post(app.url(&action))
        .header("Accept", "text/html")
        .header("Referer", &register_url)
        .form(&[("email", "not-an-email"), ("username", "ok_name"), ("password", "short"), ("name", ""), ("next", "")])
        .send()
        .await
        .unwrap();

    let back = response.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(back).send().await.unwrap().text().await.unwrap();
    assert!(field_error(&page, "email").starts_with("Email is invalid"), "{page}");
    assert!(field_error(&page, "password").starts_with("Password is too short"));
    assert!(!page.contains(r#"data-field="username""#), "a valid field shows no error");
}

#[tokio::test]
async fn an_unknown_page_is_a_404() {
    let app = spawn_app().await;
    app.register("alice").await;

    let response = app.client.get(app.url("/no/such/page")).send().await.unwrap();

    assert_eq!(response.status(), 404);
}

/// The text of the first error paragraph rendered for `field`.
pub fn field_error(html: &str, field: &str) -> String {
    let at = html.find(&format!(r#"data-field="{field}""#)).expect("an error for the field");
    let text = &html[at..];
    let start = text.find('>').expect("tag end") + 1;
    let end = text.find("</p>").expect("paragraph end");
    without_markers(&text[start..end])
}

/// A page's HTML without leptos's hydration markers (`<!>`, empty comments
/// where a view's dynamic parts begin and end). Where they fall depends on
/// how the views are built (`--cfg erase_components` moves them), not on
/// what the page says, so tests that look for a piece of markup look here.
pub fn without_markers(html: &str) -> String {
    html.replace("<!>", "")
}

/// leptos raises a process-wide "don't load resources" flag while it generates
/// a route list, and a page whose resource first ran in that window never
/// finished (the suite hung on it). Servers starting beside a busy one, as
/// tests do, must not stall its pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_other_servers_start_in_the_same_process() {
    let app = spawn_app().await;
    let alice = new_client();
    app.register_with(&alice, "alice").await;

    for _ in 0..15 {
        let starts = tokio::spawn(async {
            for _ in 0..3 {
                spawn_app().await;
            }
        });
        for _ in 0..8 {
            let page = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                alice.get(app.url("/profile")).send().await.unwrap().text().await.unwrap()
            })
            .await
            .expect("the page finished");
            assert!(page.contains("alice@example.com"));
        }
        starts.await.expect("servers started");
    }
}

#[tokio::test]
async fn the_bundle_is_sent_as_its_precompressed_copy_for_the_encodings_the_browser_takes() {
    // scripts/build-site.sh writes the copies; compressing on the fly
    // instead would send gzip of the plain file, not the copy's bytes.
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    // Different bytes in each copy, so the answer tells which one was sent.
    std::fs::write(pkg.join("hearth.js"), "export default 1;").unwrap();
    std::fs::write(pkg.join("hearth.js.gz"), "gzip copy").unwrap();
    std::fs::write(pkg.join("hearth.js.br"), "brotli copy").unwrap();
    std::fs::write(pkg.join("hearth.wasm"), b"\0asm plain").unwrap();
    std::fs::write(pkg.join("hearth.wasm.gz"), "gzip wasm").unwrap();
    let app = crate::helpers::spawn_app_serving(site.path().to_str().unwrap(), |_| {}).await;
    let client = new_client();
    let get = |path: &'static str, accept: &'static str| {
        let request = client.get(app.url(path));
        let request = if accept.is_empty() { request } else { request.header("Accept-Encoding", accept) };
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
            (status, encoding, kind, response.bytes().await.unwrap().to_vec())
        }
    };

    let brotli = get("/pkg/hearth.js", "gzip, deflate, br").await;
    let gzip = get("/pkg/hearth.js", "gzip").await;
    let plain = get("/pkg/hearth.js", "").await;
    let wasm = get("/pkg/hearth.wasm", "gzip, br").await;
    let missing = get("/pkg/nothing.js", "gzip").await;

    assert_eq!((brotli.0, brotli.1.as_deref(), brotli.3.as_slice()), (200, Some("br"), &b"brotli copy"[..]));
    assert_eq!((gzip.0, gzip.1.as_deref(), gzip.3.as_slice()), (200, Some("gzip"), &b"gzip copy"[..]));
    assert_eq!((plain.0, plain.1.as_deref(), plain.3.as_slice()), (200, None, &b"export default 1;"[..]));
    assert!(brotli.2.as_deref().is_some_and(|kind| kind.contains("javascript")), "{:?}", brotli.2);
    // No brotli copy of the WASM: the gzip one, with the WASM's type for
    // streaming compilation.
    assert_eq!(
        (wasm.1.as_deref(), wasm.2.as_deref(), wasm.3.as_slice()),
        (Some("gzip"), Some("application/wasm"), &b"gzip wasm"[..])
    );
    assert_eq!(missing.0, 404);
}

/// The `data-number`s of the message rows in a room page, in order.
fn rows(html: &str) -> Vec<i64> {
    html.split("<article ")
        .skip(1)
        .filter_map(|row| row.split("data-number=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_room_opens_at_the_first_unread_message_under_a_new_messages_divider() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let page = |user: &User| {
        let request = user.client.get(app.url(&format!("/rooms/{room}"))).send();
        async move { request.await.expect("sent").text().await.expect("the room page") }
    };
    app.seed_messages(room, alice.id, 5).await;
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 3).await.expect("marked");

    // Bob read 3 of 5: the newest page, the divider just above message 4.
    let html = page(&bob).await;
    assert_eq!(rows(&html), [1, 2, 3, 4, 5]);
    let divider = html.find("class=\"unread-divider\"").expect("a divider");
    let fourth = html.find("data-number=\"4\"").expect("message 4");
    let third = html.find("data-number=\"3\"").expect("message 3");
    assert!(third < divider && divider < fourth, "the divider sits between 3 and 4");
    assert_eq!(html.matches("class=\"unread-divider\"").count(), 1);
    // Alice wrote them all: nothing of hers is unread, so no divider.
    assert!(!page(&alice).await.contains("unread-divider"));

    // 200 more: the newest page would not reach message 4, so the page is
    // the one around it, the divider still above 4, with newer ones to load.
    app.seed_messages(room, alice.id, 200).await;
    let html = page(&bob).await;
    let numbers = rows(&html);
    assert!(numbers.contains(&4) && !numbers.contains(&205), "around message 4: {numbers:?}");
    assert_eq!(numbers.first(), Some(&1));
    assert!(html.find("class=\"unread-divider\"").expect("a divider") < html.find("data-number=\"4\"").unwrap());
    assert!(html.contains("class=\"load-newer\""), "newer messages wait below");

    // Read to the end: the newest page again, with no divider.
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 205).await.expect("marked");
    let html = page(&bob).await;
    assert_eq!(rows(&html).last(), Some(&205));
    assert!(!html.contains("unread-divider"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_loaded_at_once_by_many_all_finish_with_their_titles() {
    // leptos_meta computes <title> outside the request's arena, so a title
    // read from an arena signal resolved against whichever request last ran
    // on that worker thread and panicked ("already disposed") under load.
    let app = spawn_app().await;
    let alice = new_client();
    app.register_with(&alice, "alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&alice, &[bob.id]).await;
    let mut pages = Vec::new();
    for n in 0..200 {
        let alice = alice.clone();
        let url = if n % 2 == 0 { app.url("/profile") } else { app.url(&format!("/rooms/{room}")) };
        pages.push(tokio::spawn(async move {
            let page = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                alice.get(url).send().await.expect("an answer, not a dropped connection").text().await.unwrap()
            });
            page.await.expect("the page finished")
        }));
    }
    for (n, page) in pages.into_iter().enumerate() {
        let page = page.await.unwrap();
        let title =
            if n % 2 == 0 { "<title>Your profile · Hearth</title>" } else { "<title>Conversation · Hearth</title>" };
        assert!(page.contains(title), "page {n} lacks {title}");
    }
}

#[tokio::test]
async fn the_people_page_says_when_its_list_is_cut_and_only_then() {
    let app = spawn_app().await;
    let viewer = app.user("viewer").await;
    let page = || async {
        let html = viewer.client.get(app.url("/people")).send().await.expect("sent").text().await.expect("html");
        html.contains("Only the first 50 are listed: search by name to find the others.")
    };
    for n in 0..48 {
        app.user(&format!("person{n:02}")).await;
    }
    assert!(!page().await, "49 people are all listed");
    app.user("person48").await;
    assert!(page().await, "50 fill the list: there may be more");
}
