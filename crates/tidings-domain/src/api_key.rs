//! API keys: how SDK clients (client keys) and other services (server keys) authenticate. Only a
//! lookup prefix and a hash of each key are stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{ApiKeyId, AppId, CompanyId};
use crate::named_enum::named_enum;

named_enum!(
    /// Who a key is for.
    KeyKind {
        /// Shipped inside SDK apps; authenticates devices together with `X-App-Id` and `X-Device-Id`.
        Client = "client",
        /// Kept on a company's servers; authenticates service-to-service calls.
        Server = "server",
    }
);

/// An API key as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// Identifier.
    pub id: ApiKeyId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app the key belongs to.
    pub app_id: Option<AppId>,
    /// Client or server key.
    pub kind: KeyKind,
    /// The public part of the key, used to find it; safe to show.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub key_hash: String,
    /// After this time the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once the key is revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last time the key authenticated a request (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl ApiKey {
    /// Whether the key authenticates requests at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// What is needed to store a new key.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// The owning company.
    pub company_id: CompanyId,
    /// The app the key belongs to.
    pub app_id: Option<AppId>,
    /// Client or server key.
    pub kind: KeyKind,
    /// The public lookup part.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub key_hash: String,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Persistence of API keys.
#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Stores a key.
    async fn create_api_key(&self, new: NewApiKey) -> RepoResult<ApiKey>;
    /// Loads a key of `company_id`.
    async fn get_api_key(&self, company_id: CompanyId, id: ApiKeyId) -> RepoResult<ApiKey>;
    /// Lists at most `limit` keys of an app of `company_id`, oldest first, starting after the key
    /// `after` (ids sort by creation time).
    async fn list_api_keys(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        after: Option<ApiKeyId>,
        limit: i64,
    ) -> RepoResult<Vec<ApiKey>>;
    /// Finds a key by its prefix, across companies (the prefix is what a request presents).
    async fn find_api_key_by_prefix(&self, prefix: &str) -> RepoResult<Option<ApiKey>>;
    /// Revokes a key of `company_id` (idempotent); returns the key.
    async fn revoke_api_key(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> RepoResult<ApiKey>;
    /// Sets the expiry of a key of `company_id`; returns the key.
    async fn set_api_key_expiry(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<ApiKey>;
    /// Records use of a key at `now`, unless it was recorded less than a minute ago.
    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> RepoResult<()>;
}
