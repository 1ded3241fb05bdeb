//! Webhook endpoints and their delivery attempts, as their admins see them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::{OutboxId, WebhookAttempt, WebhookAttemptId, WebhookEndpoint, WebhookId};
use tidings_forwarding::WithSecret;
use utoipa::ToSchema;

/// An endpoint; its secret is never shown again after creation or rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Identifier.
    pub id: WebhookId,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// False once disabled (by an admin, or after failing for a day).
    pub enabled: bool,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why.
    pub disabled_reason: Option<String>,
    /// Since when its deliveries fail without a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            events: e.events,
            enabled: e.disabled_at.is_none(),
            disabled_at: e.disabled_at,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_until.filter(|until| *until > Utc::now()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretView {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookView,
    /// The signing secret (`whsec_…`).
    pub secret: String,
}

impl From<WithSecret> for WebhookSecretView {
    fn from(w: WithSecret) -> Self {
        Self { endpoint: w.endpoint.into(), secret: w.secret }
    }
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttemptView {
    /// Identifier of the attempt.
    pub id: WebhookAttemptId,
    /// The delivery (what `.../deliveries/{id}/redeliver` sends again).
    pub delivery_id: OutboxId,
    /// The `X-Tidings-Delivery` header it carried.
    pub delivery_key: String,
    /// The event type.
    pub event: String,
    /// The status the endpoint answered, if it answered.
    pub status_code: Option<i32>,
    /// How long the call took.
    pub duration_ms: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When.
    pub attempted_at: DateTime<Utc>,
}

impl From<WebhookAttempt> for WebhookAttemptView {
    fn from(a: WebhookAttempt) -> Self {
        Self {
            id: a.id,
            delivery_id: a.outbox_id,
            delivery_key: a.delivery_id,
            event: a.event,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error,
            attempted_at: a.attempted_at,
        }
    }
}

/// A delivery of Meta's webhooks, as far as it is read: the object and its entries, each naming a
/// page or Instagram account (`id`) with its `messaging` events. Other fields are ignored.
#[derive(Debug, ToSchema)]
pub struct MetaDelivery {
    /// `page` (Messenger) or `instagram`.
    #[schema(example = "page")]
    pub object: String,
    /// The entries, one per page or account.
    #[schema(value_type = Vec<Object>)]
    pub entry: Vec<serde_json::Value>,
}

/// What a Meta delivery brought.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedView {
    /// How many events were read (a redelivered message counts, though nothing is stored twice).
    pub received: usize,
}
