//! `GET /metrics` in Prometheus' text format (issue 19), with the
//! `metrics-exporter-prometheus` recorder rendered by our own handler.
//!
//! It is never open by default. With `HEARTH_METRICS_TOKEN` it is served on
//! the main address to requests that carry `Authorization: Bearer <token>`
//! (401 otherwise); with `HEARTH_METRICS_LISTEN` it is also served, without
//! a token, on that separate address (bind it to a private interface).
//! Without either, `/metrics` is not a route (404) and no recorder is
//! installed, so the series below cost nothing.
//!
//! What is recorded: HTTP requests and latency by route pattern and status
//! ([`track_http`]), and the core's series (`hearth::metrics`): open
//! WebSockets, frames delivered, held and dropped, resyncs, message publish
//! latency, sign-in failures, rate-limit hits; the database pool's
//! connections are read at each scrape.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hearth::Hearth;
use hearth::metrics as series;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use subtle::ConstantTimeEq;

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Database calls are mostly well under a millisecond: 50 µs to 2.5 s.
const DB_BUCKETS: &[f64] =
    &[0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5];

/// How often histograms are folded in when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first call (there is
/// one per process: every server in it shares it).
pub fn install() -> Result<PrometheusHandle, String> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(series::DB_QUERY.into()), DB_BUCKETS)
                .map_err(|err| format!("metrics buckets: {err}"))?
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .map_err(|err| format!("metrics buckets: {err}"))?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|err| format!("installing the metrics recorder: {err}"))?;
            describe();
            // Reported from the start (as 0), so an alert on a rate sees a
            // series rather than none.
            for name in [
                series::FRAMES_DELIVERED,
                series::FRAMES_DROPPED,
                series::HOLDS,
                series::SIGN_IN_FAILURES,
                series::RATE_LIMITED,
            ] {
                metrics::counter!(name).absolute(0);
            }
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let upkeep = handle.clone();
                runtime.spawn(async move {
                    let mut every = tokio::time::interval(UPKEEP_EVERY);
                    loop {
                        every.tick().await;
                        upkeep.run_upkeep();
                    }
                });
            }
            Ok(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(series::HTTP_REQUESTS, "HTTP requests answered, by method, route pattern and status.");
    describe_histogram!(series::HTTP_DURATION, Unit::Seconds, "HTTP request latency, by method, route and status.");
    describe_gauge!(series::WEBSOCKETS_OPEN, "Open WebSockets, by endpoint (ws, cable).");
    describe_counter!(series::FRAMES_DELIVERED, "Frames written to WebSockets.");
    describe_counter!(series::FRAMES_DROPPED, "Frames lost by sockets that fell behind or stopped reading.");
    describe_counter!(series::HOLDS, "Times a socket's room frames were held for the write delay to share a write.");
    describe_counter!(series::RESYNCS, "Clients told to resync (ws) or reconnect (cable) after falling behind.");
    describe_histogram!(series::MESSAGE_PUBLISH, Unit::Seconds, "From a batch of messages committed to published.");
    describe_counter!(series::SIGN_IN_FAILURES, "Sign-ins refused for a wrong login or password.");
    describe_counter!(series::RATE_LIMITED, "Requests refused by a rate limit.");
    describe_gauge!(series::DB_POOL_CONNECTIONS, "Database connections open in the pool.");
    describe_gauge!(series::DB_POOL_IDLE, "Database connections idle in the pool.");
    describe_gauge!(series::DB_POOL_MAX, "The most connections the pool opens.");
    describe_histogram!(
        series::DB_QUERY,
        Unit::Seconds,
        "Each store call's time on the database, by pool (read, write)."
    );
    describe_gauge!(series::BUS_CONNECTED, "With NATS configured: 1 while connected to it, 0 while not.");
    describe_counter!(series::BUS_SENT, "Messages published to the other instances.");
    describe_counter!(series::BUS_RECEIVED, "Messages received from the other instances.");
    describe_counter!(series::BUS_DROPPED, "Messages not published (queue full or NATS unreachable).");
    describe_counter!(series::BUS_GAPS, "Times a room's changes came with a gap to fill from the log.");
    describe_counter!(series::BUS_FILLED, "Changes read from the change log to fill gaps.");
}

/// What `/metrics` needs: the recorder, the core (for the pool), and the
/// bearer token when one guards it.
#[derive(Clone)]
pub struct Endpoint {
    handle: PrometheusHandle,
    hearth: Hearth,
    token: Option<Arc<str>>,
}

impl Endpoint {
    pub fn new(handle: PrometheusHandle, hearth: Hearth, token: Option<&str>) -> Self {
        Self { handle, hearth, token: token.map(Arc::from) }
    }

    /// A router with just `GET /metrics`, mergeable into any state.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route("/metrics", get(move |headers: HeaderMap| async move { self.answer(&headers) }))
    }

    fn answer(&self, headers: &HeaderMap) -> Response {
        if let Some(token) = &self.token
            && !bearer_matches(headers, token)
        {
            let body = serde_json::json!({ "errors": ["/metrics needs Authorization: Bearer <HEARTH_METRICS_TOKEN>"] });
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Json(body)).into_response();
        }
        let pool = self.hearth.store().pool_stats();
        metrics::gauge!(series::DB_POOL_CONNECTIONS).set(f64::from(pool.size));
        metrics::gauge!(series::DB_POOL_IDLE).set(pool.idle as f64);
        metrics::gauge!(series::DB_POOL_MAX).set(f64::from(pool.max));
        series::report_open_sockets();
        self.handle.run_upkeep();
        ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], self.handle.render()).into_response()
    }
}

/// `Authorization: Bearer <token>` (the scheme in any case, as HTTP's
/// schemes are), the token compared in constant time.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some((scheme, given)) = given.trim_start().split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let given = given.trim();
    bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// Counts each request and times it, by method, route pattern (requests
/// that match no route share `unmatched`, so a scan of random paths adds no
/// series) and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!(series::HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(series::HTTP_DURATION, &labels).record(started.elapsed());
    response
}
