//! Integrations: a company's settings for a third-party service (Meta first). Secrets are stored
//! sealed by the service layer (the store never sees them in clear); the ids Meta sends with its
//! webhooks are stored in clear so that an inbound call can be matched to its company.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::CompanyId;
use crate::named_enum::named_enum;

named_enum!(
    /// Which service an integration connects.
    IntegrationKind {
        /// Facebook pages and Instagram accounts, through Meta's Graph API and the bot service.
        Meta = "meta",
        /// A Google Calendar that confirmed appointments are written to.
        GoogleCalendar = "google_calendar",
    }
);

/// A company's integration as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Integration {
    /// The owning company.
    pub company_id: CompanyId,
    /// The service.
    pub kind: IntegrationKind,
    /// Settings that are not secret (JSON object).
    pub config: serde_json::Value,
    /// The secrets, sealed (`<key id>.<ciphertext>`); `None` when there are none.
    pub secrets: Option<String>,
    /// The id of the key that sealed `secrets`, so that a key rotation can tell old values apart.
    pub key_id: Option<String>,
    /// Identifiers inbound calls are matched by.
    pub lookup: IntegrationLookup,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The identifiers of an integration that inbound calls carry: unique per kind across companies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrationLookup {
    /// The Facebook page id.
    pub page_id: Option<String>,
    /// The Instagram business account id.
    pub instagram_account_id: Option<String>,
    /// SHA-256 (hex) of the webhook verify token: the handshake names no company, only the token.
    pub verify_token_digest: Option<String>,
}

/// Which identifier to find an integration by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKey<'a> {
    /// A Facebook page id.
    PageId(&'a str),
    /// An Instagram business account id.
    InstagramAccountId(&'a str),
    /// The digest of a webhook verify token.
    VerifyTokenDigest(&'a str),
}

/// Persistence of integrations.
#[async_trait]
pub trait IntegrationRepo: Send + Sync {
    /// Stores a company's integration of its kind, replacing the previous one; a conflict when
    /// another company's integration of the kind has the same page or Instagram account id.
    async fn put_integration(&self, integration: Integration) -> RepoResult<Integration>;
    /// A company's integration of a kind, if any.
    async fn get_integration(
        &self,
        company_id: CompanyId,
        kind: IntegrationKind,
    ) -> RepoResult<Option<Integration>>;
    /// The integrations of a kind holding an identifier (at most one for page and account ids).
    async fn find_integrations(
        &self,
        kind: IntegrationKind,
        key: LookupKey<'_>,
    ) -> RepoResult<Vec<Integration>>;
    /// Every integration of a kind, for periodic jobs.
    async fn list_integrations(&self, kind: IntegrationKind) -> RepoResult<Vec<Integration>>;
}
