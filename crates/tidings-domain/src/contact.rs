//! Contacts: the customers a company talks to, reached through SDK devices or social platforms.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::device::Platform;
use crate::error::RepoResult;
use crate::ids::{CompanyId, ContactId};

/// A customer of a company.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// Identifier.
    pub id: ContactId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Display name, when known.
    pub name: Option<String>,
    /// E-mail, stored lower-cased.
    pub email: Option<String>,
    /// Phone number as given.
    pub phone: Option<String>,
    /// Page-scoped Facebook user id.
    pub facebook_id: Option<String>,
    /// Instagram-scoped user id.
    pub instagram_id: Option<String>,
    /// The company's own id for this person (from `POST /v1/identify`).
    pub external_id: Option<String>,
    /// Free-form attributes (JSON object).
    pub metadata: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The fields of a contact that callers set; `None` leaves a field as it is on update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactFields {
    /// Display name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Facebook id.
    pub facebook_id: Option<String>,
    /// Instagram id.
    pub instagram_id: Option<String>,
    /// The company's own id.
    pub external_id: Option<String>,
    /// Attributes; replaces the stored object.
    pub metadata: Option<serde_json::Value>,
}

/// A page of contacts matching an optional search.
#[derive(Clone, Debug, Default)]
pub struct ContactQuery {
    /// Case-insensitive substring of name, e-mail or phone.
    pub search: Option<String>,
    /// Only contacts after this id (ids sort by creation time).
    pub after: Option<ContactId>,
    /// Only these contacts (an inbox naming the contacts of a page of conversations at once).
    pub ids: Option<Vec<ContactId>>,
    /// Page size.
    pub limit: i64,
}

/// Persistence of contacts.
#[async_trait]
pub trait ContactRepo: Send + Sync {
    /// Stores a new contact.
    async fn create_contact(&self, company_id: CompanyId, fields: ContactFields) -> RepoResult<Contact>;
    /// Loads a contact of `company_id`.
    async fn get_contact(&self, company_id: CompanyId, id: ContactId) -> RepoResult<Contact>;
    /// Sets the given fields of a contact of `company_id`.
    async fn update_contact(
        &self,
        company_id: CompanyId,
        id: ContactId,
        fields: ContactFields,
    ) -> RepoResult<Contact>;
    /// Lists contacts of `company_id`, oldest first.
    async fn list_contacts(&self, company_id: CompanyId, query: ContactQuery) -> RepoResult<Vec<Contact>>;
    /// The contact of `company_id` with this Facebook or Instagram id, created (with only that id)
    /// when there is none; concurrent calls get the same contact.
    async fn social_contact(
        &self,
        company_id: CompanyId,
        platform: Platform,
        social_id: &str,
    ) -> RepoResult<Contact>;
    /// Finds a contact of `company_id` by external id, else by e-mail.
    async fn find_contact_by_identity(
        &self,
        company_id: CompanyId,
        external_id: Option<&str>,
        email: Option<&str>,
    ) -> RepoResult<Option<Contact>>;
}
