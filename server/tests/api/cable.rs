//! `/cable`: ChatFlow's ActionCable endpoint, spoken as the official client
//! speaks it (subprotocol `actioncable-v1-json`, identifiers as JSON text),
//! with tokio-tungstenite.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, spawn_app, spawn_stoppable_app_with};
use crate::ws_support::{self, Person, person};

const WAIT: Duration = Duration::from_secs(10);

struct Cable {
    inner: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    /// The subprotocol the server chose.
    protocol: Option<String>,
}

async fn try_cable(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Result<Cable, tungstenite::Error> {
    let url = format!("{}/cable", app.address.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a valid url");
    let headers = request.headers_mut();
    // What `@rails/actioncable` offers.
    headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("actioncable-v1-json, actioncable-unsupported"));
    if let Some(cookie) = cookie {
        headers.insert("Cookie", HeaderValue::from_str(cookie).expect("cookie"));
    }
    if let Some(origin) = origin {
        headers.insert("Origin", HeaderValue::from_str(origin).expect("origin"));
    }
    let (inner, response) =
        tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await.expect("the handshake ends")?;
    let protocol = response.headers().get("sec-websocket-protocol").and_then(|p| p.to_str().ok()).map(str::to_owned);
    Ok(Cable { inner, protocol })
}

/// Connects as `who` and reads the welcome.
async fn cable(app: &TestApp, who: &Person) -> Cable {
    let mut cable = try_cable(app, Some(&who.cookie), None).await.expect("the upgrade succeeds");
    assert_eq!(cable.next().await, json!({ "type": "welcome" }));
    cable
}

fn identifier(room: i64) -> String {
    json!({ "channel": "ConversationsChannel", "conversation_id": room }).to_string()
}

#[derive(Debug)]
enum Read {
    Frame(Value),
    Closed(Option<u16>),
    Silent,
}

impl Cable {
    async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    async fn send_text(&mut self, text: String) {
        self.inner.send(Message::text(text)).await.expect("sent");
    }

    /// The next frame that is not a ping, within `wait`.
    async fn read_within(&mut self, wait: Duration) -> Read {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return Read::Silent,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Value = serde_json::from_str(&text).expect("the server sends JSON");
                    if frame["type"] == "ping" {
                        continue;
                    }
                    return Read::Frame(frame);
                }
                Ok(Some(Ok(Message::Close(frame)))) => return Read::Closed(frame.map(|f| u16::from(f.code))),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return Read::Closed(None),
            }
        }
    }

    async fn next(&mut self) -> Value {
        match self.read_within(WAIT).await {
            Read::Frame(frame) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    async fn assert_quiet(&mut self, who: &str) {
        match self.read_within(Duration::from_millis(500)).await {
            Read::Silent => {}
            other => panic!("{who} expected nothing, got {other:?}"),
        }
    }

    async fn subscribe(&mut self, identifier: &str) -> Value {
        self.send(json!({ "command": "subscribe", "identifier": identifier })).await;
        self.next().await
    }

    /// Subscribes and asserts the confirmation.
    async fn subscribed(&mut self, room: i64) {
        let id = identifier(room);
        let reply = self.subscribe(&id).await;
        assert_eq!(reply, json!({ "identifier": id, "type": "confirm_subscription" }));
    }

    async fn speak(&mut self, room: i64, body: &str) {
        let data = json!({ "action": "speak", "body": body }).to_string();
        self.send(json!({ "command": "message", "identifier": identifier(room), "data": data })).await;
    }
}

/// Alice and Bob, and a group of the two.
async fn pair(app: &TestApp) -> (Person, Person, i64) {
    let alice = person(app, "alice").await;
    let bob = person(app, "bob").await;
    let room = app.conversation_with(&alice.client, &[bob.id]).await;
    (alice, bob, room)
}

#[tokio::test]
async fn the_cable_welcomes_with_the_actioncable_subprotocol_then_pings_every_three_seconds() {
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let mut cable = try_cable(&app, Some(&alice.cookie), None).await.expect("upgrade");

    assert_eq!(cable.protocol.as_deref(), Some("actioncable-v1-json"));
    let Some(Ok(Message::Text(first))) = cable.inner.next().await else { panic!("no first frame") };
    assert_eq!(serde_json::from_str::<Value>(&first).unwrap(), json!({ "type": "welcome" }));
    let mut beats = Vec::new();
    let started = Instant::now();
    while beats.len() < 2 {
        let Some(Ok(Message::Text(text))) =
            tokio::time::timeout(WAIT, cable.inner.next()).await.expect("a ping within 10 s")
        else {
            panic!("expected a text frame");
        };
        let ping: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ping["type"], "ping", "{ping}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let at = ping["message"].as_i64().expect("the ping carries unix time");
        assert!((now - at).abs() <= 1, "ping time {at}, now {now}");
        beats.push(started.elapsed());
    }
    let gap = beats[1] - beats[0];
    assert!(gap >= Duration::from_millis(2500) && gap <= Duration::from_millis(4500), "pings {gap:?} apart");
    assert!(beats[0] <= Duration::from_millis(4500), "first ping after {:?}", beats[0]);
}

#[tokio::test]
async fn without_a_session_the_cable_says_unauthorized_and_closes_and_a_foreign_origin_gets_403() {
    let app = spawn_app().await;

    let mut anonymous = try_cable(&app, None, None).await.expect("the upgrade itself is accepted, as in Rails");
    assert_eq!(anonymous.next().await, json!({ "type": "disconnect", "reason": "unauthorized", "reconnect": false }));
    assert!(matches!(anonymous.read_within(WAIT).await, Read::Closed(_)));

    let alice = person(&app, "alice").await;
    let foreign = try_cable(&app, Some(&alice.cookie), Some("https://evil.example")).await;
    match foreign {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| "an open socket")),
    }
}

#[tokio::test]
async fn a_member_is_confirmed_and_a_non_member_or_unknown_room_is_rejected() {
    let app = spawn_app().await;
    let (alice, _bob, room) = pair(&app).await;
    let eve = person(&app, "eve").await;

    let mut alices = cable(&app, &alice).await;
    alices.subscribed(room).await;

    let mut eves = cable(&app, &eve).await;
    let reject = eves.subscribe(&identifier(room)).await;
    assert_eq!(reject, json!({ "identifier": identifier(room), "type": "reject_subscription" }));
    let unknown = eves.subscribe(&identifier(999_999)).await;
    assert_eq!(unknown["type"], "reject_subscription");
}

#[tokio::test]
async fn a_message_posted_over_rest_is_broadcast_in_chatflows_shape_field_by_field() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    // The identifier's text is echoed as sent, key order and all.
    let id = format!(r#"{{"conversation_id":{room}, "channel":"ConversationsChannel"}}"#);
    assert_eq!(alices.subscribe(&id).await["type"], "confirm_subscription");

    let sent = app.send(&bob.client, room, "Hello, Alice").await;

    let frame = alices.next().await;
    assert_eq!(frame["identifier"], id.as_str());
    let data = &frame["message"];
    assert_eq!(data["event"], "created");
    let message = &data["message"];
    assert_eq!(message["id"], sent["id"]);
    assert_eq!(message["user_id"], bob.id);
    assert_eq!(message["body"], "Hello, Alice");
    assert_eq!(message["created_at"], sent["created_at"]);
    assert_eq!(message["number"], sent["number"]);
    assert_eq!(message["conversation_id"], room);
    let seq = app.last_seq(&alice.client, room).await;
    assert_eq!(message["seq"], seq);
    assert_eq!(frame.as_object().unwrap().len(), 2, "only identifier and message: {frame}");
    assert_eq!(message["attachments"], json!([]));
    // Every field REST answers is there, the same (its rendered html, its
    // mentions, its author…), so a cable client shows what a REST one does.
    for (field, value) in sent.as_object().expect("the REST message") {
        assert_eq!(&message[field], value, "{field}: {message}");
    }
    alices.assert_quiet("alice after one message").await;

    // A message of files alone carries them, as REST shows them.
    let file = app.upload_text(&bob.client, room, "notes.txt", "some notes").await;
    let sent = app.post_message(&bob.client, room, json!({ "body": "", "attachment_ids": [file["id"]] })).await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    let frame = alices.next().await;
    assert_eq!(frame["message"]["message"]["attachments"], sent["attachments"]);
    assert_eq!(frame["message"]["message"]["attachments"][0]["name"], "notes.txt");
}

#[tokio::test]
async fn edits_and_deletes_arrive_on_the_same_channel_told_apart_by_event() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    alices.subscribed(room).await;
    let sent = app.send(&bob.client, room, "first draft").await;
    assert_eq!(alices.next().await["message"]["event"], "created");
    let number = sent["number"].as_i64().unwrap();

    let edited = app.edit_message(&bob.client, room, number, "final text").await;
    assert_eq!(edited.status(), 200);
    let edit = alices.next().await;
    assert_eq!(edit["message"]["event"], "edited");
    assert_eq!(edit["message"]["message"]["body"], "final text");
    assert_eq!(edit["message"]["message"]["id"], sent["id"]);
    assert!(edit["message"]["message"]["edited_at"].is_string());

    let deleted = bob.client.delete(app.url(&format!("/conversations/{room}/messages/{number}"))).send().await.unwrap();
    assert!(deleted.status().is_success());
    let delete = alices.next().await;
    assert_eq!(delete["message"]["event"], "deleted");
    assert_eq!(delete["message"]["message"]["id"], sent["id"]);
    assert_eq!(delete["message"]["message"]["number"], number);
    assert_eq!(delete["message"]["message"]["body"], Value::Null);
    assert_eq!(delete["message"]["message"]["deleted"], true);
}

#[tokio::test]
async fn speak_sends_a_message_that_every_subscriber_and_the_history_see() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    alices.subscribed(room).await;
    let mut bobs = cable(&app, &bob).await;
    bobs.subscribed(room).await;

    bobs.speak(room, "spoken over the cable").await;

    for cable in [&mut alices, &mut bobs] {
        let frame = cable.next().await;
        assert_eq!(frame["message"]["message"]["body"], "spoken over the cable");
        assert_eq!(frame["message"]["message"]["user_id"], bob.id);
    }
    let history = app.history(&alice.client, room, "").await;
    assert_eq!(history["messages"].as_array().unwrap().last().unwrap()["body"], "spoken over the cable");

    // A refusal comes back on the same identifier; nothing is posted.
    bobs.speak(room, "   ").await;
    let refused = bobs.next().await;
    assert_eq!(refused["identifier"], identifier(room));
    assert_eq!(refused["message"]["error"]["status"], 422);
    assert!(refused["message"]["error"]["errors"][0].is_string());
    alices.assert_quiet("alice after a refused speak").await;
}

#[tokio::test]
async fn replies_and_reactions_are_performed_and_broadcast_over_the_cable() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    alices.subscribed(room).await;
    let mut bobs = cable(&app, &bob).await;
    bobs.subscribed(room).await;
    alices.speak(room, "the original").await;
    for cable in [&mut alices, &mut bobs] {
        assert_eq!(cable.next().await["message"]["message"]["number"], 1);
    }

    // A reply names the original by number; the broadcast quotes it.
    let data = json!({ "action": "speak", "body": "an answer", "reply_to": 1 }).to_string();
    bobs.send(json!({ "command": "message", "identifier": identifier(room), "data": data })).await;
    for cable in [&mut alices, &mut bobs] {
        let frame = cable.next().await;
        assert_eq!(frame["message"]["event"], "created");
        let reply = &frame["message"]["message"];
        assert_eq!(reply["number"], 2);
        assert_eq!(reply["reply_to"]["number"], 1);
        assert_eq!(reply["reply_to"]["snippet"], "the original");
        assert_eq!(reply["reply_to"]["reply_count"], 1);
    }

    // A reaction: added, then toggled off, each seen by both.
    let react = |on: Option<bool>| {
        let mut data = json!({ "action": "react", "number": 1, "emoji": "🎉" });
        if let Some(on) = on {
            data["on"] = json!(on);
        }
        json!({ "command": "message", "identifier": identifier(room), "data": data.to_string() })
    };
    bobs.send(react(None)).await;
    let mut seqs = Vec::new();
    for cable in [&mut alices, &mut bobs] {
        let frame = cable.next().await;
        assert_eq!(frame["message"]["event"], "reacted", "{frame}");
        let message = &frame["message"]["message"];
        assert_eq!(message["number"], 1);
        assert_eq!(message["conversation_id"], room);
        assert_eq!(message["reactions"][0]["emoji"], "🎉");
        assert_eq!(message["reactions"][0]["count"], 1);
        assert_eq!(message["reactions"][0]["users"][0]["id"], bob.id);
        seqs.push(message["seq"].as_i64().expect("a seq"));
    }
    assert_eq!(seqs[0], seqs[1]);
    // Asking for "on" again changes nothing, so nothing is broadcast.
    bobs.send(react(Some(true))).await;
    alices.assert_quiet("alice after a reaction that was already there").await;
    bobs.send(react(Some(false))).await;
    let off = alices.next().await;
    assert_eq!(off["message"]["event"], "reacted");
    assert_eq!(off["message"]["message"]["reactions"], json!([]));
    assert!(off["message"]["message"]["seq"].as_i64() > Some(seqs[0]));
    let _ = bobs.next().await;

    // REST sees the same state: the original has one reply and no reaction.
    let history = app.history(&alice.client, room, "").await;
    let original = &history["messages"][0];
    assert_eq!(original["reply_count"], 1);
    assert!(original.get("reactions").is_none_or(|r| r == &json!([])), "{original}");

    // Refusals come back on the identifier: an unknown message, a bad emoji,
    // a reply to nothing.
    for (data, status) in [
        (json!({ "action": "react", "number": 99, "emoji": "👍" }), 404),
        (json!({ "action": "react", "number": 1, "emoji": "<b>not one</b>" }), 422),
        (json!({ "action": "speak", "body": "to nothing", "reply_to": 42 }), 422),
    ] {
        bobs.send(json!({ "command": "message", "identifier": identifier(room), "data": data.to_string() })).await;
        let refused = bobs.next().await;
        assert_eq!(refused["message"]["error"]["status"], status, "{data}: {refused}");
    }
    alices.assert_quiet("alice after refused performs").await;
}

#[tokio::test]
async fn malformed_identifiers_and_unknown_commands_are_ignored_or_rejected_and_harm_no_other_subscription() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    alices.subscribed(room).await;

    for bad in ["not json", r#"{"channel":"ChatChannel","conversation_id":1}"#, r#"{"channel":"ConversationsChannel"}"#]
    {
        assert_eq!(alices.subscribe(bad).await, json!({ "identifier": bad, "type": "reject_subscription" }));
    }
    alices.send_text("this is not JSON".into()).await;
    alices.send(json!({ "command": "dance", "identifier": identifier(room) })).await;
    alices.send(json!({ "command": "message", "identifier": identifier(999), "data": "{}" })).await;
    alices.send(json!({ "command": "message", "identifier": identifier(room), "data": "not json" })).await;
    let fly = json!({ "action": "fly" }).to_string();
    alices.send(json!({ "command": "message", "identifier": identifier(room), "data": fly })).await;
    alices.send(json!({ "identifier": identifier(room) })).await;
    alices.assert_quiet("alice after bad commands").await;

    app.send(&bob.client, room, "still here").await;
    assert_eq!(alices.next().await["message"]["message"]["body"], "still here");

    // Unsubscribing stops delivery; subscribing again resumes it.
    alices.send(json!({ "command": "unsubscribe", "identifier": identifier(room) })).await;
    app.send(&bob.client, room, "unheard").await;
    alices.assert_quiet("alice after unsubscribing").await;
    alices.subscribed(room).await;
    app.send(&bob.client, room, "heard again").await;
    assert_eq!(alices.next().await["message"]["message"]["body"], "heard again");
}

#[tokio::test]
async fn identifiers_are_limited_in_length_and_per_room_so_one_cable_cannot_multiply_a_room() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut alices = cable(&app, &alice).await;
    let long =
        json!({ "channel": "ConversationsChannel", "conversation_id": room, "pad": "x".repeat(1100) }).to_string();
    assert_eq!(alices.subscribe(&long).await["type"], "reject_subscription", "an identifier over 1 KiB");
    let named = |i: usize| json!({ "channel": "ConversationsChannel", "conversation_id": room, "i": i }).to_string();
    for i in 0..4 {
        assert_eq!(alices.subscribe(&named(i)).await["type"], "confirm_subscription", "identifier {i}");
    }
    assert_eq!(alices.subscribe(&named(4)).await["type"], "reject_subscription", "a fifth for the same room");
    // The same identifier again is confirmed again (the client resends until
    // confirmed); it is not a new one.
    assert_eq!(alices.subscribe(&named(0)).await["type"], "confirm_subscription");

    app.send(&bob.client, room, "four copies").await;
    let mut heard = Vec::new();
    for _ in 0..4 {
        let frame = alices.next().await;
        assert_eq!(frame["message"]["message"]["body"], "four copies");
        heard.push(frame["identifier"].as_str().unwrap().to_owned());
    }
    heard.sort();
    assert_eq!(heard, (0..4).map(named).collect::<Vec<_>>());
    alices.assert_quiet("alice after four copies").await;

    // Dropping one makes room for another.
    alices.send(json!({ "command": "unsubscribe", "identifier": named(1) })).await;
    assert_eq!(alices.subscribe(&named(4)).await["type"], "confirm_subscription");
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_the_cable_with_1009() {
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let mut alices = cable(&app, &alice).await;

    let huge = "x".repeat(hearth_server::ws::MAX_MESSAGE_BYTES + 1);
    alices.send_text(json!({ "command": "subscribe", "identifier": huge }).to_string()).await;

    match alices.read_within(WAIT).await {
        Read::Closed(code) => assert_eq!(code, Some(1009)),
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test]
async fn signing_out_disconnects_the_cable_as_unauthorized_and_removal_rejects_the_room() {
    let app = spawn_app().await;
    let alice = person(&app, "alice").await;
    let bob = person(&app, "bob").await;
    let carol = person(&app, "carol").await;
    let room = app.conversation_with(&alice.client, &[bob.id, carol.id]).await;
    let mut bobs = cable(&app, &bob).await;
    bobs.subscribed(room).await;

    // Removed from the room: its subscription is rejected, delivery stops.
    let removed =
        alice.client.delete(app.url(&format!("/conversations/{room}/participants/{}", bob.id))).send().await.unwrap();
    assert!(removed.status().is_success(), "{}", removed.status());
    assert_eq!(bobs.next().await, json!({ "identifier": identifier(room), "type": "reject_subscription" }));
    app.send(&alice.client, room, "after bob left").await;
    bobs.assert_quiet("bob after removal").await;

    let out = bob.client.delete(app.url("/users/sign_out")).send().await.unwrap();
    assert!(out.status().is_success());
    assert_eq!(bobs.next().await, json!({ "type": "disconnect", "reason": "unauthorized", "reconnect": false }));
    assert!(matches!(bobs.read_within(WAIT).await, Read::Closed(_)));
}

#[tokio::test]
async fn the_same_live_message_reaches_a_ws_client_and_a_cable_client() {
    let app = spawn_app().await;
    let (alice, bob, room) = pair(&app).await;
    let mut cable = cable(&app, &alice).await;
    cable.subscribed(room).await;
    let mut ws = ws_support::connect(&app, &alice).await;
    ws.subscribe(room, None).await;

    let sent = app.send(&bob.client, room, "to both").await;

    let over_cable = cable.next().await;
    assert_eq!(over_cable["message"]["message"]["id"], sent["id"]);
    match ws.next_skipping_presence().await {
        hearth::protocol::ServerEvent::Message { message, seq, .. } => {
            assert_eq!(json!(message.id), sent["id"]);
            assert_eq!(json!(seq), over_cable["message"]["message"]["seq"]);
        }
        other => panic!("expected the message on /ws, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_shutting_down_tells_cable_clients_to_reconnect() {
    let mut server = spawn_stoppable_app_with(|_| {}).await;
    let alice = person(&server.app, "alice").await;
    let mut alices = cable(&server.app, &alice).await;

    server.stop();

    assert_eq!(alices.next().await, json!({ "type": "disconnect", "reason": "server_restart", "reconnect": true }));
    match alices.read_within(WAIT).await {
        Read::Closed(code) => assert_eq!(code, Some(1012)),
        other => panic!("expected a close, got {other:?}"),
    }
}
