//! The browser's one WebSocket per tab: it reconnects with exponential
//! backoff and jitter, resubscribes every watched room with the last `seq` it
//! saw (so nothing is lost or repeated), and hands events to the page that
//! watches the room and to global listeners (the sidebar). On the server this
//! is inert: pages render from their resources.

use std::collections::HashMap;
use std::rc::Rc;

use hearth::model::RoomId;
use hearth::protocol::{ClientEvent, ServerEvent};
use leptos::prelude::*;

/// The state of the link, for the offline banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// Not yet tried (server render), opening, or signed out (no socket).
    Connecting,
    Online,
    /// Lost; retrying with backoff.
    Offline,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }
}

type Handler = Rc<dyn Fn(&ServerEvent)>;

#[derive(Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Watches {
    /// Last change seq seen per room (None: subscribed live-only so far).
    seq: HashMap<RoomId, Option<i64>>,
    /// The chat window's handler for its room, with the token of the watch
    /// that set it (a re-rendered window must not lose its handler to the
    /// old one's cleanup).
    room_handlers: HashMap<RoomId, (u64, Handler)>,
    next_token: u64,
    /// Called for every event (the sidebar's unread badges), each with its
    /// token for [`Live::off_event`].
    global: Vec<(u64, Handler)>,
    /// The room the room page shows (`None` elsewhere): what `viewing`
    /// says while the tab is visible.
    shown_room: Option<RoomId>,
    /// Sends on the open socket, if any.
    #[cfg(feature = "hydrate")]
    outbox: Option<futures::channel::mpsc::UnboundedSender<ClientEvent>>,
    /// Rooms whose missed changes a new socket is replaying (until their
    /// `subscribed`): what happened while this tab was away, not news.
    #[cfg(feature = "hydrate")]
    replaying: std::collections::HashSet<RoomId>,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<LinkStatus>,
    /// Browser only: thread-local values must not exist in a server render,
    /// which may be dropped on another thread.
    #[cfg(feature = "hydrate")]
    watches: StoredValue<Watches, LocalStorage>,
}

pub fn provide_live() {
    let live = Live {
        status: RwSignal::new(LinkStatus::Connecting),
        #[cfg(feature = "hydrate")]
        watches: StoredValue::new_local(Watches::default()),
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    {
        // The socket needs a session: signed out, the server refuses it
        // (401), so it is not opened at all, and it closes on sign-out.
        let auth = crate::auth::use_auth();
        let signed_in = Memo::new(move |_| matches!(auth.me.get(), Some(Ok(Some(_)))));
        let (wake_tx, wake_rx) = futures::channel::mpsc::unbounded::<connection::Wake>();
        let session_tx = wake_tx.clone();
        Effect::new(move |_| {
            let _ = session_tx.unbounded_send(connection::Wake::Session(signed_in.get()));
        });
        let mut start = Some((wake_tx, wake_rx));
        Effect::new(move |_| {
            // Effects run only in the browser, once hydrated.
            if let Some((wake_tx, wake_rx)) = start.take() {
                leptos::task::spawn_local(async move {
                    // Let hydration finish (its Suspense boundaries resolve
                    // asynchronously) before live events start changing signals.
                    gloo_timers::future::TimeoutFuture::new(300).await;
                    connection::run(live, auth, signed_in.get_untracked(), wake_tx, wake_rx).await;
                });
            }
        });
    }
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

impl Live {
    /// Sends an event if the socket is open; returns whether it was queued.
    pub fn send(&self, event: ClientEvent) -> bool {
        #[cfg(feature = "hydrate")]
        {
            self.watches.with_value(|w| w.outbox.as_ref().is_some_and(|tx| tx.unbounded_send(event).is_ok()))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = event;
            false
        }
    }

    /// Watches a room from change `after` (the page's `last_seq`): replayed
    /// changes and live ones go to `handler` until [`Live::unwatch`].
    /// Returns a token for [`Live::unwatch`].
    pub fn watch(&self, room: RoomId, after: i64, handler: impl Fn(&ServerEvent) + 'static) -> u64 {
        #[cfg(not(feature = "hydrate"))]
        let token = {
            let _ = (room, after, handler);
            0
        };
        #[cfg(feature = "hydrate")]
        let token = self
            .watches
            .try_update_value(|w| {
                let seq = w.seq.entry(room).or_insert(Some(after));
                *seq = Some(seq.unwrap_or(after).min(after));
                w.next_token += 1;
                w.room_handlers.insert(room, (w.next_token, Rc::new(handler)));
                w.next_token
            })
            .unwrap_or_default();
        self.send(ClientEvent::Subscribe { room_id: room, after: Some(after) });
        token
    }

    /// Whether `room`'s events now are the replay of what a new socket
    /// missed (a laptop woken): the chat window shows them, but they are
    /// no news to notify of.
    pub fn replaying(&self, room: RoomId) -> bool {
        #[cfg(feature = "hydrate")]
        {
            self.watches.try_with_value(|w| w.replaying.contains(&room)).unwrap_or(false)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = room;
            false
        }
    }

    /// Asks again from `after` (after a resync reloaded the page of history).
    pub fn resubscribe(&self, room: RoomId, after: i64) {
        #[cfg(feature = "hydrate")]
        self.watches.update_value(|w| {
            w.seq.insert(room, Some(after));
        });
        self.send(ClientEvent::Subscribe { room_id: room, after: Some(after) });
    }

    pub fn unwatch(&self, room: RoomId, token: u64) {
        #[cfg(not(feature = "hydrate"))]
        let _ = (room, token);
        #[cfg(feature = "hydrate")]
        self.watches.update_value(|w| {
            if w.room_handlers.get(&room).is_some_and(|(t, _)| *t == token) {
                w.room_handlers.remove(&room);
            }
        });
    }

    /// Follows rooms live (no replay) for the sidebar's badges.
    pub fn follow(&self, rooms: impl IntoIterator<Item = RoomId>) {
        #[cfg(not(feature = "hydrate"))]
        let _ = rooms;
        #[cfg(feature = "hydrate")]
        let fresh: Vec<RoomId> = self
            .watches
            .try_update_value(|w| {
                rooms
                    .into_iter()
                    .filter(|room| {
                        let new = !w.seq.contains_key(room);
                        if new {
                            w.seq.insert(*room, None);
                        }
                        new
                    })
                    .collect()
            })
            .unwrap_or_default();
        #[cfg(feature = "hydrate")]
        for room in fresh {
            self.send(ClientEvent::Subscribe { room_id: room, after: None });
        }
    }

    /// The room page shows `room` (`Some`) or is leaving it (`None`): the
    /// server hears `viewing` (no Web Push for a room a visible tab shows).
    /// A page leaving a room it no longer shows changes nothing, so the next
    /// room's page may arrive before the last one's cleanup.
    pub fn show_room(&self, room: RoomId, shown: bool) {
        #[cfg(not(feature = "hydrate"))]
        let _ = (room, shown);
        #[cfg(feature = "hydrate")]
        {
            let changed = self
                .watches
                .try_update_value(|w| {
                    let before = w.shown_room;
                    match shown {
                        true => w.shown_room = Some(room),
                        false if w.shown_room == Some(room) => w.shown_room = None,
                        false => {}
                    }
                    before != w.shown_room
                })
                .unwrap_or(false);
            if changed {
                self.send(self.viewing());
            }
        }
    }

    /// `viewing`: the room shown, while the page is visible.
    #[cfg(feature = "hydrate")]
    fn viewing(&self) -> ClientEvent {
        let visible = leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible;
        let shown = self.watches.with_value(|w| w.shown_room);
        ClientEvent::Viewing { room_id: shown.filter(|_| visible) }
    }

    /// Adds a listener for every event; returns its token, which
    /// [`Live::off_event`] takes to remove it (a page's listener goes with
    /// the page).
    pub fn on_event(&self, handler: impl Fn(&ServerEvent) + 'static) -> u64 {
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = handler;
            0
        }
        #[cfg(feature = "hydrate")]
        self.watches
            .try_update_value(|w| {
                w.next_token += 1;
                w.global.push((w.next_token, Rc::new(handler)));
                w.next_token
            })
            .unwrap_or_default()
    }

    /// Removes the listener [`Live::on_event`] gave `token`.
    pub fn off_event(&self, token: u64) {
        #[cfg(not(feature = "hydrate"))]
        let _ = token;
        #[cfg(feature = "hydrate")]
        self.watches.try_update_value(|w| w.global.retain(|(t, _)| *t != token));
    }

    /// Routes one event: remembers its seq, then calls the room's handler
    /// (presence goes to every room) and the global listeners.
    #[cfg(feature = "hydrate")]
    fn dispatch(&self, event: &ServerEvent) {
        let room = match event {
            ServerEvent::Subscribed { room_id, .. }
            | ServerEvent::Message { room_id, .. }
            | ServerEvent::MessageEdited { room_id, .. }
            | ServerEvent::MessageDeleted { room_id, .. }
            | ServerEvent::Reacted { room_id, .. }
            | ServerEvent::Typing { room_id, .. }
            | ServerEvent::Read { room_id, .. }
            | ServerEvent::Resync { room_id }
            | ServerEvent::Room { room_id, .. }
            | ServerEvent::MessageSaved { room_id, .. } => Some(*room_id),
            ServerEvent::Presence { .. }
            | ServerEvent::NotificationsPaused { .. }
            | ServerEvent::Error { .. }
            | ServerEvent::Pong => None,
        };
        let seq = match event {
            ServerEvent::Subscribed { seq, .. } => Some(*seq),
            other => other.seq(),
        };
        let handlers: Vec<Handler> = self
            .watches
            .try_update_value(|w| {
                if let (Some(room), Some(seq)) = (room, seq) {
                    let known = w.seq.entry(room).or_insert(None);
                    *known = Some(known.unwrap_or(0).max(seq));
                }
                #[cfg(feature = "hydrate")]
                if let ServerEvent::Subscribed { room_id, .. } = event {
                    w.replaying.remove(room_id);
                }
                if let ServerEvent::Resync { room_id } = event {
                    // Forget the position: the page reloads and watches again.
                    w.seq.insert(*room_id, None);
                }
                let mut handlers: Vec<Handler> = match room {
                    Some(room) => w.room_handlers.get(&room).map(|(_, h)| h.clone()).into_iter().collect(),
                    None => w.room_handlers.values().map(|(_, h)| h.clone()).collect(),
                };
                handlers.extend(w.global.iter().map(|(_, h)| h.clone()));
                handlers
            })
            .unwrap_or_default();
        for handler in handlers {
            handler(event);
        }
    }
}

#[cfg(feature = "hydrate")]
mod connection {
    use futures::{SinkExt, StreamExt, channel::mpsc, future::Either};
    use gloo_net::websocket::{Message, State, WebSocketError, futures::WebSocket};
    use hearth::protocol::{ClientEvent, ServerEvent};
    use leptos::prelude::*;

    use super::{LinkStatus, Live};

    const BACKOFF_MIN_MS: f64 = 500.0;
    const BACKOFF_MAX_MS: f64 = 15_000.0;
    /// After this long with nothing heard, the socket is asked `ping`.
    const QUIET_MS: f64 = 20_000.0;
    /// A socket that answers nothing this long after a `ping` is dead,
    /// however open it looks (a network switched under it, a NAT that
    /// forgot it): it is dropped, and the next one resumes from `after`.
    const PONG_WAIT_MS: f64 = 8_000.0;
    /// How often a quiet socket is looked at.
    const TICK_MS: u32 = 2_000;

    /// The socket's address, for the page's user `me` when known.
    fn url(me: Option<hearth::model::UserId>) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        let user = me.map(|me| format!("?user={}", me.0)).unwrap_or_default();
        Some(format!("{scheme}://{}/ws{user}", location.host().ok()?))
    }

    /// What wakes the connection loop besides the socket itself.
    pub enum Wake {
        /// The browser went online (true) or offline (false).
        Network(bool),
        /// The user is signed in (true) or signed out (false).
        Session(bool),
        /// The tab was shown again: an open socket is asked at once whether
        /// it still carries anything.
        Probe,
        /// Every [`TICK_MS`]: a quiet socket is looked at.
        Tick,
    }

    /// Sends [`Wake::Tick`] every [`TICK_MS`] while anyone listens: one
    /// timer at a time, each firing (never cancelled, see
    /// `crate::browser::sleep`).
    fn tick(wake: mpsc::UnboundedSender<Wake>) {
        set_timeout(
            move || {
                if wake.unbounded_send(Wake::Tick).is_ok() {
                    tick(wake);
                }
            },
            std::time::Duration::from_millis(u64::from(TICK_MS)),
        );
    }

    /// How one connection ended.
    enum Ended {
        /// It never opened (no network, server down, or no session: a
        /// browser cannot see the 401).
        NeverOpened,
        /// It was open and dropped.
        Dropped,
        /// The server closed it because the session ended, or the user
        /// signed out in this tab.
        SignedOut,
    }

    pub async fn run(
        live: Live,
        auth: crate::auth::Auth,
        mut signed_in: bool,
        wake_tx: mpsc::UnboundedSender<Wake>,
        mut wake: mpsc::UnboundedReceiver<Wake>,
    ) {
        // The browser knows before the socket does: drop it when the network
        // goes away, and retry at once (not after the backoff) when it returns.
        let (on_tx, off_tx, probe_tx) = (wake_tx.clone(), wake_tx.clone(), wake_tx.clone());
        tick(wake_tx);
        let _online = window_event_listener(leptos::ev::online, move |_| {
            let _ = on_tx.unbounded_send(Wake::Network(true));
        });
        let _offline = window_event_listener(leptos::ev::offline, move |_| {
            let _ = off_tx.unbounded_send(Wake::Network(false));
        });
        // Hidden or shown again: the server hears which room this tab shows;
        // shown (a laptop woken, say), the socket is checked at once.
        let _visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
            live.send(live.viewing());
            if crate::browser::tab_shown() {
                let _ = probe_tx.unbounded_send(Wake::Probe);
            }
        });
        let mut attempt: u32 = 0;
        // Offline means "lost": a page that never connected shows no banner.
        let mut ever_online = false;
        loop {
            if !signed_in {
                // No session, no socket, no retries: wait for a sign-in.
                live.status.set(LinkStatus::Connecting);
                live.watches.update_value(|w| w.outbox = None);
                ever_online = false;
                attempt = 0;
                loop {
                    match wake.next().await {
                        Some(Wake::Session(true)) => break,
                        Some(_) => {}
                        None => return,
                    }
                }
                signed_in = true;
            }
            // The socket is for the page's user: if the browser's session
            // is someone else's by now (signed out and in again in another
            // tab while this one slept), the server refuses it, and the
            // page learns why below. Failed sends wait for the link, and
            // would otherwise go as whoever signed in since.
            let mine = match auth.me.get_untracked() {
                Some(Ok(Some(me))) => Some(me.id),
                _ => None,
            };
            let ended = match url(mine).and_then(|url| WebSocket::open(&url).ok()) {
                Some(socket) => serve(live, socket, &mut wake, &mut signed_in).await,
                None => Ended::NeverOpened,
            };
            live.watches.update_value(|w| w.outbox = None);
            match ended {
                Ended::SignedOut => {
                    if signed_in {
                        // The server ended the session: the page learns it
                        // too (the header, redirects to /login).
                        auth.me.refetch();
                        auth.admin.refetch();
                    }
                    signed_in = false;
                    continue;
                }
                Ended::Dropped => {
                    attempt = 0;
                    ever_online = true;
                }
                Ended::NeverOpened => {
                    // The session may have ended elsewhere, or be someone
                    // else's: ask before retrying.
                    match crate::api::get_me().await {
                        Ok(None) => {
                            signed_in = false;
                            auth.me.refetch();
                            auth.admin.refetch();
                            continue;
                        }
                        Ok(Some(now)) if mine.is_some_and(|mine| mine != now.id) => {
                            let _ = window().location().reload();
                            return;
                        }
                        _ => {}
                    }
                }
            }
            if ever_online {
                live.status.set(LinkStatus::Offline);
            }
            attempt = attempt.saturating_add(1);
            let ceiling = (BACKOFF_MIN_MS * 2f64.powi(attempt.min(10) as i32)).min(BACKOFF_MAX_MS);
            // Full jitter, so a restarted server is not hit by every tab at once.
            let delay = ceiling * (0.5 + js_sys::Math::random() * 0.5);
            let mut wait = gloo_timers::future::TimeoutFuture::new(delay as u32);
            loop {
                match futures::future::select(&mut wait, wake.next()).await {
                    Either::Left(_) | Either::Right((Some(Wake::Network(true)), _)) => break,
                    Either::Right((Some(Wake::Session(now)), _)) => {
                        signed_in = now;
                        if !now {
                            break;
                        }
                    }
                    Either::Right((Some(Wake::Network(false) | Wake::Probe | Wake::Tick), _)) => {}
                    Either::Right((None, _)) => return,
                }
            }
        }
    }

    /// Runs one connection until it ends.
    async fn serve(
        live: Live,
        mut socket: WebSocket,
        wake: &mut mpsc::UnboundedReceiver<Wake>,
        signed_in: &mut bool,
    ) -> Ended {
        // Wait for the socket to open before calling the link online.
        // gloo's `poll_ready` is ready once the socket stops connecting,
        // also when it closed without ever opening (the server down, a 401,
        // the network gone): that attempt never opened, so it neither shows
        // the link online for a moment nor resets the retries' back-off.
        let ready =
            futures::future::poll_fn(|cx| futures::Sink::<Message>::poll_ready(std::pin::Pin::new(&mut socket), cx))
                .await;
        if ready.is_err() || !matches!(socket.state(), State::Open) {
            return Ended::NeverOpened;
        }
        let (mut write, mut read) = socket.split();
        let (tx, mut rx) = mpsc::unbounded::<ClientEvent>();
        let resubscribe: Vec<ClientEvent> = live
            .watches
            .try_update_value(|w| {
                w.outbox = Some(tx.clone());
                w.replaying = w.seq.iter().filter(|(_, seq)| seq.is_some()).map(|(room, _)| *room).collect();
                w.seq.iter().map(|(room, seq)| ClientEvent::Subscribe { room_id: *room, after: *seq }).collect()
            })
            .unwrap_or_default();
        for event in resubscribe {
            let _ = tx.unbounded_send(event);
        }
        // A new socket shows nothing until told.
        let _ = tx.unbounded_send(live.viewing());
        live.status.set(LinkStatus::Online);
        let now = crate::browser::now_ms;
        let mut heard = Heartbeat::new(now());
        loop {
            if heard.dead(now()) {
                return Ended::Dropped;
            }
            if heard.should_ping(now()) {
                heard.pinged(now());
                let _ = tx.unbounded_send(ClientEvent::Ping);
            }
            let next = futures::future::select(rx.next(), read.next());
            let event = match futures::future::select(next, wake.next()).await {
                Either::Left((event, _)) => event,
                Either::Right((Some(Wake::Network(false)), _)) => return Ended::Dropped,
                Either::Right((Some(Wake::Session(false)), _)) => {
                    *signed_in = false;
                    return Ended::SignedOut;
                }
                // Back online, or shown again, with this socket thought open:
                // it may have died meanwhile; ask it.
                Either::Right((Some(Wake::Network(true) | Wake::Probe), _)) => {
                    heard.ask_now();
                    continue;
                }
                Either::Right((Some(_), _)) => continue,
                Either::Right((None, _)) => return Ended::Dropped,
            };
            if matches!(event, Either::Right((Some(Ok(_)), _))) {
                heard.heard(now());
            }
            match event {
                Either::Left((Some(event), _)) => {
                    let Ok(text) = serde_json::to_string(&event) else { continue };
                    if write.send(Message::Text(text)).await.is_err() {
                        return Ended::Dropped;
                    }
                }
                Either::Left((None, _)) => return Ended::Dropped,
                Either::Right((Some(Ok(Message::Text(text))), _)) => {
                    if let Ok(event) = serde_json::from_slice::<ServerEvent>(text.as_bytes()) {
                        live.dispatch(&event);
                    }
                }
                Either::Right((Some(Ok(_)), _)) => {}
                // The server closes a signed-out session's sockets with 1008.
                Either::Right((Some(Err(WebSocketError::ConnectionClose(close))), _)) if close.code == 1008 => {
                    return Ended::SignedOut;
                }
                Either::Right((Some(Err(_)) | None, _)) => return Ended::Dropped,
            }
        }
    }

    /// When the socket was last heard from, and whether a `ping` is waiting
    /// for its answer (times in ms).
    struct Heartbeat {
        heard: f64,
        pinged: Option<f64>,
        /// Ask at the next look, whatever the time (shown again, back online).
        asked: bool,
    }

    impl Heartbeat {
        fn new(now: f64) -> Self {
            Self { heard: now, pinged: None, asked: false }
        }

        fn heard(&mut self, now: f64) {
            self.heard = now;
            self.pinged = None;
        }

        fn should_ping(&self, now: f64) -> bool {
            self.pinged.is_none() && (self.asked || now - self.heard >= QUIET_MS)
        }

        fn pinged(&mut self, now: f64) {
            self.pinged = Some(now);
            self.asked = false;
        }

        fn ask_now(&mut self) {
            self.asked = true;
        }

        fn dead(&self, now: f64) -> bool {
            self.pinged.is_some_and(|at| now - at >= PONG_WAIT_MS)
        }
    }
}
