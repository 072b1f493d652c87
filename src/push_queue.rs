//! Sending Web Push (issue 17, part 5): the worker that takes due jobs from
//! the durable queue (`push_jobs`), decides with [`should_push`] who gets
//! each message, encrypts and signs, and hands the requests to the server's
//! HTTP client (a [`PushTransport`], as mail goes through a `Mailer`: the
//! core has no HTTP).
//!
//! - **Queue.** A message's job is inserted in its write transaction
//!   (`Store::append_messages`), due `push_delay_secs` later; a read that
//!   reaches a pushed message queues a `close` in the marker's transaction
//!   (`Store::mark_read`). Jobs are claimed by lease (`Store::claim_push_jobs`:
//!   a fresh token and a time; `FOR UPDATE SKIP LOCKED` on Postgres), so two
//!   instances never take the same one, and deleted when done, so a restart
//!   loses none. A crash while a job is being sent (after its requests went
//!   out, before its row is deleted) sends it again once the lease runs out:
//!   at least once, never lost; the notification's tag makes the repeat
//!   replace the first. A shutdown lets the job in hand finish.
//! - **Draining.** A drain ([`Hearth::push_due`]) first deletes, in one
//!   statement, the due message jobs whose rooms have no member with a
//!   subscription (`Store::drop_unpushable_push_jobs`), then claims
//!   [`CLAIM`] of the rest per round, for at most [`ROUNDS`] rounds; it
//!   deletes again only while the last delete took all it could. A drain
//!   that stopped with jobs left is followed by the next at once; an idle
//!   worker looks every [`POLL`].
//! - **Deciding** is one query per message (`Store::push_candidates`), then
//!   [`should_push`] per member, then one statement that records the pushes
//!   (`push_sent`) for those still unread at that moment.
//! - **Tabs.** Which room each tab shows is `push_viewing`, a row per socket
//!   in the shared database, so whichever instance decides sees every
//!   instance's tabs; rows of a dead instance expire ([`VIEWING_TTL`]).
//! - **Per device**, at most `push_per_device_per_minute` message pushes
//!   (a burst, refilling evenly); what is over is dropped: the notification
//!   for the room (its tag) is already showing. Withdrawals are never held.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::model::{Person, RoomId, RoomKind, UserId, named_by_members, room_title};
use crate::push::{Vapid, encrypt};
use crate::store::{PushJob, PushSubscription, format_time};
use crate::{AppError, Hearth};

mod decide;
mod payload;

pub use decide::{DeviceBudget, decide};
use payload::tag;
pub use payload::{BODY_MAX, Payload};

/// How long a tab's row counts without its instance refreshing it.
pub const VIEWING_TTL: Duration = Duration::from_secs(30);
/// How often an instance refreshes its tabs' rows (well inside the TTL).
const VIEWING_REFRESH: Duration = Duration::from_secs(10);
/// How often an idle worker looks for due jobs.
const POLL: Duration = Duration::from_millis(250);
/// A claim's lease: longer than any job takes (each request times out after
/// 10 s, and a job's requests go [`CONCURRENT`] at a time).
const LEASE: Duration = Duration::from_secs(300);
/// Jobs claimed at once.
const CLAIM: i64 = 16;
/// Due jobs that nobody can be pushed for, deleted at once.
const DROP: i64 = 1000;
/// Rounds in one drain: the worker refreshes its tabs' rows and hears a
/// shutdown between drains.
pub const ROUNDS: usize = 8;
/// Requests in flight at once for one job.
const CONCURRENT: usize = 16;
/// How long the push service keeps a push for an offline device.
const TTL_SECS: u32 = 24 * 60 * 60;

/// What one round of a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Round {
    /// Due jobs deleted undecided: nobody in their rooms can be pushed.
    dropped: Option<u64>,
    /// Jobs claimed.
    claimed: usize,
    /// Claimed jobs done (sent, or found to need nothing).
    sent: usize,
}

/// What a drain of the push queue did ([`Hearth::push_due`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drain {
    /// Due jobs deleted undecided: nobody in their rooms can be pushed.
    pub dropped: u64,
    /// How many statements deleted them.
    pub drops: usize,
    /// Jobs claimed.
    pub claimed: usize,
    /// Claimed jobs done (sent, or found to need nothing).
    pub sent: usize,
    /// The drain stopped at its last round with more maybe due.
    pub more: bool,
}

/// One push, ready to POST.
#[derive(Debug, Clone)]
pub struct PushRequest {
    pub endpoint: String,
    /// `vapid t=…, k=…`.
    pub authorization: String,
    /// The `TTL` header, seconds.
    pub ttl: u32,
    /// The `Urgency` header.
    pub urgency: &'static str,
    /// The `Topic` header: a push service replaces an undelivered push with
    /// a newer one of the same topic.
    pub topic: String,
    /// The `aes128gcm` body.
    pub body: Vec<u8>,
}

/// The server's HTTP client for pushes.
#[async_trait]
pub trait PushTransport: Send + Sync {
    /// POSTs `request`: the push service's status, or why none came.
    async fn send(&self, request: PushRequest) -> Result<u16, String>;
}

/// This instance's side of the pipeline.
pub(crate) struct PushState {
    /// Names this process's rows in `push_viewing`.
    instance: String,
    /// The next socket number for `push_viewing`.
    next_socket: AtomicI64,
    /// Message pushes per device (subscription id).
    budget: DeviceBudget,
}

impl PushState {
    pub(crate) fn new(per_device_per_minute: u32) -> Self {
        let instance = format!("{:016x}", rand_u64());
        Self { instance, next_socket: AtomicI64::new(1), budget: DeviceBudget::per_minute(per_device_per_minute) }
    }
}

fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("the system's randomness");
    u64::from_le_bytes(bytes)
}

fn later(by: Duration) -> String {
    format_time(time::OffsetDateTime::now_utc() + by)
}

/// How one request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    /// 404 or 410: the subscription is gone, and removed.
    Gone,
    Failed,
}

impl Hearth {
    /// A number for a new socket's `push_viewing` row.
    pub fn tab_opened(&self) -> i64 {
        self.push.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// The `viewing` event: socket `socket` of mine shows `room` (a room of
    /// mine), or none.
    pub async fn viewing(&self, me: UserId, socket: i64, room: Option<RoomId>) -> Result<(), AppError> {
        if let Some(room) = room {
            self.member_room(me, room).await?;
        }
        self.store.set_viewing(&self.push.instance, socket, me, room, &later(VIEWING_TTL)).await
    }

    /// The socket closed: it shows nothing any more.
    pub async fn tab_closed(&self, me: UserId, socket: i64) -> Result<(), AppError> {
        self.store.set_viewing(&self.push.instance, socket, me, None, &later(VIEWING_TTL)).await
    }

    /// Runs the push worker until `stop` resolves: due jobs are claimed and
    /// sent through `transport`, and this instance's tabs kept alive. The
    /// job in hand when `stop` comes is finished first.
    pub async fn run_push_worker(&self, transport: Arc<dyn PushTransport>, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut refresh = tokio::time::interval(VIEWING_REFRESH);
        // A drain that stopped with jobs left is followed by the next at
        // once, so a backlog goes as fast as it can be sent instead of a
        // round per poll.
        let mut wait = POLL;
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = refresh.tick() => {
                    if let Err(err) = self.store.refresh_viewing(&self.push.instance, &later(VIEWING_TTL)).await {
                        tracing::warn!(error = %err, "refreshing the tabs' rooms failed");
                    }
                }
                () = tokio::time::sleep(wait) => {
                    wait = match self.push_due(&transport, &crate::store::now(), ROUNDS).await {
                        Ok(drain) if drain.more => Duration::ZERO,
                        Ok(_) => POLL,
                        Err(err) => {
                            tracing::warn!(error = %err, "a round of pushes failed");
                            POLL
                        }
                    };
                }
            }
        }
    }

    /// Sends the jobs due at `at` (a stored time), round after round, for at
    /// most `rounds` rounds. The jobs nobody can be pushed for are deleted
    /// first, and again only while the last delete took all it could.
    pub async fn push_due(
        &self,
        transport: &Arc<dyn PushTransport>,
        at: &str,
        rounds: usize,
    ) -> Result<Drain, AppError> {
        let mut drain = Drain::default();
        let mut drop = true;
        for _ in 0..rounds {
            let round = self.push_round(transport, at, drop).await?;
            if let Some(dropped) = round.dropped {
                drain.dropped += dropped;
                drain.drops += 1;
            }
            drain.claimed += round.claimed;
            drain.sent += round.sent;
            drop = round.dropped.is_some_and(|dropped| dropped as i64 >= DROP);
            if !drop && (round.claimed as i64) < CLAIM {
                return Ok(drain);
            }
        }
        drain.more = true;
        Ok(drain)
    }

    /// One round over the jobs due at `at`: with `drop`, those nobody can be
    /// pushed for are deleted; then up to [`CLAIM`] others are claimed and
    /// sent.
    async fn push_round(&self, transport: &Arc<dyn PushTransport>, at: &str, drop: bool) -> Result<Round, AppError> {
        if !self.store.push_job_due(at).await? {
            return Ok(Round::default());
        }
        let dropped = match drop {
            true => Some(self.store.drop_unpushable_push_jobs(at, DROP).await?),
            false => None,
        };
        let token = format!("{}-{:016x}", self.push.instance, rand_u64());
        let jobs = self.store.claim_push_jobs(&token, at, &later(LEASE), CLAIM).await?;
        let claimed = jobs.len();
        if jobs.is_empty() {
            return Ok(Round { dropped, claimed, sent: 0 });
        }
        let vapid = Arc::new(self.vapid().await?);
        let mut done = 0;
        for job in jobs {
            let sent = match job.kind.as_str() {
                "message" => self.push_message(&job, transport, &vapid).await,
                _ => self.push_close(&job, transport, &vapid).await,
            };
            if let Err(err) = sent {
                tracing::warn!(error = %err, job = job.id, "a push job failed; it is dropped");
            }
            if self.store.finish_push_job(job.id, &token).await? {
                done += 1;
            }
        }
        Ok(Round { dropped, claimed, sent: done })
    }

    async fn push_message(
        &self,
        job: &PushJob,
        transport: &Arc<dyn PushTransport>,
        vapid: &Arc<Vapid>,
    ) -> Result<(), AppError> {
        let candidates = self.store.push_candidates(job.room_id, job.number, job.user_id, &crate::store::now()).await?;
        let chosen = decide(&candidates, job.number);
        if chosen.is_empty() {
            return Ok(());
        }
        let Some(message) = self.store.message(job.room_id, job.number).await? else { return Ok(()) };
        let (Some(body), false) = (message.body.as_deref(), message.deleted) else { return Ok(()) };
        let Some(room) = self.store.room(job.room_id).await? else { return Ok(()) };
        let author = match (&message.user, &message.application) {
            (Some(user), _) => user.name.clone().unwrap_or_else(|| user.username.clone()),
            (None, Some(app)) => app.clone(),
            (None, None) => "Someone".to_owned(),
        };
        // A group made without a title is called by its other members, so
        // each recipient sees it under the name their room list shows.
        let members = match named_by_members(room.kind(), room.title.as_deref()) {
            true => self.store.members(job.room_id).await?,
            false => Vec::new(),
        };
        let title_for = |recipient: UserId| match room.kind() {
            RoomKind::Direct => None,
            _ => Some(room_title(
                room.kind(),
                room.title.as_deref(),
                members.iter().filter(|m| m.id != recipient).map(Person::display_name),
            )),
        };
        let mut payloads: HashMap<UserId, Arc<Vec<u8>>> = HashMap::new();
        // Only those still unread now are recorded, and pushed.
        let pushed = self.store.record_pushes(job.room_id, job.number, &chosen).await?;
        for &user in &pushed {
            let title = title_for(user);
            let payload = Payload::message(job.room_id, job.number, &author, title.as_deref(), body);
            payloads.insert(user, Arc::new(serde_json::to_vec(&payload).map_err(AppError::internal)?));
        }
        let devices: Vec<(PushSubscription, Arc<Vec<u8>>)> = candidates
            .into_iter()
            .filter(|c| pushed.contains(&c.user_id))
            .filter(|c| {
                let within = self.push.budget.spend(c.subscription_id);
                if !within {
                    crate::metrics::push_dropped();
                }
                within
            })
            .filter_map(|c| {
                let payload = Arc::clone(payloads.get(&c.user_id)?);
                let device = PushSubscription {
                    id: c.subscription_id,
                    user_id: c.user_id,
                    endpoint: c.endpoint,
                    p256dh: c.p256dh,
                    auth: c.auth,
                };
                Some((device, payload))
            })
            .collect();
        let urgency = if room.kind() == RoomKind::Direct || message.mentions.is_empty() { "normal" } else { "high" };
        self.deliver(devices, urgency, tag(job.room_id), transport, vapid).await;
        Ok(())
    }

    async fn push_close(
        &self,
        job: &PushJob,
        transport: &Arc<dyn PushTransport>,
        vapid: &Arc<Vapid>,
    ) -> Result<(), AppError> {
        let Some(user) = job.user_id else { return Ok(()) };
        let devices = self.store.push_subscriptions_of(user).await?;
        let payload = serde_json::to_vec(&Payload::close(job.room_id, job.number)).map_err(AppError::internal)?;
        let payload = Arc::new(payload);
        let devices = devices.into_iter().map(|d| (d, Arc::clone(&payload))).collect();
        self.deliver(devices, "normal", tag(job.room_id), transport, vapid).await;
        Ok(())
    }

    /// Encrypts `payload` for each device and sends, [`CONCURRENT`] at a time.
    async fn deliver(
        &self,
        devices: Vec<(PushSubscription, Arc<Vec<u8>>)>,
        urgency: &'static str,
        topic: String,
        transport: &Arc<dyn PushTransport>,
        vapid: &Arc<Vapid>,
    ) {
        for chunk in devices.chunks(CONCURRENT) {
            let mut sends = tokio::task::JoinSet::new();
            for (device, payload) in chunk {
                let device = device.clone();
                let (hearth, transport, vapid) = (self.clone(), Arc::clone(transport), Arc::clone(vapid));
                let (payload, topic) = (Arc::clone(payload), topic.clone());
                sends.spawn(async move {
                    let outcome = hearth.send_one(&device, &payload, urgency, topic, &*transport, &vapid).await;
                    match outcome {
                        Outcome::Sent => crate::metrics::push_sent(),
                        Outcome::Failed => crate::metrics::push_failed(),
                        Outcome::Gone => crate::metrics::push_subscription_removed(),
                    }
                });
            }
            while sends.join_next().await.is_some() {}
        }
    }

    async fn send_one(
        &self,
        device: &PushSubscription,
        payload: &[u8],
        urgency: &'static str,
        topic: String,
        transport: &dyn PushTransport,
        vapid: &Vapid,
    ) -> Outcome {
        let request = match self.push_request(device, payload, urgency, topic, vapid) {
            Ok(request) => request,
            Err(err) => {
                tracing::warn!(error = %err, subscription = device.id, "a push could not be prepared");
                return Outcome::Failed;
            }
        };
        match transport.send(request).await {
            Ok(200..=299) => Outcome::Sent,
            Ok(404 | 410) => {
                if let Err(err) = self.store.forget_push_subscription(device.id).await {
                    tracing::warn!(error = %err, "removing a stale subscription failed");
                }
                Outcome::Gone
            }
            Ok(status) => {
                tracing::info!(status, subscription = device.id, "the push service refused a push");
                Outcome::Failed
            }
            Err(err) => {
                tracing::info!(error = %err, subscription = device.id, "a push went unanswered");
                Outcome::Failed
            }
        }
    }

    fn push_request(
        &self,
        device: &PushSubscription,
        payload: &[u8],
        urgency: &'static str,
        topic: String,
        vapid: &Vapid,
    ) -> Result<PushRequest, AppError> {
        use base64::Engine;
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let p256dh = key.decode(&device.p256dh).map_err(AppError::internal)?;
        let auth = key.decode(&device.auth).map_err(AppError::internal)?;
        let body = encrypt(payload, &p256dh, &auth).map_err(AppError::internal)?;
        let audience = url::Url::parse(&device.endpoint).map_err(AppError::internal)?.origin().ascii_serialization();
        let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 12 * 60 * 60;
        let authorization =
            vapid.authorization(&audience, expires, &self.settings.push_contact).map_err(AppError::internal)?;
        Ok(PushRequest { endpoint: device.endpoint.clone(), authorization, ttl: TTL_SECS, urgency, topic, body })
    }
}
