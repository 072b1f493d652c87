//! Attachments (issue 16): uploads and their limits, downloads for members
//! only, the content-type policy, ranges, thumbnails (EXIF orientation,
//! metadata dropped, decompression bombs refused), sending files over REST
//! and the WebSocket, replay, deletes and the blob collector, avatars.

use std::time::Duration;

use hearth::protocol::ServerEvent;
use hearth::testing::images::{bomb_png, png, rotated_jpeg_with_gps};
use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};
use crate::ws_support::{Person, connect, person};

async fn upload_as(
    app: &TestApp,
    client: &Client,
    room: i64,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Response {
    client
        .post(app.url(&format!("/conversations/{room}/attachments?name={name}")))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("the upload is answered")
}

async fn upload(app: &TestApp, who: &Person, room: i64, name: &str, content_type: &str, bytes: Vec<u8>) -> Value {
    let response = upload_as(app, &who.client, room, name, content_type, bytes).await;
    assert_eq!(response.status(), 201, "uploading {name}");
    response.json().await.expect("an attachment")
}

async fn pair(app: &TestApp) -> (Person, Person, i64) {
    let alice = person(app, "alice").await;
    let bob = person(app, "bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    (alice, bob, room)
}

async fn get(app: &TestApp, client: &Client, path: &str) -> Response {
    client.get(app.url(path)).send().await.expect("answered")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_upload_over_the_limit_gets_413_and_leaves_nothing_behind() {
    let app = spawn_app_with(|config| config.upload_max_bytes = 64 * 1024).await;
    let (alice, _bob, room) = pair(&app).await;

    // Declared too large: refused before the body is read.
    let refused = assert_error(
        upload_as(&app, &alice.client, room, "big.bin", "application/octet-stream", vec![7; 64 * 1024 + 1]).await,
        413,
    )
    .await;
    assert_eq!(refused["errors"][0], "File is too large (maximum is 64 KB)");
    // Streamed without a length (chunked), and too large: refused as well.
    let chunks = futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![1u8; 8 * 1024])));
    let streamed = alice
        .client
        .post(app.url(&format!("/conversations/{room}/attachments?name=stream.bin")))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("answered");
    assert_error(streamed, 413).await;
    // Exactly the limit is fine.
    let fits = upload(&app, &alice, room, "fits.bin", "application/octet-stream", vec![9; 64 * 1024]).await;
    assert_eq!(fits["size"], 64 * 1024);

    let rows = app.query_strings("SELECT name FROM attachments ORDER BY id").await;
    assert_eq!(rows, ["fits.bin"], "no row for a refused upload");
    assert_eq!(app.hearth.store().blob_count().await.expect("counted"), 1, "no blob for a refused upload");

    // Empty, and to a room I am not in, are refused too.
    assert_error(upload_as(&app, &alice.client, room, "empty", "text/plain", Vec::new()).await, 422).await;
    let carol = person(&app, "carol").await;
    assert_error(upload_as(&app, &carol.client, room, "x.txt", "text/plain", b"hi".to_vec()).await, 404).await;
    let anonymous = crate::helpers::new_client();
    assert_error(upload_as(&app, &anonymous, room, "x.txt", "text/plain", b"hi".to_vec()).await, 401).await;
}

#[tokio::test]
async fn downloads_need_membership_of_the_room_on_every_request() {
    let app = spawn_app().await;
    let (alice, bob, carol, dave) = (
        person(&app, "alice").await,
        person(&app, "bob").await,
        person(&app, "carol").await,
        person(&app, "dave").await,
    );
    // A group (one can leave it), without Carol.
    let room = app.conversation_with(&alice.client, &[bob.id, dave.id]).await;
    let file = upload(&app, &alice, room, "plan.txt", "text/plain", b"the plan".to_vec()).await;
    let url = file["url"].as_str().expect("a url").to_owned();
    assert_eq!(url, format!("/attachments/{}/plan.txt", file["id"]));

    // Not sent yet: only its uploader sees it.
    assert_eq!(get(&app, &alice.client, &url).await.status(), 200);
    assert_error(get(&app, &bob.client, &url).await, 404).await;

    let sent = app.post_message(&alice.client, room, json!({ "body": "", "attachment_ids": [file["id"]] })).await;
    assert_eq!(sent.status(), 201, "{:?}", sent.text().await);
    let sent: Value = sent.json().await.expect("a message");
    assert_eq!(sent["body"], "");
    assert_eq!(sent["attachments"][0]["name"], "plan.txt");
    // The room list says what it was, not an empty line.
    let listed = app.get_json(&bob.client, "/conversations").await;
    let entry = listed.as_array().expect("rooms").iter().find(|r| r["id"] == room).expect("the group").clone();
    assert_eq!((&entry["last_message"]["body"], &entry["last_message"]["text"]), (&json!(""), &json!("Attachment")));

    let got = get(&app, &bob.client, &url).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), b"the plan");
    // Not a member, or not signed in: the link does not work.
    assert_error(get(&app, &carol.client, &url).await, 404).await;
    assert_error(get(&app, &crate::helpers::new_client(), &url).await, 401).await;
    // Bob leaves: the link stops working for him at once.
    let left = bob.client.delete(app.url(&format!("/conversations/{room}/membership"))).send().await.expect("left");
    assert!(left.status().is_success(), "{}", left.status());
    assert_error(get(&app, &bob.client, &url).await, 404).await;
    assert_eq!(get(&app, &alice.client, &url).await.status(), 200);
}

#[tokio::test]
async fn files_are_served_as_a_safe_type_with_a_disposition_and_nosniff() {
    let app = spawn_app().await;
    let (alice, _bob, room) = pair(&app).await;
    let html = upload(&app, &alice, room, "page.html", "text/html", b"<script>alert(1)</script>".to_vec()).await;
    let svg = upload(&app, &alice, room, "x.svg", "image/svg+xml", b"<svg onload='alert(1)'/>".to_vec()).await;
    let text = upload(&app, &alice, room, "notes.txt", "text/plain", "héllo".as_bytes().to_vec()).await;
    let pdf = upload(&app, &alice, room, "paper.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n".to_vec()).await;
    let image = upload(&app, &alice, room, "dot.png", "application/octet-stream", png(3, 2)).await;
    let lying = upload(&app, &alice, room, "evil.png", "image/png", b"<html>not a png</html>".to_vec()).await;

    for (file, content_type, disposition) in [
        (&html, "application/octet-stream", "attachment; filename=\"page.html\""),
        (&svg, "application/octet-stream", "attachment; filename=\"x.svg\""),
        (&text, "text/plain; charset=utf-8", "inline; filename=\"notes.txt\""),
        (&pdf, "application/pdf", "attachment; filename=\"paper.pdf\""),
        (&image, "image/png", "inline; filename=\"dot.png\""),
        (&lying, "application/octet-stream", "attachment; filename=\"evil.png\""),
    ] {
        assert_eq!(file["content_type"], content_type, "{file}");
        let got = get(&app, &alice.client, file["url"].as_str().expect("a url")).await;
        assert_eq!(got.status(), 200);
        let headers = got.headers();
        assert_eq!(headers["content-type"], content_type, "{file}");
        assert!(headers["content-disposition"].to_str().expect("ascii").starts_with(disposition), "{headers:?}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
        assert_eq!(headers["cache-control"], "private, max-age=86400");
    }
    assert!(image["thumbnail_url"].is_string() && image["width"] == 3 && image["height"] == 2);
    assert!(html.get("thumbnail_url").is_none() && lying.get("thumbnail_url").is_none());
    // A name with a path and odd characters is cleaned, and its URL encoded.
    let odd = upload(&app, &alice, room, "..%2F..%2Fsecret%20plan%20%C3%A9.txt", "text/plain", b"x".to_vec()).await;
    assert_eq!(odd["name"], "secret plan é.txt");
    assert_eq!(odd["url"], format!("/attachments/{}/secret%20plan%20%C3%A9.txt", odd["id"]));
}

#[tokio::test]
async fn range_requests_return_the_bytes_asked_for() {
    let app = spawn_app().await;
    let (alice, _bob, room) = pair(&app).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let file = upload(&app, &alice, room, "data.bin", "application/octet-stream", bytes.clone()).await;
    let url = app.url(file["url"].as_str().expect("a url"));
    let ranged = |range: &'static str| alice.client.get(&url).header("Range", range).send();

    let part = ranged("bytes=1000-1999").await.expect("answered");
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/100000");
    assert_eq!(part.headers()["accept-ranges"], "bytes");
    assert_eq!(part.bytes().await.expect("bytes").as_ref(), &bytes[1000..2000]);
    let tail = ranged("bytes=-10").await.expect("answered");
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.expect("bytes").as_ref(), &bytes[99_990..]);
    let open = ranged("bytes=99999-").await.expect("answered");
    assert_eq!(open.bytes().await.expect("bytes").as_ref(), &bytes[99_999..]);
    let outside = ranged("bytes=100000-100010").await.expect("answered");
    assert_eq!(outside.status(), 416);
    assert_eq!(outside.headers()["content-range"], "bytes */100000");
    let whole = alice.client.get(&url).send().await.expect("answered");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.expect("bytes").len(), 100_000);
}

#[tokio::test]
async fn images_get_upright_thumbnails_without_metadata_and_bombs_are_refused() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;

    let big = upload(&app, &alice, room, "wide.png", "image/png", png(1600, 800)).await;
    assert_eq!((big["width"].as_i64(), big["height"].as_i64()), (Some(1600), Some(800)));
    let thumb_url = big["thumbnail_url"].as_str().expect("a thumbnail").to_owned();
    assert_eq!(thumb_url, format!("/attachments/thumbnails/{}", big["id"]));
    let thumb = get(&app, &alice.client, &thumb_url).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.expect("bytes")).expect("a jpeg");
    assert_eq!((thumb.width(), thumb.height()), (480, 240));
    // The thumbnail follows the file's access: Bob sees it once it is sent.
    assert_error(get(&app, &bob.client, &thumb_url).await, 404).await;

    // A sideways phone photo with a GPS position: upright, and no EXIF kept.
    let photo = rotated_jpeg_with_gps(64, 32);
    assert!(contains(&photo, b"Exif"));
    let upright = upload(&app, &alice, room, "photo.jpg", "image/jpeg", photo).await;
    assert_eq!((upright["width"].as_i64(), upright["height"].as_i64()), (Some(32), Some(64)));
    let stored = get(&app, &alice.client, upright["url"].as_str().expect("a url")).await.bytes().await.expect("bytes");
    assert!(!contains(&stored, b"Exif"), "the GPS block is gone");
    let stored = image::load_from_memory(&stored).expect("a jpeg");
    assert_eq!((stored.width(), stored.height()), (32, 64));

    // A decompression bomb: a tiny file claiming 60,000 × 60,000 pixels.
    let bomb = assert_error(
        upload_as(&app, &alice.client, room, "bomb.png", "image/png", bomb_png(60_000, 60_000)).await,
        422,
    )
    .await;
    assert!(bomb["errors"][0].as_str().expect("a message").contains("too large to process"), "{bomb}");
    // A broken image is refused too; the server is still fine.
    let mut broken = png(20, 20);
    broken.truncate(60);
    assert_error(upload_as(&app, &alice.client, room, "broken.png", "image/png", broken).await, 422).await;
    let after = upload(&app, &alice, room, "fine.png", "image/png", png(2, 2)).await;
    assert!(after["thumbnail_url"].is_string());
}

#[tokio::test]
async fn a_send_takes_only_my_own_unsent_uploads_to_that_room() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let carol = person(&app, "carol").await;
    let other = app.conversation_with(&alice.client, &[carol.id]).await;
    let mine = upload(&app, &alice, room, "a.txt", "text/plain", b"a".to_vec()).await;
    let bobs = upload(&app, &bob, room, "b.txt", "text/plain", b"b".to_vec()).await;
    let elsewhere = upload(&app, &alice, other, "c.txt", "text/plain", b"c".to_vec()).await;

    for ids in [json!([bobs["id"]]), json!([elsewhere["id"]]), json!([999_999]), json!([mine["id"], mine["id"]])] {
        let refused = app.post_message(&alice.client, room, json!({ "body": "files", "attachment_ids": ids })).await;
        let errors = assert_error(refused, 422).await;
        assert!(errors["errors"][0].as_str().expect("a message").contains("attachment_ids"), "{errors}");
    }
    let eleven: Vec<Value> = (0..11).map(|n| json!(n + 1)).collect();
    assert_error(app.post_message(&alice.client, room, json!({ "body": "x", "attachment_ids": eleven })).await, 422)
        .await;
    // No text and no file: still refused.
    assert_error(app.post_message(&alice.client, room, json!({ "body": "  " })).await, 422).await;

    let sent = app.post_message(&alice.client, room, json!({ "body": "here", "attachment_ids": [mine["id"]] })).await;
    assert_eq!(sent.status(), 201);
    // Sent once, it cannot be sent again.
    let again = app.post_message(&alice.client, room, json!({ "body": "again", "attachment_ids": [mine["id"]] })).await;
    assert_error(again, 422).await;
    let history = app.history(&bob.client, room, "").await;
    let messages = history["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["attachments"], json!([mine]));
    // An edit changes the text and keeps the files.
    let edited = app.edit_message(&alice.client, room, 1, "here, edited").await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.expect("a message");
    assert_eq!(edited["body"], "here, edited");
    assert_eq!(edited["attachments"], json!([mine]));
}

#[tokio::test]
async fn a_messages_files_keep_the_order_the_sender_listed_them_in_not_their_upload_order() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let first = upload(&app, &alice, room, "first.txt", "text/plain", b"1".to_vec()).await;
    let second = upload(&app, &alice, room, "second.txt", "text/plain", b"2".to_vec()).await;
    let third = upload(&app, &alice, room, "third.txt", "text/plain", b"3".to_vec()).await;
    let listed = json!([third["id"], first["id"], second["id"]]);

    let sent = app.post_message(&alice.client, room, json!({ "body": "three", "attachment_ids": listed })).await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.expect("a message");
    let names = |message: &Value| -> Vec<String> {
        message["attachments"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["name"].as_str().expect("a name").to_owned())
            .collect()
    };

    let expected = ["third.txt", "first.txt", "second.txt"];
    assert_eq!(names(&sent), expected, "as sent back");
    let history = app.history(&bob.client, room, "").await;
    assert_eq!(names(&history["messages"][0]), expected, "as read back");
    let edited = app.edit_message(&alice.client, room, 1, "three, edited").await;
    let edited: Value = edited.json().await.expect("a message");
    assert_eq!(names(&edited), expected, "after an edit");
}

#[tokio::test]
async fn files_sent_over_the_websocket_arrive_live_and_replay_on_resume() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut bobs = connect(&app, &bob).await;
    bobs.subscribe(room, None).await;
    let picture = upload(&app, &alice, room, "cat.png", "image/png", png(40, 30)).await;
    let notes = upload(&app, &alice, room, "notes.txt", "text/plain", b"notes".to_vec()).await;
    let mut alices = connect(&app, &alice).await;
    alices
        .send_json(json!({ "type": "send", "room_id": room, "body": "", "client_id": "f-1",
                           "attachments": [notes["id"], picture["id"]] }))
        .await;
    let ServerEvent::Message { seq, message, .. } = bobs.next_skipping_presence().await else {
        panic!("expected the message");
    };
    let names: Vec<&str> = message.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["notes.txt", "cat.png"], "in the order sent");
    assert_eq!(message.attachments[1].thumbnail_url.as_deref(), picture["thumbnail_url"].as_str());

    // A later subscriber (a resume from before it) gets the same message.
    let mut late = connect(&app, &bob).await;
    let replay = late.subscribe(room, Some(seq - 1)).await;
    let replayed: Vec<_> = replay
        .into_iter()
        .filter_map(|event| match event {
            ServerEvent::Message { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].attachments, message.attachments);

    // A refused send (someone else's upload) is an error frame, not a message.
    let carols = upload(&app, &bob, room, "bob.txt", "text/plain", b"b".to_vec()).await;
    alices
        .send_json(json!({ "type": "send", "room_id": room, "body": "x", "client_id": "f-2",
                           "attachments": [carols["id"]] }))
        .await;
    match alices.next_skipping_presence().await {
        ServerEvent::Error { code, client_id, .. } => {
            assert_eq!(code, "invalid");
            assert_eq!(client_id.as_deref(), Some("f-2"));
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn deleting_a_message_hides_its_files_and_the_collector_frees_blobs_nothing_uses() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let shared = png(50, 50);
    let first = upload(&app, &alice, room, "one.png", "image/png", shared.clone()).await;
    let second = upload(&app, &alice, room, "two.png", "image/png", shared).await;
    let unsent = upload(&app, &alice, room, "later.txt", "text/plain", b"not sent yet".to_vec()).await;
    // The same bytes are stored once (a file and a thumbnail), plus the text.
    assert_eq!(app.hearth.store().blob_count().await.expect("counted"), 3);
    for (n, file) in [&first, &second].into_iter().enumerate() {
        let sent = app
            .post_message(&alice.client, room, json!({ "body": format!("m{n}"), "attachment_ids": [file["id"]] }))
            .await;
        assert_eq!(sent.status(), 201);
    }
    let hearth = &app.hearth;
    assert_eq!(hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 0, "everything is used");

    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/1"))).send().await.expect("ok");
    assert_eq!(deleted.status(), 204);
    assert_error(get(&app, &bob.client, first["url"].as_str().expect("url")).await, 404).await;
    let history = app.history(&bob.client, room, "").await;
    assert!(history["messages"][0].get("attachments").is_none(), "{}", history["messages"][0]);
    // The second message still uses the same bytes: nothing to free.
    assert_eq!(hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 0);
    assert_eq!(get(&app, &bob.client, second["url"].as_str().expect("url")).await.status(), 200);

    let deleted = alice.client.delete(app.url(&format!("/conversations/{room}/messages/2"))).send().await.expect("ok");
    assert_eq!(deleted.status(), 204);
    // Within the grace period nothing goes; after it, the image and its
    // thumbnail do, and the unsent upload (less than a day old) stays.
    assert_eq!(hearth.collect_blobs(Duration::from_secs(3600)).await.expect("collected"), 0);
    assert_eq!(hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 2);
    assert_eq!(hearth.store().blob_count().await.expect("counted"), 1);
    assert_eq!(get(&app, &alice.client, unsent["url"].as_str().expect("url")).await.status(), 200);

    // An upload older than a day that no message took is dropped, and its blob freed.
    let day_ago = "2000-01-01T00:00:00.000000Z";
    app.execute_sql("UPDATE attachments SET created_at = $1", &[crate::helpers::SqlArg::Text(day_ago.into())]).await;
    assert_eq!(hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 1);
    assert_error(get(&app, &alice.client, unsent["url"].as_str().expect("url")).await, 404).await;
    assert_eq!(hearth.store().blob_count().await.expect("counted"), 0);
}

/// `PUT /users/me` with `avatar_url`: its status and body.
async fn set_avatar_url(app: &TestApp, client: &Client, url: &str) -> (u16, Value) {
    let response = client.put(app.url("/users/me")).json(&json!({ "avatar_url": url })).send().await.expect("answered");
    (response.status().as_u16(), response.json().await.expect("json"))
}

#[tokio::test]
async fn an_avatar_given_by_url_is_copied_once_and_served_from_here_and_a_bad_one_is_refused() {
    let app = spawn_app().await;
    let (alice, bob, _room) = pair(&app).await;
    let site = crate::helpers::picture_site().await;

    // A picture on the web is fetched once, squared and served by Hearth.
    let (status, profile) = set_avatar_url(&app, &alice.client, &format!("{site}/photo.png?size=large")).await;
    assert_eq!(status, 200, "{profile}");
    let url = profile["user"]["avatar_url"].as_str().expect("an avatar url").to_owned();
    assert!(url.starts_with(&format!("/users/{}/avatar?v=", alice.id)), "{url}");
    let got = get(&app, &bob.client, &url).await;
    assert_eq!(got.status(), 200);
    let square = image::load_from_memory(&got.bytes().await.expect("bytes")).expect("an image");
    assert_eq!((square.width(), square.height()), (256, 256));
    // Saving the form again sends this address back: kept, not fetched.
    assert_eq!(set_avatar_url(&app, &alice.client, &url).await.0, 200);

    // Not a picture, missing, a private address, a file URL: 422 on the
    // field, and the avatar stays.
    for bad in
        [format!("{site}/page"), format!("{site}/gone"), "http://10.0.0.1/me.png".into(), "file:///etc/passwd".into()]
    {
        let (status, body) = set_avatar_url(&app, &alice.client, &bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
        let errors = body["errors"].as_array().expect("errors");
        assert!(errors.iter().all(|e| e.as_str().is_some_and(|e| e.starts_with("Avatar url "))), "{bad}: {body}");
    }
    let me: Value = app.me(&alice.client).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], url.as_str());

    // Over the upload limit: refused, however it is sent.
    let small = spawn_app_with(|config| config.upload_max_bytes = 1024).await;
    let carol = person(&small, "carol").await;
    let (status, body) = set_avatar_url(&small, &carol.client, &format!("{site}/photo.png")).await;
    assert_eq!(status, 422, "{body}");
    let me: Value = small.me(&carol.client).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], Value::Null);
}

#[tokio::test]
async fn an_avatar_can_be_uploaded_and_is_served_to_signed_in_users() {
    let app = spawn_app().await;
    let (alice, bob, _room) = pair(&app).await;
    let response = alice
        .client
        .put(app.url("/users/me/avatar"))
        .header("Content-Type", "image/png")
        .body(png(500, 300))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let profile: Value = response.json().await.expect("a profile");
    let url = profile["avatar_url"].as_str().expect("an avatar url").to_owned();
    assert!(url.starts_with(&format!("/users/{}/avatar?v=", alice.id)), "{url}");
    let got = get(&app, &bob.client, &url).await;
    assert_eq!(got.status(), 200);
    let square = image::load_from_memory(&got.bytes().await.expect("bytes")).expect("an image");
    assert_eq!((square.width(), square.height()), (256, 256));
    assert_error(get(&app, &crate::helpers::new_client(), &url).await, 401).await;
    assert_error(get(&app, &bob.client, &format!("/users/{}/avatar", bob.id)).await, 404).await;

    // Not an image; a bomb.
    let text = alice.client.put(app.url("/users/me/avatar")).body("hello").send().await.expect("answered");
    assert_error(text, 422).await;
    let bomb =
        alice.client.put(app.url("/users/me/avatar")).body(bomb_png(40_000, 40_000)).send().await.expect("answered");
    assert_error(bomb, 422).await;

    // Saving the profile form again keeps it; a URL replaces it.
    let kept = alice
        .client
        .put(app.url("/users/me"))
        .json(&json!({ "name": "Alice", "avatar_url": url }))
        .send()
        .await
        .expect("ok");
    assert_eq!(kept.status(), 200);
    let kept: Value = kept.json().await.expect("a profile");
    assert_eq!(kept["user"]["avatar_url"], url.as_str());
    let replaced = alice
        .client
        .put(app.url("/users/me"))
        .json(&json!({ "avatar_url": format!("{}/other.png", crate::helpers::picture_site().await) }))
        .send()
        .await
        .expect("ok");
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.expect("a profile");
    let new_url = replaced["user"]["avatar_url"].as_str().expect("an avatar url");
    assert!(new_url.starts_with(&format!("/users/{}/avatar?v=", alice.id)) && new_url != url, "{new_url}");
    assert_eq!(app.hearth.collect_blobs(Duration::ZERO).await.expect("collected"), 1, "the old avatar is freed");
}

/// Starts an upload of `length` bytes to `path` over a raw socket, as
/// `cookie`, sending its head and only the first byte of its body.
async fn start_upload(app: &TestApp, cookie: &str, path: &str, length: usize) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\nx"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream
}

/// The status `stream` was answered with within `wait`, if it was.
async fn answer_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Err(_) => return None,
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Ok(Err(err)) => panic!("reading the answer: {err}"),
        }
    }
    String::from_utf8_lossy(&answer).get(9..12).and_then(|s| s.parse().ok())
}

/// Sends the rest of an upload `start_upload` began and reads its status.
async fn finish_upload(mut stream: tokio::net::TcpStream, length: usize) -> Option<u16> {
    use tokio::io::AsyncWriteExt;
    stream.write_all(&vec![b'y'; length - 1]).await.expect("body sent");
    answer_within(&mut stream, Duration::from_secs(10)).await
}

#[tokio::test]
async fn uploads_are_refused_before_their_body_and_bodies_being_received_are_bounded() {
    const MIB: usize = 1 << 20;
    // The instance receives at most 8 limits' worth (8 MiB) at once.
    let app = spawn_app_with(|config| config.upload_max_bytes = MIB as u64).await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let mut others = Vec::new();
    for name in ["dave", "erin", "frank", "gina", "hank"] {
        others.push(person(&app, name).await);
    }
    let ids: Vec<i64> = std::iter::once(bob.id).chain(others.iter().map(|p| p.id)).collect();
    let room = app.conversation_with(&alice.client, &ids).await;
    let path = format!("/conversations/{room}/attachments?name=held.bin");
    let quick = Duration::from_secs(5);

    // A non-member, an anonymous client and a room that does not exist are
    // answered at once, without the body: nothing of it is held.
    let carol = person(&app, "carol").await;
    let mut outsider = start_upload(&app, &carol.cookie, &path, MIB).await;
    assert_eq!(answer_within(&mut outsider, quick).await, Some(404), "a non-member is refused before the body");
    let mut anonymous = start_upload(&app, "hearth_session=none", &path, MIB).await;
    assert_eq!(answer_within(&mut anonymous, quick).await, Some(401));
    let mut nowhere = start_upload(&app, &alice.cookie, "/conversations/999999/attachments?name=x", MIB).await;
    assert_eq!(answer_within(&mut nowhere, quick).await, Some(404));

    // Two of one user's bodies may be on their way at once; a third is
    // refused at once, and no one else is held up by them.
    let mut first = start_upload(&app, &alice.cookie, &path, MIB).await;
    let mut second = start_upload(&app, &alice.cookie, &path, MIB).await;
    assert_eq!(answer_within(&mut first, Duration::from_millis(500)).await, None, "waiting for its body");
    assert_eq!(answer_within(&mut second, Duration::from_millis(100)).await, None, "waiting for its body");
    let mut third = start_upload(&app, &alice.cookie, &path, MIB).await;
    assert_eq!(answer_within(&mut third, quick).await, Some(429), "a third body of one user at once");
    upload(&app, &bob, room, "small.txt", "text/plain", b"hello".to_vec()).await;
    // Once one has arrived, another may start.
    assert_eq!(finish_upload(first, MIB).await, Some(201));
    let mut again = start_upload(&app, &alice.cookie, &path, MIB).await;
    assert_eq!(answer_within(&mut again, Duration::from_millis(500)).await, None, "admitted, waiting for its body");

    // Eight limits' worth at once fill the instance: alice's two, bob's and
    // five more people's; then even a small upload waits its turn (429).
    let mut held = vec![second, again, start_upload(&app, &bob.cookie, &path, MIB).await];
    for other in &others {
        held.push(start_upload(&app, &other.cookie, &path, MIB).await);
    }
    for stream in &mut held {
        assert_eq!(answer_within(stream, Duration::from_millis(300)).await, None, "each is admitted and waiting");
    }
    let full = upload_as(&app, &bob.client, room, "late.txt", "text/plain", b"late".to_vec()).await;
    assert_eq!(full.status(), 429, "the instance is receiving all it may");
    assert!(full.headers().contains_key("retry-after"));
    // A body given up on frees its share.
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + quick;
    loop {
        let response = upload_as(&app, &bob.client, room, "late.txt", "text/plain", b"late".to_vec()).await;
        if response.status() == 201 {
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(tokio::time::Instant::now() < deadline, "the dropped body's share was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The anonymous memory the process `pid` holds, in bytes (Linux).
fn anonymous_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's status");
    let line = status.lines().find(|l| l.starts_with("RssAnon:")).expect("RssAnon");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("a number of kB") * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_downloads_of_a_big_file_do_not_each_hold_it_in_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if hearth::testing::skip_unless(hearth::store::Backend::Sqlite, "one run, of the real binary, is enough") {
        return;
    }
    // The real binary, whose memory is its own to measure.
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = format!("sqlite://{}", dir.path().join("hearth.db").display());
    let server = crate::durability::Server::start(&url, dir.path(), "normal");
    let client = crate::helpers::new_client();
    let registered = client
        .post(format!("{}/users", server.address))
        .json(
            &json!({ "user": { "email": "big@example.com", "username": "big", "password": crate::helpers::PASSWORD } }),
        )
        .send()
        .await
        .expect("registered");
    let cookie = crate::helpers::session_cookie(registered.headers()).expect("a session");
    let created = client
        .post(format!("{}/conversations", server.address))
        .json(&json!({ "kind": "open", "title": "Files" }))
        .send()
        .await
        .expect("created");
    let room = created.json::<Value>().await.expect("json")["id"].as_i64().expect("a room");
    let file: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let uploaded = client
        .post(format!("{}/conversations/{room}/attachments?name=big.bin", server.address))
        .header("Content-Type", "application/octet-stream")
        .body(file.clone())
        .send()
        .await
        .expect("uploaded");
    assert_eq!(uploaded.status(), 201);
    let id = uploaded.json::<Value>().await.expect("json")["id"].as_i64().expect("an attachment");
    let path = format!("/attachments/{id}/big.bin");

    // Whole, and a range of it, as stored.
    let whole = client.get(format!("{}{path}", server.address)).send().await.expect("downloaded");
    assert_eq!(whole.headers()["content-length"], "20971520");
    assert!(whole.bytes().await.expect("the file") == file, "the whole file");
    let part = client.get(format!("{}{path}", server.address)).header("Range", "bytes=100000-300000").send().await;
    let part = part.expect("downloaded");
    assert_eq!(part.status(), 206);
    assert!(part.bytes().await.expect("the part") == file[100_000..=300_000], "the range");

    // Eight clients that read the headers, then nothing more.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = anonymous_memory(server.child.id());
    let host = server.address.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut stream = tokio::net::TcpStream::connect(&host).await.expect("connected");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept-Encoding: identity\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("asked");
        let mut head = [0u8; 1024];
        let read = stream.read(&mut head).await.expect("the answer begins");
        assert!(String::from_utf8_lossy(&head[..read]).starts_with("HTTP/1.1 200"), "downloading");
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let grown = anonymous_memory(server.child.id()).saturating_sub(before);
    // Held whole, that is 8 × 20 MiB; streamed, what the sockets buffer.
    assert!(grown < 48 * 1024 * 1024, "8 stalled downloads of 20 MiB grew the server by {} MiB", grown >> 20);
    drop(slow);
}
