//! Mail the core sends (the forgotten-password link), composed here and
//! handed to a [`Mailer`], which the server implements over SMTP (lettre).
//! The core never speaks SMTP itself: it decides whom to write and what.

use std::sync::Arc;

use async_trait::async_trait;

/// One plain-text message to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Sends [`Mail`]; a failure is logged by the caller, never shown to whoever
/// asked (that would say whether the address has an account).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> Result<(), String>;
}

/// Where mail goes, and the public address its links point at.
#[derive(Clone)]
pub struct Outbox {
    pub mailer: Arc<dyn Mailer>,
    /// `https://chat.example.com`, no trailing slash.
    pub base_url: String,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl Outbox {
    pub fn new(mailer: Arc<dyn Mailer>, base_url: &str) -> Self {
        Self { mailer, base_url: base_url.trim().trim_end_matches('/').to_owned() }
    }
}

/// The forgotten-password message: the link, how long it lasts, and what to
/// do when one did not ask.
pub fn reset_mail(to: &str, link: &str, minutes: i64) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Reset your Hearth password".into(),
        body: format!(
            "Someone (we hope you) asked to reset the password of the Hearth account with this address.\n\n\
             Choose a new password here; the link works once, within {minutes} minutes:\n\n\
             {link}\n\n\
             If you did not ask, ignore this message: your password stays as it is.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_mail_carries_the_link_on_a_line_of_its_own() {
        let mail = reset_mail("a@example.com", "https://chat.example/reset-password?token=abc", 60);
        assert_eq!(mail.to, "a@example.com");
        assert!(mail.body.lines().any(|l| l == "https://chat.example/reset-password?token=abc"), "{}", mail.body);
        assert!(mail.body.contains("60 minutes"));
    }

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        struct Nowhere;
        #[async_trait]
        impl Mailer for Nowhere {
            async fn send(&self, _: Mail) -> Result<(), String> {
                Ok(())
            }
        }
        assert_eq!(Outbox::new(Arc::new(Nowhere), "https://chat.example/ ").base_url, "https://chat.example");
    }
}
