//! The open rooms every new account joins: an admin picks them (REST, the
//! CLI), each new account is a member of them from its first request, and
//! the demo's General is one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{hearth_cli, stdout_of};
use crate::helpers::{TestApp, assert_error, new_client, spawn_app, spawn_app_with};

async fn open_room(app: &TestApp, client: &reqwest::Client, title: &str) -> i64 {
    let response = app.create_conversation(client, json!({ "kind": "open", "title": title })).await;
    assert_eq!(response.status(), 201, "creating {title}");
    response.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
}

async fn titles_of(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    let rooms = app.get_json(client, "/conversations").await;
    let mut titles: Vec<String> =
        rooms.as_array().expect("rooms").iter().filter_map(|r| r["title"].as_str().map(str::to_owned)).collect();
    titles.sort();
    titles
}

async fn call(app: &TestApp, client: &reqwest::Client, method: Method, path: &str) -> reqwest::Response {
    client.request(method, app.url(path)).header("Accept", "application/json").send().await.expect("request sent")
}

fn listed(rooms: &Value) -> Vec<(i64, String)> {
    rooms
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| (r["id"].as_i64().expect("id"), r["title"].as_str().expect("title").to_owned()))
        .collect()
}

#[tokio::test]
async fn new_accounts_join_the_open_rooms_an_admin_picks_and_no_others() {
    let app = spawn_app().await;
    let admin = app.user("root").await;
    let member = app.user("member").await;
    let lobby = open_room(&app, &admin.client, "Lobby").await;
    let random = open_room(&app, &admin.client, "Random").await;
    let attic = open_room(&app, &admin.client, "Attic").await;
    let group = app.conversation_with(&admin.client, &[member.id, app.user("third").await.id]).await;

    // Admins only: a member 403, anyone signed out 401.
    for (method, path) in [
        (Method::GET, "/admin/default_rooms".to_owned()),
        (Method::PUT, format!("/admin/default_rooms/{lobby}")),
        (Method::DELETE, format!("/admin/default_rooms/{lobby}")),
    ] {
        assert_error(call(&app, &member.client, method.clone(), &path).await, 403).await;
        assert_error(call(&app, &new_client(), method, &path).await, 401).await;
    }
    assert_eq!(app.get_json(&admin.client, "/admin/default_rooms").await, json!([]));

    let put = |room: i64| {
        let path = format!("/admin/default_rooms/{room}");
        let client = admin.client.clone();
        let app = &app;
        async move { call(app, &client, Method::PUT, &path).await }
    };
    assert_eq!(put(lobby).await.status(), 200);
    let twice = put(lobby).await;
    assert_eq!(twice.status(), 200, "adding again changes nothing");
    let now: Value = twice.json().await.expect("json");
    assert_eq!(listed(&now), [(lobby, "Lobby".to_owned())]);
    assert_eq!(now[0]["member_count"], 1);
    assert_eq!(put(random).await.status(), 200);
    assert_eq!(put(attic).await.status(), 200);

    // Only a live open room: a private group, a missing room, an archived one.
    let body = assert_error(put(group).await, 422).await;
    assert!(body.to_string().contains("Only an open room"), "{body}");
    assert_error(put(999_999).await, 404).await;
    assert_error(call(&app, &admin.client, Method::PUT, "/admin/default_rooms/abc").await, 404).await;
    assert_eq!(call(&app, &admin.client, Method::DELETE, &format!("/conversations/{attic}")).await.status(), 204);
    assert_error(put(attic).await, 422).await;
    let body = app.get_json(&admin.client, "/admin/default_rooms").await;
    assert_eq!(
        listed(&body),
        [(lobby, "Lobby".to_owned()), (random, "Random".to_owned())],
        "the archived one is skipped"
    );

    // Taking one off keeps its members; new accounts no longer join it.
    let off = call(&app, &admin.client, Method::DELETE, &format!("/admin/default_rooms/{random}")).await;
    assert_eq!(off.status(), 200);
    assert_eq!(listed(&off.json().await.expect("json")), [(lobby, "Lobby".to_owned())]);

    for n in 0..3 {
        app.send(&admin.client, lobby, &format!("before newbie {n}")).await;
    }
    let newbie = app.user("newbie").await;
    assert_eq!(titles_of(&app, &newbie.client).await, ["Lobby"], "in Lobby from the first request, nowhere else");
    // The room's history is read but its newest message, which shows where
    // the room is (and that they have not started: "Welcome", not back).
    let rooms = app.get_json(&newbie.client, "/conversations").await;
    assert_eq!(rooms[0]["unread_count"], 1, "{rooms}");
    let history = app.get_json(&newbie.client, &format!("/conversations/{lobby}/messages")).await;
    assert!(history["messages"].is_array(), "a member reads it: {history}");
    // Accounts made before are not added.
    assert_eq!(titles_of(&app, &member.client).await, ["Group Chat"], "only the group they were put in");
    let lobby_now = app.get_json(&admin.client, "/admin/default_rooms").await;
    assert_eq!(lobby_now[0]["member_count"], 2, "root and newbie");

    let actions: Vec<String> = app
        .get_json(&admin.client, "/admin/audit?limit=20")
        .await
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] != "user.register")
        .map(|e| format!("{} {}", e["action"].as_str().expect("action"), e["target_room"]))
        .collect();
    assert_eq!(
        actions[..4],
        [
            format!("room.default_off {random}"),
            format!("room.default_on {attic}"),
            format!("room.default_on {random}"),
            format!("room.default_on {lobby}"),
        ][..],
        "refusals and repeats are not written; {actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| **a == format!("room.default_on {lobby}")).count(), 1, "{actions:?}");
    let missing = call(&app, &admin.client, Method::DELETE, "/admin/default_rooms/999999").await;
    assert_error(missing, 404).await;
}

#[tokio::test]
async fn the_demos_general_is_joined_by_every_new_account_and_the_command_line_changes_the_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    stdout_of(&hearth_cli(&url, &["seed-demo"]).await);
    let general = stdout_of(&hearth_cli(&url, &["default-rooms"]).await);
    let (id, title) = general.split_once('\t').unwrap_or_else(|| panic!("id and title: {general:?}"));
    assert_eq!(title, "General");

    let app = spawn_app_with(|config| {
        config.database_url = Some(url.clone());
        config.sign_up_policy = Some(hearth::model::SignUpPolicy::Open);
    })
    .await;
    let dana = app.user("dana").await;
    assert_eq!(titles_of(&app, &dana.client).await, ["General"]);
    let welcome = app.get_json(&dana.client, &format!("/conversations/{id}/messages")).await;
    assert_eq!(welcome["messages"][0]["body"], "Welcome to Hearth! This open room is for everyone.");

    // The command line takes it off, and puts it back; a bad id is one line.
    assert_eq!(stdout_of(&hearth_cli(&url, &["default-rooms", "--remove", id]).await), "");
    assert_eq!(titles_of(&app, &app.user("erin").await.client).await, Vec::<String>::new());
    assert_eq!(stdout_of(&hearth_cli(&url, &["default-rooms", "--add", id]).await), general);
    crate::helpers::assert_one_line_failure(
        &hearth_cli(&url, &["default-rooms", "--add", "999999"]).await,
        &["not found"],
    );
    assert_eq!(titles_of(&app, &app.user("fred").await.client).await, ["General"]);
    // A refusal says why, as the API does.
    let gina = app.user("gina").await;
    let group = app.conversation_with(&dana.client, &[gina.id]).await.to_string();
    crate::helpers::assert_one_line_failure(
        &hearth_cli(&url, &["default-rooms", "--add", &group]).await,
        &["Only an open room can be one every new account joins"],
    );
}
