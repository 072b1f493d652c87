//! Files in S3-compatible object storage (`HEARTH_BLOB_STORE=s3://…`,
//! `hearth_server::blobs::ObjectBlobs`), against a real S3 server: moto's,
//! which `scripts/s3-test-server.sh run` starts (as `make test` does) and
//! names in `HEARTH_TEST_S3_URL`. Without it (a plain `cargo test`) each test
//! records itself as skipped. Each test makes a bucket of its own.
//!
//! The store is reached as the server reaches it (`blobs::object_blobs`:
//! `AWS_*` first, then options), with moto's address and keys as options
//! rather than in the process's environment, which the tests share.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hearth::blobs::{BlobStore, key_of};
use hearth::testing::images::png;
use hearth_server::blobs::{ObjectBlobs, object_blobs};
use object_store::ObjectStore;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app_with_blobs};
use crate::ws_support::{Person, person};

/// moto's `http://127.0.0.1:PORT`.
const S3_URL_VAR: &str = "HEARTH_TEST_S3_URL";

/// The S3 server's URL, or `None` with the skip recorded as
/// `hearth::testing::skip_unless` records one (the run's summary counts it).
fn s3_server() -> Option<String> {
    if let Some(url) = std::env::var(S3_URL_VAR).ok().filter(|url| !url.is_empty()) {
        return Some(url.trim_end_matches('/').to_owned());
    }
    let backend = hearth::testing::backend_name(hearth::testing::test_backend());
    hearth::testing::record_skip(
        backend,
        &format!("{S3_URL_VAR} is not set (scripts/s3-test-server.sh run sets it; make test does)"),
    );
    None
}

/// A new bucket on `server` (moto takes an unsigned `PUT /<bucket>`), and the
/// store on `<bucket>/files` the server would build for it.
async fn new_bucket(server: &str) -> ObjectBlobs {
    let bucket = format!("hearth-test-{}-{:016x}", std::process::id(), rand::random::<u64>());
    let made = reqwest::Client::new().put(format!("{server}/{bucket}")).send().await.expect("moto answers");
    assert!(made.status().is_success(), "creating bucket {bucket}: {}", made.status());
    let options = [
        ("aws_endpoint", server),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("aws_region", "us-east-1"),
    ];
    object_blobs(&format!("s3://{bucket}/files"), &options).expect("the store builds")
}

#[tokio::test]
async fn the_object_store_keeps_reads_ranges_and_deletes_blobs_by_key() {
    let Some(server) = s3_server() else { return };
    let blobs = new_bucket(&server).await;
    let bytes = Bytes::from_static(b"the plan, in full");
    let key = key_of(&bytes);

    blobs.put(&key, bytes.clone()).await.expect("stored");
    // Already there: nothing is written (other bytes under the key stay out).
    blobs.put(&key, Bytes::from_static(b"something else")).await.expect("a second put is fine");
    assert_eq!(blobs.get(&key, None).await.expect("read"), Some(bytes.clone()));
    // The object is `<prefix>/<first two>/<key>` in the bucket.
    assert_eq!(blobs.prefix.as_ref(), "files");
    let head = blobs.store.head(&blobs.prefix.child(&key[..2]).child(key.as_str())).await.expect("the object");
    assert_eq!(head.size, bytes.len() as u64);

    // Ranges, an end past the last byte clamped to the size.
    assert_eq!(blobs.get(&key, Some(4..8)).await.expect("read"), Some(bytes.slice(4..8)));
    assert_eq!(blobs.get(&key, Some(10..1000)).await.expect("read"), Some(bytes.slice(10..)));

    // A key nothing was stored under.
    let missing = key_of(b"never stored");
    assert_eq!(blobs.get(&missing, None).await.expect("read"), None);
    assert_eq!(blobs.get(&missing, Some(0..4)).await.expect("read"), None);

    blobs.delete(&key).await.expect("deleted");
    assert_eq!(blobs.get(&key, None).await.expect("read"), None);
    blobs.delete(&key).await.expect("deleting it again is fine");
    blobs.delete(&missing).await.expect("deleting what never was is fine");

    // What is not a key never reaches the bucket.
    for bad in ["", "../../etc/passwd", &key[..63], &key.to_uppercase(), &format!("{}/x", &key[..62])] {
        let refused = blobs.put(bad, bytes.clone()).await.expect_err("not a key");
        assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(blobs.get(bad, None).await.expect_err("not a key").kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(blobs.delete(bad).await.expect_err("not a key").kind(), std::io::ErrorKind::InvalidInput);
    }
}

async fn upload(app: &TestApp, who: &Person, room: i64, name: &str, content_type: &str, bytes: Vec<u8>) -> Value {
    let response = who
        .client
        .post(app.url(&format!("/conversations/{room}/attachments?name={name}")))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("the upload is answered");
    assert_eq!(response.status(), 201, "uploading {name}");
    response.json().await.expect("an attachment")
}

async fn download(app: &TestApp, who: &Person, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = who.client.get(app.url(path));
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.expect("answered")
}

#[tokio::test]
async fn uploads_are_sent_served_and_collected_through_the_bucket() {
    let Some(server) = s3_server() else { return };
    let bucket = Arc::new(new_bucket(&server).await);
    let app = spawn_app_with_blobs(|_| {}, bucket.clone()).await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;

    let text: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let file = upload(&app, &alice, room, "data.bin", "application/octet-stream", text.clone()).await;
    let image = upload(&app, &alice, room, "wide.png", "image/png", png(600, 300)).await;
    let thumb_url = image["thumbnail_url"].as_str().expect("a thumbnail").to_owned();

    // Three objects in the bucket: the file, the image and its thumbnail.
    let keys = app.query_strings("SELECT hash FROM blobs ORDER BY hash").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.contains(&key_of(&text)), "{keys:?}");
    for key in &keys {
        assert!(bucket.get(key, None).await.expect("read").is_some(), "{key} is in the bucket");
    }
    assert_eq!(bucket.get(&key_of(&text), None).await.expect("read").as_deref(), Some(&text[..]));

    let sent = app
        .post_message(&alice.client, room, json!({ "body": "files", "attachment_ids": [file["id"], image["id"]] }))
        .await;
    assert_eq!(sent.status(), 201, "{:?}", sent.text().await);

    // Bob downloads them: whole, a range, the image and its thumbnail.
    let file_url = file["url"].as_str().expect("a url");
    let whole = download(&app, &bob, file_url, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.expect("bytes").as_ref(), &text[..]);
    let part = download(&app, &bob, file_url, Some("bytes=1000-1999")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/10000");
    assert_eq!(part.bytes().await.expect("bytes").as_ref(), &text[1000..2000]);
    let tail = download(&app, &bob, file_url, Some("bytes=-10")).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.expect("bytes").as_ref(), &text[9_990..]);
    let picture = download(&app, &bob, image["url"].as_str().expect("a url"), None).await;
    assert_eq!(picture.status(), 200);
    let picture = image::load_from_memory(&picture.bytes().await.expect("bytes")).expect("a png");
    assert_eq!((picture.width(), picture.height()), (600, 300));
    let thumb = download(&app, &bob, &thumb_url, None).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.expect("bytes")).expect("a jpeg");
    assert_eq!((thumb.width(), thumb.height()), (480, 240));

    // Nothing is collected while the message uses them.
    assert_eq!(app.hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 0);
    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/1"))).send().await.expect("ok");
    assert_eq!(deleted.status(), 204);
    assert_error(download(&app, &bob, file_url, None).await, 404).await;

    // Once the message is gone, the collector deletes every object.
    assert_eq!(app.hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 3);
    assert_eq!(app.hearth.store().blob_count().await.expect("counted"), 0);
    for key in &keys {
        assert_eq!(bucket.get(key, None).await.expect("read"), None, "{key} is gone from the bucket");
    }
}

/// `GET /healthz` on `app`: its status and body, and how long it took.
async fn health(app: &TestApp) -> (u16, Value, Duration) {
    let started = std::time::Instant::now();
    let response = app.get(&app.client, "/healthz").await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"), started.elapsed())
}

#[tokio::test]
async fn healthz_says_a_file_store_that_does_not_answer_is_degraded_and_stays_200() {
    // An S3 endpoint where nothing listens: every request fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let endpoint = format!("http://{}", closed.local_addr().expect("its address"));
    drop(closed);
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("aws_region", "us-east-1"),
    ];
    let nowhere = object_blobs("s3://nowhere/files", &options).expect("the store builds");
    let app = spawn_app_with_blobs(|_| {}, Arc::new(nowhere)).await;
    let (status, body, took) = health(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["blobs"]["status"], "unreachable", "{body}");
    assert_eq!(body["database"]["status"], "ok", "{body}");
    assert!(took < Duration::from_secs(5), "/healthz took {took:?}");

    // The data directory's own store answers.
    let local = crate::helpers::spawn_app().await;
    let (status, body, _) = health(&local).await;
    assert_eq!((status, &body["status"], &body["blobs"]["status"]), (200, &json!("ok"), &json!("ok")), "{body}");
    // Its directory gone (a volume not mounted): a missing file would read
    // as "not there" all the same, so the directory itself is looked at.
    let blobs = local.data_dir().join("blobs");
    let away = local.data_dir().join("blobs.away");
    std::fs::rename(&blobs, &away).expect("move the blobs away");
    let (status, body, _) = health(&local).await;
    assert_eq!(
        (status, &body["status"], &body["blobs"]["status"]),
        (200, &json!("degraded"), &json!("unreachable")),
        "{body}"
    );
    std::fs::rename(&away, &blobs).expect("and back");
    let (_, body, _) = health(&local).await;
    assert_eq!(body["blobs"]["status"], "ok", "{body}");
}

#[tokio::test]
async fn healthz_says_a_bucket_that_answers_is_ok() {
    let Some(server) = s3_server() else { return };
    let app = spawn_app_with_blobs(|_| {}, Arc::new(new_bucket(&server).await)).await;
    let (status, body, _) = health(&app).await;
    assert_eq!((status, &body["status"], &body["blobs"]["status"]), (200, &json!("ok"), &json!("ok")), "{body}");
}
