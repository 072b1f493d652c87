//! Running the instance over JSON (issue 18), for admins only: accounts,
//! roles, deactivation, signing out everywhere, the sign-up policy, the
//! rooms new accounts join, invitations and the audit log.
//! Every rule is in the core (`hearth::admin`); a member gets 403, anyone
//! signed out (a deactivated account's sessions included) 401.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json as JsonResponse, Router};
use hearth::admin::{Actor, InvitationRequest};
use hearth::model::{AdminUser, AuditEntry, DefaultRoom, Invitation, NewInvitation};
use hearth::model::{Role, RoomId, SignUpPolicy, UserId};
use hearth::passwords::ResetLink;
use hearth::{AppError, Hearth};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiResult;
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/users/{id}/role", put(set_role))
        .route("/admin/users/{id}/deactivate", post(deactivate))
        .route("/admin/users/{id}/reactivate", post(reactivate))
        .route("/admin/users/{id}/sign_out", post(sign_out))
        .route("/admin/users/{id}/reset_link", post(reset_link))
        .route("/admin/sign_up_policy", get(policy).put(set_policy))
        .route("/admin/default_rooms", get(default_rooms))
        .route("/admin/default_rooms/{id}", put(add_default_room).delete(remove_default_room))
        .route("/admin/invitations", get(invitations).post(invite))
        .route("/admin/invitations/{id}", delete(revoke))
        .route("/admin/audit", get(audit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UsersQuery {
    /// A part of a username, display name or email.
    query: Option<String>,
}

/// Every account, with search (admins only).
#[utoipa::path(get, path = "/admin/users", tag = "admin",
    params(UsersQuery),
    responses((status = 200, description = "The accounts", body = Vec<AdminUser>)))]
pub(super) async fn users(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<UsersQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.admin_users(me.id, q.query.as_deref()).await?))
}

/// A role: `admin` or `member`.
#[derive(Deserialize, ToSchema)]
pub(super) struct RoleBody {
    role: Option<String>,
}

/// Promotes or demotes an account; the last active admin stays one (admins only).
#[utoipa::path(put, path = "/admin/users/{id}/role", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The account now", body = AdminUser),
        (status = 409, description = "It would leave the instance without an active admin", body = super::openapi::Errors)))]
pub(super) async fn set_role(
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

/// Deactivates an account: its sessions end and its sockets close at once (admins only).
#[utoipa::path(post, path = "/admin/users/{id}/deactivate", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account now", body = AdminUser),
        (status = 409, description = "It would leave the instance without an active admin", body = super::openapi::Errors)))]
pub(super) async fn deactivate(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.deactivate(Actor::Admin(me.id), UserId(id)).await?))
}

/// Reactivates an account (admins only).
#[utoipa::path(post, path = "/admin/users/{id}/reactivate", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account now", body = AdminUser)))]
pub(super) async fn reactivate(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.reactivate(Actor::Admin(me.id), UserId(id)).await?))
}

/// Signs an account out everywhere: every session ends and its sockets close at once; it may sign in again (admins only).
#[utoipa::path(post, path = "/admin/users/{id}/sign_out", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account now, with no sessions", body = AdminUser)))]
pub(super) async fn sign_out(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.sign_out_everywhere(Actor::Admin(me.id), UserId(id)).await?))
}

/// Who may sign up (admins only).
#[utoipa::path(get, path = "/admin/sign_up_policy", tag = "admin",
    responses((status = 200, description = "The policy", body = PolicyReply)))]
pub(super) async fn policy(State(hearth): State<Hearth>, CurrentUser(me): CurrentUser) -> ApiResult<impl IntoResponse> {
    hearth.require_admin(me.id).await?;
    Ok(JsonResponse(PolicyReply { policy: hearth.sign_up_policy().await? }))
}

/// The sign-up policy.
#[derive(Serialize, ToSchema)]
pub(super) struct PolicyReply {
    policy: SignUpPolicy,
}

/// A sign-up policy: `open`, `invite` or `closed`.
#[derive(Deserialize, ToSchema)]
pub(super) struct PolicyBody {
    policy: Option<String>,
}

/// Sets who may sign up (admins only).
#[utoipa::path(put, path = "/admin/sign_up_policy", tag = "admin",
    request_body = PolicyBody,
    responses((status = 200, description = "The policy now", body = PolicyReply)))]
pub(super) async fn set_policy(
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
    Ok(JsonResponse(PolicyReply { policy }))
}

/// The open rooms every new account joins, by title (admins only).
#[utoipa::path(get, path = "/admin/default_rooms", tag = "admin",
    responses((status = 200, description = "The rooms", body = Vec<DefaultRoom>)))]
pub(super) async fn default_rooms(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.default_rooms(Actor::Admin(me.id)).await?))
}

/// Makes an open room one that every new account joins; accounts that
/// exist are not added (admins only).
#[utoipa::path(put, path = "/admin/default_rooms/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The open room's id")),
    responses(
        (status = 200, description = "The rooms now", body = Vec<DefaultRoom>),
        (status = 422, description = "Not an open room, or archived", body = super::openapi::Errors)))]
pub(super) async fn add_default_room(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.set_default_room(Actor::Admin(me.id), RoomId(id), true).await?))
}

/// New accounts no longer join this room; its members stay (admins only).
#[utoipa::path(delete, path = "/admin/default_rooms/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The room's id")),
    responses((status = 200, description = "The rooms now", body = Vec<DefaultRoom>)))]
pub(super) async fn remove_default_room(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.set_default_room(Actor::Admin(me.id), RoomId(id), false).await?))
}

/// The invitation links, newest first, without their tokens (admins only).
#[utoipa::path(get, path = "/admin/invitations", tag = "admin",
    responses((status = 200, description = "The invitations", body = Vec<Invitation>)))]
pub(super) async fn invitations(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.invitations(me.id).await?))
}

/// A new invitation's lifetime and use count (defaults when absent).
#[derive(Deserialize, ToSchema)]
pub(super) struct InviteBody {
    expires_in_hours: Option<i64>,
    max_uses: Option<i64>,
}

/// Makes an invitation link; its token is shown this once (admins only).
#[utoipa::path(post, path = "/admin/invitations", tag = "admin",
    request_body = InviteBody,
    responses((status = 201, description = "The invitation, with its token and link", body = NewInvitation)))]
pub(super) async fn invite(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<InviteBody>,
) -> ApiResult<impl IntoResponse> {
    let request = InvitationRequest { expires_in_hours: body.expires_in_hours, max_uses: body.max_uses };
    let created = hearth.create_invitation(Actor::Admin(me.id), request).await?;
    Ok((StatusCode::CREATED, JsonResponse(created)))
}

/// Revokes an invitation (admins only).
#[utoipa::path(delete, path = "/admin/invitations/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The invitation's id")),
    responses((status = 204, description = "Revoked")))]
pub(super) async fn revoke(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    hearth.revoke_invitation(Actor::Admin(me.id), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// Entries older than this id.
    before: Option<i64>,
    /// At most this many entries (capped by the server).
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "hearth::error::any_limit")]
    limit: Option<u32>,
}

/// The audit log of admin actions, newest first (admins only).
#[utoipa::path(get, path = "/admin/audit", tag = "admin",
    params(AuditQuery),
    responses((status = 200, description = "The entries", body = Vec<AuditEntry>)))]
pub(super) async fn audit(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(JsonResponse(hearth.audit_log(me.id, q.before, q.limit).await?))
}

/// A one-time password reset link for an account, valid for an hour (admins only).
#[utoipa::path(post, path = "/admin/users/{id}/reset_link", tag = "admin",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 201, description = "The link", body = ResetLink),
        (status = 409, description = "The account is deactivated: a link could never be used", body = super::openapi::Errors)))]
pub(super) async fn reset_link(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let link = hearth.create_reset_link(Actor::Admin(me.id), UserId(id)).await?;
    Ok((StatusCode::CREATED, JsonResponse(link)))
}
