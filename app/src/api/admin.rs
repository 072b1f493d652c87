//! The admin page's server functions (issue 18). Each calls one core
//! method of `hearth::admin` (which checks the caller is an admin and
//! writes the audit log); a member gets 403, anyone signed out 401.

use hearth::model::{
    AdminUser, AuditEntry, Conversation, DefaultRoom, Invitation, NewInvitation, OpenRoom, SignUpPolicy,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

#[cfg(feature = "ssr")]
fn actor(me: &hearth::auth::AuthUser) -> hearth::admin::Actor {
    hearth::admin::Actor::Admin(me.id)
}

/// Everything the admin page shows, in one answer: one request, and one
/// resource and one server function in the browser's build instead of four
/// of each (each type costs the WASM its own copy of the machinery;
/// docs/benchmarks.md).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AdminContents {
    /// Accounts whose username, name or email starts with the query (all
    /// when it is empty).
    pub users: Vec<AdminUser>,
    pub invitations: Vec<Invitation>,
    pub policy: SignUpPolicy,
    /// The open rooms every new account joins, and every live open room
    /// (to pick one from).
    pub default_rooms: Vec<DefaultRoom>,
    pub open_rooms: Vec<OpenRoom>,
    /// The newest 100 audit entries, newest first.
    pub audit: Vec<AuditEntry>,
    /// Whether older entries may exist (the page offers them).
    pub audit_more: bool,
    /// Whether the search listed as many accounts as it lists: others may
    /// match (the page says to search).
    pub users_cut: bool,
    /// The server's time when it answered, as times are stored: which
    /// invitations have expired (the same in the server's render and the
    /// browser's).
    pub now: String,
}

/// The admin page's contents for a user search of `query`. A member gets
/// 403 (from the first of the core's checks), anyone signed out 401.
#[server(prefix = "/fn")]
pub async fn admin_overview(query: String) -> Result<AdminContents, UiError> {
    let (hearth, me) = ssr::user().await?;
    let users = hearth.admin_users(me.id, Some(&query)).await?;
    let invitations = hearth.invitations(me.id).await?;
    hearth.require_admin(me.id).await?;
    let policy = hearth.sign_up_policy().await?;
    let default_rooms = hearth.default_rooms(actor(&me)).await?;
    let open_rooms = hearth.open_rooms(me.id).await?;
    let audit = hearth.audit_log(me.id, None, Some(hearth::admin::AUDIT_PAGE)).await?;
    let audit_more = audit.len() == hearth::admin::AUDIT_PAGE as usize;
    let users_cut = users.len() >= hearth::admin::USERS_MAX as usize;
    let now = hearth::store::now();
    Ok(AdminContents { users, invitations, policy, default_rooms, open_rooms, audit, audit_more, users_cut, now })
}

/// The audit entries before entry `before`, newest first: the admin page's
/// next page of them, and whether there may be more.
#[server(prefix = "/fn")]
pub async fn admin_audit_before(before: i64) -> Result<(Vec<AuditEntry>, bool), UiError> {
    let (hearth, me) = ssr::user().await?;
    let page = hearth.audit_log(me.id, Some(before), Some(hearth::admin::AUDIT_PAGE)).await?;
    let more = page.len() == hearth::admin::AUDIT_PAGE as usize;
    Ok((page, more))
}

/// Whether the signed-in user is an active admin (false when signed out):
/// the header shows its Admin link by it.
#[server(prefix = "/fn")]
pub async fn am_admin() -> Result<bool, UiError> {
    let Some(me) = ssr::session().await?.user else {
        return Ok(false);
    };
    Ok(ssr::hearth()?.is_admin(me.id).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_set_role(user_id: i64, role: String) -> Result<AdminUser, UiError> {
    use hearth::model::{Role, UserId};
    let (hearth, me) = ssr::user().await?;
    hearth.require_admin(me.id).await?;
    let role = Role::parse(&role).ok_or_else(|| hearth::AppError::invalid("role", "Role must be admin or member"))?;
    Ok(hearth.set_role(actor(&me), UserId(user_id), role).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_deactivate(user_id: i64) -> Result<AdminUser, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.deactivate(actor(&me), hearth::model::UserId(user_id)).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_reactivate(user_id: i64) -> Result<AdminUser, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.reactivate(actor(&me), hearth::model::UserId(user_id)).await?)
}

/// Signs the account out everywhere (it may sign in again).
#[server(prefix = "/fn")]
pub async fn admin_sign_out(user_id: i64) -> Result<AdminUser, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.sign_out_everywhere(actor(&me), hearth::model::UserId(user_id)).await?)
}

/// A one-time password reset link for the account (its path), valid for an hour.
#[server(prefix = "/fn")]
pub async fn admin_reset_link(user_id: i64) -> Result<String, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.create_reset_link(actor(&me), hearth::model::UserId(user_id)).await?.path)
}

/// The group and open rooms the account is in.
#[server(prefix = "/fn")]
pub async fn admin_user_rooms(user_id: i64) -> Result<Vec<Conversation>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.admin_user_rooms(me.id, hearth::model::UserId(user_id)).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_remove_from_room(user_id: i64, room_id: i64) -> Result<(), UiError> {
    use hearth::model::{RoomId, UserId};
    let (hearth, me) = ssr::user().await?;
    hearth.require_admin(me.id).await?;
    Ok(hearth.remove_participant(me.id, RoomId(room_id), UserId(user_id)).await?)
}

/// A new invitation; its link is in the answer, shown once.
#[server(prefix = "/fn")]
pub async fn admin_invite(expires_in_hours: i64, max_uses: i64) -> Result<NewInvitation, UiError> {
    use hearth::admin::InvitationRequest;
    let (hearth, me) = ssr::user().await?;
    let request = InvitationRequest { expires_in_hours: Some(expires_in_hours), max_uses: Some(max_uses) };
    Ok(hearth.create_invitation(actor(&me), request).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_revoke_invitation(id: i64) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.revoke_invitation(actor(&me), id).await?)
}

/// Makes an open room one every new account joins (`on`), or no longer.
#[server(prefix = "/fn")]
pub async fn admin_set_default_room(room_id: i64, on: bool) -> Result<Vec<DefaultRoom>, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.set_default_room(actor(&me), hearth::model::RoomId(room_id), on).await?)
}

#[server(prefix = "/fn")]
pub async fn admin_set_sign_up_policy(policy: String) -> Result<SignUpPolicy, UiError> {
    let (hearth, me) = ssr::user().await?;
    hearth.require_admin(me.id).await?;
    let policy = SignUpPolicy::parse(&policy)
        .ok_or_else(|| hearth::AppError::invalid("policy", "Policy must be open, invite or closed"))?;
    Ok(hearth.set_sign_up_policy(actor(&me), policy).await?)
}
