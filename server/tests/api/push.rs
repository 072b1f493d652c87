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
    let local = subscribe(&app, &alice.client, json!({ "endpoint": "http://127.0.0.1:9/push", "keys": good })).await;
    assert_eq!(local.status(), 201, "a push service on this machine may be plain http");
    assert_eq!(app.query_strings("SELECT endpoint FROM push_subscriptions").await, ["http://127.0.0.1:9/push"]);
}
