//! Running the instance over JSON (issue 18), for admins only: accounts,
//! roles, deactivation, the sign-up policy, invitations and the audit log.
//! Every rule is in the core (`hearth::admin`); a member gets 403, anyone
//! signed out (a deactivated account's sessions included) 401.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::admin::{Actor, InvitationRequest};
use hearth::model::{Role, SignUpPolicy, UserId};
use hearth::{AppError, Hearth};
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/users/{id}/role", put(set_role))
        .route("/admin/users/{id}/deactivate", post(deactivate))
        .route("/admin/users/{id}/reactivate", post(reactivate))
        .route("/admin/users/{id}/reset_link", post(reset_link))
        .route("/admin/sign_up_policy", get(policy).put(set_policy))
        .route("/admin/invitations", get(invitations).post(invite))
        .route("/admin/invitations/{id}", delete(revoke))
        .route("/admin/audit", get(audit))
}

#[derive(Deserialize)]
struct UsersQuery {
    query: Option<String>,
}

async fn users(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<UsersQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.admin_users(me.id, q.query.as_deref()).await?))
}

#[derive(Deserialize)]
struct RoleBody {
    role: Option<String>,
}

async fn set_role(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<RoleBody>,
) -> ApiResult<impl IntoResponse> {
    // Who may call is checked before what they sent.
    hearth.require_admin(me.id).await?;
    let role = body
        .role
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| AppError::invalid("role", "Role must be admin or member"))?;
    Ok(JsonResponse(hearth.set_role(Actor::Admin(me.id), UserId(id), role).await?))
}

async fn deactivate(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.deactivate(Actor::Admin(me.id), UserId(id)).await?))
}

async fn reactivate(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.reactivate(Actor::Admin(me.id), UserId(id)).await?))
}

async fn policy(State(hearth): State<Hearth>, CurrentUser(me): CurrentUser) -> ApiResult<impl IntoResponse> {
    hearth.require_admin(me.id).await?;
    Ok(JsonResponse(json!({ "policy": hearth.sign_up_policy().await? })))
}

#[derive(Deserialize)]
struct PolicyBody {
    policy: Option<String>,
}

async fn set_policy(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<PolicyBody>,
) -> ApiResult<impl IntoResponse> {
    hearth.require_admin(me.id).await?;
    let policy = body
        .policy
        .as_deref()
        .and_then(SignUpPolicy::parse)
        .ok_or_else(|| AppError::invalid("policy", "Policy must be open, invite or closed"))?;
    let policy = hearth.set_sign_up_policy(Actor::Admin(me.id), policy).await?;
    Ok(JsonResponse(json!({ "policy": policy })))
}

async fn invitations(State(hearth): State<Hearth>, CurrentUser(me): CurrentUser) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.invitations(me.id).await?))
}

#[derive(Deserialize)]
struct InviteBody {
    expires_in_hours: Option<i64>,
    max_uses: Option<i64>,
}

async fn invite(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<InviteBody>,
) -> ApiResult<impl IntoResponse> {
    let request = InvitationRequest { expires_in_hours: body.expires_in_hours, max_uses: body.max_uses };
    let created = hearth.create_invitation(Actor::Admin(me.id), request).await?;
    Ok((StatusCode::CREATED, JsonResponse(created)))
}

async fn revoke(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.revoke_invitation(Actor::Admin(me.id), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

async fn audit(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.audit_log(me.id, q.before, q.limit).await?))
}

/// A one-time password reset link for the account, valid for an hour.
async fn reset_link(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let link = hearth.create_reset_link(Actor::Admin(me.id), UserId(id)).await?;
    Ok((StatusCode::CREATED, JsonResponse(link)))
}
