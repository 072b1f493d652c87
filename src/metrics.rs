//! The series Hearth records, through the `metrics` facade. The server
//! installs a Prometheus recorder only when `/metrics` is configured; without
//! one every call here is a no-op. Names follow Prometheus conventions (base
//! units, `_total` for counters); `docs/operations.md` lists them.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// `hearth_http_requests_total{method,route,status}` (counter) and
/// `hearth_http_request_duration_seconds{method,route,status}` (histogram):
/// by the route's pattern (`/conversations/{id}/messages`), never the path.
pub const HTTP_REQUESTS: &str = "hearth_http_requests_total";
pub const HTTP_DURATION: &str = "hearth_http_request_duration_seconds";
/// `hearth_websockets_open{endpoint="ws"|"cable"}` (gauge).
pub const WEBSOCKETS_OPEN: &str = "hearth_websockets_open";
/// `hearth_ws_frames_delivered_total` and `hearth_ws_frames_dropped_total`
/// (counters): frames written to sockets, and frames lost (a socket that fell
/// a room channel's capacity behind, or was dropped for not reading).
pub const FRAMES_DELIVERED: &str = "hearth_ws_frames_delivered_total";
pub const FRAMES_DROPPED: &str = "hearth_ws_frames_dropped_total";
/// `hearth_ws_holds_total` (counter): times a socket's room frames were held
/// back for the write delay (`HEARTH_WS_WRITE_DELAY_MS`) to share one write.
pub const HOLDS: &str = "hearth_ws_holds_total";
/// `hearth_ws_resyncs_total{endpoint}` (counter): `resync` sent to `/ws`
/// clients, and `/cable` clients told to reconnect for falling behind.
pub const RESYNCS: &str = "hearth_ws_resyncs_total";
/// `hearth_message_publish_seconds` (histogram): from a batch of messages
/// committed to its events published and its senders answered.
pub const MESSAGE_PUBLISH: &str = "hearth_message_publish_seconds";
/// `hearth_sign_in_failures_total` (counter): wrong login or password.
pub const SIGN_IN_FAILURES: &str = "hearth_sign_in_failures_total";
/// `hearth_rate_limited_total` (counter): requests refused by a rate limit
/// (sign-in and registration, searches, anonymous applications).
pub const RATE_LIMITED: &str = "hearth_rate_limited_total";
/// `hearth_connections_refused_total` (counter): connections closed
/// unanswered because their address had `HEARTH_MAX_CONNECTIONS_PER_IP` open.
pub const CONNECTIONS_REFUSED: &str = "hearth_connections_refused_total";
/// `hearth_db_pool_connections` and `hearth_db_pool_idle_connections`
/// (gauges, set at each scrape) and `hearth_db_pool_max_connections`.
pub const DB_POOL_CONNECTIONS: &str = "hearth_db_pool_connections";
pub const DB_POOL_IDLE: &str = "hearth_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "hearth_db_pool_max_connections";
/// `hearth_db_query_seconds{pool="read"|"write"}` (histogram): each store
/// call's time on the database, its wait for a connection included (on
/// SQLite, `write` is the one writer connection's queue too). A call is one
/// statement, or one transaction for the writes that need several.
pub const DB_QUERY: &str = "hearth_db_query_seconds";
/// `hearth_bus_connected` (gauge, 1 or 0): the NATS connection, when one is
/// configured. `hearth_bus_messages_sent_total`, `hearth_bus_messages_received_total`
/// and `hearth_bus_messages_dropped_total` (counters; dropped: the publish
/// queue was full). `hearth_bus_gaps_total`: times a room's changes came out
/// of order or were missing, and `hearth_bus_filled_changes_total`: changes
/// read from the change log to fill those gaps.
pub const BUS_CONNECTED: &str = "hearth_bus_connected";
pub const BUS_SENT: &str = "hearth_bus_messages_sent_total";
pub const BUS_RECEIVED: &str = "hearth_bus_messages_received_total";
pub const BUS_DROPPED: &str = "hearth_bus_messages_dropped_total";
pub const BUS_GAPS: &str = "hearth_bus_gaps_total";
pub const BUS_FILLED: &str = "hearth_bus_filled_changes_total";
/// `hearth_push_sent_total`, `hearth_push_failed_total` (the push service
/// refused, or did not answer in time), `hearth_push_subscriptions_removed_total`
/// (it answered 404 or 410) and `hearth_push_dropped_total` (over a device's
/// budget) (counters): one per device per push.
pub const PUSH_SENT: &str = "hearth_push_sent_total";
pub const PUSH_FAILED: &str = "hearth_push_failed_total";
pub const PUSH_REMOVED: &str = "hearth_push_subscriptions_removed_total";
pub const PUSH_DROPPED: &str = "hearth_push_dropped_total";
/// `hearth_uploads_total` and `hearth_upload_bytes_total` (counters): files
/// uploaded, and their bytes as stored.
pub const UPLOADS: &str = "hearth_uploads_total";
pub const UPLOAD_BYTES: &str = "hearth_upload_bytes_total";
/// `hearth_search_answers_total{step}` (counter): searches by the step that
/// answered: for three characters or more `newest`, `room_windows`,
/// `wider` or `index` (see `Store::search_indexed`); for one or two the
/// scan, `scan` or `scan_partial` (see `Hearth::find`).
pub const SEARCH_ANSWERS: &str = "hearth_search_answers_total";

/// Records [`MESSAGE_PUBLISH`] when dropped: started right after a batch
/// commits, it times the readback, the publish and the replies.
pub struct PublishTimer(Instant);

impl PublishTimer {
    pub fn start() -> Self {
        Self(Instant::now())
    }
}

impl Drop for PublishTimer {
    fn drop(&mut self) {
        metrics::histogram!(MESSAGE_PUBLISH).record(self.0.elapsed());
    }
}

/// Records [`DB_QUERY`] for one store call when dropped.
pub struct QueryTimer {
    started: Instant,
    pool: &'static str,
}

impl QueryTimer {
    pub fn start(pool: &'static str) -> Self {
        Self { started: Instant::now(), pool }
    }
}

impl Drop for QueryTimer {
    fn drop(&mut self) {
        metrics::histogram!(DB_QUERY, "pool" => self.pool).record(self.started.elapsed());
    }
}

pub fn sign_in_failed() {
    metrics::counter!(SIGN_IN_FAILURES).increment(1);
}

pub fn rate_limited() {
    metrics::counter!(RATE_LIMITED).increment(1);
}

pub fn connection_refused() {
    metrics::counter!(CONNECTIONS_REFUSED).increment(1);
}

pub fn frames_delivered(n: usize) {
    metrics::counter!(FRAMES_DELIVERED).increment(n as u64);
}

pub fn frames_dropped(n: u64) {
    metrics::counter!(FRAMES_DROPPED).increment(n);
}

pub fn frames_held() {
    metrics::counter!(HOLDS).increment(1);
}

pub fn search_answered(step: &'static str) {
    metrics::counter!(SEARCH_ANSWERS, "step" => step).increment(1);
}

pub fn resync_sent(endpoint: &'static str) {
    metrics::counter!(RESYNCS, "endpoint" => endpoint).increment(1);
}

pub fn bus_connected(up: bool) {
    metrics::gauge!(BUS_CONNECTED).set(if up { 1.0 } else { 0.0 });
}

/// With NATS configured: the bus's series reported from the start (its
/// counters as 0), so an alert on them sees a series rather than none.
pub fn bus_configured(connected: bool) {
    bus_connected(connected);
    for name in [BUS_SENT, BUS_RECEIVED, BUS_DROPPED, BUS_GAPS, BUS_FILLED] {
        metrics::counter!(name).increment(0);
    }
}

pub fn bus_sent() {
    metrics::counter!(BUS_SENT).increment(1);
}

pub fn bus_received() {
    metrics::counter!(BUS_RECEIVED).increment(1);
}

pub fn bus_dropped() {
    metrics::counter!(BUS_DROPPED).increment(1);
}

pub fn bus_gap() {
    metrics::counter!(BUS_GAPS).increment(1);
}

pub fn bus_filled(changes: usize) {
    metrics::counter!(BUS_FILLED).increment(changes as u64);
}

/// The process's open sockets by endpoint, counted whether or not a
/// recorder is installed: a gauge moved by +1 and -1 went below zero when
/// sockets opened before the recorder was installed closed after it.
static OPEN_WS: AtomicI64 = AtomicI64::new(0);
static OPEN_CABLE: AtomicI64 = AtomicI64::new(0);

fn open_count(endpoint: Endpoint) -> &'static AtomicI64 {
    match endpoint {
        Endpoint::Ws => &OPEN_WS,
        Endpoint::Cable => &OPEN_CABLE,
    }
}

/// The two socket endpoints, as [`WEBSOCKETS_OPEN`] labels them.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Ws,
    Cable,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::Cable => "cable",
        }
    }
}

/// Counts an open WebSocket until dropped (reported by [`report_open_sockets`]).
pub struct OpenSocket(Endpoint);

impl OpenSocket {
    pub fn new(endpoint: Endpoint) -> Self {
        open_count(endpoint).fetch_add(1, Ordering::Relaxed);
        Self(endpoint)
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        open_count(self.0).fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sets [`WEBSOCKETS_OPEN`] from the open sockets counted now (at a scrape).
pub fn report_open_sockets() {
    for endpoint in [Endpoint::Ws, Endpoint::Cable] {
        let open = open_count(endpoint).load(Ordering::Relaxed);
        metrics::gauge!(WEBSOCKETS_OPEN, "endpoint" => endpoint.label()).set(open as f64);
    }
}

pub fn push_sent() {
    metrics::counter!(PUSH_SENT).increment(1);
}

pub fn push_failed() {
    metrics::counter!(PUSH_FAILED).increment(1);
}

pub fn push_subscription_removed() {
    metrics::counter!(PUSH_REMOVED).increment(1);
}

pub fn push_dropped() {
    metrics::counter!(PUSH_DROPPED).increment(1);
}

pub fn uploaded(bytes: i64) {
    metrics::counter!(UPLOADS).increment(1);
    metrics::counter!(UPLOAD_BYTES).increment(u64::try_from(bytes).unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_sockets_are_counted_with_no_recorder_and_uncounted_when_dropped() {
        // No recorder is installed in this test binary: the count is kept
        // anyway, so a recorder installed later starts from the truth.
        let start = open_count(Endpoint::Cable).load(Ordering::Relaxed);
        let first = OpenSocket::new(Endpoint::Cable);
        let second = OpenSocket::new(Endpoint::Cable);
        assert_eq!(open_count(Endpoint::Cable).load(Ordering::Relaxed), start + 2);
        drop(first);
        assert_eq!(open_count(Endpoint::Cable).load(Ordering::Relaxed), start + 1);
        drop(second);
        assert_eq!(open_count(Endpoint::Cable).load(Ordering::Relaxed), start);
    }
}
