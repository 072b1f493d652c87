//! The bus between instances (issue 14): what one Hearth process tells the
//! others that share its database, so that a socket on any of them sees what
//! a socket on this one does.
//!
//! [`Bus`] is the one seam: `Local` (one process, the default: nothing is
//! sent anywhere) or `Nats`, NATS core pub/sub through `async-nats`. Another
//! engine would be one more variant here and one more arm in [`Bus::send`].
//!
//! NATS core is at-most-once, and that is fine: the database's change log
//! (`room_events`) is the source of truth. Room changes carry their seq, each
//! instance delivers a room's changes in seq order ([`crate::hub`]), and a
//! change that does not arrive within the gap bound, or that was published
//! while the bus was down, is read from the log ([`Hearth::fill_gap`]).
//!
//! Subjects, under a prefix (`HEARTH_NATS_PREFIX`, so that several clusters
//! or tests can share one NATS):
//!
//! | subject | payload |
//! |---|---|
//! | `<p>.room.<id>` | a room frame's JSON as sockets get it; header `Hearth-Seq` on changes |
//! | `<p>.user.<id>` | a user signal: `F` + frame JSON, `S` + session id, `R` + room id, `A` (account closed), `X` + the session id kept |
//! | `<p>.presence` | [`PresenceNote`]: users who came online, went offline, or all of them (heartbeat) |
//! | `<p>.limit` | [`Attempt`]: a sign-in or registration another instance counted |
//! | `<p>.forget` | [`Forget`]: a cache entry another instance invalidated |
//!
//! Every instance subscribes to `<p>.>` with `no_echo`, so it never hears its
//! own publishes. Publishing never waits: frames go to a bounded queue that a
//! task drains into the client; when it is full (NATS far behind), or while
//! NATS is unreachable, a frame is dropped and the gap filled from the log.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{ConnectOptions, HeaderMap, Subject};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::auth::AccountKey;
use crate::hub::{Frame, UserSignal};
use crate::model::{RoomId, UserId};

/// Frames queued for NATS at most; more are dropped (and filled from the log).
const OUTBOX: usize = 65_536;
/// The header a room change's seq travels in.
const SEQ_HEADER: &str = "Hearth-Seq";

/// How an instance reaches the others.
#[derive(Clone, Default)]
pub enum Bus {
    /// One process: the in-process hub is everything.
    #[default]
    Local,
    Nats(Arc<Nats>),
}

/// What to connect to, and the timings of the cluster.
#[derive(Debug, Clone)]
pub struct BusSettings {
    /// `nats://host:port` (several, comma-separated, for a NATS cluster).
    pub url: String,
    /// Subject prefix: instances with the same database share it.
    pub prefix: String,
    /// How long a room change may wait for an earlier one before the gap
    /// is read from the database.
    pub gap: Duration,
    /// How long an instance's users stay online without its heartbeat.
    pub presence_ttl: Duration,
    /// Test only: the share (0–100) of room frames this instance does not
    /// publish, to prove that the log fills what the bus loses.
    pub drop_percent: u8,
}

impl BusSettings {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: prefix.into(),
            gap: Duration::from_millis(200),
            presence_ttl: Duration::from_secs(10),
            drop_percent: 0,
        }
    }
}

/// A connection to NATS, and where this instance publishes.
pub struct Nats {
    client: async_nats::Client,
    settings: BusSettings,
    /// This process, as the others know it (random per start).
    instance: u64,
    outbox: mpsc::Sender<(Subject, Option<HeaderMap>, Bytes)>,
    /// Set when the instance leaves: its bus tasks end.
    closing: watch::Sender<bool>,
}

/// The bus as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusHealth {
    /// No bus configured: one process.
    Local,
    Connected {
        url: String,
    },
    /// Configured, but NATS cannot be reached (the client keeps trying).
    Unreachable {
        url: String,
    },
}

/// What the bus brings in, for [`crate::Hearth`] to apply.
pub(crate) enum Incoming {
    Room {
        room: RoomId,
        frame: Frame,
    },
    User {
        user: UserId,
        signal: UserSignal,
    },
    Presence(PresenceNote),
    Attempt(Attempt),
    Forget(Forget),
    /// The connection came (back): whatever was published meanwhile is lost.
    Reconnected,
}

/// A change in who has sockets on one instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PresenceNote {
    pub instance: u64,
    pub kind: PresenceKind,
    pub users: Vec<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PresenceKind {
    /// These users opened their first socket here.
    Up,
    /// These users closed their last socket here.
    Down,
    /// Everyone with a socket here now (a heartbeat); empty when leaving.
    All,
}

/// One sign-in or registration attempt, counted against the same budgets on
/// every instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Attempt {
    Ip(IpAddr),
    Account(AccountKey),
}

/// A cache entry to drop on every instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Forget {
    Session(String),
    User(UserId),
    Membership(UserId, RoomId),
    /// Whether a room is archived.
    Archived(RoomId),
    /// How a room shows in its members' room lists (`crate::room_lists`).
    ListedRoom(RoomId),
    /// One user's room list.
    RoomList(UserId),
}

impl Bus {
    /// Connects to NATS in the background (an instance starts, and serves,
    /// while NATS is down) and subscribes to the prefix. What arrives goes to
    /// the returned channel.
    pub(crate) async fn connect(settings: BusSettings) -> Result<(Self, mpsc::Receiver<Incoming>), async_nats::Error> {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let options = ConnectOptions::new()
            .name("hearth")
            .no_echo()
            .retry_on_initial_connect()
            .max_reconnects(None)
            // Back within a second of NATS returning, not the default's
            // exponential wait.
            .reconnect_delay_callback(|attempts| Duration::from_millis((attempts as u64 * 100).min(1_000)))
            .connection_timeout(Duration::from_secs(2))
            .event_callback(move |event| {
                let events_tx = events_tx.clone();
                async move {
                    let _ = events_tx.send(event);
                }
            });
        let client = options.connect(settings.url.as_str()).await?;
        let mut subscriber = client.subscribe(format!("{}.>", settings.prefix)).await?;
        let (outbox, mut queued) = mpsc::channel::<(Subject, Option<HeaderMap>, Bytes)>(OUTBOX);
        let (closing, _) = watch::channel(false);
        let nats = Arc::new(Nats { client: client.clone(), settings, instance: rand_id(), outbox, closing });
        crate::metrics::bus_configured(client.connection_state() == async_nats::connection::State::Connected);

        // The publisher: the only task that awaits the client.
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some((subject, headers, payload)) = queued.recv().await {
                // Not buffered while NATS is away: the others read what they
                // missed from the change log when it returns, and frames
                // held here for minutes would only be duplicates by then.
                if publisher.connection_state() != async_nats::connection::State::Connected {
                    crate::metrics::bus_dropped();
                    continue;
                }
                let sent = match headers {
                    Some(headers) => publisher.publish_with_headers(subject, headers, payload).await,
                    None => publisher.publish(subject, payload).await,
                };
                if let Err(err) = sent {
                    tracing::debug!(error = %err, "bus publish failed");
                }
            }
        });

        let (incoming_tx, incoming) = mpsc::channel(OUTBOX);
        let prefix = format!("{}.", nats.settings.prefix);
        let from_events = incoming_tx.clone();
        tokio::spawn(async move {
            let mut was_connected = false;
            while let Some(event) = events.recv().await {
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!(reconnect = was_connected, "bus connected");
                        was_connected = true;
                        crate::metrics::bus_connected(true);
                        if from_events.send(Incoming::Reconnected).await.is_err() {
                            break;
                        }
                    }
                    async_nats::Event::Disconnected => {
                        tracing::warn!("bus disconnected; gaps are filled from the database on return");
                        crate::metrics::bus_connected(false);
                    }
                    other => tracing::debug!(event = %other, "bus event"),
                }
            }
        });
        let mut closed = nats.closing.subscribe();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            loop {
                let message = tokio::select! {
                    message = subscriber.next() => message,
                    _ = closed.changed() => None,
                };
                let Some(message) = message else { break };
                crate::metrics::bus_received();
                let Some(incoming) = parse(&prefix, &message) else {
                    tracing::debug!(subject = %message.subject, "unreadable bus message");
                    continue;
                };
                if incoming_tx.send(incoming).await.is_err() {
                    break;
                }
            }
        });
        Ok((Self::Nats(nats), incoming))
    }

    /// Publishes a room frame to the other instances.
    pub(crate) fn room(&self, room: RoomId, frame: &Frame) {
        if let Self::Nats(nats) = self {
            if frame.seq.is_some() && nats.drops_one() {
                return;
            }
            let headers = frame.seq.map(|seq| {
                let mut headers = HeaderMap::new();
                headers.insert(SEQ_HEADER, seq.to_string().as_str());
                headers
            });
            nats.send(format!("room.{}", room.0), headers, frame.bytes.clone());
        }
    }

    /// Sends a user signal to the other instances.
    pub(crate) fn user(&self, user: UserId, signal: &UserSignal) {
        if let Self::Nats(nats) = self {
            let mut payload = Vec::new();
            match signal {
                UserSignal::Frame(frame) => {
                    payload.push(b'F');
                    payload.extend_from_slice(&frame.bytes);
                }
                UserSignal::SessionEnded(id) => {
                    payload.push(b'S');
                    payload.extend_from_slice(id.as_bytes());
                }
                UserSignal::RoomRemoved(room) => {
                    payload.push(b'R');
                    payload.extend_from_slice(room.0.to_string().as_bytes());
                }
                UserSignal::AccountClosed => payload.push(b'A'),
                UserSignal::SessionsEndedExcept(kept) => {
                    payload.push(b'X');
                    payload.extend_from_slice(kept.as_bytes());
                }
                // Each instance asks its own sockets, after its own outage,
                // and reads the exits from the database itself.
                UserSignal::RecheckSession | UserSignal::LostRoom(_) => return,
            }
            nats.send(format!("user.{}", user.0), None, payload.into());
        }
    }

    pub(crate) fn presence(&self, kind: PresenceKind, users: Vec<UserId>) {
        if let Self::Nats(nats) = self {
            let note = PresenceNote { instance: nats.instance, kind, users };
            nats.send_json("presence", &note);
        }
    }

    pub(crate) fn attempt(&self, attempt: Attempt) {
        if let Self::Nats(nats) = self {
            nats.send_json("limit", &attempt);
        }
    }

    pub(crate) fn forget(&self, forget: Forget) {
        if let Self::Nats(nats) = self {
            nats.send_json("forget", &forget);
        }
    }

    /// Ends this instance's bus tasks (after [`Bus::flush`]).
    pub fn close(&self) {
        if let Self::Nats(nats) = self {
            nats.closing.send_replace(true);
        }
    }

    /// Changes to `true` when the instance leaves; `None` without a bus.
    pub(crate) fn closed(&self) -> Option<watch::Receiver<bool>> {
        match self {
            Self::Local => None,
            Self::Nats(nats) => Some(nats.closing.subscribe()),
        }
    }

    /// Whether this instance hears the others now (always, alone).
    pub(crate) fn connected(&self) -> bool {
        match self {
            Self::Local => true,
            Self::Nats(nats) => nats.client.connection_state() == async_nats::connection::State::Connected,
        }
    }

    pub fn health(&self) -> BusHealth {
        match self {
            Self::Local => BusHealth::Local,
            Self::Nats(nats) => {
                let url = nats.settings.url.clone();
                if self.connected() { BusHealth::Connected { url } } else { BusHealth::Unreachable { url } }
            }
        }
    }

    /// The subject prefix, when there is a bus.
    pub fn prefix(&self) -> Option<&str> {
        self.settings().map(|settings| settings.prefix.as_str())
    }

    pub(crate) fn settings(&self) -> Option<&BusSettings> {
        match self {
            Self::Local => None,
            Self::Nats(nats) => Some(&nats.settings),
        }
    }

    /// Waits until what was published so far has reached NATS (at most a
    /// second), for a clean shutdown.
    pub async fn flush(&self) {
        if let Self::Nats(nats) = self {
            for _ in 0..100 {
                if nats.outbox.capacity() == OUTBOX {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), nats.client.flush()).await;
        }
    }
}

impl Nats {
    fn send(&self, subject: String, headers: Option<HeaderMap>, payload: Bytes) {
        let subject = Subject::from(format!("{}.{subject}", self.settings.prefix));
        match self.outbox.try_send((subject, headers, payload)) {
            Ok(()) => crate::metrics::bus_sent(),
            Err(_) => crate::metrics::bus_dropped(),
        }
    }

    fn send_json<T: Serialize>(&self, subject: &str, value: &T) {
        match serde_json::to_vec(value) {
            Ok(json) => self.send(subject.to_owned(), None, json.into()),
            Err(err) => tracing::error!(error = %err, "bus message did not serialise"),
        }
    }

    /// The test-only drop: true for about `drop_percent` of the calls.
    fn drops_one(&self) -> bool {
        let percent = u64::from(self.settings.drop_percent);
        percent > 0 && rand_id() % 100 < percent
    }
}

/// A random 64-bit number from the OS's hasher keys (no `rand` dependency
/// for one number per start).
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64),
    );
    hasher.finish()
}

/// Reads one bus message; `None` for anything not Hearth's.
fn parse(prefix: &str, message: &async_nats::Message) -> Option<Incoming> {
    let rest = message.subject.as_str().strip_prefix(prefix)?;
    let payload = &message.payload;
    if let Some(id) = rest.strip_prefix("room.") {
        let room = RoomId(id.parse().ok()?);
        let seq = match message.headers.as_ref().and_then(|h| h.get(SEQ_HEADER)) {
            Some(value) => Some(value.as_str().parse().ok()?),
            None => None,
        };
        return Some(Incoming::Room { room, frame: Frame::received(seq, payload.clone()) });
    }
    if let Some(id) = rest.strip_prefix("user.") {
        let user = UserId(id.parse().ok()?);
        let (&tag, body) = payload.split_first()?;
        let signal = match tag {
            b'F' => UserSignal::Frame(Frame::received(None, payload.slice(1..))),
            b'S' => UserSignal::SessionEnded(std::str::from_utf8(body).ok()?.to_owned()),
            b'R' => UserSignal::RoomRemoved(RoomId(std::str::from_utf8(body).ok()?.parse().ok()?)),
            b'A' => UserSignal::AccountClosed,
            b'X' => UserSignal::SessionsEndedExcept(std::str::from_utf8(body).ok()?.to_owned()),
            _ => return None,
        };
        return Some(Incoming::User { user, signal });
    }
    match rest {
        "presence" => serde_json::from_slice(payload).ok().map(Incoming::Presence),
        "limit" => serde_json::from_slice(payload).ok().map(Incoming::Attempt),
        "forget" => serde_json::from_slice(payload).ok().map(Incoming::Forget),
        _ => None,
    }
}
