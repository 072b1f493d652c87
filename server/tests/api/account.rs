//! Account security a user does for themselves (issue 18, part 5): changing
//! the email, the sessions list and signing sessions out, the forgotten
//! password by email (against a real SMTP server: Python's aiosmtpd), and
//! two gaps closed: a deactivated owner's application tokens, and the
//! first-user rule under concurrent sign-ups.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, Response, redirect};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, User, assert_error, new_client, session_cookie, spawn_app, spawn_app_with};
use crate::ws_support::{Next, try_connect};

const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/131.0.0.0 Mobile Safari/537.36";
const NEW: &str = "a much longer secret";

/// A browser that says who it is.
fn browser(user_agent: &str) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .expect("client")
}

async fn deactivate(app: &TestApp, admin: &User, user: i64) {
    let response = admin.client.post(app.url(&format!("/admin/users/{user}/deactivate"))).send().await;
    assert_eq!(response.expect("sent").status(), 200, "deactivating {user}");
}

async fn change_email(app: &TestApp, client: &Client, password: &str, email: &str) -> Response {
    client
        .put(app.url("/users/me/email"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn changing_the_email_needs_the_password_a_valid_free_address_and_a_live_session() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    let gone = app.user("gone").await;
    deactivate(&app, &admin, gone.id).await;

    let body = assert_error(change_email(&app, &owner.client, "wrong-password", "new@example.com").await, 422).await;
    assert_eq!(body["errors"], json!(["Password is incorrect"]));
    // A wrong password says nothing about the address, taken or not.
    let body = assert_error(change_email(&app, &owner.client, "wrong-password", "other@example.com").await, 422).await;
    assert_eq!(body["errors"], json!(["Password is incorrect"]));
    let body = assert_error(change_email(&app, &owner.client, PASSWORD, "not an address").await, 422).await;
    assert_eq!(body["errors"], json!(["Email is invalid"]));
    let body = assert_error(change_email(&app, &owner.client, PASSWORD, "OTHER@example.com").await, 422).await;
    assert_eq!(body["errors"], json!(["Email has already been taken"]));
    assert_error(change_email(&app, &gone.client, PASSWORD, "gone2@example.com").await, 401).await;
    assert_error(change_email(&app, &new_client(), PASSWORD, "anon@example.com").await, 401).await;
    let response = new_client()
        .put(app.url("/users/me/email"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_error(response, 401).await;

    // The owner changes theirs; the other member can't take it afterwards.
    let response = change_email(&app, &owner.client, PASSWORD, " New.Owner@Example.com ").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["email"], "new.owner@example.com");
    assert_eq!(app.get_json(&owner.client, "/users/me").await["email"], "new.owner@example.com");
    let body = assert_error(change_email(&app, &other.client, PASSWORD, "new.owner@example.com").await, 422).await;
    assert_eq!(body["errors"], json!(["Email has already been taken"]));
    // Keeping one's own address is no conflict.
    assert_eq!(change_email(&app, &other.client, PASSWORD, "other@example.com").await.status(), 200);

    assert_eq!(app.sign_in_with(&new_client(), "new.owner@example.com", PASSWORD).await.status(), 200);
    assert_error(app.sign_in_with(&new_client(), "owner@example.com", PASSWORD).await, 401).await;
    let audit = app.get_json(&admin.client, "/admin/audit").await;
    assert!(audit.as_array().expect("entries").iter().all(|e| e["action"] != "user.email"), "audit-free: {audit}");
}

#[tokio::test]
async fn the_profile_route_refuses_an_email_or_a_password_by_name_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.user("owner").await;
    let before = app.get_json(&owner.client, "/users/me").await;

    let put = |body: Value| owner.client.put(app.url("/users/me")).json(&body).send();
    let refused = put(json!({ "user": { "name": "New Name", "email": "elsewhere@example.com" } })).await.expect("sent");
    let body = assert_error(refused, 422).await;
    assert_eq!(body["errors"], json!(["Email is changed at PUT /users/me/email, with your password"]));
    let refused = put(json!({ "name": "New Name", "password": "another-secret" })).await.expect("sent");
    let body = assert_error(refused, 422).await;
    assert_eq!(body["errors"], json!(["Password is changed at PUT /users/me/password, with your current one"]));

    assert_eq!(app.get_json(&owner.client, "/users/me").await, before, "nothing changed");
    assert_eq!(app.sign_in_with(&new_client(), "owner", PASSWORD).await.status(), 200);
}

async fn sessions(app: &TestApp, client: &Client) -> Response {
    client.get(app.url("/users/me/sessions")).send().await.expect("request sent")
}

async fn end(app: &TestApp, client: &Client, id: &str) -> Response {
    client.delete(app.url(&format!("/users/me/sessions/{id}"))).send().await.expect("request sent")
}

#[tokio::test]
async fn a_user_sees_their_sessions_by_device_with_the_current_one_marked_and_no_secret_id() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let laptop = browser(FIREFOX_LINUX);
    let registered = app.register_with(&laptop, "alice").await;
    assert_eq!(registered.status(), 201);
    let laptop_cookie = session_cookie(registered.headers()).expect("a session cookie");
    let phone = browser(CHROME_ANDROID);
    let signed_in = app.sign_in_with(&phone, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let phone_cookie = session_cookie(signed_in.headers()).expect("a session cookie");
    // A session that signed in and did nothing else is listed already.
    let list: Value = sessions(&app, &laptop).await.json().await.expect("json");
    assert_eq!(list.as_array().expect("sessions").len(), 2, "{list}");

    let response = sessions(&app, &laptop).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    for cookie in [&laptop_cookie, &phone_cookie] {
        let secret = cookie.trim_start_matches("hearth_session=");
        assert!(!text.contains(secret), "the session's secret id is never shown: {text}");
    }
    let list: Value = serde_json::from_str(&text).expect("json");
    let list = list.as_array().expect("sessions");
    assert_eq!(list.len(), 2, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "{list:?}");
    assert_eq!(current[0]["device"], "Firefox on Linux");
    let other = list.iter().find(|s| s["current"] == false).expect("the phone");
    assert_eq!(other["device"], "Chrome on Android", "the phone's device is known once it made a request");
    assert!(other["last_seen_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{other}");
    assert!(other["created_at"].as_str().is_some(), "{other}");

    // From the phone, the phone is current; other people see only their own.
    let from_phone: Value = app.get_json(&phone, "/users/me/sessions").await;
    let current = from_phone.as_array().expect("sessions").iter().find(|s| s["current"] == true).expect("current");
    assert_eq!(current["device"], "Chrome on Android");
    let admins: Value = app.get_json(&admin.client, "/users/me/sessions").await;
    assert_eq!(admins.as_array().expect("sessions").len(), 1, "{admins}");
    assert_ne!(admins[0]["id"], other["id"]);

    // Who may list: a deactivated user and anonymous get 401.
    let gone = app.user("gone").await;
    deactivate(&app, &admin, gone.id).await;
    assert_error(sessions(&app, &gone.client).await, 401).await;
    assert_error(sessions(&app, &new_client()).await, 401).await;
    let recorded = format!("SELECT session_id FROM user_sessions WHERE user_id = {}", gone.id);
    assert!(app.query_strings(&recorded).await.is_empty(), "a deactivated account's sessions are off the list");

    // Signed out sessions and those a password change ended leave the list.
    let tablet = browser(FIREFOX_LINUX);
    assert_eq!(app.sign_in_with(&tablet, "alice", PASSWORD).await.status(), 200);
    assert_eq!(app.get_json(&laptop, "/users/me/sessions").await.as_array().expect("list").len(), 3);
    assert_eq!(tablet.delete(app.url("/users/sign_out")).send().await.expect("sent").status(), 204);
    assert_eq!(app.get_json(&laptop, "/users/me/sessions").await.as_array().expect("list").len(), 2);
    let alice = app.user_id(&laptop).await;
    let recorded = format!("SELECT session_id FROM user_sessions WHERE user_id = {alice}");
    assert_eq!(app.query_strings(&recorded).await.len(), 2, "a signed-out session's record goes");
    let response = laptop
        .put(app.url("/users/me/password"))
        .json(&json!({ "current_password": PASSWORD, "password": NEW }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 204);
    let left = app.get_json(&laptop, "/users/me/sessions").await;
    assert_eq!(left.as_array().expect("list").len(), 1, "{left}");
    assert_eq!(left[0]["current"], true);
}

#[tokio::test]
async fn signing_a_session_out_refuses_its_next_request_and_closes_its_sockets_at_once() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let laptop = browser(FIREFOX_LINUX);
    assert_eq!(app.register_with(&laptop, "alice").await.status(), 201);
    let phone = browser(CHROME_ANDROID);
    let signed_in = app.sign_in_with(&phone, "alice", PASSWORD).await;
    let phone_cookie = session_cookie(signed_in.headers()).expect("a session cookie");
    let mut phone_socket = try_connect(&app, Some(&phone_cookie), None).await.expect("the upgrade succeeds");
    let list = app.get_json(&laptop, "/users/me/sessions").await;
    let phone_id = list.as_array().expect("list").iter().find(|s| s["current"] == false).expect("the phone")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Who may end it: only its owner. Others hear 404 (it is not theirs to
    // know of), a deactivated user and anonymous 401.
    let bob = app.user("bob").await;
    assert_error(end(&app, &bob.client, &phone_id).await, 404).await;
    assert_error(end(&app, &admin.client, &phone_id).await, 404).await;
    let gone = app.user("gone").await;
    deactivate(&app, &admin, gone.id).await;
    assert_error(end(&app, &gone.client, &phone_id).await, 401).await;
    assert_error(end(&app, &new_client(), &phone_id).await, 401).await;
    assert_error(end(&app, &laptop, "no-such-session").await, 404).await;
    assert_eq!(app.me(&phone).await.status(), 200, "nothing ended by the refusals");

    assert_eq!(end(&app, &laptop, &phone_id).await.status(), 204);
    assert_error(app.me(&phone).await, 401).await;
    let closed = loop {
        match phone_socket.next_within(Duration::from_secs(5)).await {
            Next::Event(_) => continue,
            Next::Closed(frame) => break frame.map(|f| u16::from(f.code)),
            other => panic!("the ended session's socket should close, got {other:?}"),
        }
    };
    assert_eq!(closed, Some(1008));
    assert_eq!(app.me(&laptop).await.status(), 200, "the laptop stays");
    assert_error(end(&app, &laptop, &phone_id).await, 404).await;
    assert_eq!(app.get_json(&laptop, "/users/me/sessions").await.as_array().expect("list").len(), 1);
    assert!(try_connect(&app, Some(&phone_cookie), None).await.is_err(), "the ended session opens no socket");

    // Ending one's current session signs this client out.
    let mine = app.get_json(&laptop, "/users/me/sessions").await[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(end(&app, &laptop, &mine).await.status(), 204);
    assert_error(app.me(&laptop).await, 401).await;
}

/// Python's aiosmtpd on a free loopback port, saving each message it gets
/// into a directory; stopped by PID when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// Starts one, making its venv first if needed (`scripts/smtp-venv.sh`,
    /// pip from PyPI). `None`, said loudly, only when there is no python3.
    async fn start() -> Option<Self> {
        if Command::new("python3").arg("--version").output().is_err() {
            eprintln!("\n*** SKIPPED: no python3 on this machine, so no SMTP server to test the mail against ***\n");
            return None;
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let venv = root.join("scripts/smtp-venv.sh");
        let output = tokio::task::spawn_blocking(move || Command::new(venv).output().expect("runs smtp-venv.sh"))
            .await
            .expect("joined");
        assert!(output.status.success(), "scripts/smtp-venv.sh failed: {}", String::from_utf8_lossy(&output.stderr));
        let python = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("mail");
        std::fs::create_dir(&maildir).expect("maildir");
        let port_file = dir.path().join("port");
        let child = Command::new(python)
            .arg(root.join("scripts/smtp_sink.py"))
            .arg(&maildir)
            .arg(&port_file)
            .stdin(Stdio::null())
            .spawn()
            .expect("starts the SMTP server");
        let mut server = Self { child, port: 0, maildir, _dir: dir };
        for _ in 0..200 {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                server.port = port.trim().parse().expect("a port");
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMTP server did not start within 10 s");
    }

    fn configure(&self, config: &mut hearth_server::config::Config) {
        config.smtp_url = Some(format!("smtp://127.0.0.1:{}", self.port));
        config.smtp_from = Some("Hearth <hearth@chat.example>".into());
        config.public_url = Some("http://chat.example/".into());
    }

    /// Every message received so far, in order.
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.maildir)
            .expect("maildir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).expect("a message")).collect()
    }

    /// Waits (up to 10 s) until `count` messages have arrived.
    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} message(s), got {:?}", self.messages());
    }
}

async fn forgot(app: &TestApp, client: &Client, email: &str) -> Response {
    client.post(app.url("/users/password/forgot")).json(&json!({ "email": email })).send().await.expect("request sent")
}

/// The token of the reset link in a message (quoted-printable or not).
fn reset_token(message: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=3D", "=");
    let start = unfolded.find("http://chat.example/reset-password?token=").unwrap_or_else(|| panic!("{message}"));
    let rest = &unfolded[start + "http://chat.example/reset-password?token=".len()..];
    rest.chars().take_while(char::is_ascii_hexdigit).collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_a_link_mailed_to_a_real_smtp_server() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = spawn_app_with(|config| smtp.configure(config)).await;
    let member = crate::ws_support::person(&app, "member").await;
    let mut socket = crate::ws_support::connect(&app, &member).await;
    let login = app.client.get(app.url("/login")).send().await.expect("sent").text().await.expect("html");
    assert!(login.contains("Forgot password?"), "the login page offers it");
    let page = app.client.get(app.url("/forgot-password")).send().await.expect("sent").text().await.expect("html");
    assert!(page.contains("Send the link") && !page.contains("Ask one of its admins"), "the form, no notice");

    let known = forgot(&app, &new_client(), "Member@Example.com").await;
    let unknown = forgot(&app, &new_client(), "nobody@example.com").await;
    assert_eq!(known.status(), 202);
    assert_eq!(unknown.status(), 202);
    let known: Value = known.json().await.expect("json");
    let unknown: Value = unknown.json().await.expect("json");
    assert_eq!(known, unknown, "the same answer whether or not the address has an account");

    let messages = smtp.wait_for(1).await;
    let message = &messages[0];
    assert!(message.contains("X-Envelope-To: member@example.com"), "{message}");
    assert!(message.contains("Subject: Reset your Hearth password"), "{message}");
    assert!(message.contains("From: Hearth <hearth@chat.example>"), "{message}");
    let token = reset_token(message);
    assert_eq!(token.len(), 64, "{message}");

    let reset = |password: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            new_client()
                .post(app.url("/users/password/reset"))
                .json(&json!({ "token": token, "password": password }))
                .send()
                .await
                .expect("sent")
        }
    };
    assert_eq!(reset(NEW).await.status(), 204);
    assert_eq!(app.sign_in_with(&new_client(), "member", NEW).await.status(), 200);
    assert_error(app.me(&member.client).await, 401).await;
    // Its open tabs are signed out, not told the account is gone.
    let closed = loop {
        match socket.next_within(Duration::from_secs(5)).await {
            Next::Closed(frame) => break frame,
            Next::Event(_) => continue,
            other => panic!("expected a close, got {other:?}"),
        }
    };
    let closed = closed.expect("a close frame");
    assert_eq!((u16::from(closed.code), closed.reason.as_str()), (1008, "signed out"));
    assert_error(reset("yet another secret").await, 422).await;
    assert_error(app.sign_in_with(&new_client(), "member", "yet another secret").await, 401).await;

    // The unknown address got nothing (its mail would have come long ago;
    // a later known request's does).
    assert_eq!(forgot(&app, &new_client(), "member@example.com").await.status(), 202);
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().all(|m| m.contains("X-Envelope-To: member@example.com")), "{messages:?}");
    // A request with a malformed address is refused as such; no mail.
    let body = assert_error(forgot(&app, &new_client(), "not an address").await, 422).await;
    assert_eq!(body["errors"], json!(["Email is invalid"]));
    // Signed in or not, deactivated or not, the route answers alike.
    assert_eq!(forgot(&app, &member.client, "nobody@example.com").await.status(), 202);
}

#[tokio::test]
async fn forgot_password_is_limited_per_address_and_per_client_with_retry_after() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = spawn_app_with(|config| {
        smtp.configure(config);
        config.reset_mails_per_address_per_hour = 2;
        config.sign_ins_per_ip_per_minute = 5;
    })
    .await;
    let client = new_client();
    assert_eq!(forgot(&app, &client, "a@example.com").await.status(), 202);
    assert_eq!(forgot(&app, &client, "A@example.com").await.status(), 202);
    let refused = forgot(&app, &client, "a@example.com").await;
    assert!(refused.headers().get("retry-after").is_some(), "Retry-After");
    assert_error(refused, 429).await;
    assert_eq!(forgot(&app, &client, "b@example.com").await.status(), 202);
    assert_eq!(forgot(&app, &client, "c@example.com").await.status(), 202);
    // Five attempts from this client: the sixth waits, whatever the address.
    let refused = forgot(&app, &client, "d@example.com").await;
    assert!(refused.headers().get("retry-after").is_some(), "Retry-After");
    assert_error(refused, 429).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.messages().is_empty(), "no account, no mail");
}

#[tokio::test]
async fn without_smtp_there_is_no_forgot_password_route_or_link() {
    let app = spawn_app().await;
    app.user("member").await;
    let body = assert_error(forgot(&app, &new_client(), "member@example.com").await, 404).await;
    assert!(body["errors"][0].as_str().expect("message").contains("not configured"), "{body}");
    let login = app.client.get(app.url("/login")).send().await.expect("sent").text().await.expect("html");
    assert!(!login.contains("Forgot password?"), "no link without SMTP");
    // Reached anyway (a bookmark): the page says whom to ask.
    let page = app.client.get(app.url("/forgot-password")).send().await.expect("sent").text().await.expect("html");
    assert!(page.contains("Ask one of its admins for a password reset link"), "{page}");
}

#[tokio::test]
async fn a_deactivated_owners_application_tokens_are_refused_until_reactivation() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let owner = app.user("owner").await;
    let owned = app.create_application(&owner.client, "owned").await;
    let token = owned["application_token"].as_str().expect("token").to_owned();
    let chat = app.create_chat(&token, "general").await["chat_number"].as_i64().expect("number");
    let anonymous = app.create_application(&new_client(), "anonymous").await;
    let anonymous_token = anonymous["application_token"].as_str().expect("token").to_owned();

    deactivate(&app, &admin, owner.id).await;
    let get = |path: String| {
        let app = &app;
        async move { new_client().get(app.url(&path)).send().await.expect("sent") }
    };
    let body = assert_error(get(format!("/api/applications/{token}")).await, 403).await;
    assert_eq!(body["errors"], json!(["This application's owner has been deactivated"]));
    assert_error(get(format!("/api/applications/{token}/chats")).await, 403).await;
    let posted = new_client()
        .post(app.url(&format!("/api/applications/{token}/chats/{chat}/messages")))
        .json(&json!({ "message_content": "still here?" }))
        .send()
        .await
        .expect("sent");
    assert_error(posted, 403).await;
    // An application without an owner belongs to its token's holder.
    assert_eq!(get(format!("/api/applications/{anonymous_token}")).await.status(), 200);

    let response = admin.client.post(app.url(&format!("/admin/users/{}/reactivate", owner.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    assert_eq!(get(format!("/api/applications/{token}")).await.status(), 200);
    app.post_app_message(&token, chat, "back").await;
}

/// Registers `count` people at once on `app`; the statuses, in order.
async fn register_at_once(app: &TestApp, count: usize) -> Vec<u16> {
    let attempts = (0..count).map(|n| {
        let client = new_client();
        async move { app.register_with(&client, &format!("person{n}")).await.status().as_u16() }
    });
    futures_util::future::join_all(attempts).await
}

#[tokio::test]
async fn concurrent_first_sign_ups_make_exactly_one_admin_and_skip_no_invitation() {
    // Invitation only: the first account may register without one, and
    // only the first.
    let app = spawn_app_with(|config| config.sign_up_policy = None).await;
    let statuses = register_at_once(&app, 8).await;
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&s| s == 201 || s == 403), "{statuses:?}");
    assert_eq!(app.query_strings("SELECT role FROM users").await, vec!["admin".to_owned()]);

    // Open: everyone registers, one of them the admin.
    let app = spawn_app().await;
    let statuses = register_at_once(&app, 8).await;
    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    let mut roles = app.query_strings("SELECT role FROM users").await;
    roles.sort();
    assert_eq!(roles.iter().filter(|r| *r == "admin").count(), 1, "{roles:?}");
    assert_eq!(roles.len(), 8);
}

#[tokio::test]
async fn smtp_without_a_sender_or_a_public_url_is_refused_at_startup_naming_the_setting() {
    use hearth_server::startup::Application;
    let cases: [(Option<&str>, Option<&str>, &str); 3] = [
        (None, Some("https://chat.example"), "HEARTH_SMTP_FROM"),
        (Some("Hearth <hearth@chat.example>"), None, "HEARTH_PUBLIC_URL"),
        (Some("Hearth <hearth@chat.example>"), Some("chat.example"), "HEARTH_PUBLIC_URL"),
    ];
    for (from, public_url, named) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = crate::helpers::test_config(dir.path().to_path_buf());
        config.database_url = Some(hearth::testing::fresh_database_url(dir.path()).await);
        config.smtp_url = Some("smtp://127.0.0.1:25".into());
        config.smtp_from = from.map(str::to_owned);
        config.public_url = public_url.map(str::to_owned);
        let leptos = leptos::config::LeptosOptions::builder().output_name("hearth").site_root("target/site").build();
        match Application::build(config, leptos).await {
            Ok(_) => panic!("started without {named}"),
            Err(err) => {
                let message = err.to_string();
                assert!(message.contains(named) && !message.contains('\n'), "{message}");
            }
        }
    }
}

#[tokio::test]
async fn the_profile_page_lists_the_sessions_and_its_forms_change_the_email_and_sign_a_session_out() {
    let app = spawn_app().await;
    let laptop = browser(FIREFOX_LINUX);
    assert_eq!(app.register_with(&laptop, "alice").await.status(), 201);
    let phone = browser(CHROME_ANDROID);
    assert_eq!(app.sign_in_with(&phone, "alice", PASSWORD).await.status(), 200);

    let html = laptop.get(app.url("/profile")).send().await.expect("sent").text().await.expect("html");
    assert!(html.contains("Where you are signed in"), "{html}");
    assert!(html.contains("Firefox on Linux") && html.contains("(this device)"), "{html}");
    assert!(html.contains("Chrome on Android"), "{html}");

    let action = crate::pages::form_action(&html, "/fn/change_email");
    let response = laptop
        .post(app.url(&action))
        .header("Referer", app.url("/profile"))
        .form(&[("email", "alice2@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sent");
    assert!(response.status().as_u16() < 500, "{}", response.status());
    assert_eq!(app.get_json(&laptop, "/users/me").await["email"], "alice2@example.com");

    let list = app.get_json(&laptop, "/users/me/sessions").await;
    let phone_id = list.as_array().expect("list").iter().find(|s| s["current"] == false).expect("phone")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let action = crate::pages::form_action(&html, "/fn/end_session");
    let response = laptop
        .post(app.url(&action))
        .header("Referer", app.url("/profile"))
        .form(&[("id", phone_id.as_str())])
        .send()
        .await
        .expect("sent");
    assert!(response.status().as_u16() < 500, "{}", response.status());
    assert_error(app.me(&phone).await, 401).await;
    assert_eq!(app.me(&laptop).await.status(), 200);

    // The forgotten-password page is open to anonymous visitors.
    let page = new_client().get(app.url("/forgot-password")).send().await.expect("sent");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("Forgot your password?"));
}
