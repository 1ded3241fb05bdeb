//! Apps: the SDK integrations of a company (a website, an iOS app, ...). API keys belong to an app.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{AppId, CompanyId};

/// An app of a company.
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// Identifier, sent by SDKs as `X-App-Id`.
    pub id: AppId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Display name.
    pub name: String,
    /// Free-form settings (JSON object).
    pub settings: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Whether an identity secret was issued (the secret itself is shown once, never stored in clear).
    pub has_identity_secret: bool,
    /// Whether SDK identifies must be signed with the identity secret.
    pub identity_verification: IdentityVerification,
}

crate::named_enum::named_enum!(
    /// How an app treats an SDK's claim of who uses a device.
    IdentityVerification {
        /// Unsigned identifies may name the device's own contact; only signed ones reach a known
        /// contact (by `external_id`).
        Optional = "optional",
        /// Every identify must carry a valid signature.
        Required = "required",
    }
);

/// What is needed to create an app.
#[derive(Clone, Debug)]
pub struct NewApp {
    /// The owning company.
    pub company_id: CompanyId,
    /// Display name.
    pub name: String,
}

/// Persistence of apps.
#[async_trait]
pub trait AppRepo: Send + Sync {
    /// Stores a new app.
    async fn create_app(&self, new: NewApp) -> RepoResult<App>;
    /// Loads an app of `company_id`; another company's app is `NotFound`.
    async fn get_app(&self, company_id: CompanyId, id: AppId) -> RepoResult<App>;
    /// Lists at most `limit` apps of a company, oldest first, starting after the app `after` (ids
    /// sort by creation time).
    async fn list_apps(
        &self,
        company_id: CompanyId,
        after: Option<AppId>,
        limit: i64,
    ) -> RepoResult<Vec<App>>;
    /// Replaces an app's sealed identity secret.
    async fn set_identity_secret(&self, company_id: CompanyId, id: AppId, sealed: String) -> RepoResult<App>;
    /// An app's sealed identity secret, if one was issued.
    async fn identity_secret(&self, company_id: CompanyId, id: AppId) -> RepoResult<Option<String>>;
    /// Sets whether identifies must be signed.
    async fn set_identity_verification(
        &self,
        company_id: CompanyId,
        id: AppId,
        mode: IdentityVerification,
    ) -> RepoResult<App>;
}
