//! The demo seed: ChatFlow's README accounts, created only when missing, so
//! running it twice changes nothing.

use crate::accounts::Registration;
use crate::model::DemoAccount;
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
}

impl Hearth {
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(&self) -> Result<SeedReport, AppError> {
        let mut report = SeedReport::default();
        for (username, name) in PEOPLE {
            let email = format!("{username}@example.com");
            if self.store.profile_by_email(&email).await?.is_some() {
                continue;
            }
            self.register(Registration {
                email,
                username: username.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                name: Some(name.to_owned()),
            })
            .await?;
            report.users_created += 1;
        }
        Ok(report)
    }
}
