//! What a webhook receives: each domain event as one JSON envelope, and the outbox items that carry
//! it to every subscribed endpoint, written in the change's unit of work.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};
use tidings_domain::{
    CompanyId, DomainEvent, Effects, NewOutboxItem, OutboxKind, Recent, RepoResult, Transaction,
    WebhookEndpoint,
};

/// The endpoints subscribed to each event, per company, as recently read: most changes happen in
/// companies whose endpoints have not changed for a long time, and each would otherwise look them
/// up again. The webhook service forgets a company's when it changes them; other nodes see the
/// change within [`RECENT_ENDPOINTS`], and an item queued for an endpoint disabled or deleted
/// meanwhile is skipped at delivery.
pub type RecentEndpoints = Recent<&'static str, Arc<Vec<WebhookEndpoint>>>;

/// How long a company's endpoints are believed without reading them again.
pub const RECENT_ENDPOINTS: Duration = Duration::from_secs(1);

/// An empty memory of endpoints.
pub fn recent_endpoints() -> RecentEndpoints {
    Recent::new(RECENT_ENDPOINTS)
}

/// The envelope every webhook body is: `{id, type, created_at, company_id, data}`.
pub fn envelope(company_id: CompanyId, event_id: &str, kind: &str, data: Value) -> Value {
    json!({ "id": event_id, "type": kind, "created_at": Utc::now(), "company_id": company_id, "data": data })
}

/// The company an event belongs to, what it says, the id that names it once (for events that
/// happen once to a thing, so that a repeated record of them collapses), and the ordering scope.
fn describe(event: &DomainEvent) -> (CompanyId, Value, Option<String>, String) {
    match event {
        DomainEvent::MessageCreated { message, conversation } => (
            message.company_id,
            json!({ "message": message, "conversation": conversation }),
            Some(message.id.to_string()),
            format!("conversation:{}", conversation.id),
        ),
        DomainEvent::MessageUpdated { message } => (
            message.company_id,
            json!({ "message": message }),
            None,
            format!("conversation:{}", message.conversation_id),
        ),
        DomainEvent::MessageStatus { conversation, direction, status, up_to_sequence } => (
            conversation.company_id,
            json!({
                "conversation_id": conversation.id,
                "direction": direction,
                "status": status,
                "up_to_sequence": up_to_sequence,
            }),
            None,
            format!("conversation:{}", conversation.id),
        ),
        DomainEvent::ConversationCreated { conversation } => (
            conversation.company_id,
            json!({ "conversation": conversation }),
            Some(conversation.id.to_string()),
            format!("conversation:{}", conversation.id),
        ),
        DomainEvent::ConversationUpdated { conversation } => (
            conversation.company_id,
            json!({ "conversation": conversation }),
            None,
            format!("conversation:{}", conversation.id),
        ),
        DomainEvent::ContactCreated { contact } => (
            contact.company_id,
            json!({ "contact": {
                "id": contact.id,
                "company_id": contact.company_id,
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "facebook_id": contact.facebook_id,
                "instagram_id": contact.instagram_id,
                "external_id": contact.external_id,
                "metadata": contact.metadata,
                "created_at": contact.created_at,
                "updated_at": contact.updated_at,
            } }),
            Some(contact.id.to_string()),
            format!("contact:{}", contact.id),
        ),
        DomainEvent::AppointmentCreated { booking } => appointment(booking, json!({}), true),
        DomainEvent::AppointmentUpdated { booking, previous } => {
            let previous = json!({
                "starts_at": previous.starts_at,
                "ends_at": previous.ends_at(),
                "status": previous.status,
            });
            appointment(booking, json!({ "previous": previous }), false)
        }
        DomainEvent::AppointmentCancelled { booking } => appointment(booking, json!({}), true),
    }
}

/// An appointment event: the appointment, and what else the event says; in order per appointment.
fn appointment(
    booking: &tidings_domain::Booking,
    mut data: Value,
    once: bool,
) -> (CompanyId, Value, Option<String>, String) {
    let id = booking.appointment.id;
    data["appointment"] = json!(booking);
    (booking.appointment.company_id, data, once.then(|| id.to_string()), format!("appointment:{id}"))
}

/// The outbox item delivering `body` (an envelope of `kind`) to `endpoint`; items of one `scope`
/// (a conversation, a contact) reach an endpoint in the order they were made.
pub fn delivery(
    endpoint: &WebhookEndpoint,
    kind: &str,
    event_id: &str,
    scope: &str,
    body: Value,
) -> NewOutboxItem {
    NewOutboxItem {
        company_id: endpoint.company_id,
        kind: OutboxKind::WebhookDelivery,
        idempotency_key: format!("wh_{}_{event_id}", endpoint.id),
        payload: json!({ "endpoint_id": endpoint.id, "event": kind, "body": body }),
        message_id: None,
        order_key: Some(format!("{}:{scope}", endpoint.id)),
        due_at: None,
    }
}

/// Posts every event to the company's subscribed endpoints.
#[derive(Clone)]
pub struct WebhookEvents {
    endpoints: RecentEndpoints,
}

impl WebhookEvents {
    /// Reads endpoints through `endpoints`, which the webhook service forgets as it changes them.
    pub fn new(endpoints: RecentEndpoints) -> Self {
        Self { endpoints }
    }
}

#[async_trait]
impl Effects for WebhookEvents {
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()> {
        let (kind, company) = (event.name(), event.company_id());
        let endpoints = match self.endpoints.get(company, &kind) {
            Ok(endpoints) => endpoints,
            Err(lookup) => {
                let found = Arc::new(unit.subscribed_webhooks(company, kind).await?);
                self.endpoints.remember(lookup, company, kind, found.clone());
                found
            }
        };
        if endpoints.is_empty() {
            return Ok(());
        }
        let (company_id, data, once, scope) = describe(event);
        // An event that happens once to a thing keeps one id however often it is recorded.
        let event_id = match once {
            Some(subject) => format!("{}_{subject}", kind.replace('.', "_")),
            None => format!("evt_{}", uuid::Uuid::now_v7().simple()),
        };
        let body = envelope(company_id, &event_id, kind, data);
        for endpoint in endpoints.iter() {
            unit.enqueue(delivery(endpoint, kind, &event_id, &scope, body.clone())).await?;
        }
        Ok(())
    }
}
