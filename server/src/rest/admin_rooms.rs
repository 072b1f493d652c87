//! The rooms of an account, for an admin (issue 18, moderation): the group
//! and open rooms an admin may remove them from, with
//! `DELETE /conversations/:id/participants/:user_id`. A member gets 403,
//! anyone signed out 401.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json as JsonResponse, Router};
use hearth::Hearth;
use hearth::model::{Conversation, UserId};

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/users/{id}/conversations", get(conversations))
}

/// The live group and open rooms of an account, which an admin may remove it from (admins only).
#[utoipa::path(get, path = "/admin/users/{id}/conversations", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The rooms", body = Vec<Conversation>)))]
pub(super) async fn conversations(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.admin_user_rooms(me.id, UserId(id)).await?))
}
