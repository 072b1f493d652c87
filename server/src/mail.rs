//! The core's [`Mailer`] over SMTP, with lettre: `HEARTH_SMTP_URL` names the
//! server (`smtps://…` TLS, `smtp://…?tls=required` STARTTLS, plain
//! `smtp://host:port` for a local relay), `HEARTH_SMTP_FROM` the sender.

use std::sync::Arc;

use async_trait::async_trait;
use hearth::mail::{Mail, Mailer, Outbox};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

/// lettre's SMTP transport and the sender's address.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient {:?}: {e}", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| format!("composing the message: {e}"))?;
        self.transport.send(message).await.map(drop).map_err(|e| format!("sending over SMTP: {e}"))
    }
}

/// The outbox the settings describe: `None` without `HEARTH_SMTP_URL`, an
/// error (one line, naming the setting) when it is set but incomplete.
pub fn outbox(config: &Config) -> Result<Option<Outbox>, String> {
    let Some(url) = config.smtp_url() else { return Ok(None) };
    let from = config
        .smtp_from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or("HEARTH_SMTP_URL is set without HEARTH_SMTP_FROM (the sender of Hearth's mail)")?;
    let from: Mailbox = from.parse().map_err(|e| format!("HEARTH_SMTP_FROM {from:?} is not an address: {e}"))?;
    let base = config
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or("HEARTH_SMTP_URL is set without HEARTH_PUBLIC_URL (where the links in mail point)")?;
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!("HEARTH_PUBLIC_URL {base:?} must start with http:// or https://"));
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("HEARTH_SMTP_URL is not a usable SMTP URL: {e}"))?
        .build();
    Ok(Some(Outbox::new(Arc::new(SmtpMailer { transport, from }), base)))
}
