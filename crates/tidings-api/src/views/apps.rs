//! Apps and API keys. A key or identity secret appears only in the answer that issues it; listings
//! show the stored record, never the key, its hash or the sealed secret.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_auth::{IssuedIdentitySecret, IssuedKey};
use tidings_domain::{ApiKey, ApiKeyId, App, AppId, CompanyId, IdentityVerification, KeyKind};
use utoipa::ToSchema;

/// An app (an SDK integration).
#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    /// Identifier, sent by SDKs as `X-App-Id`.
    pub id: AppId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Display name.
    pub name: String,
    /// Free-form settings (a JSON object).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Whether an identity secret was issued (the secret itself is shown once).
    pub has_identity_secret: bool,
    /// `optional` or `required`: whether SDK identifies must be signed.
    pub identity_verification: IdentityVerification,
}

impl From<App> for AppView {
    fn from(a: App) -> Self {
        Self {
            id: a.id,
            company_id: a.company_id,
            name: a.name,
            settings: a.settings,
            created_at: a.created_at,
            has_identity_secret: a.has_identity_secret,
            identity_verification: a.identity_verification,
        }
    }
}

/// A stored API key: its public prefix and state, never the key or its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Identifier.
    pub id: ApiKeyId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app the key belongs to.
    pub app_id: Option<AppId>,
    /// `client` or `server`.
    pub kind: KeyKind,
    /// The public part of the key, which appears in the key itself.
    pub prefix: String,
    /// After this time the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last time the key authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            company_id: k.company_id,
            app_id: k.app_id,
            kind: k.kind,
            prefix: k.prefix,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// A key just issued: the one response that contains the whole key.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyView {
    /// Identifier.
    pub id: ApiKeyId,
    /// The whole key, shown this once.
    pub key: String,
    /// The public part of the key.
    pub prefix: String,
    /// `client` or `server`.
    pub kind: KeyKind,
    /// The app the key belongs to.
    pub app_id: Option<AppId>,
    /// After this time the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<IssuedKey> for IssuedKeyView {
    fn from(k: IssuedKey) -> Self {
        let r = k.record;
        Self {
            id: r.id,
            key: k.key,
            prefix: r.prefix,
            kind: r.kind,
            app_id: r.app_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

/// An identity secret just issued: the one response that contains it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentitySecretView {
    /// The app.
    pub app_id: AppId,
    /// The secret the company's backend signs user ids with, shown this once.
    pub identity_secret: String,
    /// The app's verification mode, unchanged by issuing a secret.
    pub identity_verification: IdentityVerification,
}

impl From<IssuedIdentitySecret> for IdentitySecretView {
    fn from(issued: IssuedIdentitySecret) -> Self {
        Self {
            app_id: issued.app.id,
            identity_secret: issued.secret,
            identity_verification: issued.app.identity_verification,
        }
    }
}
