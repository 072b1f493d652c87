//! `GET /search?q=&room_id=&limit=`: message search for the signed-in web
//! UI, across my rooms or one of them.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::RoomId;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Deserialize)]
struct WebSearch {
    q: Option<String>,
    room_id: Option<i64>,
    limit: Option<u32>,
}

async fn search(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<WebSearch>,
) -> ApiResult<impl IntoResponse> {
    let query = q.q.unwrap_or_default();
    Ok(JsonResponse(hearth.search(me.id, &query, q.room_id.map(RoomId), q.limit).await?))
}
