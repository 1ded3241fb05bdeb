//! Analytics events tracked by SDKs: append-only, per company.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{AppId, CompanyId, ContactId, EventId};

/// A tracked event as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Identifier.
    pub id: EventId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app that sent it.
    pub app_id: Option<AppId>,
    /// The SDK device that sent it.
    pub device_id: Option<String>,
    /// The contact using that device.
    pub contact_id: Option<ContactId>,
    /// Event name, e.g. `screen_view`.
    pub name: String,
    /// Free-form properties (JSON object).
    pub properties: serde_json::Value,
    /// When it happened, by the device's clock.
    pub occurred_at: DateTime<Utc>,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
}

/// What is needed to record an event.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// The owning company.
    pub company_id: CompanyId,
    /// The app that sent it.
    pub app_id: Option<AppId>,
    /// The SDK device that sent it.
    pub device_id: Option<String>,
    /// The contact using that device.
    pub contact_id: Option<ContactId>,
    /// Event name.
    pub name: String,
    /// Properties (JSON object).
    pub properties: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Persistence of events: there is no update and no delete.
#[async_trait]
pub trait EventRepo: Send + Sync {
    /// Appends an event.
    async fn record_event(&self, new: NewEvent) -> RepoResult<Event>;
    /// The newest events of `company_id`, newest first.
    async fn recent_events(&self, company_id: CompanyId, limit: i64) -> RepoResult<Vec<Event>>;
}
