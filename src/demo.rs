//! The demo seed: ChatFlow's README accounts and its "Seed Chat", plus an
//! open room, each created only when missing, so
//! running it twice changes nothing.

use crate::accounts::Registration;
use crate::messages::{MessageBody, Poster};
use crate::model::{DemoAccount, Message, RoomId, UserId};
use crate::{AppError, Hearth};

pub const DEMO_PASSWORD: &str = "secret123";

/// (username, display name) of each demo account; the email is `<username>@example.com`.
const PEOPLE: [(&str, &str); 3] = [("alice", "Alice Liddell"), ("bob", "Bob Builder"), ("carol", "Carol Danvers")];

pub fn accounts() -> Vec<DemoAccount> {
    PEOPLE
        .iter()
        .map(|(username, name)| DemoAccount {
            email: format!("{username}@example.com"),
            name: (*name).to_owned(),
            password: DEMO_PASSWORD.to_owned(),
        })
        .collect()
}

/// What a seed run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub users_created: usize,
    pub rooms_created: usize,
}

impl Hearth {
    /// The accounts the login page offers: the demo's in demo mode, else
    /// none; each as it is now (renamed, by its new name), and not one that
    /// is missing or deactivated, which could not sign in.
    pub async fn demo_accounts(&self) -> Result<Vec<DemoAccount>, AppError> {
        if !self.settings().demo_mode {
            return Ok(Vec::new());
        }
        let mut offered = Vec::new();
        for account in accounts() {
            let Some(user) = self.store.auth_user_by_login(&account.email).await? else { continue };
            if user.deactivated_at.is_none() {
                let shown = crate::model::Author::new(user.id, user.username, user.name);
                offered.push(DemoAccount { name: shown.display_name().to_owned(), ..account });
            }
        }
        Ok(offered)
    }

    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(&self) -> Result<SeedReport, AppError> {
        let mut report = SeedReport::default();
        for (username, name) in PEOPLE {
            let email = format!("{username}@example.com");
            if self.store.profile_by_email(&email).await?.is_some() {
                continue;
            }
            // Which account is in the way, and why: "validation failed" alone
            // says neither (and stops a demo server's startup).
            let conflict = |why: String| {
                AppError::Conflict(format!(
                    "cannot create the demo account {username} ({email}): {why}; rename or remove that account, or \
                     seed a new database"
                ))
            };
            if let Some(taken) = self.store.auth_user_by_login(username).await? {
                let why = format!("the username {:?} belongs to another account (id {})", taken.username, taken.id.0);
                return Err(conflict(why));
            }
            let registration = Registration {
                email: email.clone(),
                username: username.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                password_confirmation: None,
                name: Some(name.to_owned()),
                invitation: None,
            };
            self.create_account(registration, None, false).await.map_err(|err| match err {
                AppError::Validation(_) | AppError::Conflict(_) => conflict(err.messages().join("; ")),
                other => other,
            })?;
            report.users_created += 1;
        }
        self.seed_demo_rooms(&mut report).await?;
        Ok(report)
    }
}

impl Hearth {
    /// ChatFlow's "Seed Chat" between alice and bob, and an open "General"
    /// room with everyone, each only if missing. General is a default room:
    /// every account made after the seed joins it.
    async fn seed_demo_rooms(&self, report: &mut SeedReport) -> Result<(), AppError> {
        use crate::model::RoomKind;
        use crate::rooms::NewConversation;

        let mut ids = Vec::new();
        for (username, _) in PEOPLE {
            match self.store.profile_by_email(&format!("{username}@example.com")).await? {
                Some(profile) => ids.push(profile.id),
                None => return Ok(()),
            }
        }
        let (alice, bob) = (ids[0], ids[1]);
        if self.store.direct_room(alice, bob).await?.is_none() {
            let chat = NewConversation { participant_ids: vec![bob], title: Some("Seed Chat".into()), kind: None };
            let room = self.create_conversation(alice, chat).await?.id;
            self.seed_message(alice, room, "Hi Bob, this is Alice!").await?;
            let reply = self.seed_message(bob, room, "Hey Alice! Good to hear from you.").await?;
            // Bob has read what he answered.
            self.mark_read(bob, room, reply.number).await?;
            report.rooms_created += 1;
        }
        let open = self.store.open_rooms(alice).await?;
        if !open.iter().any(|r| r.title.as_deref() == Some("General")) {
            let general = NewConversation {
                participant_ids: ids.clone(),
                title: Some("General".into()),
                kind: Some(RoomKind::Open.as_str().into()),
            };
            let room = self.create_conversation(alice, general).await?.id;
            self.seed_message(alice, room, "Welcome to Hearth! This open room is for everyone.").await?;
            self.set_default_room(crate::admin::Actor::Cli, room, true).await?;
            report.rooms_created += 1;
        }
        Ok(())
    }

    /// Posts `body` in `user`'s name to `room`, spending none of their rate
    /// budget ([`Poster::Seed`]).
    async fn seed_message(&self, user: UserId, room: RoomId, body: &str) -> Result<Message, AppError> {
        let body = MessageBody::parse_with_files(body, false)?;
        Ok(self.append_message(room, Poster::Seed(user), &body, None, None, Vec::new()).await?.message)
    }
}
