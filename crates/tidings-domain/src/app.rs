//! Apps: the SDK integrations of a company (a website, an iOS app, ...). API keys belong to an app.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::RepoResult;
use crate::ids::{AppId, CompanyId};

/// An app of a company.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

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
    /// Lists a company's apps, oldest first.
    async fn list_apps(&self, company_id: CompanyId) -> RepoResult<Vec<App>>;
}
