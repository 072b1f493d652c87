//! `GET /healthz`: up, able to reach the database, and (when NATS is
//! configured) connected to the bus. 503 while either is unreachable: a load
//! balancer then sends new clients to another instance, and this one comes
//! back by itself when the database or NATS does. The store of uploaded
//! files is checked too, but a store that does not answer is `degraded`,
//! still 200: chat goes on without uploads, and an object store that is
//! down for every instance must not take them all out of the balancer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hearth::Hearth;
use hearth::bus::BusHealth;
use hearth::store::redact_password;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

/// The instance's health.
#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok`, `degraded` (the file store does not answer: still 200) or
    /// `error` (503).
    status: &'static str,
    /// The server's version (when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    database: Part,
    bus: Part,
    blobs: Part,
}

/// The database, the bus or the file store.
#[derive(Serialize, ToSchema)]
pub(super) struct Part {
    /// Database: `ok` or `unreachable`. Bus: `none` (one instance alone),
    /// `connected` or `unreachable`. Blobs (uploaded files): `ok` or
    /// `unreachable`.
    status: &'static str,
    /// The database's answer time.
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<f64>,
    /// The NATS server, its password redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl Part {
    fn new(status: &'static str) -> Self {
        Self { status, latency_ms: None, url: None }
    }
}

/// How long the health check waits for the file store.
const BLOBS_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// Up, the database reachable, and connected to NATS when one is configured.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses(
        (status = 200, description = "Healthy, or degraded: the file store does not answer", body = Health),
        (status = 503, description = "The database or NATS is unreachable", body = Health)))]
pub(super) async fn health(State(hearth): State<Hearth>) -> (StatusCode, Json<Health>) {
    let started = std::time::Instant::now();
    let (bus_ok, bus) = match hearth.bus().health() {
        BusHealth::Local => (true, Part::new("none")),
        BusHealth::Connected { url } => (true, Part { url: Some(redact_password(&url)), ..Part::new("connected") }),
        BusHealth::Unreachable { url } => {
            tracing::warn!(url = %redact_password(&url), "health check: NATS unreachable");
            (false, Part { url: Some(redact_password(&url)), ..Part::new("unreachable") })
        }
    };
    let (pinged, blobs) = tokio::join!(hearth.ping(), hearth.blobs_reachable(BLOBS_WITHIN));
    let database = match pinged {
        Ok(()) => Some(started.elapsed().as_secs_f64() * 1000.0),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            None
        }
    };
    let blobs_ok = !matches!(blobs, Some(Err(_)));
    let blobs = match blobs {
        None => Part::new("none"),
        Some(Ok(())) => Part::new("ok"),
        Some(Err(err)) => {
            tracing::warn!(error = %err, "health check: the file store does not answer; uploads and downloads fail");
            Part::new("unreachable")
        }
    };
    let database_part = match database {
        Some(latency_ms) => Part { latency_ms: Some(latency_ms), ..Part::new("ok") },
        None => Part::new("unreachable"),
    };
    if database.is_some() && bus_ok {
        let status = if blobs_ok { "ok" } else { "degraded" };
        let version = Some(env!("CARGO_PKG_VERSION"));
        (StatusCode::OK, Json(Health { status, version, database: database_part, bus, blobs }))
    } else {
        let health = Health { status: "error", version: None, database: database_part, bus, blobs };
        (StatusCode::SERVICE_UNAVAILABLE, Json(health))
    }
}
