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
    pub addr: SocketAddr,
    /// `host:port` as written in `--url`, for the request line's Host.
    pub authority: String,
    pub cookies: Vec<String>,
    pub room: i64,
    /// Extra loopback source addresses (127.0.0.2…) to spread sockets over;
    /// 0 lets the kernel pick (127.0.0.1, about 28k ports).
    pub sources: u32,
}

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
    let stream = socket.connect(target.addr).await.map_err(|e| format!("connect {}: {e}", target.addr))?;
    stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;

    let mut request = format!("ws://{}/ws", target.authority).into_client_request().map_err(|e| e.to_string())?;
    let cookie = &target.cookies[i % target.cookies.len()];
    request.headers_mut().insert(COOKIE, HeaderValue::from_str(cookie).map_err(|e| e.to_string())?);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config()))
        .await
        .map_err(|e| format!("upgrade: {e}"))?;

    let subscribe = format!(r#"{{"type":"subscribe","room_id":{},"after":null}}"#, target.room);
    ws.send(Message::text(subscribe)).await.map_err(|e| format!("send subscribe: {e}"))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let bytes = text.as_bytes();
                if bytes.starts_with(br#"{"type":"subscribed""#) {
                    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
                    return Ok((ws, value["seq"].as_i64().unwrap_or(0)));
                }
                if bytes.starts_with(br#"{"type":"error""#) {
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
                if frame.starts_with(br#"{"type":"message","#) {
                    let seq = seq_of(frame).unwrap_or(0);
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

/// The top-level `"seq":N` of a change frame (it precedes the message object).
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
}
