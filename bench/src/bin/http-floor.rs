//! `http-floor`: what one HTTP request costs on this machine before any of
//! Hearth's own work. A bare axum server (the same axum, hyper and tokio as
//! Hearth, one route, no middleware, no session, no database) that takes
//! `POST /conversations/{id}/messages` with a JSON body as Hearth's REST
//! API does, refuses a blank body with a 422 and answers any other with a
//! 201 and a small JSON message. Pinned to one core and driven by `wrk`
//! from the other, it is the ceiling for any REST post on that core; the
//! same `wrk` against Hearth shows what Hearth's layers and store add
//! (docs/benchmarks.md).
//!
//! ```sh
//! taskset -c 0 ./target/release/http-floor --listen 127.0.0.1:3195 &
//! taskset -c 1 wrk -t1 -c64 -d8s -s post.lua http://127.0.0.1:3195/conversations/1/messages
//! ```

use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use clap::Parser;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "A bare axum server: the floor under a REST post on this machine")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:3195")]
    listen: String,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

async fn create(
    State(next): State<&'static AtomicI64>,
    Path(room): Path<i64>,
    Json(body): Json<Body>,
) -> (StatusCode, Json<Value>) {
    if body.body.trim().is_empty() {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({ "errors": ["Body can't be blank"] })));
    }
    let number = next.fetch_add(1, Ordering::Relaxed) + 1;
    (StatusCode::CREATED, Json(json!({ "id": number, "conversation_id": room, "number": number, "body": body.body })))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let next: &'static AtomicI64 = Box::leak(Box::new(AtomicI64::new(0)));
    let app = Router::new().route("/conversations/{id}/messages", post(create)).with_state(next);
    let listener = tokio::net::TcpListener::bind(&args.listen).await.expect("bind");
    eprintln!("http-floor listening on {}", args.listen);
    axum::serve(listener, app).await.expect("serve");
}
