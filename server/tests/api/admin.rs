//! Running an instance (issue 18): roles, the last-admin rule, the sign-up
//! policy, invitations, deactivation, moderation and the audit log. Every
//! admin route is called by each kind of caller (`Cast`), and each gets its
//! status, never a 500.

use std::time::Duration;

use hearth::model::SignUpPolicy;
use hearth::protocol::ServerEvent;
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, SqlArg, TestApp, User, assert_error, new_client, spawn_app, spawn_app_with};
use crate::ws_support::{Next, connect, person};

/// Everyone a who-may-call matrix asks: the instance's first account (its
/// admin), a member, a member who created a room, a deactivated account
/// (its old session kept) and someone signed out.
struct Cast {
    admin: User,
    member: User,
    creator: User,
    room: i64,
    deactivated: User,
    anonymous: Client,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let creator = app.user("creator").await;
    let room = app.conversation_with(&creator.client, &[member.id, admin.id]).await;
    let deactivated = app.user("gone").await;
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", deactivated.id))).send().await;
    assert_eq!(response.expect("request sent").status(), 200, "deactivating gone");
    Cast { admin, member, creator, room, deactivated, anonymous: new_client() }
}

async fn call(app: &TestApp, client: &Client, method: &Method, path: &str, body: Option<&Value>) -> Response {
    let mut request = client.request(method.clone(), app.url(path)).header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request sent")
}

/// Calls `method path` as each of the cast but the admin, then as the admin,
/// and asserts each status: 403 for members (room creator or not), 401 for
/// a deactivated account and for anonymous, `admin` for the admin. Returns
/// the admin's answer.
async fn admin_only(app: &TestApp, cast: &Cast, method: Method, path: &str, body: Option<Value>, admin: u16) -> Value {
    let body = body.as_ref();
    for (who, client, status) in [
        ("a member", &cast.member.client, 403),
        ("a room's creator", &cast.creator.client, 403),
        ("a deactivated account", &cast.deactivated.client, 401),
        ("anonymous", &cast.anonymous, 401),
    ] {
        let response = call(app, client, &method, path, body).await;
        assert_error(response, status).await;
        let _ = who;
    }
    let response = call(app, &cast.admin.client, &method, path, body).await;
    let what = format!("{method} {path} as the admin");
    assert_eq!(response.status(), admin, "{what}");
    if admin == 204 { Value::Null } else { response.json().await.unwrap_or_else(|e| panic!("{what}: {e}")) }
}

async fn audit_actions(app: &TestApp, admin: &Client) -> Vec<String> {
    let entries = app.get_json(admin, "/admin/audit?limit=200").await;
    entries.as_array().expect("entries").iter().map(|e| e["action"].as_str().expect("action").to_owned()).collect()
}

#[tokio::test]
async fn the_first_account_is_the_admin_and_later_ones_are_members() {
    let app = spawn_app().await;
    let first = app.user("first").await;
    let second = app.user("second").await;
    let picture = format!("{}/other.png", crate::helpers::picture_site().await);
    let put = second.client.put(app.url("/users/me")).json(&json!({ "user": { "avatar_url": picture } })).send().await;
    let put = put.unwrap();
    assert_eq!(put.status(), 200);
    let put: Value = put.json().await.unwrap();
    let picture = put["user"]["avatar_url"].as_str().expect("the copy's address").to_owned();
    let users = app.get_json(&first.client, "/admin/users").await;
    let user =
        |name: &str| users.as_array().expect("users").iter().find(|u| u["username"] == name).expect(name).clone();
    assert_eq!(user("first")["role"], "admin");
    assert_eq!(user("second")["role"], "member");
    // Each with their picture, for the admin page's avatars.
    assert_eq!(user("second")["avatar_url"], picture.as_str());
    assert!(user("first").get("avatar_url").is_none(), "{}", user("first"));
    assert_error(app.get(&second.client, "/admin/users").await, 403).await;
}

#[tokio::test]
async fn every_admin_route_answers_each_kind_of_caller_with_its_status() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let target = app.user("target").await;

    let users = admin_only(&app, &cast, Method::GET, "/admin/users?query=tar", None, 200).await;
    assert_eq!(users.as_array().expect("users").len(), 1, "searched by prefix: {users}");
    let role = format!("/admin/users/{}/role", target.id);
    let changed = admin_only(&app, &cast, Method::PUT, &role, Some(json!({"role": "admin"})), 200).await;
    assert_eq!(changed["role"], "admin");
    admin_only(&app, &cast, Method::PUT, &role, Some(json!({"role": "member"})), 200).await;
    let off = admin_only(&app, &cast, Method::POST, &format!("/admin/users/{}/deactivate", target.id), None, 200).await;
    assert!(off["deactivated_at"].is_string());
    let on = admin_only(&app, &cast, Method::POST, &format!("/admin/users/{}/reactivate", target.id), None, 200).await;
    assert!(on["deactivated_at"].is_null());
    let out = admin_only(&app, &cast, Method::POST, &format!("/admin/users/{}/sign_out", target.id), None, 200).await;
    assert_eq!((out["sessions"].as_i64(), out["deactivated_at"].is_null()), (Some(0), true), "{out}");
    let policy = admin_only(&app, &cast, Method::GET, "/admin/sign_up_policy", None, 200).await;
    assert_eq!(policy["policy"], "open", "the test configuration's");
    let set = Some(json!({"policy": "closed"}));
    assert_eq!(admin_only(&app, &cast, Method::PUT, "/admin/sign_up_policy", set, 200).await["policy"], "closed");
    let told = app.hearth.sign_up_policy_for_visitors().await.expect("the policy");
    assert_eq!(told, SignUpPolicy::Closed, "the sign-up page tells visitors it is closed");
    let made = admin_only(&app, &cast, Method::POST, "/admin/invitations", Some(json!({})), 201).await;
    let listed = admin_only(&app, &cast, Method::GET, "/admin/invitations", None, 200).await;
    assert_eq!(listed.as_array().expect("invitations").len(), 1);
    assert!(listed[0].get("token").is_none() && listed[0].get("token_hash").is_none(), "no token listed: {listed}");
    let revoke = format!("/admin/invitations/{}", made["id"]);
    admin_only(&app, &cast, Method::DELETE, &revoke, None, 204).await;
    admin_only(&app, &cast, Method::GET, "/admin/audit", None, 200).await;

    // Unknown targets and bad bodies: 404 and 422, never a 500.
    let admin = &cast.admin.client;
    assert_error(
        call(&app, admin, &Method::PUT, "/admin/users/999999/role", Some(&json!({"role": "admin"}))).await,
        404,
    )
    .await;
    assert_error(call(&app, admin, &Method::POST, "/admin/users/999999/deactivate", None).await, 404).await;
    assert_error(call(&app, admin, &Method::POST, "/admin/users/999999/sign_out", None).await, 404).await;
    assert_error(call(&app, admin, &Method::PUT, &role, Some(&json!({"role": "owner"}))).await, 422).await;
    assert_error(call(&app, admin, &Method::PUT, "/admin/sign_up_policy", Some(&json!({}))).await, 422).await;
    assert_error(call(&app, admin, &Method::DELETE, "/admin/invitations/999999", None).await, 404).await;
    let bad = json!({"expires_in_hours": 0, "max_uses": -1});
    let body = assert_error(call(&app, admin, &Method::POST, "/admin/invitations", Some(&bad)).await, 422).await;
    assert_eq!(body["errors"].as_array().expect("errors").len(), 2, "{body}");
    let _ = cast.room;
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let other = app.user("other").await;
    let put_role = |client: &Client, id: i64, role: &str| {
        client.put(app.url(&format!("/admin/users/{id}/role"))).json(&json!({ "role": role })).send()
    };
    let deactivate = |client: &Client, id: i64| client.post(app.url(&format!("/admin/users/{id}/deactivate"))).send();

    let body = assert_error(put_role(&admin.client, admin.id, "member").await.expect("sent"), 409).await;
    assert_eq!(body["errors"][0], "The last admin can't be demoted or deactivated");
    assert_error(deactivate(&admin.client, admin.id).await.expect("sent"), 409).await;

    // With a second admin the first may step down; then the second is the last.
    assert_eq!(put_role(&admin.client, other.id, "admin").await.expect("sent").status(), 200);
    assert_eq!(put_role(&admin.client, admin.id, "member").await.expect("sent").status(), 200);
    assert_error(app.get(&admin.client, "/admin/users").await, 403).await;
    assert_error(put_role(&other.client, other.id, "member").await.expect("sent"), 409).await;
    assert_error(deactivate(&other.client, other.id).await.expect("sent"), 409).await;

    // A deactivated admin does not count as one.
    assert_eq!(put_role(&other.client, admin.id, "admin").await.expect("sent").status(), 200);
    assert_eq!(deactivate(&other.client, admin.id).await.expect("sent").status(), 200);
    assert_error(put_role(&other.client, other.id, "member").await.expect("sent"), 409).await;
}

async fn register_with_invitation(app: &TestApp, username: &str, token: Option<&str>) -> Response {
    let mut user = json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "password": PASSWORD,
    });
    if let Some(token) = token {
        user["invitation"] = json!(token);
    }
    new_client().post(app.url("/users")).json(&json!({ "user": user })).send().await.expect("request sent")
}

async fn invite(app: &TestApp, admin: &Client, body: Value) -> Value {
    let response = admin.post(app.url("/admin/invitations")).json(&body).send().await.expect("sent");
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_new_instance_is_by_invitation_and_the_first_account_needs_none() {
    let app = spawn_app_with(|config| config.sign_up_policy = None).await;
    // The sign-up page tells a visitor what the next sign-up will meet.
    let for_visitors = || async { app.hearth.sign_up_policy_for_visitors().await.expect("the policy") };
    assert_eq!(for_visitors().await, SignUpPolicy::Open, "no account yet: the first needs no invitation");
    assert_eq!(register_with_invitation(&app, "first", None).await.status(), 201, "the first account");
    assert_eq!(for_visitors().await, SignUpPolicy::Invite);
    let body = assert_error(register_with_invitation(&app, "second", None).await, 403).await;
    assert_eq!(body["errors"][0], "Sign-up is by invitation only on this instance");
}

#[tokio::test]
async fn the_demo_stays_open() {
    let app = spawn_app_with(|config| {
        config.sign_up_policy = None;
        config.demo = true;
    })
    .await;
    app.user("first").await;
    app.user("second").await;
}

#[tokio::test]
async fn an_invitation_link_registers_until_it_is_used_up_expired_or_revoked() {
    let app = spawn_app_with(|config| config.sign_up_policy = None).await;
    let admin = app.user("root").await;
    let made = invite(&app, &admin.client, json!({ "max_uses": 2 })).await;
    let token = made["token"].as_str().expect("token");
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert_eq!(made["path"], format!("/register?invitation={token}"));
    let stored = app.query_strings("SELECT token_hash FROM invitations").await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token, "stored hashed");
    assert!(!stored[0].contains(token));

    // A wrong token, and a right one whose registration fails on another
    // field (no use spent), then two uses, then used up.
    let body = assert_error(register_with_invitation(&app, "wrong", Some("0123abcd")).await, 422).await;
    assert_eq!(body["errors"][0], "This invitation link is invalid, expired or used up");
    let taken = assert_error(register_with_invitation(&app, "root", Some(token)).await, 422).await;
    assert!(!taken.to_string().contains("invitation"), "the link itself is good: {taken}");
    assert_eq!(register_with_invitation(&app, "one", Some(token)).await.status(), 201);
    let offer = app.hearth.sign_up_offer(Some(token)).await.expect("the offer");
    assert_eq!(offer, (SignUpPolicy::Invite, Some(true)), "one use left");
    // The token beside `user` rather than in it is read all the same.
    let beside = json!({
        "user": { "email": "two@example.com", "username": "two", "password": PASSWORD },
        "invitation": token,
    });
    let response = new_client().post(app.url("/users")).json(&beside).send().await.expect("request sent");
    assert_eq!(response.status(), 201);
    // The sign-up page can say so before the form is filled in.
    let offer = app.hearth.sign_up_offer(Some(token)).await.expect("the offer");
    assert_eq!(offer, (SignUpPolicy::Invite, Some(false)), "used up");
    let offer = app.hearth.sign_up_offer(Some("  ")).await.expect("the offer");
    assert_eq!(offer, (SignUpPolicy::Invite, None), "no link");
    assert_error(register_with_invitation(&app, "three", Some(token)).await, 422).await;
    let listed = app.get_json(&admin.client, "/admin/invitations").await;
    assert_eq!(listed[0]["uses"], 2);

    // Expired.
    let expiring = invite(&app, &admin.client, json!({ "expires_in_hours": 1 })).await;
    let past = "2000-01-01T00:00:00.000000Z";
    app.execute_sql(
        "UPDATE invitations SET expires_at = $1 WHERE id = $2",
        &[SqlArg::Text(past.into()), SqlArg::Int(expiring["id"].as_i64().expect("id"))],
    )
    .await;
    assert_error(register_with_invitation(&app, "late", expiring["token"].as_str()).await, 422).await;

    // Revoked.
    let revoked = invite(&app, &admin.client, json!({})).await;
    let response = admin.client.delete(app.url(&format!("/admin/invitations/{}", revoked["id"]))).send().await;
    assert_eq!(response.expect("sent").status(), 204);
    assert_error(register_with_invitation(&app, "revoked", revoked["token"].as_str()).await, 422).await;

    // Closed: not even a live link.
    let live = invite(&app, &admin.client, json!({})).await;
    let response = admin.client.put(app.url("/admin/sign_up_policy")).json(&json!({"policy": "closed"})).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    let body = assert_error(register_with_invitation(&app, "closed", live["token"].as_str()).await, 403).await;
    assert_eq!(body["errors"][0], "Sign-up is closed on this instance");
    // Open: anyone.
    let response = admin.client.put(app.url("/admin/sign_up_policy")).json(&json!({"policy": "open"})).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    assert_eq!(register_with_invitation(&app, "anyone", None).await.status(), 201);
    // A link used while sign-up is open still spends a use, so the admin's
    // count stays true; one no longer good does not stop an open sign-up.
    let once = invite(&app, &admin.client, json!({ "max_uses": 1 })).await;
    assert_eq!(register_with_invitation(&app, "linked", once["token"].as_str()).await.status(), 201);
    let listed = app.get_json(&admin.client, "/admin/invitations").await;
    let entry = listed.as_array().expect("invitations").iter().find(|i| i["id"] == once["id"]).expect("listed");
    assert_eq!(entry["uses"], 1, "{entry}");
    assert_eq!(register_with_invitation(&app, "after", once["token"].as_str()).await.status(), 201);
    assert_eq!(register_with_invitation(&app, "bogus", Some("0123abcd")).await.status(), 201);
    // Sign-ups racing for a link's last uses all get in: the losers sign up
    // as if without it (the check and the spend are one transaction).
    let twice = invite(&app, &admin.client, json!({ "max_uses": 2 })).await;
    let names: Vec<String> = (0..8).map(|i| format!("racer{i}")).collect();
    let racing = names.iter().map(|name| register_with_invitation(&app, name, twice["token"].as_str()));
    for response in futures_util::future::join_all(racing).await {
        assert_eq!(response.status(), 201);
    }
    let listed = app.get_json(&admin.client, "/admin/invitations").await;
    let entry = listed.as_array().expect("invitations").iter().find(|i| i["id"] == twice["id"]).expect("listed");
    assert_eq!(entry["uses"], 2, "{entry}");
}

#[tokio::test]
async fn deactivation_ends_sessions_closes_sockets_and_refuses_sign_in_until_reactivated() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = person(&app, "member").await;
    let other = person(&app, "other").await;
    let room = app.conversation_with(&other.client, &[member.id]).await;
    app.send(&member.client, room, "before").await;
    let mut ws = connect(&app, &member).await;
    ws.subscribe(room, None).await;
    let mut other_ws = connect(&app, &other).await;

    let started = std::time::Instant::now();
    let response = admin.client.post(app.url(&format!("/admin/users/{}/deactivate", member.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    assert_eq!(closed_within_5_s(&mut ws, started).await.map(|(code, _)| code), Some(1008));
    // Those who share a room with them are told, to show it at once.
    let told = other_ws.next_skipping_presence().await;
    assert_eq!(told, ServerEvent::room(hearth::model::RoomId(room), hearth::protocol::RoomChange::Updated));
    assert_error(app.me(&member.client).await, 401).await;
    assert_error(app.post_message(&member.client, room, json!({"body": "after"})).await, 401).await;
    let body = assert_error(app.sign_in_with(&new_client(), "member", PASSWORD).await, 403).await;
    assert_eq!(body["errors"][0], "This account has been deactivated");
    assert_error(app.sign_in_with(&new_client(), "member", "wrong-password").await, 401).await;
    // Their messages stay, shown as by a deactivated user, in the API and on the page.
    let page = app.history(&other.client, room, "").await;
    assert_eq!(page["messages"][0]["body"], "before");
    assert_eq!(page["messages"][0]["user"]["deactivated"], true);
    let html = other.client.get(app.url(&format!("/rooms/{room}"))).send().await.expect("sent").text().await;
    let html = crate::pages::without_markers(&html.expect("the room page"));
    assert!(html.contains(r#"<span class="deactivated-badge">deactivated</span>"#), "the room page marks them");
    // Still a participant, marked as deactivated, with a note over the
    // composer of the direct room; and mentioned by no one.
    let shown = app.get_json(&other.client, &format!("/conversations/{room}")).await;
    let marks: Vec<(i64, bool)> = shown["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| (p["id"].as_i64().expect("id"), p.get("deactivated").is_some_and(|d| d == true)))
        .collect();
    assert!(marks.contains(&(member.id, true)) && marks.contains(&(other.id, false)), "{shown}");
    assert!(html.contains("account is deactivated: they will not see what you send here."), "the note");
    let sent = app.send(&other.client, room, "are you there @member?").await;
    assert_eq!(sent["mentions"], json!([]), "{sent}");

    let response = admin.client.post(app.url(&format!("/admin/users/{}/reactivate", member.id))).send().await;
    assert_eq!(response.expect("sent").status(), 200);
    assert_error(app.me(&member.client).await, 401).await;
    assert_eq!(app.sign_in_with(&new_client(), "member", PASSWORD).await.status(), 200);
    let page = app.history(&other.client, room, "").await;
    assert!(page["messages"][0]["user"].get("deactivated").is_none(), "active again: {}", page["messages"][0]);
}

#[tokio::test]
async fn signing_someone_out_everywhere_ends_each_session_and_closes_its_sockets_and_they_may_sign_in_again() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = person(&app, "member").await;
    let second = new_client();
    assert_eq!(app.sign_in_with(&second, "member", PASSWORD).await.status(), 200);
    let room = app.conversation_with(&admin.client, &[member.id]).await;
    let mut ws = connect(&app, &member).await;
    ws.subscribe(room, None).await;
    let listed = app.get_json(&admin.client, "/admin/users?query=member").await;
    assert_eq!(listed[0]["sessions"], 2, "{listed}");

    let started = std::time::Instant::now();
    let response = admin.client.post(app.url(&format!("/admin/users/{}/sign_out", member.id))).send().await;
    let response = response.expect("sent");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!((body["sessions"].as_i64(), body["deactivated_at"].is_null()), (Some(0), true), "{body}");
    assert_eq!(closed_within_5_s(&mut ws, started).await, Some((1008, "signed out".to_owned())));
    assert_error(app.me(&member.client).await, 401).await;
    assert_error(app.me(&second).await, 401).await;
    assert_eq!(app.me(&admin.client).await.status(), 200, "the admin's own session is not touched");
    let entries = app.get_json(&admin.client, "/admin/audit?limit=1").await;
    let entry = &entries[0];
    assert_eq!(
        (&entry["action"], &entry["target"], &entry["detail"]),
        (&json!("user.sign_out"), &json!("member"), &json!("2 sessions"))
    );

    // Not deactivated: they sign in again, and are listed with that session.
    let again = new_client();
    assert_eq!(app.sign_in_with(&again, "member", PASSWORD).await.status(), 200);
    assert_eq!(app.me(&again).await.status(), 200);
    assert_eq!(app.get_json(&admin.client, "/admin/users?query=member").await[0]["sessions"], 1);
    // A member may not sign anyone out.
    let refused = again.post(app.url(&format!("/admin/users/{}/sign_out", admin.id))).send().await;
    assert_error(refused.expect("sent"), 403).await;
    assert_eq!(app.me(&admin.client).await.status(), 200);
}

/// A server on a database of its own, which `hearth_cli` reaches, and a
/// member ("member") whose socket follows a room there; the server has
/// their session and user in its caches.
struct Watching {
    _dir: tempfile::TempDir,
    url: String,
    app: TestApp,
    member: crate::ws_support::Person,
    ws: crate::ws_support::Ws,
    room: i64,
}

async fn a_member_watching_a_room_on_a_served_database() -> Watching {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    let app = spawn_app_with(|config| config.database_url = Some(url.clone())).await;
    let _admin = app.user("root").await;
    let member = person(&app, "member").await;
    let other = app.user("other").await;
    let room = app.conversation_with(&other.client, &[member.id]).await;
    // The server has the member's session and user in its caches.
    assert_eq!(app.me(&member.client).await.status(), 200);
    let mut ws = connect(&app, &member).await;
    ws.subscribe(room, None).await;
    Watching { _dir: dir, url, app, member, ws, room }
}

/// The socket's close frame (code and reason), which must come within 5 s
/// of `started` (the action that closes it).
async fn closed_within_5_s(ws: &mut crate::ws_support::Ws, started: std::time::Instant) -> Option<(u16, String)> {
    let closed = loop {
        match ws.next_within(Duration::from_secs(5)).await {
            Next::Event(_) => continue,
            Next::Closed(frame) => break frame.map(|f| (u16::from(f.code), f.reason.to_string())),
            other => panic!("the socket should close within 5 s, got {other:?}"),
        }
    };
    assert!(started.elapsed() < Duration::from_secs(5));
    closed
}

#[tokio::test]
async fn a_deactivation_from_the_command_line_reaches_the_running_servers_sockets_within_5_s() {
    let Watching { _dir, url, app, member, mut ws, room } = a_member_watching_a_room_on_a_served_database().await;

    let deactivated = hearth_cli(&url, &["deactivate", "member"]).await;
    assert!(stdout_of(&deactivated).starts_with("member is deactivated"));
    assert_eq!(closed_within_5_s(&mut ws, std::time::Instant::now()).await.map(|(code, _)| code), Some(1008));
    assert_error(app.me(&member.client).await, 401).await;
    assert_error(app.post_message(&member.client, room, json!({"body": "after"})).await, 401).await;
}

#[tokio::test]
async fn a_sign_out_from_the_command_line_closes_the_running_servers_sockets_within_5_s_and_only_once() {
    let Watching { _dir, url, app, member, mut ws, room } = a_member_watching_a_room_on_a_served_database().await;

    let signed_out = hearth_cli(&url, &["sign-out", "member"]).await;
    assert!(stdout_of(&signed_out).starts_with("member is signed out everywhere"));
    assert_eq!(closed_within_5_s(&mut ws, std::time::Instant::now()).await, Some((1008, "signed out".to_owned())));
    assert_error(app.me(&member.client).await, 401).await;

    // Signed in again at once: later reads of the log (a new entry makes
    // the server read the last ones again) leave the new socket open.
    let client = new_client();
    let response = app.sign_in_with(&client, "member", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = crate::helpers::session_cookie(response.headers()).expect("a session cookie");
    let again = crate::ws_support::Person { id: member.id, client, cookie };
    let mut ws = connect(&app, &again).await;
    ws.subscribe(room, None).await;
    stdout_of(&hearth_cli(&url, &["invite"]).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match ws.next_within(left).await {
            Next::Event(_) => continue,
            Next::Silent => break,
            other => panic!("the new session's socket stays open, got {other:?}"),
        }
    }
    assert_eq!(app.me(&again.client).await.status(), 200);
}

#[tokio::test]
async fn an_admin_deletes_any_message_with_the_authors_event_and_an_audit_entry() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let alice = person(&app, "alice").await;
    let bob = app.user("bob").await;
    let room = app.conversation_with(&bob.client, &[alice.id]).await;
    let sent = app.send(&bob.client, room, "spam").await;
    let number = sent["number"].as_i64().expect("number");
    let mut ws = connect(&app, &alice).await;
    ws.subscribe(room, None).await;
    let path = format!("/conversations/{room}/messages/{number}");

    assert_error(alice.client.delete(app.url(&path)).send().await.expect("sent"), 403).await;
    assert_error(new_client().delete(app.url(&path)).send().await.expect("sent"), 401).await;
    let response = admin.client.delete(app.url(&path)).send().await.expect("sent");
    assert!(response.status().is_success(), "{}", response.status());
    loop {
        match ws.next_skipping_presence().await {
            ServerEvent::MessageDeleted { number: n, .. } => {
                assert_eq!(n, number);
                break;
            }
            ServerEvent::Message { .. } => continue,
            other => panic!("expected message_deleted, got {other:?}"),
        }
    }
    assert_error(admin.client.delete(app.url(&path)).send().await.expect("sent"), 404).await;
    let entries = app.get_json(&admin.client, "/admin/audit").await;
    let entry = &entries[0];
    assert_eq!(entry["action"], "message.delete");
    assert_eq!(entry["actor"], "root");
    assert_eq!(entry["target_room"], room);
    assert_eq!(entry["target_number"], number);
    assert_eq!(entry["target_user"], bob.id);

    // An archived room is read-only to its members, not to moderation.
    let group = bob
        .client
        .post(app.url("/conversations"))
        .json(&json!({ "participant_ids": [alice.id], "kind": "group", "title": "Old news" }))
        .send()
        .await
        .expect("sent");
    let group = group.json::<Value>().await.expect("json")["id"].as_i64().expect("id");
    let sent = app.send(&bob.client, group, "spam, archived").await;
    let archived = bob.client.delete(app.url(&format!("/conversations/{group}"))).send().await.expect("sent");
    assert_eq!(archived.status(), 204);
    let path = format!("/conversations/{group}/messages/{}", sent["number"]);
    let refused = assert_error(bob.client.delete(app.url(&path)).send().await.expect("sent"), 403).await;
    assert_eq!(refused["errors"][0], "This conversation is archived and read-only");
    assert_eq!(admin.client.delete(app.url(&path)).send().await.expect("sent").status(), 204);
    assert_eq!(app.history(&bob.client, group, "").await["messages"][0]["deleted"], true);
}

#[tokio::test]
async fn every_admin_action_is_written_to_the_audit_log_newest_first() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let c = &admin.client;
    let ok = |r: reqwest::Result<Response>| assert!(r.expect("sent").status().is_success());
    ok(c.put(app.url(&format!("/admin/users/{}/role", member.id))).json(&json!({"role": "admin"})).send().await);
    ok(c.post(app.url(&format!("/admin/users/{}/deactivate", member.id))).send().await);
    ok(c.post(app.url(&format!("/admin/users/{}/reactivate", member.id))).send().await);
    ok(c.put(app.url("/admin/sign_up_policy")).json(&json!({"policy": "invite"})).send().await);
    let made = invite(&app, c, json!({})).await;
    ok(c.delete(app.url(&format!("/admin/invitations/{}", made["id"]))).send().await);

    assert_eq!(
        audit_actions(&app, c).await,
        [
            "invitation.revoke",
            "invitation.create",
            "instance.sign_up_policy",
            "user.reactivate",
            "user.deactivate",
            "user.set_role",
            "user.register",
            "user.register",
        ]
    );
    let entries = app.get_json(c, "/admin/audit").await;
    assert_eq!(entries[5]["target_user"], member.id);
    assert_eq!(entries[5]["target"], "member", "the target by name");
    assert_eq!(entries[5]["actor_id"], admin.id);
    assert_eq!(entries[5]["detail"], "admin");
    assert!(entries[5]["created_at"].is_string());
    // Each account's sign-up, by itself.
    assert_eq!(
        (&entries[6]["actor"], &entries[6]["target"], &entries[6]["detail"]),
        (&json!("member"), &json!("member"), &json!("signed up"))
    );
    assert_eq!(entries[7]["detail"], "signed up: the first account, an admin");
    // Paging back from an entry.
    let older = app.get_json(c, &format!("/admin/audit?before={}&limit=2", entries[1]["id"])).await;
    assert_eq!(older.as_array().expect("entries").len(), 2);
    assert_eq!(older[0]["action"], "instance.sign_up_policy");
    // A limit of 0 is refused, as on every other list.
    let zero = assert_error(c.get(app.url("/admin/audit?limit=0")).send().await.expect("sent"), 422).await;
    assert_eq!(zero["errors"][0], "Limit must be at least 1 (at most 200 are returned)");
    // A refused action writes nothing.
    let response = c.put(app.url(&format!("/admin/users/{}/role", 999_999))).json(&json!({"role": "admin"})).send();
    assert_eq!(response.await.expect("sent").status(), 404);
    assert_eq!(audit_actions(&app, c).await.len(), 8);
}

#[tokio::test]
async fn an_admin_action_that_changes_nothing_answers_as_before_and_writes_no_audit_entry() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let c = &admin.client;
    let user = |action: &str| app.url(&format!("/admin/users/{}/{action}", member.id));
    let twice = |request: reqwest::RequestBuilder| async move {
        let again = request.try_clone().expect("a plain request");
        let (first, second) = (request.send().await.expect("sent"), again.send().await.expect("sent"));
        assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
        second.json::<Value>().await.expect("the account")
    };

    let as_member = twice(c.put(user("role")).json(&json!({"role": "member"}))).await;
    assert_eq!(as_member["role"], "member");
    assert!(twice(c.post(user("deactivate"))).await["deactivated_at"].is_string());
    assert_eq!(twice(c.post(user("reactivate"))).await["deactivated_at"], Value::Null);
    let made = invite(&app, c, json!({})).await;
    let revoke = app.url(&format!("/admin/invitations/{}", made["id"]));
    for _ in 0..2 {
        assert_eq!(c.delete(&revoke).send().await.expect("sent").status(), 204);
    }

    // Each change once; making a member a member, nothing.
    assert_eq!(
        audit_actions(&app, c).await,
        [
            "invitation.revoke",
            "invitation.create",
            "user.reactivate",
            "user.deactivate",
            "user.register",
            "user.register"
        ]
    );
}

/// Runs `hearth <args>` on `database_url`, logs off; (success, stdout, output).
pub(crate) async fn hearth_cli(database_url: &str, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("HEARTH_LOG", "off")
        .env("HEARTH_NEW_PASSWORD", PASSWORD)
        .env_remove("RUST_LOG")
        .env_remove("HEARTH_SIGN_UP_POLICY")
        .env_remove("HEARTH_DEMO");
    tokio::task::spawn_blocking(move || command.output().expect("the hearth binary runs")).await.expect("joined")
}

pub(crate) fn stdout_of(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the command succeeds: {stderr}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_command_line_makes_the_first_admin_invites_sets_roles_policy_and_deactivates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    let created =
        hearth_cli(&url, &["create-user", "--email", "boss@example.com", "--username", "boss", "--admin"]).await;
    assert_eq!(stdout_of(&created), "created boss (id 1, admin)");
    let unset = stdout_of(&hearth_cli(&url, &["sign-up-policy"]).await);
    assert!(unset.starts_with("none stored") && unset.contains("HEARTH_SIGN_UP_POLICY"), "{unset}");
    assert_eq!(stdout_of(&hearth_cli(&url, &["sign-up-policy", "closed"]).await), "closed");
    assert_eq!(stdout_of(&hearth_cli(&url, &["sign-up-policy", "invite"]).await), "invite");
    let link = stdout_of(&hearth_cli(&url, &["invite", "--uses", "1", "--url", "https://chat.example/"]).await);
    let token = link.strip_prefix("https://chat.example/register?invitation=").unwrap_or_else(|| panic!("{link}"));
    assert_eq!(token.len(), 64);

    let app = spawn_app_with(|config| {
        config.database_url = Some(url.clone());
        config.sign_up_policy = None;
    })
    .await;
    let boss = new_client();
    assert_eq!(app.sign_in_with(&boss, "boss", PASSWORD).await.status(), 200);
    assert_eq!(app.get(&boss, "/admin/users").await.status(), 200, "boss is an admin");
    assert_eq!(register_with_invitation(&app, "newbie", Some(token)).await.status(), 201);
    assert_error(register_with_invitation(&app, "second", Some(token)).await, 422).await;

    assert_eq!(stdout_of(&hearth_cli(&url, &["set-role", "newbie", "admin"]).await), "newbie is now admin");
    assert!(
        stdout_of(&hearth_cli(&url, &["deactivate", "newbie@example.com"]).await).starts_with("newbie is deactivated")
    );
    assert_error(app.sign_in_with(&new_client(), "newbie", PASSWORD).await, 403).await;
    let last = hearth_cli(&url, &["set-role", "boss", "member"]).await;
    crate::helpers::assert_one_line_failure(&last, &["last admin"]);
    crate::helpers::assert_one_line_failure(&hearth_cli(&url, &["deactivate", "nobody"]).await, &["no user", "nobody"]);
    let taken = hearth_cli(&url, &["create-user", "--email", "boss@example.com", "--username", "boss2"]).await;
    crate::helpers::assert_one_line_failure(&taken, &["Email has already been taken"]);
    assert_eq!(stdout_of(&hearth_cli(&url, &["deactivate", "--reactivate", "newbie"]).await), "newbie is active");
    assert_eq!(app.sign_in_with(&new_client(), "newbie", PASSWORD).await.status(), 200);

    let entries = app.get_json(&boss, "/admin/audit").await;
    let signed_up = entries.as_array().expect("entries").iter().find(|e| e["action"] == "user.register");
    assert_eq!(signed_up.expect("newbie's sign-up")["detail"], "signed up with an invitation link");
    let actions: Vec<&str> =
        entries.as_array().expect("entries").iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(
        actions,
        [
            "user.reactivate",
            "user.deactivate",
            "user.set_role",
            "user.register",
            "invitation.create",
            "instance.sign_up_policy",
            "instance.sign_up_policy",
            "user.create",
        ]
    );
    assert!(
        entries
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["action"] != "user.register")
            .all(|e| e["actor_id"].is_null()),
        "the command line (and the web sign-up, by its new account): {entries}"
    );
}

#[tokio::test]
async fn a_one_use_invitation_registers_one_of_many_people_using_it_at_once() {
    let app = spawn_app_with(|config| config.sign_up_policy = None).await;
    let admin = app.user("root").await;
    let made = invite(&app, &admin.client, json!({ "max_uses": 1 })).await;
    let token = made["token"].as_str().expect("token");
    let names: Vec<String> = (0..8).map(|n| format!("racer{n}")).collect();
    let attempts = names.iter().map(|name| register_with_invitation(&app, name, Some(token)));
    let statuses: Vec<u16> =
        futures_util::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 201 | 422)), "{statuses:?}");
    assert_eq!(app.get_json(&admin.client, "/admin/invitations").await[0]["uses"], 1);
}
