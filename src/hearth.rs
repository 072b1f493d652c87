//! [`Hearth`]: the handle the adapters hold. Cloning it is one reference
//! count (it is an `Arc` of [`Shared`]), so every request, server function
//! and socket gets its own copy: axum clones its state for each extractor of
//! each request, and cloning the fields one by one was 3–5 % of a post's
//! time in `perf`.

use std::sync::Arc;

use crate::AppError;
use crate::hub::UserSignal;
use crate::ingest::Ingest;
use crate::model::UserId;

use crate::{
    auth::{Backend, IpLimiter, Limiter, SignInLimiter},
    cache::Caches,
    hub::Hub,
    realtime::ReplaySlots,
    search::Searcher,
    store::Store,
};

/// Behaviour an operator can change; read once at startup.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Offer the demo accounts on the login page.
    pub demo_mode: bool,
    /// Sign-in attempts allowed per client IP per minute.
    pub sign_ins_per_ip_per_minute: u32,
    /// Sign-in attempts allowed per account per minute.
    pub sign_ins_per_account_per_minute: u32,
    /// How long after sending an author may edit a message.
    pub edit_window_secs: u64,
    /// Applications anonymous clients may create per IP per minute.
    pub anonymous_apps_per_ip_per_minute: u32,
    /// How long a WebSocket write may wait on a client that is not reading
    /// before the connection is dropped.
    pub ws_write_timeout_secs: u64,
    /// Least time between two writes of room frames to one WebSocket; frames
    /// that arrive sooner wait and share the next write.
    pub ws_write_delay_ms: u64,
    /// Searches allowed per user (or per application) per minute.
    pub searches_per_minute: u32,
    /// Longest a session, a signed-in user or a membership is kept in memory
    /// (`cache.rs`); 0 turns the caches off.
    pub cache_ttl_secs: u64,
    /// New messages allowed per user (or per application) per minute, as
    /// a burst that refills evenly; 0: no limit.
    pub messages_per_minute: u32,
    /// Who may create an account until an admin sets a policy.
    pub sign_up_policy: crate::model::SignUpPolicy,
    /// Forgotten-password mails one address may ask for per hour.
    pub reset_mails_per_address_per_hour: u32,
    /// Test only: let outbound requests (link previews, Web Push) reach
    /// loopback, so that a test's own server can stand in for a web site or a
    /// push service.
    pub test_allow_loopback_fetch: bool,
    /// How long after its commit a message's push is decided: read on any
    /// device by then, it is not pushed.
    pub push_delay_secs: u64,
    /// Message pushes one device gets per minute (a burst, refilling
    /// evenly); more are dropped.
    pub push_per_device_per_minute: u32,
    /// The VAPID `sub` claim: a `mailto:` or `https:` contact for the push
    /// services.
    pub push_contact: String,
    /// The largest file upload, in bytes (`HEARTH_UPLOAD_MAX_BYTES`, 25 MiB).
    pub upload_max_bytes: u64,
    /// Message writers on Postgres, each a transaction at a time, rooms
    /// spread over them by id (`HEARTH_POSTGRES_WRITERS`; SQLite has one).
    pub postgres_writers: usize,
}

impl Settings {
    /// How long a cached session, user or membership is kept.
    pub fn cache_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.cache_ttl_secs)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            demo_mode: false,
            sign_ins_per_ip_per_minute: 30,
            sign_ins_per_account_per_minute: 10,
            edit_window_secs: 15 * 60,
            anonymous_apps_per_ip_per_minute: 10,
            ws_write_timeout_secs: 30,
            ws_write_delay_ms: 16,
            searches_per_minute: 60,
            cache_ttl_secs: 30,
            sign_up_policy: crate::model::SignUpPolicy::Invite,
            messages_per_minute: 300,
            reset_mails_per_address_per_hour: 5,
            test_allow_loopback_fetch: false,
            push_delay_secs: 10,
            push_per_device_per_minute: 6,
            push_contact: "mailto:hearth@localhost".into(),
            upload_max_bytes: 25 * 1024 * 1024,
            postgres_writers: crate::ingest::POSTGRES_WRITERS,
        }
    }
}

/// The core's one handle: adapters call its methods.
#[derive(Clone)]
pub struct Hearth(Arc<Shared>);

impl std::ops::Deref for Hearth {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What a [`Hearth`] shares between its clones. The fields are the core's
/// own: adapters call methods, never reach in.
pub struct Shared {
    pub(crate) store: Store,
    pub(crate) settings: Arc<Settings>,
    /// Shared by the REST sign-in and the login server function, so the two
    /// doors count against one budget.
    pub(crate) sign_in_limiter: SignInLimiter,
    /// Live fan-out to WebSocket connections.
    pub(crate) hub: Hub,
    /// Anonymous application creation, per client IP.
    pub(crate) anonymous_apps: IpLimiter,
    /// Searches per user or application.
    pub(crate) searches: Limiter<Searcher>,
    /// Replays being read, per user.
    pub(crate) replays: ReplaySlots,
    /// The group-commit writers new messages go through.
    pub(crate) ingest: Arc<Ingest>,
    /// Users and memberships in memory, invalidated by the use cases that
    /// change them.
    pub(crate) caches: Caches,
    /// Whether each room is archived (read-only), for the write paths;
    /// invalidated by the archive (`room_settings.rs`).
    pub(crate) archived_rooms: crate::cache::Bounded<crate::model::RoomId, bool>,
    /// New messages per user or application; `None` when unlimited.
    pub(crate) messages: Option<Limiter<Searcher>>,
    /// Email changes, the sessions list, reset by email (`account.rs`).
    pub(crate) account: Arc<crate::account::AccountState>,
    /// Link previews, fetched through the SSRF guard (`previews.rs`).
    pub(crate) previews: Arc<crate::previews::Previews>,
    /// This instance's push state: its tabs' rows and the per-device budget.
    pub(crate) push: Arc<crate::push_queue::PushState>,
    /// The blob store and the upload limits (`attachments.rs`).
    pub(crate) files: Arc<crate::attachments::Files>,
    /// (user, room) pairs whose typing notice went out within
    /// [`crate::realtime::TYPING_EVERY`]: later ones are not relayed.
    pub(crate) typing_relayed: moka::sync::Cache<(crate::model::UserId, crate::model::RoomId), ()>,
}

impl Hearth {
    /// One instance on its own (no bus).
    pub fn new(store: Store, settings: Settings) -> Self {
        Self::build(store, settings, crate::bus::Bus::Local, None)
    }

    /// With a shared bus, `gaps` is where the hub sends rooms whose changes
    /// came with a gap (see `cluster.rs`).
    pub(crate) fn build(
        store: Store,
        settings: Settings,
        bus: crate::bus::Bus,
        gaps: Option<tokio::sync::mpsc::UnboundedSender<crate::model::RoomId>>,
    ) -> Self {
        let sign_in_limiter =
            SignInLimiter::new(settings.sign_ins_per_ip_per_minute, settings.sign_ins_per_account_per_minute);
        let anonymous_apps = IpLimiter::per_minute(settings.anonymous_apps_per_ip_per_minute);
        let searches = Limiter::per_minute(settings.searches_per_minute);
        let hub = Hub::new(bus, gaps);
        let caches = Caches::new(settings.cache_ttl(), hub.list_changes().clone());
        let archived_rooms = crate::cache::Bounded::new(crate::cache::MEMBERSHIPS_CAPACITY, settings.cache_ttl());
        let messages = (settings.messages_per_minute > 0).then(|| Limiter::per_minute(settings.messages_per_minute));
        let account = Arc::new(crate::account::AccountState::new(settings.reset_mails_per_address_per_hour));
        let previews = Arc::new(crate::previews::Previews::new());
        let push = Arc::new(crate::push_queue::PushState::new(settings.push_per_device_per_minute));
        Self(Arc::new(Shared {
            previews,
            push,
            files: Arc::new(crate::attachments::Files::new(settings.upload_max_bytes)),
            account,
            archived_rooms,
            messages,
            ingest: Arc::new(Ingest::new(store.clone(), hub.clone(), settings.postgres_writers)),
            store,
            settings: Arc::new(settings),
            sign_in_limiter,
            hub,
            anonymous_apps,
            searches,
            replays: ReplaySlots::default(),
            caches,
            typing_relayed: moka::sync::Cache::builder()
                .max_capacity(crate::cache::MEMBERSHIPS_CAPACITY)
                .time_to_live(crate::realtime::TYPING_EVERY)
                .build(),
        }))
    }
}

impl Hearth {
    /// The settings it was started with (read-only).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The axum-login backend, reading users through this handle's cache.
    pub fn auth_backend(&self) -> Backend {
        Backend::new(self.store.clone(), self.caches.users.clone())
    }

    /// The store, for the CLI and tests. Request handlers call use cases.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }

    /// The session store for the HTTP layer: `sessions` behind this
    /// instance's session cache, whose deletions reach the other instances.
    pub fn session_store(&self, sessions: crate::store::Sessions) -> crate::cache::CachedSessions {
        crate::cache::CachedSessions::new(sessions, self.caches.sessions.clone(), self.hub.bus().clone())
    }

    /// The signals (session ended, removed from a room, personal events)
    /// for every socket of `user`.
    pub fn user_signals(&self, user: UserId) -> tokio::sync::broadcast::Receiver<UserSignal> {
        self.hub.subscribe_user(user)
    }
}
