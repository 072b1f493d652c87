//! The WebSocket clients: connect (optionally from another loopback source
//! address), upgrade with the session cookie, subscribe, then read frames
//! until the process ends, recording every `message` frame.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::COOKIE;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::{Run, parse_digits};

pub type Socket = WebSocketStream<TcpStream>;

/// Where and as whom the clients connect.
pub struct Target {
    /// Each instance's `host:port` as written in its URL (for the request
    /// line's Host) and address: socket `i` goes to the `i % n`-th.
    pub instances: Vec<(String, SocketAddr)>,
    pub cookies: Vec<String>,
    pub room: i64,
    /// Extra loopback source addresses (127.0.0.2…) to spread sockets over;
    /// 0 lets the kernel pick (127.0.0.1, about 28k ports).
    pub sources: u32,
    /// Connect to `/cable` (ActionCable) instead of `/ws`.
    pub cable: bool,
}

/// The seq a `/cable` subscription starts at: unknown (ActionCable's
/// confirmation carries none), so the first message sets it.
pub const UNKNOWN_SEQ: i64 = -1;

fn config() -> WebSocketConfig {
    // Small buffers: frames here are a few hundred bytes, and 10k+ sockets
    // with tungstenite's 128 KiB defaults would dwarf the server's memory.
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0)
}

/// Opens socket `i`, upgrades and subscribes; returns the socket and the
/// room's seq as of the `subscribed` frame.
pub async fn connect(i: usize, target: &Target) -> Result<(Socket, i64), String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if target.sources > 0 {
        let last = 2 + (i as u32 % target.sources);
        let source = Ipv4Addr::new(127, 0, 0, last as u8);
        socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).map_err(|e| format!("bind {source}: {e}"))?;
    }
    let (authority, addr) = &target.instances[i % target.instances.len()];
    let stream = socket.connect(*addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;

    let path = if target.cable { "cable" } else { "ws" };
    let mut request = format!("ws://{authority}/{path}").into_client_request().map_err(|e| e.to_string())?;
    let cookie = &target.cookies[i % target.cookies.len()];
    request.headers_mut().insert(COOKIE, HeaderValue::from_str(cookie).map_err(|e| e.to_string())?);
    if target.cable {
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("actioncable-v1-json"));
    }
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
        .await
        .map_err(|e| format!("upgrade: {e}"))?;

    let subscribe = if target.cable {
        let identifier = format!(r#"{{"channel":"ConversationsChannel","conversation_id":{}}}"#, target.room);
        serde_json::json!({ "command": "subscribe", "identifier": identifier }).to_string()
    } else {
        format!(r#"{{"type":"subscribe","room_id":{},"after":null}}"#, target.room)
    };
    ws.send(Message::text(subscribe)).await.map_err(|e| format!("send subscribe: {e}"))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let bytes = text.as_bytes();
                if bytes.starts_with(br#"{"type":"subscribed""#) {
                    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                    return Ok((ws, value["seq"].as_i64().unwrap_or(0)));
                }
                if memchr::memmem::find(bytes, br#""type":"confirm_subscription""#).is_some() {
                    return Ok((ws, UNKNOWN_SEQ));
                }
                if bytes.starts_with(br#"{"type":"error""#)
                    || memchr::memmem::find(bytes, br#""type":"reject_subscription""#).is_some()
                {
                    return Err(format!("subscribe refused: {text}"));
                }
            }
            Some(Ok(Message::Close(frame))) => return Err(format!("closed while subscribing: {frame:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("while subscribing: {e}")),
            None => return Err("closed while subscribing".into()),
        }
    }
}

/// A new message: `/ws`'s `message` event, or `/cable`'s `created` broadcast.
fn is_new_message(frame: &[u8]) -> bool {
    frame.starts_with(br#"{"type":"message","#)
        || (frame.starts_with(br#"{"identifier":"#) && memchr::memmem::find(frame, br#""event":"created""#).is_some())
}

/// Reads socket `i` until it closes, recording deliveries. `last_seq` is the
/// seq the subscription started at; each later `message` must be exactly
/// the next one.
pub async fn read_loop(i: usize, mut ws: Socket, mut last_seq: i64, run: Arc<Run>) {
    let c = &run.counters;
    while let Some(item) = ws.next().await {
        match item {
            Ok(Message::Text(text)) => {
                let now = run.now_ns();
                let frame = text.as_bytes();
                if is_new_message(frame) {
                    let seq = seq_of(frame).unwrap_or(0);
                    if last_seq == UNKNOWN_SEQ {
                        last_seq = seq - 1;
                    }
                    if seq <= last_seq {
                        c.duplicates.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if seq > last_seq + 1 {
                        c.seq_gaps.fetch_add((seq - last_seq - 1) as u64, Ordering::Relaxed);
                    }
                    last_seq = seq;
                    match run.message_number(frame) {
                        Some(n) => run.delivered(i, n, now),
                        None => {
                            c.foreign.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                } else if frame.starts_with(br#"{"type":"resync""#) {
                    c.resyncs.fetch_add(1, Ordering::Relaxed);
                } else if frame.starts_with(br#"{"type":"error""#) {
                    c.error_frames.fetch_add(1, Ordering::Relaxed);
                    run.note_error(format!("socket {i}: {text}"));
                }
            }
            Ok(Message::Close(frame)) => {
                c.closed.fetch_add(1, Ordering::Relaxed);
                run.note_error(format!("socket {i} closed by the server: {frame:?}"));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                c.closed.fetch_add(1, Ordering::Relaxed);
                run.note_error(format!("socket {i}: {e}"));
                return;
            }
        }
    }
    c.closed.fetch_add(1, Ordering::Relaxed);
}

/// The `"seq":N` of a change frame: `/ws`'s top-level one (it precedes the
/// message object), `/cable`'s inside the message (the only one).
fn seq_of(frame: &[u8]) -> Option<i64> {
    let at = memchr::memmem::find(frame, br#""seq":"#)? + 6;
    parse_digits(&frame[at..]).map(|n| n as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_top_level_seq() {
        let frame = br#"{"type":"message","room_id":1,"seq":341,"message":{"id":977}}"#;
        assert_eq!(super::seq_of(frame), Some(341));
    }

    #[test]
    fn tells_new_messages_on_both_protocols() {
        assert!(super::is_new_message(br#"{"type":"message","room_id":1,"seq":3}"#));
        let cable = br#"{"identifier":"{\"channel\":\"ConversationsChannel\"}","message":{"event":"created","message":{"seq":3}}}"#;
        assert!(super::is_new_message(cable));
        assert_eq!(super::seq_of(cable), Some(3));
        assert!(!super::is_new_message(br#"{"identifier":"x","message":{"event":"edited"}}"#));
        assert!(!super::is_new_message(br#"{"type":"ping","message":1}"#));
    }
}
