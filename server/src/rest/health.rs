//! `GET /healthz`: up, able to reach the database, and (when NATS is
//! configured) connected to the bus. 503 while either is unreachable: a load
//! balancer then sends new clients to another instance, and this one comes
//! back by itself when the database or NATS does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hearth::Hearth;
use hearth::bus::BusHealth;
use hearth::store::redact_password;
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(hearth): State<Hearth>) -> (StatusCode, Json<Value>) {
    let started = std::time::Instant::now();
    let (bus_ok, bus) = match hearth.bus().health() {
        BusHealth::Local => (true, json!({ "status": "none" })),
        BusHealth::Connected { url } => (true, json!({ "status": "connected", "url": redact_password(&url) })),
        BusHealth::Unreachable { url } => {
            tracing::warn!(url = %redact_password(&url), "health check: NATS unreachable");
            (false, json!({ "status": "unreachable", "url": redact_password(&url) }))
        }
    };
    let database = match hearth.ping().await {
        Ok(()) => Some(started.elapsed().as_secs_f64() * 1000.0),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            None
        }
    };
    match (database, bus_ok) {
        (Some(latency_ms), true) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "database": { "status": "ok", "latency_ms": latency_ms },
                "bus": bus,
            })),
        ),
        (database, _) => {
            let database = match database {
                Some(latency_ms) => json!({ "status": "ok", "latency_ms": latency_ms }),
                None => json!({ "status": "unreachable" }),
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "error", "database": database, "bus": bus })))
        }
    }
}
