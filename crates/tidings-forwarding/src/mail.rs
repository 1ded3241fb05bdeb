//! An e-mail as the outbox keeps it: rendered when the change that causes it commits, then sealed
//! with the server's encryption key, so that neither the address nor a link carrying a token can be
//! read in the database. Only the e-mail channel opens it, to send it.

use serde::{Deserialize, Serialize};
use tidings_auth::Cipher;
use tidings_domain::{CompanyId, NewOutboxItem, OutboxItem, OutboxKind, OutboxRepo, RepoError, RepoResult};

/// A rendered e-mail: one recipient, a subject, and the same content as plain text and HTML.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (every interpolated value escaped).
    pub html: String,
}

impl std::fmt::Debug for Email {
    /// The subject only: the address and the body (which may hold a link with a token) stay out of
    /// logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Enqueues `email` for `company_id` under idempotency key `key`, sealed with `cipher`. Call it with
/// the unit of work of the change that causes the e-mail (a `&dyn Transaction` is an outbox), so that
/// both commit together; a second call with the same key stores nothing and returns the first item.
pub async fn enqueue_email(
    outbox: &dyn OutboxRepo,
    cipher: &Cipher,
    company_id: CompanyId,
    key: String,
    email: &Email,
) -> RepoResult<OutboxItem> {
    enqueue_email_in_order(outbox, cipher, company_id, key, None, email).await
}

/// As [`enqueue_email`]; e-mails of one `order_key` (one appointment's to its customer) are sent
/// one after another, in the order they were enqueued, so a cancellation never overtakes the
/// confirmation before it.
pub async fn enqueue_email_in_order(
    outbox: &dyn OutboxRepo,
    cipher: &Cipher,
    company_id: CompanyId,
    key: String,
    order_key: Option<String>,
    email: &Email,
) -> RepoResult<OutboxItem> {
    let plain = serde_json::to_vec(email).map_err(|e| RepoError::internal(format!("e-mail: {e}")))?;
    let sealed = cipher
        .seal(&plain, &context(company_id, &key))
        .map_err(|e| RepoError::internal(format!("sealing an e-mail: {e}")))?;
    outbox
        .enqueue(NewOutboxItem {
            company_id,
            kind: OutboxKind::Email,
            idempotency_key: key,
            payload: serde_json::json!({ "sealed": sealed }),
            message_id: None,
            order_key,
            due_at: None,
        })
        .await
}

/// The e-mail an outbox item carries, opened; why not, otherwise (no secret in the reason).
pub(crate) fn open(cipher: &Cipher, item: &OutboxItem) -> Result<Email, String> {
    let sealed = item
        .payload
        .get("sealed")
        .and_then(serde_json::Value::as_str)
        .ok_or("the e-mail item has no sealed content")?;
    let plain = cipher
        .open(sealed, &context(item.company_id, &item.idempotency_key))
        .map_err(|_| "the e-mail does not open with this server's encryption keys")?;
    serde_json::from_slice(&plain).map_err(|e| format!("the opened e-mail is not readable: {e}"))
}

/// What a sealed e-mail is bound to: its item's company and idempotency key, so that it opens on
/// no other row.
fn context(company_id: CompanyId, key: &str) -> String {
    format!("outbox:email:{company_id}:{key}")
}
