//! Connections that misbehave: stalled heads and bodies, too many sockets
//! from one address, oversized request heads, and shutdown with requests and
//! WebSockets open. Raw sockets where a well-behaved client can't do it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::Client;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::helpers::{TestApp, assert_error, spawn_app_with, spawn_stoppable_app_with};
use crate::ws_support::{connect, person};

/// A second loopback address: another "client" for the per-IP limit.
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Slack on every timing assertion (the suite shares two cores).
const MARGIN: Duration = Duration::from_secs(3);

fn server_addr(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().expect("socket address")
}

/// A raw connection to the app from `source` (127.0.0.1 when `None`).
async fn open(app: &TestApp, source: Option<IpAddr>) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0)).expect("bind the source address");
    }
    socket.connect(server_addr(app)).await.expect("tcp connect")
}

/// Reads until the server closes the connection, for at most `within`:
/// what it sent and when it closed, or `None` if it was still open.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(started + within, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some((received, started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends one `GET /healthz` and reads the response head; true if it is a 200.
async fn healthz_on(stream: &mut TcpStream) -> bool {
    if stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.is_err() {
        return false;
    }
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(MARGIN, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    received.starts_with(b"HTTP/1.1 200")
}

/// A `POST /users/sign_in` whose body stops after 10 of its 100 bytes.
async fn half_a_body(app: &TestApp) -> TcpStream {
    let mut stream = open(app, None).await;
    let head = "POST /users/sign_in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.write_all(br#"{"user": {"#).await.expect("part of the body sent");
    stream
}

/// Status code and JSON body of a raw HTTP/1.1 response with a
/// `content-length` (what axum's `Json` sends).
fn parse_response(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("a response head: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("a JSON body ({e}): {body:?}"));
    (status, body)
}

fn client_from(ip: IpAddr) -> Client {
    Client::builder().local_address(ip).build().expect("client")
}

#[tokio::test]
async fn a_client_that_sends_half_its_headers_and_stops_is_disconnected_at_the_header_timeout() {
    // Arrange
    let app = spawn_app_with(|c| c.header_read_timeout_secs = 1).await;
    let mut stream = open(&app, None).await;

    // Act
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.expect("half a head sent");
    let closed = until_closed(&mut stream, Duration::from_secs(1) + MARGIN).await;

    // Assert
    let (received, after) = closed.expect("the server closes the connection within the header timeout");
    assert!(!received.starts_with(b"HTTP/1.1 200"), "no answer to half a request");
    assert!(after >= Duration::from_millis(800), "closed by the timeout, not at once: {after:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_header_timeout() {
    // Arrange
    let app = spawn_app_with(|c| c.header_read_timeout_secs = 1).await;
    let mut stream = open(&app, None).await;
    assert!(healthz_on(&mut stream).await, "a first request is answered");

    // Act
    let closed = until_closed(&mut stream, Duration::from_secs(1) + MARGIN).await;

    // Assert
    assert!(closed.is_some(), "an idle connection does not stay open for ever");
}

#[tokio::test]
async fn a_request_body_that_stalls_is_answered_408_in_json_and_the_connection_closed() {
    // Arrange
    let app = spawn_app_with(|c| c.body_read_timeout_secs = 1).await;

    // Act
    let mut stream = half_a_body(&app).await;
    let closed = until_closed(&mut stream, Duration::from_secs(1) + MARGIN).await;

    // Assert
    let (received, after) = closed.expect("the server answers and closes within the body timeout");
    let (status, body) = parse_response(&received);
    assert_eq!(status, 408, "{body}");
    assert!(body["errors"][0].as_str().is_some_and(|e| e.contains("stalled")), "{body}");
    assert!(after >= Duration::from_millis(800), "answered at the timeout: {after:?}");
}

#[tokio::test]
async fn connections_over_the_per_ip_limit_are_closed_at_once_while_other_addresses_are_served() {
    // Arrange: three keep-alive connections from 127.0.0.1 fill its quota.
    let app = spawn_app_with(|c| c.max_connections_per_ip = 3).await;
    let mut held = Vec::new();
    for i in 0..3 {
        let mut stream = open(&app, None).await;
        assert!(healthz_on(&mut stream).await, "connection {i} within the limit is served");
        held.push(stream);
    }

    // Act
    let mut fourth = open(&app, None).await;
    let _ = fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    let refused = until_closed(&mut fourth, MARGIN).await;
    let other = client_from(OTHER_CLIENT).get(app.url("/healthz")).send().await.expect("request sent");

    // Assert
    let (received, _) = refused.expect("the fourth connection is closed at once");
    assert!(received.is_empty(), "closed without an answer: {:?}", String::from_utf8_lossy(&received));
    assert_eq!(other.status(), 200, "another address is not affected");

    // Once one of the three closes, 127.0.0.1 may connect again.
    drop(held.pop());
    let deadline = Instant::now() + MARGIN;
    loop {
        let mut again = open(&app, None).await;
        if healthz_on(&mut again).await {
            break;
        }
        assert!(Instant::now() < deadline, "a freed place is given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn healthz_answers_promptly_while_200_stalled_connections_are_open_and_those_are_cut_at_the_header_timeout() {
    // Arrange: 200 connections from one address, each stalled in its head.
    let app = spawn_app_with(|c| {
        c.header_read_timeout_secs = 2;
        c.max_connections_per_ip = 100;
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = open(&app, None).await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: local").await.expect("half a head sent");
        stalled.push(stream);
    }

    // Act
    let started = Instant::now();
    let health = client_from(OTHER_CLIENT).get(app.url("/healthz")).send().await.expect("request sent");
    let answered_in = started.elapsed();
    let closing = stalled.iter_mut().map(|s| until_closed(s, Duration::from_secs(2) + MARGIN));
    let closed = futures_util::future::join_all(closing).await;

    // Assert
    assert_eq!(health.status(), 200);
    assert!(answered_in < Duration::from_secs(2), "/healthz took {answered_in:?}");
    let still_open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(still_open, 0, "every stalled connection is closed by the header timeout");
    let mut after = open(&app, None).await;
    assert!(healthz_on(&mut after).await, "the stalled address is served again once they are gone");
}

#[tokio::test]
async fn an_over_long_request_target_is_414_with_a_json_body() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let long = format!("/healthz?pad={}", "a".repeat(8 * 1024));
    let fits = format!("/healthz?pad={}", "a".repeat(7 * 1024));

    // Act
    let refused = app.client.get(app.url(&long)).send().await.expect("request sent");
    let served = app.client.get(app.url(&fits)).send().await.expect("request sent");

    // Assert
    assert_error(refused, 414).await;
    assert_eq!(served.status(), 200, "a long target within the limit is served");
}

#[tokio::test]
async fn oversized_or_too_many_request_headers_are_431_with_a_json_body() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;

    // Act
    let big = app.client.get(app.url("/healthz")).header("X-Big", "a".repeat(17 * 1024)).send().await;
    let mut many = app.client.get(app.url("/healthz"));
    for i in 0..120 {
        many = many.header(format!("X-Header-{i}"), "1");
    }
    let many = many.send().await;
    let fits = app.client.get(app.url("/healthz")).header("X-Big", "a".repeat(12 * 1024)).send().await;

    // Assert
    assert_error(big.expect("request sent"), 431).await;
    assert_error(many.expect("request sent"), 431).await;
    assert_eq!(fits.expect("request sent").status(), 200, "large headers within the limit are served");
}

#[tokio::test]
async fn a_stalled_request_does_not_keep_the_server_alive_past_the_shutdown_deadline() {
    // Arrange: a request whose body will take longer than the deadline.
    let mut stoppable = spawn_stoppable_app_with(|c| c.shutdown_timeout_secs = 1).await;
    let addr = server_addr(&stoppable.app);
    let mut stalled = half_a_body(&stoppable.app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act
    let started = Instant::now();
    stoppable.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let new_connection = TcpStream::connect(addr).await;
    let finished = tokio::time::timeout(Duration::from_secs(1) + MARGIN, &mut stoppable.server).await;
    let took = started.elapsed();

    // Assert
    assert!(new_connection.is_err(), "no new connections once shutdown has begun");
    let result = finished.expect("the server returns within the deadline");
    result.expect("the server task finished").expect("run_until returns Ok");
    assert!(took >= Duration::from_millis(700), "the request in flight was given the deadline: {took:?}");
    // The deadline is the whole shutdown's, dropping the stalled connection
    // and stopping the push worker included (a little slack for the test).
    assert!(took <= Duration::from_millis(1_000 + 400), "the server returned {took:?} after the signal (deadline 1 s)");
    assert!(until_closed(&mut stalled, MARGIN).await.is_some(), "the stalled connection is dropped");
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_is_answered_and_then_the_server_exits_without_waiting_for_the_deadline() {
    // Arrange
    let mut stoppable = spawn_stoppable_app_with(|c| c.shutdown_timeout_secs = 30).await;
    let mut in_flight = half_a_body(&stoppable.app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act: shutdown begins, then the body's last 90 bytes arrive.
    stoppable.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rest = format!(r#""email": "nobody@example.com", "password": "wrong"}}}}{}"#, " ".repeat(38));
    assert_eq!(rest.len(), 90, "the declared length");
    in_flight.write_all(rest.as_bytes()).await.expect("rest of the body sent");
    let answer = until_closed(&mut in_flight, MARGIN).await;
    let finished = tokio::time::timeout(MARGIN, &mut stoppable.server).await;

    // Assert
    let (received, _) = answer.expect("answered, then closed");
    let (status, body) = parse_response(&received);
    assert_eq!(status, 401, "the request was handled: {body}");
    finished.expect("the server exits well before the deadline").expect("joined").expect("Ok");
}

#[tokio::test]
async fn open_websockets_are_closed_with_1012_service_restart_at_shutdown() {
    // Arrange
    let mut stoppable = spawn_stoppable_app_with(|_| {}).await;
    let alice = person(&stoppable.app, "alice").await;
    let mut ws = connect(&stoppable.app, &alice).await;

    // Act
    stoppable.stop();
    let (code, _) = ws.until_closed().await;
    let finished = tokio::time::timeout(MARGIN, &mut stoppable.server).await;

    // Assert
    assert_eq!(code, Some(1012), "service restart: reconnect at once");
    finished.expect("the server exits once the socket is closed").expect("joined").expect("Ok");
}

#[tokio::test]
async fn behind_a_proxy_the_per_ip_limit_is_left_to_the_proxy() {
    // Arrange: every connection comes from the proxy's one address.
    let app = spawn_app_with(|c| {
        c.max_connections_per_ip = 1;
        c.client_ip_source = axum_client_ip::ClientIpSource::RightmostXForwardedFor;
    })
    .await;
    let mut first = open(&app, None).await;
    assert!(healthz_on(&mut first).await);

    // Act
    let mut second = open(&app, None).await;

    // Assert
    assert!(healthz_on(&mut second).await, "a second connection from the proxy is served");
}
