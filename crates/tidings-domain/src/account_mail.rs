//! E-mails identity and access sends to users (a password reset link, an invitation), written into
//! the outbox in the unit of work of the change that causes them. The identity services call this
//! port; the forwarding crate renders and seals the e-mail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::unit_of_work::Transaction;
use crate::user::{Role, User};

/// What an account e-mail says.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountEmail {
    /// A link to choose a new password, asked for by someone who knows the address.
    PasswordReset {
        /// The link, carrying the token.
        link: String,
        /// When the link stops working.
        expires_at: DateTime<Utc>,
    },
    /// The user was added to a company's team.
    Invitation {
        /// The company's name.
        company_name: String,
        /// Who added them (display name).
        invited_by: String,
        /// The role they were given.
        role: Role,
        /// Whether they were given a password (otherwise they must use the link to log in).
        has_password: bool,
        /// The link to choose a password, carrying the token.
        link: String,
        /// When the link stops working.
        expires_at: DateTime<Utc>,
    },
}

impl AccountEmail {
    /// A short name of the e-mail, for idempotency keys and logs.
    pub fn name(&self) -> &'static str {
        match self {
            AccountEmail::PasswordReset { .. } => "password-reset",
            AccountEmail::Invitation { .. } => "invitation",
        }
    }
}

/// Enqueues account e-mails.
#[async_trait]
pub trait AccountMail: Send + Sync {
    /// Enqueues, through `unit`, `email` to `user`; `key` is unique per e-mail within the user's
    /// company (a second enqueue with the same key stores nothing).
    async fn enqueue(
        &self,
        unit: &dyn Transaction,
        user: &User,
        key: String,
        email: AccountEmail,
    ) -> RepoResult<()>;
}
