//! Account security a user does for themselves (issue 18, part 5), beside
//! `passwords.rs`:
//!
//! - **change email**, with the password;
//! - **sessions**: the list of one's signed-in sessions (device, last seen,
//!   the current one marked) and signing any of them out, at once: its row
//!   in the session store goes (its next request is anonymous, on every
//!   instance: the cache entry is dropped here and over the bus) and its
//!   sockets close (`UserSignal::SessionEnded`);
//! - **forgotten password by email**, when the server has an [`Outbox`]:
//!   the same answer whether or not the address has an account, budgets per
//!   client and per address, and everything that differs between the two
//!   (the lookup, the link, the mail) done after answering.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::Hearth;
use crate::accounts::Email;
use crate::auth::{AccountKey, AuthSession, Limiter, password};
use crate::bus::{Attempt, Forget};
use crate::devices::{ActiveSession, describe};
use crate::error::{AppError, FieldError};
use crate::hub::UserSignal;
use crate::mail::{Outbox, reset_mail};
use crate::model::{Profile, UserId};

/// The answer to a wrong password when changing the email.
pub const WRONG_PASSWORD: &str = "Password is incorrect";
/// What `POST /users/password/forgot` says, whether or not the address has
/// an account.
pub const RESET_MAIL_SENT: &str =
    "If an account has this address, a link to reset its password is on its way. It works once, within an hour.";
/// Without SMTP there is no reset by email.
pub const NO_RESET_BY_MAIL: &str =
    "Password reset by email is not configured on this server: ask an admin for a reset link";
/// A session's last-seen time is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Sessions whose last sighting is remembered (to skip writes) at once.
const TOUCHED_CAPACITY: u64 = 10_000;

/// The state these use cases keep: the outbox (set once at startup, when
/// SMTP is configured), the per-address budget and recent sightings.
pub(crate) struct AccountState {
    outbox: OnceLock<Outbox>,
    resets_per_address: Limiter<String>,
    touched: moka::sync::Cache<String, ()>,
}

impl AccountState {
    pub(crate) fn new(resets_per_address_per_hour: u32) -> Self {
        Self {
            outbox: OnceLock::new(),
            resets_per_address: Limiter::per_hour(resets_per_address_per_hour),
            touched: moka::sync::Cache::builder().max_capacity(TOUCHED_CAPACITY).time_to_live(TOUCH_EVERY).build(),
        }
    }
}

/// The name a session has in the API: a hash of its secret id, so that
/// listing sessions never shows what would let one use them.
fn public_id(session_id: &str) -> String {
    crate::admin::token_hash(session_id)[..32].to_owned()
}

impl Hearth {
    /// Sends mail through `outbox` from now on (startup, with SMTP
    /// configured). A second call is ignored.
    pub fn set_outbox(&self, outbox: Outbox) {
        let _ = self.account.outbox.set(outbox);
    }

    /// Whether "forgot password" by email is offered.
    pub fn reset_by_mail(&self) -> bool {
        self.account.outbox.get().is_some()
    }

    /// Sets the email of `me`, whose `password` it takes (spending one
    /// attempt of the account's sign-in budget). A wrong password says only
    /// that, before the address is looked at, so the form is no way to ask
    /// which addresses are taken without knowing the password.
    pub async fn change_email(&self, me: UserId, password: String, email: &str) -> Result<Profile, AppError> {
        self.sign_in_limiter.check_account(&AccountKey::User(me))?;
        let user =
            self.store.auth_user_by_id(me).await?.ok_or_else(|| AppError::Unauthorized("Not signed in".into()))?;
        if !password::verify(password, Some(user.password_hash)).await? {
            return Err(FieldError::new("password", WRONG_PASSWORD).into());
        }
        let email = Email::parse(email)?;
        let (taken, _) = self.store.taken_fields(Some(email.as_str()), None, Some(me)).await?;
        if taken {
            return Err(FieldError::new("email", "Email has already been taken").into());
        }
        self.store.set_email(me, email.as_str()).await?;
        self.forget_user(me);
        self.profile(me).await
    }

    /// Records that `session` (signed in as `user`) made a request now, from
    /// `user_agent`; written at most once a minute per session.
    pub async fn touch_session(
        &self,
        session_id: &str,
        user: UserId,
        user_agent: Option<&str>,
    ) -> Result<(), AppError> {
        if self.account.touched.contains_key(session_id) {
            return Ok(());
        }
        self.store.touch_user_session(session_id, &public_id(session_id), user, user_agent).await?;
        self.account.touched.insert(session_id.to_owned(), ());
        Ok(())
    }

    /// Notes the device of a session just signed in (recorded by then, or
    /// this does nothing).
    pub async fn note_device(&self, session_id: &str, user_agent: Option<&str>) -> Result<(), AppError> {
        match user_agent {
            Some(agent) => self.store.set_session_agent(session_id, agent).await,
            None => Ok(()),
        }
    }

    /// Records the session just signed in (it gets its id now, not when the
    /// answer goes out, so that it is listed at once). Its device is filled
    /// in by its next request.
    pub(crate) async fn record_sign_in(&self, session: &AuthSession, user: UserId) -> Result<(), AppError> {
        session.session.save().await.map_err(AppError::internal)?;
        if let Some(id) = crate::auth::stored_session_id(&session.session) {
            // Its device is noted by the adapter, which has the request.
            self.touch_session(&id, user, None).await?;
        }
        Ok(())
    }

    /// The signed-in sessions of the one asking, the current one marked.
    pub async fn sessions_of(&self, session: &AuthSession) -> Result<Vec<ActiveSession>, AppError> {
        let me = session.user.as_ref().map(|u| u.id).ok_or_else(|| AppError::Unauthorized("Not signed in".into()))?;
        let current = crate::auth::stored_session_id(&session.session);
        let rows = self.store.user_sessions(me).await?;
        Ok(rows
            .into_iter()
            .map(|row| ActiveSession {
                current: current.as_deref() == Some(row.session_id.as_str()),
                id: row.public_id,
                device: describe(row.user_agent.as_deref()),
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
            })
            .collect())
    }

    /// Signs out `me`'s session named `public_id` (any of theirs, this one
    /// included): its next request is anonymous and its sockets close now,
    /// on every instance. 404 when `me` has no such session.
    pub async fn end_session_of(&self, me: UserId, public_id: &str) -> Result<(), AppError> {
        let id = self.store.end_user_session(me, public_id).await?.ok_or(AppError::NotFound("session"))?;
        self.forget_sessions(me, &[id]);
        Ok(())
    }

    /// Ends every recorded session of `user` but `keep` (after a password
    /// change or reset), so the list shows no session that can no longer
    /// be used.
    pub(crate) async fn end_sessions_except(&self, user: UserId, keep: Option<&str>) -> Result<(), AppError> {
        let ended = self.store.end_user_sessions_except(user, keep).await?;
        self.forget_sessions(user, &ended);
        Ok(())
    }

    pub(crate) fn forget_sessions(&self, user: UserId, ids: &[String]) {
        for id in ids {
            if let Ok(parsed) = tower_sessions::session::Id::from_str(id) {
                self.caches.sessions.invalidate(&parsed);
            }
            self.hub.bus().forget(Forget::Session(id.clone()));
            self.account.touched.invalidate(id);
            self.hub.signal_user(user, UserSignal::SessionEnded(id.clone()));
        }
    }

    /// "Forgot password": spends one attempt of the client's sign-in budget
    /// and one of the address's reset budget (whether or not it has an
    /// account), then answers. Only after that, in the background, is the
    /// address looked up and, for an active account, a one-hour single-use
    /// link made and mailed; an unknown address gets nothing. So the answer
    /// and its timing are the same either way.
    pub async fn forgot_password(&self, client: IpAddr, address: &str) -> Result<(), AppError> {
        let outbox = self.account.outbox.get().cloned().ok_or(AppError::NotFound("password reset by email"))?;
        self.sign_in_limiter.check_ip(client)?;
        self.hub.bus().attempt(Attempt::Ip(client));
        let email = Email::parse(address)?;
        self.account.resets_per_address.check(&email.as_str().to_owned())?;
        let hearth = self.clone();
        tokio::spawn(async move {
            if let Err(err) = hearth.mail_reset_link(&outbox, email.as_str()).await {
                tracing::warn!(error = %err, "sending a password reset mail failed");
            }
        });
        Ok(())
    }

    async fn mail_reset_link(&self, outbox: &Outbox, email: &str) -> Result<(), AppError> {
        let Some(user) = self.store.active_user_by_email(email).await? else {
            tracing::info!("password reset asked for an address without an active account");
            return Ok(());
        };
        let made = self.new_reset_link(user, None).await?;
        let link = format!("{}{}", outbox.base_url, made.path);
        let mail = reset_mail(email, &link, crate::passwords::RESET_LINK_MINUTES);
        outbox.mailer.send(mail).await.map_err(AppError::internal)?;
        tracing::info!(user = %user, "mailed a password reset link");
        Ok(())
    }
}
