//! A small WebSocket client for the `/ws` tests: signed-in people with their
//! session cookie, connecting with tokio-tungstenite, and reads that always
//! time out instead of hanging.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hearth::model::RoomId;
use hearth::protocol::ServerEvent;
use reqwest::Client;
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Request};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, new_client, session_cookie};

/// How long a frame that should come may take.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long to listen for a frame that should not come.
pub const QUIET: Duration = Duration::from_millis(500);

/// A registered, signed-in user: their id, a cookie-keeping client for REST
/// and the `hearth_session=…` cookie for the socket.
pub struct Person {
    pub id: i64,
    pub client: Client,
    pub cookie: String,
}

/// Registers `username` on a fresh client and keeps its session cookie.
pub async fn person(app: &TestApp, username: &str) -> Person {
    let client = new_client();
    let response = app.register_with(&client, username).await;
    assert_eq!(response.status(), 201, "registering {username}");
    let cookie = session_cookie(response.headers()).expect("registering sets the session cookie");
    let body: Value = response.json().await.expect("json");
    Person { id: body["user"]["id"].as_i64().expect("user id"), client, cookie }
}

/// The upgrade request for `/ws`, with the given `Cookie` and `Origin`.
pub fn ws_request(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Request<()> {
    let url = format!("{}/ws", app.address.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a valid ws url");
    if let Some(cookie) = cookie {
        request.headers_mut().insert("Cookie", HeaderValue::from_str(cookie).expect("cookie header"));
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", HeaderValue::from_str(origin).expect("origin header"));
    }
    request
}

pub async fn try_connect(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let request = ws_request(app, cookie, origin);
    let (inner, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("the handshake finishes in time")?;
    Ok(Ws { inner })
}

/// Opens a socket as `person`, asserting the upgrade succeeds.
pub async fn connect(app: &TestApp, person: &Person) -> Ws {
    try_connect(app, Some(&person.cookie), None).await.expect("the upgrade succeeds")
}

/// Opens a socket whose kernel receive buffer is tiny, so a client that stops
/// reading pushes back on the server quickly.
pub async fn connect_small_buffer(app: &TestApp, person: &Person) -> Ws {
    let addr = app.address.trim_start_matches("http://").parse().expect("socket address");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4 * 1024).expect("SO_RCVBUF");
    let stream = socket.connect(addr).await.expect("tcp connect");
    let request = ws_request(app, Some(&person.cookie), None);
    let (inner, _) =
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.expect("the upgrade succeeds");
    Ws { inner }
}

/// What the next read found. Test-only and short-lived, so the size of the
/// `Event` variant does not matter; boxing it would clutter every match.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Next {
    Event(ServerEvent),
    /// A close frame (its code and reason, if any).
    Closed(Option<CloseFrame>),
    /// The stream ended or failed without a close frame (why, for failure
    /// messages).
    Ended(#[allow(dead_code)] String),
    /// Nothing arrived in time.
    Silent,
}

pub struct Ws {
    pub inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn send_json(&mut self, event: Value) {
        let text = event.to_string();
        self.inner.send(Message::text(text)).await.expect("the frame is sent");
    }

    /// Sends `subscribe` and waits for `subscribed`, returning the events
    /// before it (the replay and nothing else but presence).
    pub async fn subscribe(&mut self, room: i64, after: Option<i64>) -> Vec<ServerEvent> {
        self.send_json(json!({ "type": "subscribe", "room_id": room, "after": after })).await;
        self.until_subscribed(room).await
    }

    /// Reads up to the `subscribed` marker of `room`, returning what came before.
    pub async fn until_subscribed(&mut self, room: i64) -> Vec<ServerEvent> {
        let mut before = Vec::new();
        loop {
            match self.next().await {
                ServerEvent::Subscribed { room_id, .. } if room_id == RoomId(room) => return before,
                ServerEvent::Error { code, message, .. } => panic!("subscribing to {room}: {code}: {message}"),
                other => before.push(other),
            }
        }
    }

    /// The next frame within `wait`, pings and pongs skipped.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let read = match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return Next::Silent,
                Ok(read) => read,
            };
            return match read {
                Some(Ok(Message::Text(text))) => Next::Event(
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("an unreadable server frame ({e}): {text}")),
                ),
                Some(Ok(Message::Close(frame))) => Next::Closed(frame),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("an unexpected frame: {other:?}"),
                Some(Err(err)) => Next::Ended(err.to_string()),
                None => Next::Ended("end of stream".into()),
            };
        }
    }

    /// The next event, failing the test if none comes within [`WAIT`].
    pub async fn next(&mut self) -> ServerEvent {
        match self.next_within(WAIT).await {
            Next::Event(event) => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The next event that is not `presence` (whose timing is not under test).
    pub async fn next_skipping_presence(&mut self) -> ServerEvent {
        loop {
            match self.next().await {
                ServerEvent::Presence { .. } => continue,
                event => return event,
            }
        }
    }

    /// The next event with a seq (a change to the room's messages),
    /// skipping presence, markers and the like; an error frame fails.
    pub async fn next_change(&mut self) -> ServerEvent {
        loop {
            match self.next().await {
                event if event.seq().is_some() => return event,
                ServerEvent::Error { code, message, .. } => panic!("{code}: {message}"),
                _ => continue,
            }
        }
    }

    /// Asserts that no event except `presence` arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration, who: &str) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Next::Silent => return,
                Next::Event(ServerEvent::Presence { .. }) => continue,
                other => panic!("{who} expected nothing, got {other:?}"),
            }
        }
    }

    /// Reads until the server closes, returning the close code and every
    /// event that came first.
    pub async fn until_closed(&mut self) -> (Option<u16>, Vec<ServerEvent>) {
        let mut events = Vec::new();
        loop {
            match self.next_within(WAIT).await {
                Next::Event(event) => events.push(event),
                Next::Closed(frame) => return (frame.map(|f| u16::from(f.code)), events),
                other => panic!("expected a close frame, got {other:?} after {} events", events.len()),
            }
        }
    }
}

/// This process's resident memory in bytes (the server runs inside it).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}
