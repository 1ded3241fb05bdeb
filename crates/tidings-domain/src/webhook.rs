//! Webhook endpoints: where a company wants its events posted, signed with a secret of its own, and
//! the log of every attempt to deliver them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, OutboxId, WebhookAttemptId, WebhookId};

/// The events an endpoint may subscribe to.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "message.created",
    "message.updated",
    "message.status",
    "conversation.created",
    "conversation.updated",
    "contact.created",
    "appointment.created",
    "appointment.updated",
    "appointment.cancelled",
];

/// An endpoint as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEndpoint {
    /// Identifier.
    pub id: WebhookId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// The signing secret, sealed.
    pub secret: String,
    /// The secret it replaced, sealed, still signing until `previous_until`.
    pub previous_secret: Option<String>,
    /// End of the rotation overlap.
    pub previous_until: Option<DateTime<Utc>>,
    /// Since when deliveries fail without a success in between.
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was disabled (by its owner, or after failing for a day).
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A change to an endpoint; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookPatch {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// `Some(Some(t))` disables at `t` with a reason; `Some(None)` enables (and forgets failures).
    pub disabled: Option<Option<(DateTime<Utc>, String)>>,
    /// New secret (sealed), the current one kept as previous until the given time.
    pub rotate: Option<(String, DateTime<Utc>)>,
}

/// One attempt to deliver an event, as the log keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookAttempt {
    /// Identifier.
    pub id: WebhookAttemptId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// The outbox item delivered.
    pub outbox_id: OutboxId,
    /// The event type.
    pub event: String,
    /// The delivery id (`X-Tidings-Delivery`): the same for every attempt of one delivery.
    pub delivery_id: String,
    /// The HTTP status answered, if any.
    pub status_code: Option<i32>,
    /// How long the call took.
    pub duration_ms: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When.
    pub attempted_at: DateTime<Utc>,
}

/// Persistence of webhook endpoints and their attempts.
#[async_trait]
pub trait WebhookRepo: Send + Sync {
    /// Stores a new endpoint.
    async fn create_webhook(&self, endpoint: WebhookEndpoint) -> RepoResult<WebhookEndpoint>;
    /// A company's endpoints, oldest first.
    async fn list_webhooks(&self, company_id: CompanyId) -> RepoResult<Vec<WebhookEndpoint>>;
    /// One endpoint of a company.
    async fn get_webhook(&self, company_id: CompanyId, id: WebhookId) -> RepoResult<WebhookEndpoint>;
    /// Changes an endpoint of a company.
    async fn update_webhook(
        &self,
        company_id: CompanyId,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> RepoResult<WebhookEndpoint>;
    /// Deletes an endpoint of a company (its attempts go with it).
    async fn delete_webhook(&self, company_id: CompanyId, id: WebhookId) -> RepoResult<()>;
    /// The company's enabled endpoints subscribed to `event`.
    async fn subscribed_webhooks(
        &self,
        company_id: CompanyId,
        event: &str,
    ) -> RepoResult<Vec<WebhookEndpoint>>;
    /// Logs an attempt, and records the endpoint's health: a success clears `failing_since`, a
    /// failure sets it if unset. Returns the endpoint as it is now.
    async fn record_attempt(&self, attempt: WebhookAttempt) -> RepoResult<WebhookEndpoint>;
    /// The newest attempts of an endpoint of a company.
    async fn list_attempts(
        &self,
        company_id: CompanyId,
        endpoint_id: WebhookId,
        limit: i64,
    ) -> RepoResult<Vec<WebhookAttempt>>;
}
