//! Password reset tokens: single-use, short-lived links to choose a new password (and, valid longer,
//! the set-password link of an invitation). Stored as hashes only, like refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, PasswordResetId, UserId};

/// A password reset token as stored (its hash, never the token).
#[derive(Clone, Debug, PartialEq)]
pub struct PasswordReset {
    /// Identifier.
    pub id: PasswordResetId,
    /// Company of the user.
    pub company_id: CompanyId,
    /// Whose password it resets.
    pub user_id: UserId,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was used (or made void by the use of another token of the same user).
    pub used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What is needed to store a new password reset token.
#[derive(Clone, Debug)]
pub struct NewPasswordReset {
    /// Company of the user.
    pub company_id: CompanyId,
    /// Whose password it resets.
    pub user_id: UserId,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Persistence of password reset tokens.
#[async_trait]
pub trait PasswordResetRepo: Send + Sync {
    /// Stores a token.
    async fn insert_password_reset(&self, new: NewPasswordReset) -> RepoResult<PasswordReset>;
    /// The token with this hash if it is unused and unexpired at `now`; reads only (a confirm checks it
    /// before the costly password hash, then spends it).
    async fn find_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>>;
    /// Spends the token with this hash if it is unused and unexpired at `now`, together with every
    /// other unused token of its user (one new password voids every link). `None`, changing
    /// nothing, for an unknown, used or expired token; of concurrent spenders exactly one gets it.
    async fn spend_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>>;
}
