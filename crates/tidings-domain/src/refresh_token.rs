//! Refresh tokens: opaque, stored only as hashes, rotated on every use. Tokens issued from one login
//! form a family; presenting a spent token revokes the whole family.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, RefreshTokenId, UserId};

/// A refresh token as stored (its hash, never the token).
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshToken {
    /// Identifier.
    pub id: RefreshTokenId,
    /// Company of the user.
    pub company_id: CompanyId,
    /// The user it authenticates.
    pub user_id: UserId,
    /// Every token descending from one login shares this id.
    pub family_id: RefreshTokenId,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// Set when the token was spent by a rotation, or its family was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token that replaced it, once rotated.
    pub replaced_by: Option<RefreshTokenId>,
}

/// What is needed to store a new refresh token.
#[derive(Clone, Debug)]
pub struct NewRefreshToken {
    /// Company of the user.
    pub company_id: CompanyId,
    /// The user it authenticates.
    pub user_id: UserId,
    /// The family: a fresh id at login, the parent's family on rotation.
    pub family_id: RefreshTokenId,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Persistence of refresh tokens.
#[async_trait]
pub trait RefreshTokenRepo: Send + Sync {
    /// Stores a token; returns its id.
    async fn insert_refresh_token(&self, new: NewRefreshToken) -> RepoResult<RefreshTokenId>;
    /// Finds a token by the hash of its value.
    async fn find_refresh_token(&self, token_hash: &str) -> RepoResult<Option<RefreshToken>>;
    /// Spends `old` and stores `new` in one transaction. Returns `None`, storing nothing, when `old`
    /// was already spent or revoked (so of two racing rotations exactly one wins).
    async fn rotate_refresh_token(
        &self,
        old: RefreshTokenId,
        new: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<RefreshTokenId>>;
    /// Revokes every live token of a family.
    async fn revoke_refresh_family(&self, family_id: RefreshTokenId, now: DateTime<Utc>) -> RepoResult<()>;
    /// Revokes every live token of a user, of every family (every session ends).
    async fn revoke_user_refresh_tokens(&self, user_id: UserId, now: DateTime<Utc>) -> RepoResult<()>;
}
