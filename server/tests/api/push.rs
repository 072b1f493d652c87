//! Web Push setup (issue 17): the VAPID key, made once and kept in the
//! database, and one push subscription per device.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

/// A browser's subscription keys: a real P-256 public key and a secret.
fn keys() -> Value {
    let rng = ring::rand::SystemRandom::new();
    let private =
        ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng).expect("a key pair");
    let public = private.compute_public_key().expect("its public key");
    json!({ "p256dh": URL_SAFE_NO_PAD.encode(public.as_ref()), "auth": URL_SAFE_NO_PAD.encode([9u8; 16]) })
}

async fn subscribe(app: &TestApp, client: &reqwest::Client, body: Value) -> reqwest::Response {
    client.post(app.url("/push/subscriptions")).json(&body).send().await.expect("request sent")
}

#[tokio::test]
async fn the_vapid_key_is_made_once_kept_in_the_database_and_shared() {
    // Arrange
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    // Act
    let first = app.get_json(&alice.client, "/push/key").await;
    let again = app.get_json(&alice.client, "/push/key").await;
    let anonymous = app.get(&reqwest::Client::new(), "/push/key").await;

    // Assert
    let key = first["public_key"].as_str().expect("a key");
    assert_eq!(URL_SAFE_NO_PAD.decode(key).expect("base64url").len(), 65, "an uncompressed P-256 point");
    assert_eq!(again, first);
    assert_eq!(app.query_strings("SELECT public_key FROM push_keys").await, [key.to_owned()]);
    let signer = app.hearth.vapid().await.expect("loads the stored key");
    assert_eq!(signer.public_key(), key, "the core signs with the stored key");
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn each_device_keeps_one_subscription_that_its_owner_can_remove() {
    // Arrange
    let app = spawn_app().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let endpoint = "https://push.example.net/send/abc";
    let count = || app.query_strings("SELECT CAST(count(*) AS TEXT) FROM push_subscriptions");

    // Act
    let first = subscribe(&app, &alice.client, json!({ "endpoint": endpoint, "keys": keys() })).await;
    let again = subscribe(&app, &alice.client, json!({ "endpoint": endpoint, "keys": keys() })).await;
    let after_again = count().await;
    let other_device =
        subscribe(&app, &alice.client, json!({ "endpoint": "https://push.example.net/send/def", "keys": keys() }))
            .await;
    let taken_over = subscribe(&app, &bob.client, json!({ "endpoint": endpoint, "keys": keys() })).await;
    let not_alices = alice.client.delete(app.url("/push/subscriptions")).json(&json!({ "endpoint": endpoint }));
    let not_alices = not_alices.send().await.unwrap();
    let removed = bob.client.delete(app.url("/push/subscriptions")).json(&json!({ "endpoint": endpoint }));
    let removed = removed.send().await.unwrap();
    let removed_again = bob.client.delete(app.url("/push/subscriptions")).json(&json!({ "endpoint": endpoint }));
    let removed_again = removed_again.send().await.unwrap();

    // Assert
    assert_eq!(first.status(), 201);
    assert_eq!(again.status(), 201);
    assert_eq!(after_again, ["1"], "the same device subscribing again replaces its row");
    assert_eq!(other_device.status(), 201);
    assert_eq!(taken_over.status(), 201, "another user signed in on the device");
    assert_error(not_alices, 404).await;
    assert_eq!(removed.status(), 204);
    assert_error(removed_again, 404).await;
    assert_eq!(count().await, ["1"], "alice's other device stays");
}

#[tokio::test]
async fn a_subscription_needs_an_https_endpoint_a_p256_key_and_a_16_byte_secret() {
    // Arrange
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let good = keys();
    let cases = [
        json!({ "endpoint": "http://push.example.net/x", "keys": good }),
        json!({ "endpoint": "not a url", "keys": good }),
        json!({ "endpoint": format!("https://push.example.net/{}", "x".repeat(1000)), "keys": good }),
        json!({ "endpoint": "https://push.example.net/x", "keys": { "p256dh": "AAAA", "auth": good["auth"] } }),
        json!({ "endpoint": "https://push.example.net/x", "keys": { "p256dh": good["p256dh"], "auth": "AAAA" } }),
        json!({ "endpoint": "https://push.example.net/x" }),
    ];

    for body in cases {
        // Act
        let response = subscribe(&app, &alice.client, body.clone()).await;

        // Assert
        assert_error(response, 422).await;
    }
    let all_wrong = json!({ "endpoint": "ftp://x", "keys": { "p256dh": "AAAA", "auth": "AAAA" } });
    let body = assert_error(subscribe(&app, &alice.client, all_wrong).await, 422).await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(3), "every problem is named: {body}");
    let local = subscribe(&app, &alice.client, json!({ "endpoint": "http://127.0.0.1:9/push", "keys": good })).await;
    assert_eq!(local.status(), 201, "a push service on this machine may be plain http");
    assert_eq!(app.query_strings("SELECT endpoint FROM push_subscriptions").await, ["http://127.0.0.1:9/push"]);
}

// The pipeline, end to end: a push service on this machine receives what
// Hearth sends, checks it as a real one would, and decrypts it as the
// browser would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use hearth::model::{RoomId, UserId};
use hearth::push_queue::{Drain, ROUNDS};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use tokio::sync::mpsc;

use crate::helpers::{spawn_app_with, spawn_stoppable_app_with};
use crate::ws_support::{connect, person};

/// A request the push service received.
#[derive(Debug)]
struct Received {
    path: String,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

/// A push service on 127.0.0.1: it records each POST and answers `status`.
struct PushService {
    origin: String,
    status: Arc<AtomicU16>,
    received: mpsc::UnboundedReceiver<Received>,
}

impl PushService {
    async fn start() -> Self {
        let (tx, received) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(201));
        let answer = Arc::clone(&status);
        let router = axum::Router::new().route(
            "/push/{device}",
            axum::routing::post(
                move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let (tx, answer) = (tx.clone(), Arc::clone(&answer));
                    async move {
                        let _ = tx.send(Received { path: uri.path().to_owned(), headers, body: body.to_vec() });
                        axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).expect("a status")
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let origin = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { origin, status, received }
    }

    fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.origin)
    }

    /// The next request, within `wait`.
    async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.received.recv()).await.ok().flatten()
    }

    async fn next(&mut self) -> Received {
        self.next_within(Duration::from_secs(15)).await.expect("a push comes")
    }
}

/// A browser's side of a subscription: its key pair and auth secret. ring's
/// ECDH keys are used once, so each push to decrypt needs a fresh one (the
/// browser re-subscribing with new keys, as it may).
struct Browser {
    private: EphemeralPrivateKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let mut auth = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut auth).expect("random");
        Self { private: EphemeralPrivateKey::generate(&ECDH_P256, &rng).expect("a key pair"), auth }
    }

    fn subscription(&self, endpoint: &str) -> Value {
        let public = self.private.compute_public_key().expect("its public key");
        json!({ "endpoint": endpoint, "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(public.as_ref()), "auth": URL_SAFE_NO_PAD.encode(self.auth) } })
    }

    fn decrypt(self, body: &[u8]) -> Value {
        let plain = hearth::push::decrypt(body, self.private, &self.auth).expect("the payload decrypts");
        serde_json::from_slice(&plain).expect("the payload is JSON")
    }
}

async fn subscribe_browser(app: &TestApp, client: &reqwest::Client, endpoint: &str) -> Browser {
    let browser = Browser::new();
    let response = subscribe(app, client, browser.subscription(endpoint)).await;
    assert_eq!(response.status(), 201, "subscribed");
    browser
}

/// Checks a push as a push service does: the headers, and the VAPID JWT
/// (ES256 under the server's key, for this service's origin, not expired,
/// with a contact).
fn assert_signed_push(received: &Received, service: &PushService, server_key: &str) {
    let header = |name: &str| received.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-encoding"), "aes128gcm");
    assert!(header("ttl").parse::<u32>().is_ok_and(|ttl| ttl > 0), "a TTL");
    assert!(["very-low", "low", "normal", "high"].contains(&header("urgency").as_str()), "an urgency");
    let authorization = header("authorization");
    let (token, key) =
        authorization.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect("vapid t=…, k=…");
    assert_eq!(key, server_key, "k is the key GET /push/key gives");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let jwt_header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    assert_eq!(jwt_header["alg"], "ES256");
    let public = URL_SAFE_NO_PAD.decode(key).expect("a base64url key");
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("a base64url signature");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    assert_eq!(claims["aud"], service.origin, "the audience is the endpoint's origin");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = claims["exp"].as_i64().expect("an exp");
    assert!(exp > now && exp <= now + 24 * 3600, "exp is in the future, within a day");
    assert!(claims["sub"].as_str().is_some_and(|sub| sub.starts_with("mailto:") || sub.starts_with("https:")));
}

/// Polls `sql` (one text) until it gives `want`, for up to 10 s.
async fn eventually(app: &TestApp, sql: &str, want: &str) {
    for _ in 0..100 {
        if app.query_strings(sql).await == [want.to_owned()] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{sql} never gave {want}: {:?}", app.query_strings(sql).await);
}

const JOBS: &str = "SELECT CAST(count(*) AS TEXT) FROM push_jobs";

#[tokio::test]
async fn an_unread_message_is_pushed_signed_and_encrypted_for_the_device_after_the_delay() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let browser = subscribe_browser(&app, &bob.client, &service.endpoint("bob-laptop")).await;
    let server_key = app.get_json(&bob.client, "/push/key").await["public_key"].as_str().expect("a key").to_owned();

    // Act
    let sent = std::time::Instant::now();
    app.send(&alice.client, room, "Lunch at **noon**?\nAt the usual place").await;
    let received = service.next().await;

    // Assert
    assert!(sent.elapsed() >= Duration::from_millis(900), "not before the delay");
    assert_eq!(received.path, "/push/bob-laptop");
    assert_signed_push(&received, &service, &server_key);
    assert_eq!(
        browser.decrypt(&received.body),
        json!({ "kind": "message", "room_id": room, "number": 1, "tag": format!("room-{room}"),
                "title": "alice Example", "body": "Lunch at noon? At the usual place",
                "url": format!("/rooms/{room}") })
    );
    assert!(service.next_within(Duration::from_millis(1500)).await.is_none(), "one push, to bob only");
    eventually(&app, JOBS, "0").await;
}

#[tokio::test]
async fn a_message_read_in_time_on_any_device_sends_no_request_at_all() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 2).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let browser = subscribe_browser(&app, &bob.client, &service.endpoint("bob-phone")).await;

    // Act
    let read = app.send(&alice.client, room, "read me now").await;
    let number = read["number"].as_i64().or(read["message"]["number"].as_i64()).unwrap_or(1);
    app.hearth.mark_read(UserId(bob.id), RoomId(room), number).await.expect("read on the laptop");
    let quiet = service.next_within(Duration::from_secs(4)).await;
    app.send(&alice.client, room, "and this one stays unread").await;
    let pushed = service.next().await;

    // Assert
    assert!(quiet.is_none(), "nothing for a message read within the delay: {quiet:?}");
    assert_eq!(browser.decrypt(&pushed.body)["number"], 2, "the unread one is pushed");
}

#[tokio::test]
async fn a_group_without_a_title_is_named_in_each_push_as_the_recipients_room_list_names_it() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let untitled = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let titled = app
        .create_conversation(&alice.client, json!({ "participant_ids": [bob.id, carol.id], "title": "Launch crew" }));
    let titled: Value = titled.await.json().await.expect("json");
    let titled = titled["id"].as_i64().expect("an id");
    let bobs = subscribe_browser(&app, &bob.client, &service.endpoint("bob")).await;
    let carols = subscribe_browser(&app, &carol.client, &service.endpoint("carol")).await;

    // Act
    app.send(&alice.client, untitled, "@bob @carol lunch?").await;
    let (first, second) = (service.next().await, service.next().await);
    let later = Browser::new();
    let response = subscribe(&app, &bob.client, later.subscription(&service.endpoint("bob"))).await;
    assert_eq!(response.status(), 201, "bob's device, with new keys");
    app.send(&alice.client, titled, "@bob the crew meets at noon").await;
    let third = service.next().await;
    assert!(service.next_within(Duration::from_millis(1500)).await.is_none(), "only bob was mentioned there");

    // Assert
    let (to_bob, to_carol) = match first.path.as_str() {
        "/push/bob" => (first, second),
        _ => (second, first),
    };
    assert_eq!(bobs.decrypt(&to_bob.body)["title"], "alice Example in alice Example and carol Example");
    assert_eq!(carols.decrypt(&to_carol.body)["title"], "alice Example in alice Example and bob Example");
    assert_eq!(later.decrypt(&third.body)["title"], "alice Example in Launch crew", "a title is kept as it is");
}

#[tokio::test]
async fn a_room_that_a_tab_shows_is_not_pushed_until_the_tab_hides_it() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (person(&app, "alice").await, person(&app, "bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let browser = subscribe_browser(&app, &bob.client, &service.endpoint("bob-desktop")).await;
    let mut tab = connect(&app, &bob).await;
    let viewing = "SELECT CAST(count(*) AS TEXT) FROM push_viewing";

    // Act
    tab.send_json(json!({ "type": "viewing", "room_id": room })).await;
    eventually(&app, viewing, "1").await;
    app.send(&alice.client, room, "you are looking at this").await;
    let while_shown = service.next_within(Duration::from_secs(3)).await;
    tab.send_json(json!({ "type": "viewing", "room_id": null })).await;
    eventually(&app, viewing, "0").await;
    app.send(&alice.client, room, "and now the tab is hidden").await;
    let hidden = service.next().await;

    // Assert
    assert!(while_shown.is_none(), "no push for a room a tab shows: {while_shown:?}");
    assert_eq!(browser.decrypt(&hidden.body)["number"], 2);
    tab.send_json(json!({ "type": "viewing", "room_id": room })).await;
    eventually(&app, viewing, "1").await;
    drop(tab);
    eventually(&app, viewing, "0").await;
}

#[tokio::test]
async fn a_subscription_the_push_service_answers_410_is_removed() {
    // Arrange
    let mut service = PushService::start().await;
    service.status.store(410, Ordering::SeqCst);
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    subscribe_browser(&app, &bob.client, &service.endpoint("gone")).await;
    subscribe_browser(&app, &bob.client, "https://push.invalid/other-device").await;

    // Act
    app.send(&alice.client, room, "anyone there?").await;
    let received = service.next().await;

    // Assert
    assert_eq!(received.path, "/push/gone");
    eventually(&app, "SELECT endpoint FROM push_subscriptions", "https://push.invalid/other-device").await;
}

#[tokio::test]
async fn a_subscription_at_a_private_address_is_never_contacted_and_is_removed() {
    // Arrange: a device whose endpoint is a private address (which the API
    // takes: only sending checks where it points), beside a real one.
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    subscribe_browser(&app, &bob.client, "https://10.20.30.40/push/metadata").await;
    let endpoint = service.endpoint("bob-laptop");
    subscribe_browser(&app, &bob.client, &endpoint).await;

    // Act
    app.send(&alice.client, room, "anyone there?").await;
    let received = service.next().await;

    // Assert: the real device got its push; the private one is gone.
    assert_eq!(received.path, "/push/bob-laptop");
    eventually(&app, "SELECT endpoint FROM push_subscriptions", &endpoint).await;
}

#[tokio::test]
async fn reading_a_pushed_message_on_any_device_withdraws_it_once() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let endpoint = service.endpoint("bob-phone");
    subscribe_browser(&app, &bob.client, &endpoint).await;
    app.send(&alice.client, room, "one").await;
    app.send(&alice.client, room, "two").await;
    service.next().await;
    service.next().await;
    // The same device with fresh keys (ring's ECDH keys decrypt once).
    let browser = subscribe_browser(&app, &bob.client, &endpoint).await;

    // Act
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 1).await.expect("read up to the first");
    let early = service.next_within(Duration::from_millis(1500)).await;
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 2).await.expect("read on the laptop");
    let close = service.next().await;
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 2).await.expect("read again");
    let again = service.next_within(Duration::from_millis(1500)).await;

    // Assert
    assert!(early.is_none(), "the newest push (2) is not read yet: {early:?}");
    assert_eq!(
        browser.decrypt(&close.body),
        json!({ "kind": "close", "room_id": room, "number": 2, "tag": format!("room-{room}") })
    );
    assert!(again.is_none(), "withdrawn once: {again:?}");
}

#[tokio::test]
async fn deleting_a_pushed_message_withdraws_its_notification_once() {
    // Arrange
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let endpoint = service.endpoint("bob-phone");
    let browser = subscribe_browser(&app, &bob.client, &endpoint).await;
    app.send(&alice.client, room, "the password is Tr0ub4dor").await;
    let pushed = service.next().await;
    assert_eq!(browser.decrypt(&pushed.body)["body"], "the password is Tr0ub4dor");
    // The same device with fresh keys (ring's ECDH keys decrypt once).
    let browser = subscribe_browser(&app, &bob.client, &endpoint).await;

    // Act
    let path = app.url(&format!("/conversations/{room}/messages/1"));
    assert_eq!(alice.client.delete(path).send().await.expect("sent").status(), 204);
    let close = service.next().await;
    // Reading the room afterwards has nothing left to withdraw.
    app.hearth.mark_read(UserId(bob.id), RoomId(room), 1).await.expect("read");
    let again = service.next_within(Duration::from_millis(1500)).await;

    // Assert
    assert_eq!(
        browser.decrypt(&close.body),
        json!({ "kind": "close", "room_id": room, "number": 1, "tag": format!("room-{room}") })
    );
    assert!(again.is_none(), "withdrawn once: {again:?}");
}

#[tokio::test]
async fn a_job_queued_before_a_restart_is_sent_after_it_exactly_once() {
    // Arrange
    let mut service = PushService::start().await;
    let mut first = spawn_stoppable_app_with(|c| c.push_delay_secs = 3).await;
    let app = &first.app;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let browser = subscribe_browser(app, &bob.client, &service.endpoint("bob-phone")).await;
    app.send(&alice.client, room, "sent just before the restart").await;

    // Act
    first.stop();
    (&mut first.server).await.expect("joins").expect("stops cleanly");
    let queued = first.app.query_strings(JOBS).await;
    let database = first.app.database_url.clone();
    let second = spawn_app_with(move |c| {
        c.database_url = Some(database);
        c.push_delay_secs = 3;
    })
    .await;
    let pushed = service.next().await;
    let repeat = service.next_within(Duration::from_secs(3)).await;

    // Assert
    assert_eq!(queued, ["1"], "the job waited in the database over the restart");
    assert_eq!(browser.decrypt(&pushed.body)["body"], "sent just before the restart");
    assert!(repeat.is_none(), "sent once: {repeat:?}");
    eventually(&second, JOBS, "0").await;
}

#[tokio::test]
async fn a_tab_on_one_instance_keeps_pushes_away_whichever_instance_decides() {
    // Arrange: two instances on one database, each running its push worker.
    let mut service = PushService::start().await;
    let one = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let database = one.database_url.clone();
    let two = spawn_app_with(move |c| {
        c.database_url = Some(database);
        c.push_delay_secs = 1;
    })
    .await;
    let (alice, bob) = (person(&one, "alice").await, person(&one, "bob").await);
    let room = one.conversation_with(&alice.client, &[bob.id]).await;
    let browser = subscribe_browser(&one, &bob.client, &service.endpoint("bob-laptop")).await;
    let mut tab_on_two = connect(&two, &bob).await;
    tab_on_two.send_json(json!({ "type": "viewing", "room_id": room })).await;
    eventually(&one, "SELECT CAST(count(*) AS TEXT) FROM push_viewing", "1").await;

    // Act
    for text in ["one", "two", "three"] {
        one.send(&alice.client, room, text).await;
    }
    let while_shown = service.next_within(Duration::from_secs(3)).await;
    drop(tab_on_two);
    eventually(&one, "SELECT CAST(count(*) AS TEXT) FROM push_viewing", "0").await;
    one.send(&alice.client, room, "four").await;
    let pushed = service.next().await;

    // Assert
    assert!(while_shown.is_none(), "neither instance pushed a room the tab shows: {while_shown:?}");
    assert_eq!(browser.decrypt(&pushed.body)["number"], 4);
    assert!(service.next_within(Duration::from_millis(1500)).await.is_none(), "sent by one instance only");
    eventually(&one, JOBS, "0").await;
}

#[tokio::test]
async fn a_backlog_is_sent_round_after_round_and_jobs_nobody_can_receive_are_deleted_unsent() {
    // Arrange: the jobs fall due in an hour, so the app's own worker leaves
    // them alone, and the test sends what is due two hours from now.
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 3600).await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let to_bob = app.conversation_with(&alice.client, &[bob.id]).await;
    let to_carol = app.conversation_with(&alice.client, &[carol.id]).await;
    subscribe_browser(&app, &bob.client, &service.endpoint("bob-phone")).await;
    for n in 1..=40 {
        app.send(&alice.client, to_bob, &format!("for bob {n}")).await;
        app.send(&alice.client, to_carol, &format!("for carol {n}")).await;
    }
    let queued = app.query_strings(JOBS).await;
    let policy = hearth::outbound::Policy { allow_loopback: true };
    let transport = hearth_server::push::Pusher::transport(policy).expect("an HTTP client");
    let due = hearth::store::format_time(time::OffsetDateTime::now_utc() + Duration::from_secs(7200));

    // Act
    let first = app.hearth.push_due(&transport, &due, 1).await.expect("one round");
    let carols_left = app.query_strings(&format!("{JOBS} WHERE room_id = {to_carol}")).await;
    let rest = app.hearth.push_due(&transport, &due, ROUNDS).await.expect("the rest");
    let pushed = service.next().await;
    let after = app.hearth.push_due(&transport, &due, ROUNDS).await.expect("nothing");

    // Assert
    assert_eq!(queued, ["80"], "a job per message");
    assert_eq!((first.dropped, first.drops), (40, 1), "carol's room has nobody to push: her jobs go in one statement");
    assert_eq!(carols_left, ["0"]);
    assert_eq!((first.claimed, first.more), (16, true), "then one round's worth of bob's, and a backlog is left");
    assert_eq!((rest.claimed, rest.sent), (24, 24), "the rest of bob's, in two rounds without a poll between");
    assert_eq!((rest.dropped, rest.drops, rest.more), (0, 1, false), "deleting is tried once a drain, not every round");
    assert_eq!(app.query_strings(JOBS).await, ["0"]);
    assert_eq!(pushed.path, "/push/bob-phone");
    assert_eq!(after, Drain::default(), "nothing left");
}

#[tokio::test]
async fn a_device_is_pushed_nothing_once_its_session_ends_or_its_account_is_deactivated() {
    // Arrange: alice (the first account, an admin) writes to bob, who has a
    // laptop and a phone, each subscribed in its own session.
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    let phone = crate::helpers::new_client();
    assert_eq!(app.sign_in_with(&phone, "bob", crate::helpers::PASSWORD).await.status(), 200);
    let _laptop = subscribe_browser(&app, &bob.client, &service.endpoint("bob-laptop")).await;
    let _phone = subscribe_browser(&app, &phone, &service.endpoint("bob-phone")).await;

    // Act 1: the laptop signs out.
    let signed_out = bob.client.delete(app.url("/users/sign_out")).send().await.expect("sent");
    assert_eq!(signed_out.status(), 204);
    app.send(&alice.client, room, "for the phone only").await;
    let pushed = service.next().await;
    let more = service.next_within(Duration::from_millis(2500)).await;

    // Assert 1: only the phone, still signed in, is pushed.
    assert_eq!(pushed.path, "/push/bob-phone");
    assert!(more.is_none(), "the signed-out laptop is pushed nothing: {more:?}");
    // Nor the withdrawal once bob reads it on the phone: only the phone's.
    let read = phone.put(app.url(&format!("/conversations/{room}/read"))).send().await.expect("sent");
    assert_eq!(read.status(), 200);
    let close = service.next().await;
    let more = service.next_within(Duration::from_millis(1500)).await;
    assert_eq!(close.path, "/push/bob-phone");
    assert!(more.is_none(), "the signed-out laptop is sent no close either: {more:?}");

    // Act 2: an admin deactivates bob (which ends the phone's session too).
    let deactivated = alice.client.post(app.url(&format!("/admin/users/{}/deactivate", bob.id))).send().await;
    assert_eq!(deactivated.expect("sent").status(), 200);
    app.send(&alice.client, room, "bob is gone").await;

    // Assert 2: no device of his hears of it, and the job is done with.
    let after = service.next_within(Duration::from_secs(4)).await;
    assert!(after.is_none(), "a deactivated account is pushed nothing: {after:?}");
    eventually(&app, JOBS, "0").await;
}

#[tokio::test]
async fn a_member_who_paused_notifications_is_pushed_nothing_not_even_a_mention_until_resuming() {
    // Arrange: bob's laptop is subscribed; carol, in the same group, is not
    // paused, so the jobs are decided (not dropped as nobody's).
    let mut service = PushService::start().await;
    let app = spawn_app_with(|c| c.push_delay_secs = 1).await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let _laptop = subscribe_browser(&app, &bob.client, &service.endpoint("bob-laptop")).await;
    let _carols = subscribe_browser(&app, &carol.client, &service.endpoint("carol-phone")).await;
    let put =
        |client: &reqwest::Client, body: Value| client.put(app.url("/users/me/notifications/pause")).json(&body).send();
    assert_eq!(put(&bob.client, json!({ "minutes": 60 })).await.expect("sent").status(), 200);
    // Carol's level in this group lets every message through.
    let level = carol.client.put(app.url(&format!("/conversations/{room}/notifications")));
    assert_eq!(level.json(&json!({ "level": "everything" })).send().await.expect("sent").status(), 200);

    // Act 1: while bob is paused, a message that mentions him.
    app.send(&alice.client, room, "@bob the build is red").await;
    let pushed = service.next().await;
    let more = service.next_within(Duration::from_millis(2500)).await;

    // Assert 1: carol is pushed; bob's laptop is not, mention and all.
    assert_eq!(pushed.path, "/push/carol-phone");
    assert!(more.is_none(), "nothing for bob while paused: {more:?}");
    eventually(&app, JOBS, "0").await;

    // Act 2: bob resumes; the next mention reaches him (the one sent while
    // paused is not pushed late).
    let resumed = bob.client.delete(app.url("/users/me/notifications/pause")).send().await.expect("sent");
    assert_eq!(resumed.status(), 200);
    app.send(&alice.client, room, "@bob still red").await;
    let mut paths = vec![service.next().await.path, service.next().await.path];
    let late = service.next_within(Duration::from_millis(2000)).await;

    // Assert 2
    paths.sort();
    assert_eq!(paths, ["/push/bob-laptop", "/push/carol-phone"]);
    assert!(late.is_none(), "one push each: {late:?}");
}
