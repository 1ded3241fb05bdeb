//! The account e-mails of identity and access (password reset links, invitations), rendered and
//! sealed into the outbox in the unit of work of the change that causes them.

use async_trait::async_trait;
use tidings_auth::Cipher;
use tidings_domain::{AccountEmail, AccountMail, RepoResult, Transaction, User};

use crate::mail::enqueue_email;
use crate::templates;

/// Renders account e-mails with [`templates::account`] and enqueues them sealed.
#[derive(Clone, Debug)]
pub struct AccountMailer {
    cipher: Cipher,
}

impl AccountMailer {
    /// Seals with `cipher` (the server's, `AuthSettings::cipher()`, which the e-mail channel opens with).
    pub fn new(cipher: Cipher) -> Self {
        Self { cipher }
    }
}

#[async_trait]
impl AccountMail for AccountMailer {
    async fn enqueue(
        &self,
        unit: &dyn Transaction,
        user: &User,
        key: String,
        email: AccountEmail,
    ) -> RepoResult<()> {
        let rendered = templates::account(&user.email, &user.name, &email);
        enqueue_email(unit, &self.cipher, user.company_id, key, &rendered).await?;
        Ok(())
    }
}
