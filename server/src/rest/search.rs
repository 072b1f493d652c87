//! `GET /search?q=&room_id=&limit=`: message search for the signed-in web
//! UI, across my rooms or one of them.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::RoomId;
use hearth::model::SearchResults;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct WebSearch {
    /// The words to find (at most 8), each as any part of a word, in any
    /// order; a "quoted phrase" whole.
    q: Option<String>,
    /// Only in this room.
    room_id: Option<i64>,
    /// At most this many hits (capped by the server).
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "hearth::error::any_limit")]
    limit: Option<u32>,
}

/// Searches the messages of my rooms (or of one), newest first.
#[utoipa::path(get, path = "/search", tag = "search",
    params(WebSearch),
    responses((status = 200, description = "The hits", body = SearchResults)))]
pub(super) async fn search(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<WebSearch>,
) -> ApiResult<impl IntoResponse> {
    let query = q.q.unwrap_or_default();
    Ok(JsonResponse(hearth.search(me.id, &query, q.room_id.map(RoomId), q.limit).await?))
}
