//! `GET /ws`: one WebSocket per tab. The upgrade is refused without a
//! session (401) or from a foreign `Origin` (403). Each connection is one
//! task that `select!`s over the socket, its room subscriptions, its user's
//! signals and a ping timer, so an idle connection costs one small task and
//! a 1 KiB read buffer (the request handling future is boxed, so its size is
//! paid only while a request runs).
//!
//! Every frame already queued for a socket when it wakes is written into one
//! buffer and sent with one write. Room frames that arrive within the write
//! delay (`HEARTH_WS_WRITE_DELAY_MS`, 16 ms) of the socket's last write wait
//! for it and share the next write: in a busy room a socket gets a few
//! larger writes instead of one per message, which is most of the server's
//! cost (each send is ~7 µs of kernel time here). A quiet room's messages,
//! and replies to the client's own events, go out at once. A connection that
//! falls a room channel's capacity behind gets `resync` for that room instead
//! of unbounded buffering, and one whose client reads nothing for the write
//! timeout is dropped.
//!
//! When the server shuts down every connection closes with 1012 ("service
//! restart", so clients reconnect at once): each holds [`Shutdown::begun`] in its loop, and runs under
//! [`Shutdown::track`] so the server waits for that close (up to its
//! shutdown deadline).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::{FutureExt, SinkExt, StreamExt};
use hearth::auth::{AuthSession, AuthUser};
use hearth::hub::{Frame, UserSignal};
use hearth::model::{RoomId, UserId};
use hearth::protocol::{ClientEvent, RoomChange, ServerEvent};
use hearth::{AppError, Hearth};
use tokio::sync::broadcast::Receiver;
use tokio::time::Sleep;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::error::ApiError;
use crate::origin::{Scheme, is_own_origin, warn_if_other_scheme};
use crate::serve::Shutdown;
use crate::state::AppState;

/// Largest frame or message a client may send (a 10,000-character message
/// in JSON fits with room to spare).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const PING_EVERY: Duration = Duration::from_secs(20);
/// Frames written before one flush.
const COALESCE: usize = 64;
/// Read buffer per connection, allocated when the socket opens: client
/// events are small (a subscribe, a typing or read event, a chat message's
/// text), and a larger frame grows it on demand (up to `MAX_MESSAGE_BYTES`).
/// Every idle socket holds it, so it is 10,000 sockets' 5 MB from 1 KiB.
const READ_BUFFER: usize = 512;
/// Frames are buffered up to this size before a write; `flush` sends the rest.
const WRITE_BUFFER: usize = 64 * 1024;
/// Longest wait to send a close frame: a client that is not reading gets none.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// `GET /ws?user=ID`: the account the client's page is for, if it says.
#[derive(serde::Deserialize)]
struct UpgradeParams {
    user: Option<String>,
}

/// Why a socket for one account is refused a session of another's.
pub const SOMEONE_ELSE: &str = "This browser is signed in as someone else now";

async fn upgrade(
    State(hearth): State<Hearth>,
    State(shutdown): State<Shutdown>,
    session: AuthSession,
    Extension(scheme): Extension<Scheme>,
    headers: HeaderMap,
    Query(params): Query<UpgradeParams>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = refuse_cross_site(&headers, scheme) {
        return refusal;
    }
    let Some(user) = session.user.clone() else {
        return ApiError::from(AppError::Unauthorized(crate::extract::SIGN_IN_FIRST.into())).into_response();
    };
    // A page made for one account, reconnecting after its user signed out
    // and someone else signed in on the same browser (a tab asleep
    // meanwhile), must not carry on as the new one: 409, and it reloads.
    if params.user.is_some_and(|expected| expected.trim() != user.id.0.to_string()) {
        return ApiError::from(AppError::Conflict(SOMEONE_ELSE.into())).into_response();
    }
    let session_id = hearth::auth::stored_session_id(&session.session).unwrap_or_default();
    // Before the 101: what is sent to the user from now on reaches this socket.
    let signals = hearth.user_signals(user.id);
    limited(ws).on_upgrade(move |socket| {
        shutdown.clone().track(async move {
            let _open = hearth::metrics::OpenSocket::new(hearth::metrics::Endpoint::Ws);
            let user_id = user.id;
            let tab = Tab { socket: hearth.tab_opened(), shows_room: AtomicBool::new(false) };
            let connection = Connection { hearth: hearth.clone(), user, session_id, tab };
            // Boxed: passed by value into `while_present`, the loop's
            // future (with the socket in it) was laid out in this task's
            // state more than once (a debug build's task: 5,544 bytes
            // unboxed, 840 plus the 1,576 of the box).
            let run = Box::pin(connection.run(socket, &shutdown, signals));
            while_present(&hearth, user_id, run).await;
            // Boxed, as the presence update in `while_present`: a database
            // future inline would be part of every idle connection's state.
            Box::pin(connection.close_tab()).await;
        })
    })
}

/// 403 with a JSON body for a browser on another origin ([`same_origin`]),
/// as every WebSocket endpoint answers one.
pub(crate) fn refuse_cross_site(headers: &HeaderMap, scheme: Scheme) -> Option<Response> {
    let refusal = serde_json::json!({ "errors": ["Cross-site WebSocket refused"] });
    (!same_origin(headers, scheme)).then(|| (StatusCode::FORBIDDEN, axum::Json(refusal)).into_response())
}

/// The frame limits and buffers every WebSocket endpoint upgrades with.
pub(crate) fn limited(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
}

/// Runs a signed-in user's `connection`, counting the socket for presence
/// while it is open (`connection` boxed: a future this size passed by
/// value is laid out more than once in the caller's state). The presence update is
/// boxed too: its database future would otherwise be part of the task's
/// state for the socket's whole life.
pub(crate) async fn while_present(hearth: &Hearth, user: UserId, connection: Pin<Box<impl Future<Output = ()>>>) {
    if let Err(err) = Box::pin(hearth.socket_opened(user)).await {
        tracing::warn!(error = %err, "presence on open failed");
    }
    connection.await;
    hearth.socket_closed(user);
}

/// Browsers always send `Origin` on a WebSocket; it must be this server,
/// scheme included ([`crate::origin::is_own_origin`]). Clients that send none
/// (CLI tools) are allowed, like curl on the REST API.
pub(crate) fn same_origin(headers: &HeaderMap, scheme: Scheme) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let own = origin.to_str().is_ok_and(|origin| is_own_origin(origin, headers, scheme));
    if !own {
        warn_if_other_scheme(origin, headers, scheme);
    }
    own
}

struct Connection {
    hearth: Hearth,
    user: AuthUser,
    session_id: String,
    tab: Tab,
}

/// This socket as a tab, for Web Push: which room it shows (`viewing`) is a
/// row in the shared database (`Hearth::viewing`), named by `socket`.
struct Tab {
    socket: i64,
    /// Whether that row exists, so a socket that never said deletes nothing.
    shows_room: AtomicBool,
}

impl Connection {
    /// The socket closed: its tab shows nothing any more.
    async fn close_tab(&self) {
        if self.tab.shows_room.load(Ordering::Relaxed)
            && let Err(err) = self.hearth.tab_closed(self.user.id, self.tab.socket).await
        {
            tracing::warn!(error = %err, "forgetting a closed tab's room failed");
        }
    }
}

/// Why the loop ended, and the close frame to send.
pub(crate) enum Close {
    Quietly,
    With(u16, &'static str),
}

/// The rooms one socket follows: each room's live stream, and the last seq
/// delivered on it. The hub sends a room's changes in seq order (across
/// instances too), so a live frame at or below that seq is one a replay
/// already sent, and is dropped.
#[derive(Default)]
struct Subscriptions {
    streams: StreamMap<RoomId, BroadcastStream<Frame>>,
    delivered: HashMap<RoomId, i64>,
}

impl Subscriptions {
    /// Follows `room` live from `live`, its replay having ended at `seq`.
    fn follow(&mut self, room: RoomId, live: Receiver<Frame>, seq: i64) {
        self.delivered.insert(room, seq);
        self.streams.insert(room, BroadcastStream::new(live));
    }

    /// Stops following `room` (unsubscribed, removed, or too far behind).
    /// Stops following `room`; whether it was followed.
    fn stop(&mut self, room: RoomId) -> bool {
        self.delivered.remove(&room);
        self.streams.remove(&room).is_some()
    }

    /// The last seq delivered, if `room` is followed live.
    fn live_at(&self, room: RoomId) -> Option<i64> {
        self.streams.contains_key(&room).then(|| self.delivered.get(&room).copied()).flatten()
    }

    /// The next live frame of any room.
    async fn next(&mut self) -> Option<(RoomId, Result<Frame, BroadcastStreamRecvError>)> {
        self.streams.next().await
    }

    /// A live frame for `room`: into `out` unless the replay already sent
    /// it; a lag becomes `resync` and the room is dropped.
    fn route(&mut self, room: RoomId, item: Result<Frame, BroadcastStreamRecvError>, out: &mut Vec<Frame>) {
        match item {
            Ok(frame) => match frame.seq {
                Some(seq) => {
                    let last = self.delivered.entry(room).or_insert(0);
                    if seq > *last {
                        *last = seq;
                        out.push(frame);
                    }
                }
                None => out.push(frame),
            },
            Err(BroadcastStreamRecvError::Lagged(lost)) => {
                hearth::metrics::frames_dropped(lost);
                hearth::metrics::resync_sent("ws");
                self.stop(room);
                out.push(Frame::new(&ServerEvent::Resync { room_id: room }));
            }
        }
    }

    /// Routes the room frames already waiting, until `out` holds `COALESCE`.
    fn drain_ready(&mut self, out: &mut Vec<Frame>) {
        while out.len() < COALESCE {
            match self.streams.next().now_or_never() {
                Some(Some((room, item))) => self.route(room, item, out),
                _ => break,
            }
        }
    }
}

/// What waits to be written to one socket, and when it goes ([`Pacer`]).
struct Outbox {
    frames: Vec<Frame>,
    pacer: Pacer,
}

impl Outbox {
    /// Writes the waiting frames if their time has come (`urgent`: replies,
    /// signals and pings, which never wait); false if the socket failed.
    async fn write(&mut self, socket: &mut WebSocket, urgent: bool, hearth: &Hearth, user: UserId) -> bool {
        if self.frames.is_empty() || !self.pacer.write_now(urgent, self.frames.len()) {
            return true;
        }
        let written = write_in_time(socket, &mut self.frames, hearth, user).await;
        self.pacer.wrote();
        written
    }
}

impl Connection {
    /// `signals` is the user's channel, subscribed before the upgrade was
    /// answered, so that nothing sent to the user once the client has its
    /// socket is missed.
    async fn run(&self, mut socket: WebSocket, shutdown: &Shutdown, signals: Receiver<UserSignal>) {
        let mut subs = Subscriptions::default();
        // A stream keeps its waiter registered between wake-ups, where a fresh
        // `recv()` future per loop would register and unregister every time.
        let mut signals = BroadcastStream::new(signals);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut awaiting_pong = false;
        let mut out = Outbox { frames: Vec::new(), pacer: Pacer::new(&self.hearth) };
        let going_away = shutdown.begun();
        tokio::pin!(going_away);

        let close = loop {
            // Replies, signals and pings go out at once; only room frames wait.
            let mut urgent = true;
            tokio::select! {
                // Shutdown, then the socket: a client's events (and pongs) must
                // not wait behind a busy room; the other branches are cheap to poll.
                biased;
                () = &mut going_away => break Close::With(close_code::RESTART, "server restarting"),
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<ClientEvent>(&text) {
                            // Boxed: its database futures would otherwise be
                            // part of every idle connection's state.
                            Ok(event) => Box::pin(self.handle(event, &mut subs, &mut out.frames)).await,
                            Err(err) => out.frames.push(error_frame("bad_request", &format!("Unreadable event: {err}"), None, None)),
                        }
                    }
                    // Events are JSON text; a binary frame is told so,
                    // as an unreadable text frame is, not dropped unseen.
                    Some(Ok(Message::Binary(_))) => out.frames.push(error_frame(
                        "bad_request",
                        "Unreadable event: events are JSON in text frames, not binary ones",
                        None,
                        None,
                    )),
                    Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                    Some(Ok(Message::Close(_))) | None => break Close::Quietly,
                    Some(Ok(_)) => {}
                    Some(Err(err)) => break read_error(&err),
                },
                signal = signals.next() => match signal {
                    Some(Ok(UserSignal::Frame(frame))) => out.frames.push(frame),
                    Some(Ok(UserSignal::SessionEnded(id))) if id == self.session_id => {
                        break Close::With(close_code::POLICY, "signed out");
                    }
                    Some(Ok(UserSignal::SessionEnded(_))) => {}
                    Some(Ok(UserSignal::AccountClosed)) => break Close::With(close_code::POLICY, "account deactivated"),
                    Some(Ok(UserSignal::SessionsEndedExcept(kept))) if kept != self.session_id => {
                        break Close::With(close_code::POLICY, "signed out");
                    }
                    Some(Ok(UserSignal::SessionsEndedExcept(_))) => {}
                    Some(Ok(UserSignal::RecheckSession)) => {
                        if !self.hearth.session_alive(&self.session_id).await {
                            break Close::With(close_code::POLICY, "signed out");
                        }
                    }
                    Some(Ok(UserSignal::RoomRemoved(room))) => {
                        subs.stop(room);
                    }
                    // Found by reading the database: no removal event came.
                    Some(Ok(UserSignal::LostRoom(room))) => {
                        if subs.stop(room) {
                            out.frames.push(Frame::new(&ServerEvent::room(room, RoomChange::Removed)));
                        }
                    }
                    // Signals were lost while a write waited on a slow
                    // reader, and one may have been a sign-out or a removal:
                    // the client reconnects, and is checked afresh.
                    Some(Err(BroadcastStreamRecvError::Lagged(lost))) => {
                        hearth::metrics::frames_dropped(lost);
                        break Close::With(close_code::AWAY, "fell behind");
                    }
                    None => break Close::Quietly,
                },
                // After the user's signals: a sign-out or a removal is
                // acted on before any room frame that came after it.
                Some((room, item)) = subs.next() => {
                    urgent = false;
                    subs.route(room, item, &mut out.frames);
                    // Coalesce whatever else is already queued into this write.
                    subs.drain_ready(&mut out.frames);
                }
                _ = ping.tick() => {
                    if awaiting_pong {
                        break Close::With(close_code::AWAY, "no pong");
                    }
                    awaiting_pong = true;
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        break Close::Quietly;
                    }
                }
                () = out.pacer.held(), if out.pacer.holding() => out.pacer.released(),
            }
            if !out.write(&mut socket, urgent, &self.hearth, self.user.id).await {
                break Close::Quietly;
            }
        };
        if let Close::With(code, reason) = close {
            Box::pin(send_close(&mut socket, code, reason)).await;
        }
    }

    async fn handle(&self, event: ClientEvent, subs: &mut Subscriptions, out: &mut Vec<Frame>) {
        let me = self.user.id;
        match event {
            ClientEvent::Subscribe { room_id, after } => {
                // Already live on this socket: replay what was asked, keep the stream.
                if let Some(upto) = subs.live_at(room_id) {
                    match self.hearth.catch_up(me, room_id, after, upto).await {
                        Ok((frames, resync)) => {
                            if resync {
                                hearth::metrics::resync_sent("ws");
                                subs.stop(room_id);
                            }
                            out.extend(frames)
                        }
                        Err(err) => out.push(app_error_frame(&err, None, Some(room_id))),
                    }
                    return;
                }
                match self.hearth.subscribe(me, room_id, after).await {
                    Ok(subscription) if subscription.resync => {
                        hearth::metrics::resync_sent("ws");
                        out.extend(subscription.replay)
                    }
                    Ok(subscription) => {
                        subs.follow(room_id, subscription.live, subscription.seq);
                        out.extend(subscription.replay);
                    }
                    Err(err) => out.push(app_error_frame(&err, None, Some(room_id))),
                }
            }
            ClientEvent::Unsubscribe { room_id } => {
                subs.stop(room_id);
            }
            ClientEvent::Send { room_id, body, client_id, reply_to, attachments } => {
                let sent = self.hearth.post_reply(me, room_id, &body, Some(&client_id), reply_to, &attachments).await;
                if let Err(err) = sent {
                    out.push(app_error_frame(&err, Some(client_id), Some(room_id)));
                }
            }
            ClientEvent::React { room_id, number, emoji } => {
                if let Err(err) = self.hearth.react(me, room_id, number, &emoji, None).await {
                    out.push(app_error_frame(&err, None, Some(room_id)));
                }
            }
            ClientEvent::Typing { room_id } => {
                if let Err(err) = self.hearth.typing(&self.user, room_id).await {
                    out.push(app_error_frame(&err, None, Some(room_id)));
                }
            }
            ClientEvent::Read { room_id, number } => {
                if let Err(err) = self.hearth.mark_read(me, room_id, number).await {
                    out.push(app_error_frame(&err, None, Some(room_id)));
                }
            }
            ClientEvent::Viewing { room_id } => match self.hearth.viewing(me, self.tab.socket, room_id).await {
                Ok(()) => self.tab.shows_room.store(room_id.is_some(), Ordering::Relaxed),
                Err(err) => out.push(app_error_frame(&err, None, room_id)),
            },
            ClientEvent::Ping => out.push(Frame::new(&ServerEvent::Pong)),
        }
    }
}

/// A read error ends the connection; an oversize frame or message is closed
/// with 1009. (axum wraps tungstenite's capacity error opaquely, so its
/// message is what tells it apart.)
pub(crate) fn read_error(err: &axum::Error) -> Close {
    let text = err.to_string();
    if text.contains("Space limit exceeded") || text.contains("too long") || text.contains("too big") {
        Close::With(close_code::SIZE, "message too big")
    } else {
        Close::Quietly
    }
}

/// Writes `out`; false if the socket failed, or if the client read nothing
/// for the write timeout (its kernel buffers are full). The timer is only
/// armed once a write has to wait, so the usual write costs none.
pub(crate) async fn write_in_time<T: Into<Bytes>>(
    socket: &mut WebSocket,
    out: &mut Vec<T>,
    hearth: &Hearth,
    user: UserId,
) -> bool {
    let frames = out.len();
    let written = {
        let write = write_all(socket, out);
        tokio::pin!(write);
        match write.as_mut().now_or_never() {
            Some(result) => result.is_ok(),
            None => {
                let limit = Duration::from_secs(hearth.settings().ws_write_timeout_secs);
                // Boxed: a write that has to wait is rare, and its timer
                // inline would be part of every idle connection's state.
                match Box::pin(tokio::time::timeout(limit, write)).await {
                    Ok(result) => result.is_ok(),
                    Err(_) => {
                        tracing::info!(user = user.0, "dropping a WebSocket client that stopped reading");
                        false
                    }
                }
            }
        }
    };
    match written {
        true => hearth::metrics::frames_delivered(frames),
        false => hearth::metrics::frames_dropped(frames as u64),
    }
    written
}

async fn write_all<T: Into<Bytes>>(socket: &mut WebSocket, out: &mut Vec<T>) -> Result<(), axum::Error> {
    for frame in out.drain(..) {
        // Zero-copy: the bytes are shared with every other subscriber.
        let text = Utf8Bytes::try_from(frame.into()).unwrap_or_else(|_| Utf8Bytes::from_static("{}"));
        socket.feed(Message::Text(text)).await?;
    }
    socket.flush().await
}

/// Sends a close frame, waiting at most `CLOSE_WAIT` (a client that is not
/// reading gets none).
pub(crate) async fn send_close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
    let _ = tokio::time::timeout(CLOSE_WAIT, socket.send(Message::Close(Some(frame)))).await;
}

/// When a socket's room frames go out: at once if the last write was at
/// least the write delay ago (or the frames are urgent, or many), else
/// held until then so that they share one write. The timer is made on
/// first use, so an idle connection has none.
pub(crate) struct Pacer {
    delay: Duration,
    next_write: Instant,
    hold: Option<Pin<Box<Sleep>>>,
    holding: bool,
}

impl Pacer {
    pub(crate) fn new(hearth: &Hearth) -> Self {
        let delay = Duration::from_millis(hearth.settings().ws_write_delay_ms);
        Self { delay, next_write: Instant::now(), hold: None, holding: false }
    }

    /// Whether `queued` frames should be written now; if not, the hold timer
    /// is armed for the next write time.
    pub(crate) fn write_now(&mut self, urgent: bool, queued: usize) -> bool {
        if urgent || Instant::now() >= self.next_write || queued >= COALESCE {
            return true;
        }
        if !self.holding {
            hearth::metrics::frames_held();
            match &mut self.hold {
                Some(sleep) => sleep.as_mut().reset(self.next_write.into()),
                None => self.hold = Some(Box::pin(tokio::time::sleep_until(self.next_write.into()))),
            }
            self.holding = true;
        }
        false
    }

    /// A write went out: the next room frames wait for the delay.
    pub(crate) fn wrote(&mut self) {
        self.next_write = Instant::now() + self.delay;
        self.holding = false;
    }

    /// Frames are being held (poll [`Pacer::held`] only then).
    pub(crate) fn holding(&self) -> bool {
        self.holding
    }

    /// Waits for the hold timer.
    pub(crate) async fn held(&mut self) {
        if let Some(sleep) = &mut self.hold {
            sleep.as_mut().await;
        }
    }

    /// The hold timer fired: the held frames are written next.
    pub(crate) fn released(&mut self) {
        self.holding = false;
    }
}

fn error_frame(code: &str, message: &str, client_id: Option<String>, room_id: Option<RoomId>) -> Frame {
    Frame::new(&ServerEvent::Error { code: code.to_owned(), message: message.to_owned(), client_id, room_id })
}

/// `err` as an error frame, naming the room the request was about.
fn app_error_frame(err: &AppError, client_id: Option<String>, room_id: Option<RoomId>) -> Frame {
    let code = match err {
        AppError::Unauthorized(_) => "unauthorized",
        AppError::Forbidden(_) => "forbidden",
        AppError::NotFound(_) => "not_found",
        AppError::Validation(_) => "invalid",
        AppError::Conflict(_) => "conflict",
        AppError::TooLarge(_) => "too_large",
        AppError::RateLimited { .. } => "rate_limited",
        AppError::Internal(source) => {
            tracing::error!(error = %source, "websocket request failed");
            "internal"
        }
    };
    error_frame(code, &err.messages().join("; "), client_id, room_id)
}
