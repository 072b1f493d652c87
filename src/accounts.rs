//! Accounts: self-validating inputs (as zero2prod's `SubscriberName::parse`)
//! and the use cases the REST API and the UI share.

use crate::Hearth;
use crate::auth::password;
use crate::error::{AppError, FieldError};
use crate::model::SignUpPolicy;
use crate::model::{Person, Profile, UserId};
use crate::protocol::{RoomChange, ServerEvent};
use crate::store::{Audit, Inserted, NewUserRow, Spend};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 30;
const NAME_MAX: usize = 100;
const URL_MAX: usize = 2048;
const DIRECTORY_MAX: u32 = 100;

/// A lower-cased address with one `@` and a dotted domain.
#[derive(Debug, Clone)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        FieldError::reject_nul("email", "Email", raw)?;
        let email = raw.trim().to_lowercase();
        // Nothing invisible either: "bob@example.com" with a zero-width
        // space or a direction control would read as bob's address.
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && !crate::text::has_hidden_characters(&email)
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.contains('@')
                && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
        if valid {
            Ok(Self(email))
        } else if email.is_empty() {
            Err(FieldError::new("email", "Email can't be blank"))
        } else {
            Err(FieldError::new("email", "Email is invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 3–30 of `a-z A-Z 0-9 _ . -`, starting with a letter or digit.
#[derive(Debug, Clone)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let len = name.chars().count();
        let err = |m: String| Err(FieldError::new("username", m));
        if len == 0 {
            return err("Username can't be blank".into());
        }
        if len < USERNAME_MIN {
            return err(format!("Username is too short (minimum is {USERNAME_MIN} characters)"));
        }
        if len > USERNAME_MAX {
            return err(format!("Username is too long (maximum is {USERNAME_MAX} characters)"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if !name.chars().all(allowed) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return err(
                "Username may only use Latin letters a-z, digits, '_', '.' and '-', and must start with one of those letters or digits (your name, in any script, goes in Name)".into(),
            );
        }
        Ok(Self(name.to_owned()))
    }
}

/// A new password, by character count (a passphrase of any script is fine).
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        FieldError::reject_nul("password", "Password", raw)?;
        let len = raw.chars().count();
        if len < PASSWORD_MIN {
            Err(FieldError::new("password", format!("Password is too short (minimum is {PASSWORD_MIN} characters)")))
        } else if len > PASSWORD_MAX {
            Err(FieldError::new("password", format!("Password is too long (maximum is {PASSWORD_MAX} characters)")))
        } else if crate::text::is_blank(raw) {
            Err(FieldError::new("password", "Password can't be only spaces"))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn parse_name(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    FieldError::reject_nul("name", "Name", raw.unwrap_or(""))?;
    crate::text::reject_direction_controls("name", "Name", raw.unwrap_or(""))?;
    match raw.map(str::trim).filter(|n| !crate::text::is_blank(n)) {
        Some(n) if n.chars().count() > NAME_MAX => {
            Err(FieldError::new("name", format!("Name is too long (maximum is {NAME_MAX} characters)")))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

fn parse_avatar_url(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    FieldError::reject_nul("avatar_url", "Avatar url", raw.unwrap_or(""))?;
    match raw.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) if u.len() > URL_MAX => {
            Err(FieldError::new("avatar_url", format!("Avatar url is too long (maximum is {URL_MAX} bytes)")))
        }
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && !u.chars().any(char::is_whitespace) => {
            Ok(Some(u.to_owned()))
        }
        Some(_) => Err(FieldError::new("avatar_url", "Avatar url must be an http(s) URL")),
    }
}

/// Collects every field's error rather than stopping at the first.
fn collect<T>(result: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// A registration as submitted.
#[derive(Debug, Default, Clone)]
pub struct Registration {
    pub email: String,
    pub username: String,
    pub password: String,
    /// The password typed again, when the form asks for it (ChatFlow's
    /// Devise sign-up does): it must then match `password`.
    pub password_confirmation: Option<String>,
    pub name: Option<String>,
    /// The invitation link's token, when signing up by invitation.
    pub invitation: Option<String>,
}

/// Profile fields to change; `None` keeps the current value. An empty string
/// clears `name` and `avatar_url`. A new `avatar_url` is a picture on the web
/// to copy: it is fetched and served from here, and `avatar_url` reads as
/// this server's address for it.
#[derive(Debug, Default, Clone)]
pub struct ProfileChanges {
    pub username: Option<String>,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

impl Hearth {
    /// Sign-up by the person themselves, under the instance's sign-up
    /// policy: the first account of an instance may always register (and
    /// becomes its admin); then `open` lets anyone, `invite` only holders of
    /// a live invitation (one use of it is spent), `closed` no one.
    #[tracing::instrument(skip_all, fields(username = %reg.username))]
    ///
    /// "First" is decided again inside the insert's transaction (see
    /// `Store::insert_account`): of concurrent first sign-ups one becomes
    /// the admin, and the others fall under the policy.
    pub async fn register(&self, reg: Registration) -> Result<Profile, AppError> {
        if !self.store.has_users().await?
            && let Some(profile) = self.insert_new_account(reg.clone(), None, false, true).await?
        {
            self.audit_registration(profile.id, "signed up: the first account, an admin").await;
            return Ok(profile);
        }
        let link = crate::admin::invitation_token(reg.invitation.as_deref()).map(crate::admin::token_hash);
        let spend = match (self.sign_up_policy().await?, link.as_deref()) {
            // A link used while sign-up is open still spends a use, so the
            // admin's count stays true; one that is no longer good does not
            // stop an open sign-up. Whether it is still good is decided by
            // the insert's own transaction: checked before it, two sign-ups
            // racing for a link's last use had the loser refused.
            (SignUpPolicy::Open, link) => link.map(Spend::IfUsable),
            (SignUpPolicy::Closed, _) => {
                return Err(AppError::Forbidden("Sign-up is closed on this instance".into()));
            }
            (SignUpPolicy::Invite, None) => {
                return Err(AppError::Forbidden("Sign-up is by invitation only on this instance".into()));
            }
            (SignUpPolicy::Invite, Some(link)) => Some(Spend::Required(link)),
        };
        let how = match spend {
            Some(Spend::Required(_)) => "signed up with an invitation link",
            Some(Spend::IfUsable(_)) => "signed up (sign-up is open; an invitation link was given)",
            None => "signed up",
        };
        let profile = self.create_account(reg, spend, false).await?;
        self.audit_registration(profile.id, how).await;
        Ok(profile)
    }

    async fn audit_registration(&self, user: UserId, how: &str) {
        let audit = Audit {
            actor: Some(user),
            action: "user.register",
            target_user: Some(user),
            detail: Some(how.to_owned()),
            ..Audit::default()
        };
        self.audit_quietly(audit).await;
    }

    /// Writes an audit entry after the change it records has committed: a
    /// failure is logged, not the change's.
    pub(crate) async fn audit_quietly(&self, audit: Audit<'_>) {
        if let Err(err) = self.store.audit(audit).await {
            tracing::warn!(error = %err, "an audit entry was not written");
        }
    }

    /// Creates an account without a sign-up policy (the CLI and the demo
    /// seed), spending a use of the invitation, if one is given, as `Spend`
    /// says.
    pub async fn create_account(
        &self,
        reg: Registration,
        invitation: Option<Spend<'_>>,
        admin: bool,
    ) -> Result<Profile, AppError> {
        self.insert_new_account(reg, invitation, admin, false)
            .await?
            .ok_or_else(|| AppError::internal("an account was refused as not the first without being asked as it"))
    }

    /// Checks and inserts the account; `None` when `first_only` and the
    /// instance had an account by the time of the insert.
    async fn insert_new_account(
        &self,
        reg: Registration,
        invitation: Option<Spend<'_>>,
        admin: bool,
        first_only: bool,
    ) -> Result<Option<Profile>, AppError> {
        let mut errors = Vec::new();
        if let Some(Spend::Required(hash)) = invitation
            && !self.store.invitation_usable(hash).await?
        {
            errors.push(FieldError::new("invitation", crate::admin::BAD_INVITATION));
        }
        let email = collect(Email::parse(&reg.email), &mut errors);
        let username = collect(Username::parse(&reg.username), &mut errors);
        let password = collect(NewPassword::parse(&reg.password), &mut errors);
        if reg.password_confirmation.as_ref().is_some_and(|again| *again != reg.password) {
            errors.push(FieldError::new("password_confirmation", "Password confirmation doesn't match Password"));
        }
        let name = collect(parse_name(reg.name.as_deref()), &mut errors).flatten();
        let (email_taken, username_taken) = self
            .store
            .taken_fields(email.as_ref().map(|e| e.0.as_str()), username.as_ref().map(|u| u.0.as_str()), None)
            .await?;
        if email_taken {
            errors.push(FieldError::new("email", "Email has already been taken"));
        }
        if username_taken {
            errors.push(FieldError::new("username", "Username has already been taken"));
        }
        let (Some(email), Some(username), Some(password), true) = (email, username, password, errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let hash = password::hash(password.0).await?;
        let row = NewUserRow { email: &email.0, username: &username.0, password_hash: &hash, name: name.as_deref() };
        match self.store.insert_account(row, admin, invitation, first_only).await? {
            Inserted::User(profile) => {
                self.join_default_rooms(profile.id).await;
                Ok(Some(profile))
            }
            Inserted::NotFirst => Ok(None),
            // Used up or revoked since the check above.
            Inserted::InvitationRefused => Err(AppError::invalid("invitation", crate::admin::BAD_INVITATION)),
        }
    }

    pub async fn profile(&self, id: UserId) -> Result<Profile, AppError> {
        self.store.profile(id).await?.ok_or(AppError::NotFound("user"))
    }

    #[tracing::instrument(skip_all, fields(user = %id))]
    pub async fn update_profile(&self, id: UserId, changes: ProfileChanges) -> Result<Profile, AppError> {
        let current = self.profile(id).await?;
        let mut errors = Vec::new();
        let username = match changes.username.as_deref() {
            Some(raw) => collect(Username::parse(raw), &mut errors).map(|u| u.0),
            None => Some(current.username.clone()),
        };
        let name = match changes.name.as_deref() {
            Some(raw) => collect(parse_name(Some(raw)), &mut errors),
            None => Some(current.name.clone()),
        };
        let avatar_url = match changes.avatar_url.as_deref() {
            // Sent back unchanged (an uploaded avatar's own path, say).
            Some(raw) if Some(raw) == current.avatar_url.as_deref() => Some(current.avatar_url.clone()),
            Some(raw) => collect(parse_avatar_url(Some(raw)), &mut errors),
            None => Some(current.avatar_url.clone()),
        };
        if let Some(u) = &username {
            let (_, taken) = self.store.taken_fields(None, Some(u), Some(id)).await?;
            if taken {
                errors.push(FieldError::new("username", "Username has already been taken"));
            }
        }
        let (Some(username), Some(name), Some(mut avatar_url), true) = (username, name, avatar_url, errors.is_empty())
        else {
            return Err(AppError::Validation(errors));
        };
        // A new picture by URL is copied and served from here.
        if let Some(url) = avatar_url.as_deref().filter(|url| Some(*url) != current.avatar_url.as_deref()) {
            let square = self.fetch_avatar(id, url).await?;
            avatar_url = Some(self.save_avatar(id, square).await?);
        }
        let updated = self.store.update_profile(id, &username, name.as_deref(), avatar_url.as_deref()).await;
        // The session's user carries the username: the next request reads it
        // afresh (on a failed update too; the row may have changed anyway).
        self.forget_user(id);
        if updated.is_ok() {
            self.announce_profile(id).await;
        }
        updated
    }

    /// Tells everyone who shares a room with `user`, and `user`'s own other
    /// tabs, that their name or picture changed: one `room
    /// {change:"updated"}` each (for any room they share), on which a
    /// client reads its room list again, and with it the room's members that
    /// headers and bylines show. The change is saved already, so a failure
    /// here is logged, not returned.
    pub(crate) async fn announce_profile(&self, user: UserId) {
        match self.store.co_members(user).await {
            Ok(members) => {
                for (member, room) in members {
                    let event = ServerEvent::room(room, RoomChange::Updated);
                    self.hub.send_user(member, &event);
                }
            }
            Err(err) => tracing::warn!(error = %err, user = user.0, "telling a profile change failed"),
        }
    }

    /// The people picker: a prefix search over usernames and names.
    pub async fn directory(&self, query: Option<&str>, limit: Option<u32>) -> Result<Vec<Person>, AppError> {
        // Zero is refused, as history and search refuse it; more than the
        // most is served as the most.
        let limit = crate::error::page_limit(limit, 20, DIRECTORY_MAX)?;
        FieldError::reject_nul("query", "Query", query.unwrap_or(""))?;
        self.store.directory(query.unwrap_or("").trim(), limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(Email::parse(" Alice@Example.COM ").expect("valid test input").0, "alice@example.com");
        for bad in ["", "alice", "alice@", "@example.com", "a@b", "a b@c.de", "a@b@c.de", "a@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        // What reads as someone else's address: zero-width and invisible
        // characters, direction controls, other controls.
        for lookalike in [
            "bob@example.com\u{200b}",
            "b\u{200b}ob@example.com",
            "bob@example.com\u{202e}",
            "bob@exa\u{00ad}mple.com",
            "bob\u{2060}@example.com",
            "\u{feff}bob@example.com",
            "bob@example.com\u{7}",
        ] {
            let refused = Email::parse(lookalike).err().map(|e| e.message);
            assert_eq!(refused.as_deref(), Some("Email is invalid"), "{lookalike:?}");
        }
        // Letters of any script are still fine.
        assert!(Email::parse("jürgen@bücher.example").is_ok());
    }

    #[test]
    fn usernames_have_a_charset_and_length() {
        assert!(Username::parse("alice_01").is_ok());
        for bad in ["", "al", "-alice", "alice smith", "ålice", &"a".repeat(31)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        assert!(NewPassword::parse(&"x".repeat(7)).is_err());
        assert!(NewPassword::parse(&"x".repeat(8)).is_ok());
        assert!(NewPassword::parse(&"é".repeat(128)).is_ok());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn avatar_urls_must_be_http() {
        assert!(parse_avatar_url(Some("javascript:alert(1)")).is_err());
        assert_eq!(parse_avatar_url(Some("  ")).expect("valid test input"), None);
        assert!(parse_avatar_url(Some("https://example.com/a.png")).expect("valid test input").is_some());
    }
}
