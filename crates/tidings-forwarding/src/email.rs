//! The e-mail channel: opens an outbox item's sealed e-mail and sends it through the SMTP server of
//! `TIDINGS_SMTP_URL` as a multipart/alternative message (plain text and HTML). Without a server the
//! item is skipped with the reason, never dropped silently.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tidings_auth::Cipher;
use tidings_domain::{OutboxItem, OutboxKind};

use crate::channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};
use crate::mail::{Email, open};
use crate::smtp::{Sender, SmtpSecurity, SmtpServer};

/// Why an e-mail item was skipped when no SMTP server is configured.
pub const NO_SMTP_SERVER: &str = "no SMTP server configured (TIDINGS_SMTP_URL)";

/// The SMTP transport could not be set up.
#[derive(Debug, Error)]
#[error("SMTP transport: {0}")]
pub struct SmtpSetupError(String);

/// Sends e-mail items through SMTP.
pub struct EmailChannel {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    cipher: Cipher,
}

impl EmailChannel {
    /// A channel sending through `server` (none: every item is skipped) from `from`, opening items
    /// with `cipher` (the server's, which sealed them).
    pub fn new(server: Option<&SmtpServer>, from: Sender, cipher: Cipher) -> Result<Self, SmtpSetupError> {
        let transport = server.map(transport).transpose()?;
        Ok(Self { transport, from: from.0, cipher })
    }

    fn message(&self, item: &OutboxItem, email: Email) -> Result<Message, DeliveryError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| DeliveryError::Permanent("the recipient is not a valid e-mail address".into()))?;
        // The same id on every attempt, so that a receiver can tell a retry from a second e-mail.
        let digest = Sha256::new()
            .chain_update(item.company_id.to_string())
            .chain_update(b"\0")
            .chain_update(&item.idempotency_key)
            .finalize();
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .message_id(Some(format!("<{}@{domain}>", hex::encode(&digest[..16]))))
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| DeliveryError::Permanent(format!("the e-mail cannot be built: {e}")))
    }
}

/// The lettre transport for `server`: TLS required (STARTTLS or from the start) unless plain was
/// allowed (a loopback host); every step bounded by the call timeout.
fn transport(server: &SmtpServer) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpSetupError> {
    let tls = |host: &str| TlsParameters::new(host.to_owned()).map_err(|e| SmtpSetupError(e.to_string()));
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        .port(server.port)
        .timeout(Some(CALL_TIMEOUT));
    builder = match server.security {
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(&server.host)?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(&server.host)?)),
        SmtpSecurity::Plain => builder,
    };
    if let Some((user, password)) = &server.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

#[async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> OutboxKind {
        OutboxKind::Email
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError> {
        let Some(transport) = &self.transport else {
            tracing::warn!(item = %item.id, "an e-mail was not sent: {NO_SMTP_SERVER}");
            return Ok(Delivery::Skipped(NO_SMTP_SERVER.into()));
        };
        let email = open(&self.cipher, item).map_err(DeliveryError::Permanent)?;
        let recipient = email.to.clone();
        let message = self.message(item, email)?;
        match transport.send(message).await {
            Ok(_) => Ok(Delivery::Sent),
            Err(error) => {
                // The server's answer may quote the recipient; the error is stored with the item,
                // where the address must not be readable.
                let what = error.to_string().replace(&recipient, "<recipient>");
                if error.is_permanent() {
                    Err(DeliveryError::Permanent(what))
                } else {
                    // 4xx answers, timeouts, refused connections and TLS failures may pass.
                    Err(DeliveryError::Transient(what))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests: a panic is how a test fails")]

    use super::*;

    #[test]
    fn encrypted_transports_are_set_up_with_the_system_roots() {
        for url in ["smtp://mailer:secret@smtp.example.com", "smtps://smtp.example.com:2465"] {
            let server = SmtpServer::parse(url).unwrap();
            let channel = EmailChannel::new(Some(&server), Sender::default(), Cipher::new(&[1; 32]));
            assert!(channel.is_ok_and(|c| c.transport.is_some()), "{url}");
        }
    }
}
