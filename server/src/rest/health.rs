//! `GET /healthz`: up, and able to reach the database.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hearth::Hearth;
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(hearth): State<Hearth>) -> (StatusCode, Json<Value>) {
    let started = std::time::Instant::now();
    match hearth.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "database": { "status": "ok", "latency_ms": started.elapsed().as_secs_f64() * 1000.0 },
            })),
        ),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "error", "database": { "status": "unreachable" } })),
            )
        }
    }
}
