//! Companies: the tenants. Every other row belongs to exactly one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::CompanyId;
use crate::user::{NewUser, User};

/// A tenant of Tidings.
#[derive(Clone, Debug, PartialEq)]
pub struct Company {
    /// Identifier.
    pub id: CompanyId,
    /// Display name.
    pub name: String,
    /// Free-form settings (JSON object).
    pub settings: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What is needed to create a company.
#[derive(Clone, Debug)]
pub struct NewCompany {
    /// Display name.
    pub name: String,
}

/// Persistence of companies.
#[async_trait]
pub trait CompanyRepo: Send + Sync {
    /// Stores a new company and returns it.
    async fn create_company(&self, new: NewCompany) -> RepoResult<Company>;
    /// Creates a company and its first user in one transaction: if the user cannot be stored (its
    /// e-mail is taken), no company is left behind. `owner.company_id` is ignored.
    async fn create_company_with_owner(&self, new: NewCompany, owner: NewUser)
    -> RepoResult<(Company, User)>;
    /// Loads a company by id.
    async fn get_company(&self, id: CompanyId) -> RepoResult<Company>;
    /// Sets one top-level key of a company's settings, leaving the others as they are.
    async fn put_company_setting(
        &self,
        id: CompanyId,
        key: &str,
        value: serde_json::Value,
    ) -> RepoResult<Company>;
    /// The companies whose settings hold the top-level `key`.
    async fn companies_with_setting(&self, key: &str) -> RepoResult<Vec<Company>>;
    /// Whether at least one company exists: until one does, the server offers its setup page.
    async fn any_company(&self) -> RepoResult<bool>;
}
