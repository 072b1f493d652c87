//! `GET /cable`: ChatFlow's ActionCable endpoint, so that existing ActionCable
//! clients (the `@rails/actioncable` consumer, AnyCable clients, mobile apps)
//! keep working against Hearth. It speaks `actioncable-v1-json` and offers
//! one channel, `ConversationsChannel` with a `conversation_id`, fed by the
//! same hub as `/ws`: whatever reaches a `/ws` socket reaches a `/cable` one.
//! The wire format is in `docs/protocol.md` ("ActionCable at /cable").
//!
//! It is a compatibility protocol: the frames are translated from the hub's
//! once per frame ([`Frame::alternate`]) and wrapped per subscription, and
//! there is no resume (ActionCable has none); `/ws` stays the protocol with
//! gap-free replay.
//!
//! Like `/ws`: the session cookie authenticates the upgrade, a foreign
//! `Origin` gets 403, frames are limited to `ws::MAX_MESSAGE_BYTES`, and a
//! client that stops reading is dropped after the write timeout. Like Rails:
//! no session gets `disconnect` (`unauthorized`, no reconnect) and a close;
//! the server pings every 3 s (the client's monitor reconnects when pings
//! stop); malformed or unknown commands are logged and ignored, and a
//! subscription that cannot be made is rejected.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use futures_util::{FutureExt, StreamExt};
use hearth::Hearth;
use hearth::auth::{AuthSession, AuthUser};
use hearth::hub::{Frame, UserSignal};
use hearth::model::RoomId;
use hearth::protocol::ServerEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::Receiver;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::origin::Scheme;
use crate::serve::Shutdown;
use crate::state::AppState;
use crate::ws::{Close, Pacer, limited, read_error, refuse_cross_site, send_close, while_present, write_in_time};

/// The subprotocol the official clients ask for.
pub const PROTOCOL: &str = "actioncable-v1-json";
/// ChatFlow's channel, the only one.
pub const CHANNEL: &str = "ConversationsChannel";
/// Rails' beat: the client's monitor counts a connection stale after 6 s
/// without one.
const PING_EVERY: Duration = Duration::from_secs(3);
/// Room frames routed before one write (as `/ws`).
const COALESCE: usize = 64;
/// Longest identifier a subscription may have. ActionCable's are short JSON
/// (`{"channel":"ConversationsChannel","conversation_id":12}`); each is
/// kept for the connection's life and written into every frame it gets.
pub const IDENTIFIER_MAX_BYTES: usize = 1024;
/// Most identifiers of one connection that name the same room (each gets its
/// own copy of every frame), so one connection cannot multiply a room's
/// traffic or hold memory without bound.
pub const IDENTIFIERS_PER_ROOM: usize = 4;

pub fn router() -> Router<AppState> {
    Router::new().route("/cable", get(upgrade))
}

async fn upgrade(
    State(hearth): State<Hearth>,
    State(shutdown): State<Shutdown>,
    session: AuthSession,
    Extension(scheme): Extension<Scheme>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = refuse_cross_site(&headers, scheme) {
        return refusal;
    }
    let ws = limited(ws).protocols([PROTOCOL]);
    let Some(user) = session.user.clone() else {
        // Rails' `reject_unauthorized_connection`: upgrade, say why, close.
        return ws.on_upgrade(|mut socket| async move {
            let _ = write_now(&mut socket, disconnect("unauthorized", false)).await;
            send_close(&mut socket, close_code::NORMAL, "unauthorized").await;
        });
    };
    let session_id = hearth::auth::stored_session_id(&session.session).unwrap_or_default();
    // Before the 101: what is sent to the user from now on reaches this socket.
    let signals = hearth.user_signals(user.id);
    ws.on_upgrade(move |socket| {
        shutdown.clone().track(async move {
            let _open = hearth::metrics::OpenSocket::new(hearth::metrics::Endpoint::Cable);
            let user_id = user.id;
            let cable = Cable { hearth: hearth.clone(), user, session_id };
            // Boxed, as the WebSocket's loop is (`ws::while_present`).
            while_present(&hearth, user_id, Box::pin(cable.run(socket, &shutdown, signals))).await;
        })
    })
}

async fn write_now(socket: &mut WebSocket, frame: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(frame.to_string().into())).await
}

fn disconnect(reason: &str, reconnect: bool) -> Value {
    json!({ "type": "disconnect", "reason": reason, "reconnect": reconnect })
}

/// One client command. `identifier` and `data` are JSON texts inside the
/// JSON, as ActionCable sends them.
#[derive(Deserialize)]
struct Command {
    command: String,
    identifier: Option<String>,
    data: Option<String>,
}

/// `data` of a `message` command: `speak` (`body`, `client_id`, and
/// `reply_to`, the number of the message it answers) or `react` (`number`,
/// `emoji`, and `on`: true adds, false removes, absent toggles).
#[derive(Deserialize)]
struct Perform {
    action: Option<String>,
    body: Option<String>,
    client_id: Option<String>,
    reply_to: Option<i64>,
    number: Option<i64>,
    emoji: Option<String>,
    on: Option<bool>,
}

/// One subscription: the client's identifier, exactly as sent (clients
/// match replies on the string), and as a JSON string ready to write.
struct Subscription {
    room: RoomId,
    quoted: String,
}

struct Cable {
    hearth: Hearth,
    user: AuthUser,
    session_id: String,
}

/// The state of one connection's subscriptions.
#[derive(Default)]
struct Subscriptions {
    by_identifier: HashMap<String, Subscription>,
    rooms: StreamMap<RoomId, BroadcastStream<Frame>>,
    /// The last seq delivered per room: a frame is sent once per seq.
    delivered: HashMap<RoomId, i64>,
}

impl Subscriptions {
    /// Forgets `identifier`; stops the room's stream when no other
    /// identifier of this connection names the same room.
    fn remove(&mut self, identifier: &str) {
        if let Some(gone) = self.by_identifier.remove(identifier)
            && !self.by_identifier.values().any(|s| s.room == gone.room)
        {
            self.rooms.remove(&gone.room);
            self.delivered.remove(&gone.room);
        }
    }

    /// The identifiers subscribed to `room`.
    fn of_room(&self, room: RoomId) -> Vec<String> {
        self.by_identifier.iter().filter(|(_, s)| s.room == room).map(|(id, _)| id.clone()).collect()
    }
}

impl Cable {
    /// `signals` is the user's channel, subscribed before the upgrade was
    /// answered, so that nothing sent to the user once the client has its
    /// socket is missed.
    async fn run(&self, mut socket: WebSocket, shutdown: &Shutdown, signals: Receiver<UserSignal>) {
        let mut subs = Subscriptions::default();
        let mut signals = BroadcastStream::new(signals);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let going_away = shutdown.begun();
        tokio::pin!(going_away);
        let mut out: Vec<Bytes> = vec![json!({ "type": "welcome" }).to_string().into()];
        let mut pacer = Pacer::new(&self.hearth);
        if !write_in_time(&mut socket, &mut out, &self.hearth, self.user.id).await {
            return;
        }

        let close = loop {
            // Replies, signals and pings go out at once; room frames are paced
            // as on `/ws` (`HEARTH_WS_WRITE_DELAY_MS`).
            let mut urgent = true;
            tokio::select! {
                biased;
                () = &mut going_away => {
                    out.push(disconnect("server_restart", true).to_string().into());
                    break Close::With(close_code::RESTART, "server restarting");
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => Box::pin(self.command(text.as_str(), &mut subs, &mut out)).await,
                    Some(Ok(Message::Close(_))) | None => break Close::Quietly,
                    Some(Ok(_)) => {}
                    Some(Err(err)) => break read_error(&err),
                },
                signal = signals.next() => match signal {
                    Some(Ok(UserSignal::SessionEnded(id))) if id == self.session_id => {
                        out.push(disconnect("unauthorized", false).to_string().into());
                        break Close::With(close_code::NORMAL, "signed out");
                    }
                    Some(Ok(UserSignal::SessionsEndedExcept(kept))) if kept != self.session_id => {
                        out.push(disconnect("unauthorized", false).to_string().into());
                        break Close::With(close_code::NORMAL, "signed out");
                    }
                    Some(Ok(UserSignal::SessionsEndedExcept(_))) => {}
                    Some(Ok(UserSignal::RecheckSession)) => {
                        if !self.hearth.session_alive(&self.session_id).await {
                            out.push(disconnect("unauthorized", false).to_string().into());
                            break Close::With(close_code::NORMAL, "signed out");
                        }
                    }
                    Some(Ok(UserSignal::AccountClosed)) => {
                        out.push(disconnect("unauthorized", false).to_string().into());
                        break Close::With(close_code::NORMAL, "account deactivated");
                    }
                    Some(Ok(UserSignal::RoomRemoved(room) | UserSignal::LostRoom(room))) => {
                        // No longer a member: delivery stops, and each of the
                        // room's subscriptions is rejected, which the official
                        // client hands to its `rejected()` callback.
                        for identifier in subs.of_room(room) {
                            out.push(reply(&identifier, "reject_subscription"));
                            subs.remove(&identifier);
                        }
                    }
                    // Lost signals may have held a sign-out or a removal: the
                    // client reconnects, and is checked afresh.
                    Some(Err(BroadcastStreamRecvError::Lagged(lost))) => {
                        hearth::metrics::frames_dropped(lost);
                        out.push(disconnect("lagged", true).to_string().into());
                        break Close::With(close_code::AWAY, "fell behind");
                    }
                    Some(Ok(_)) => {}
                    None => break Close::Quietly,
                },
                // After the user's signals: a sign-out or a removal is
                // acted on before any room frame that came after it.
                Some((room, item)) = subs.rooms.next() => {
                    urgent = false;
                    // Whatever else is already queued goes into the same write.
                    let mut routed = self.route(room, item, &mut subs, &mut out);
                    while routed.is_ok() && out.len() < COALESCE {
                        let Some(Some((room, item))) = subs.rooms.next().now_or_never() else { break };
                        routed = self.route(room, item, &mut subs, &mut out);
                    }
                    if let Err(close) = routed {
                        break close;
                    }
                }
                _ = ping.tick() => out.push(ping_frame()),
                () = pacer.held(), if pacer.holding() => pacer.released(),
            }
            if !out.is_empty() && pacer.write_now(urgent, out.len()) {
                if !write_in_time(&mut socket, &mut out, &self.hearth, self.user.id).await {
                    break Close::Quietly;
                }
                pacer.wrote();
            }
        };
        if !out.is_empty() {
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                write_in_time(&mut socket, &mut out, &self.hearth, self.user.id),
            )
            .await;
        }
        if let Close::With(code, reason) = close {
            Box::pin(send_close(&mut socket, code, reason)).await;
        }
    }

    /// A hub frame for `room`: every subscription to it gets the translated
    /// event once per seq. A subscriber that fell a room channel's capacity
    /// behind has lost frames that ActionCable cannot replay: it is told to
    /// reconnect (and reload what it shows), as Rails' `disconnect` does.
    fn route(
        &self,
        room: RoomId,
        item: Result<Frame, BroadcastStreamRecvError>,
        subs: &mut Subscriptions,
        out: &mut Vec<Bytes>,
    ) -> Result<(), Close> {
        let frame = match item {
            Ok(frame) => frame,
            Err(BroadcastStreamRecvError::Lagged(lost)) => {
                hearth::metrics::frames_dropped(lost);
                hearth::metrics::resync_sent("cable");
                out.push(disconnect("lagged", true).to_string().into());
                return Err(Close::With(close_code::AWAY, "fell behind"));
            }
        };
        let Some(seq) = frame.seq else { return Ok(()) };
        let last = subs.delivered.entry(room).or_insert(0);
        if seq <= *last {
            return Ok(());
        }
        *last = seq;
        let payload = frame.alternate(translate);
        if payload.is_empty() {
            return Ok(());
        }
        for sub in subs.by_identifier.values().filter(|s| s.room == room) {
            let mut text = Vec::with_capacity(payload.len() + sub.quoted.len() + 28);
            text.extend_from_slice(br#"{"identifier":"#);
            text.extend_from_slice(sub.quoted.as_bytes());
            text.extend_from_slice(br#","message":"#);
            text.extend_from_slice(&payload);
            text.push(b'}');
            out.push(text.into());
        }
        Ok(())
    }

    async fn command(&self, text: &str, subs: &mut Subscriptions, out: &mut Vec<Bytes>) {
        let command: Command = match serde_json::from_str(text) {
            Ok(command) => command,
            Err(err) => {
                tracing::info!(user = self.user.id.0, error = %err, "ActionCable: unreadable command ignored");
                return;
            }
        };
        let Some(identifier) = command.identifier else {
            tracing::info!(user = self.user.id.0, command = %command.command, "ActionCable: command without an identifier ignored");
            return;
        };
        match command.command.as_str() {
            "subscribe" => self.subscribe(identifier, subs, out).await,
            "unsubscribe" => subs.remove(&identifier),
            "message" => match subs.by_identifier.get(&identifier) {
                Some(sub) => self.perform(&identifier, sub.room, command.data.as_deref(), out).await,
                None => {
                    tracing::info!(user = self.user.id.0, %identifier, "ActionCable: message for no subscription ignored")
                }
            },
            other => tracing::info!(user = self.user.id.0, command = %other, "ActionCable: unknown command ignored"),
        }
    }

    async fn subscribe(&self, identifier: String, subs: &mut Subscriptions, out: &mut Vec<Bytes>) {
        if subs.by_identifier.contains_key(&identifier) {
            // The client's guarantor resends until confirmed: confirm again.
            out.push(reply(&identifier, "confirm_subscription"));
            return;
        }
        let room = match conversation_of(&identifier) {
            Ok(room) if subs.of_room(room).len() >= IDENTIFIERS_PER_ROOM => {
                tracing::info!(user = self.user.id.0, room = room.0, "ActionCable: too many identifiers for one room");
                out.push(reply(&identifier, "reject_subscription"));
                return;
            }
            Ok(room) => room,
            Err(why) => {
                tracing::info!(user = self.user.id.0, why, "ActionCable: subscription rejected");
                out.push(reply(&identifier, "reject_subscription"));
                return;
            }
        };
        if !subs.rooms.contains_key(&room) {
            match self.hearth.subscribe(self.user.id, room, None).await {
                Ok(subscription) => {
                    subs.delivered.insert(room, subscription.seq);
                    subs.rooms.insert(room, BroadcastStream::new(subscription.live));
                }
                Err(err) => {
                    tracing::info!(user = self.user.id.0, room = room.0, error = %err, "ActionCable: subscription rejected");
                    out.push(reply(&identifier, "reject_subscription"));
                    return;
                }
            }
        }
        let quoted = serde_json::to_string(&identifier).unwrap_or_default();
        out.push(reply(&identifier, "confirm_subscription"));
        subs.by_identifier.insert(identifier, Subscription { room, quoted });
    }

    /// `perform("speak", {body, reply_to?})` posts a message as the
    /// signed-in user (as ChatFlow's UI does through REST), and
    /// `perform("react", {number, emoji, on?})` adds or removes a reaction;
    /// either arrives like any other event, through the subscription. A
    /// refusal comes back on the same identifier as `{"error": {"status",
    /// "errors"}}`.
    async fn perform(&self, identifier: &str, room: RoomId, data: Option<&str>, out: &mut Vec<Bytes>) {
        let perform: Perform = match data.map(serde_json::from_str).transpose() {
            Ok(Some(perform)) => perform,
            Ok(None) | Err(_) => {
                tracing::info!(user = self.user.id.0, %identifier, "ActionCable: message without readable data ignored");
                return;
            }
        };
        let refused = match perform.action.as_deref() {
            Some("speak") => {
                let body = perform.body.unwrap_or_default();
                let client_id = perform.client_id.as_deref();
                self.hearth.post_reply(self.user.id, room, &body, client_id, perform.reply_to, &[]).await.err()
            }
            Some("react") => {
                let number = perform.number.unwrap_or(0);
                let emoji = perform.emoji.unwrap_or_default();
                self.hearth.react(self.user.id, room, number, &emoji, perform.on).await.err()
            }
            other => {
                tracing::info!(user = self.user.id.0, action = ?other, "ActionCable: unknown action ignored");
                None
            }
        };
        if let Some(err) = refused {
            let error = json!({ "error": { "status": err.status_code(), "errors": err.messages() } });
            let quoted = serde_json::to_string(identifier).unwrap_or_default();
            out.push(format!(r#"{{"identifier":{quoted},"message":{error}}}"#).into());
        }
    }
}

/// The room an identifier names: `{"channel":"ConversationsChannel",
/// "conversation_id":12}` (the id may also be a string of digits, as Rails'
/// params allow).
fn conversation_of(identifier: &str) -> Result<RoomId, &'static str> {
    if identifier.len() > IDENTIFIER_MAX_BYTES {
        return Err("the identifier is too long");
    }
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(identifier) else {
        return Err("the identifier is not a JSON object");
    };
    if fields.get("channel").and_then(Value::as_str) != Some(CHANNEL) {
        return Err("unknown channel");
    }
    let id = match fields.get("conversation_id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    id.filter(|id| *id > 0).map(RoomId).ok_or("no conversation_id")
}

fn reply(identifier: &str, kind: &str) -> Bytes {
    json!({ "identifier": identifier, "type": kind }).to_string().into()
}

fn ping_frame() -> Bytes {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    json!({ "type": "ping", "message": now }).to_string().into()
}

/// A hub frame as ChatFlow's broadcast, `{"message": {id, user_id, body,
/// created_at, …}}`, plus Hearth's `number`, `seq`, `client_id`… and an `event` that
/// tells a new message (`created`) from an edit (`edited`), a delete
/// (`deleted`) and a reaction change (`reacted`: the message's `id`,
/// `number` and all its `reactions` now). Empty for events ActionCable
/// clients do not get.
fn translate(json: &[u8]) -> Bytes {
    let Ok(event) = serde_json::from_slice::<ServerEvent>(json) else {
        return Bytes::new();
    };
    let (kind, message) = match event {
        ServerEvent::Message { seq, message, .. } => ("created", chatflow_message(seq, &message)),
        ServerEvent::MessageEdited { seq, message, .. } => ("edited", chatflow_message(seq, &message)),
        ServerEvent::MessageDeleted { room_id, seq, number, message_id, reply_to } => (
            "deleted",
            json!({ "id": message_id, "conversation_id": room_id, "number": number, "seq": seq,
                    "body": null, "deleted": true, "reply_to": reply_to }),
        ),
        ServerEvent::Reacted { room_id, seq, number, message_id, reactions } => (
            "reacted",
            json!({ "id": message_id, "conversation_id": room_id, "number": number, "seq": seq,
                    "reactions": reactions }),
        ),
        _ => return Bytes::new(),
    };
    json!({ "event": kind, "message": message }).to_string().into()
}

/// ChatFlow's fields, always there (`null`, `false`, `[]` when unset), then
/// every other field REST shows (its application, mentions, rendered
/// `html`, link preview…), plus its `seq`.
fn chatflow_message(seq: i64, m: &hearth::model::Message) -> Value {
    let mut message = json!({
        "id": m.id,
        "user_id": m.user_id,
        "body": m.body,
        "created_at": m.created_at,
        "conversation_id": m.conversation_id,
        "number": m.number,
        "seq": seq,
        "user": m.user,
        "client_id": m.client_id,
        "edited_at": m.edited_at,
        "deleted": m.deleted,
        "reply_to": m.reply_to,
        "reply_count": m.reply_count,
        "reactions": m.reactions,
        // The files it carries, as REST shows them (a message of files alone
        // has an empty body).
        "attachments": m.attachments,
    });
    if let (Some(fields), Ok(Value::Object(rest))) = (message.as_object_mut(), serde_json::to_value(m)) {
        for (field, value) in rest {
            fields.entry(field).or_insert(value);
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_name_a_conversation_or_are_refused() {
        let ok = r#"{"channel":"ConversationsChannel","conversation_id":12}"#;
        assert_eq!(conversation_of(ok), Ok(RoomId(12)));
        let string_id = r#"{"conversation_id":"7","channel":"ConversationsChannel"}"#;
        assert_eq!(conversation_of(string_id), Ok(RoomId(7)));
        for bad in [
            "not json",
            "[1]",
            r#"{"channel":"ChatChannel","conversation_id":1}"#,
            r#"{"channel":"ConversationsChannel"}"#,
            r#"{"channel":"ConversationsChannel","conversation_id":"x"}"#,
            r#"{"channel":"ConversationsChannel","conversation_id":-3}"#,
        ] {
            assert!(conversation_of(bad).is_err(), "{bad}");
        }
    }
}
