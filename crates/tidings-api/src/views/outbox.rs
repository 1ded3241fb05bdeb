//! The outbox, as its admins see it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::{MessageId, OutboxId, OutboxItem, OutboxKind, OutboxStats, OutboxStatus};
use utoipa::ToSchema;

/// An outbox item. Its payload stays out: it holds the forwarded text, which the conversation shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItemView {
    /// Identifier.
    pub id: OutboxId,
    /// What it does, e.g. `meta.forward`.
    #[schema(schema_with = kind)]
    pub kind: &'static str,
    /// `pending`, `delivered`, `dead` or `skipped`.
    pub status: OutboxStatus,
    /// The key the receiving service gets as `Idempotency-Key`.
    pub idempotency_key: String,
    /// The message whose delivery it is, if any.
    pub message_id: Option<MessageId>,
    /// Attempts started so far.
    pub attempts: i32,
    /// When it is attempted next (for pending items).
    pub due_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The schema of [`OutboxItemView::kind`]: the kinds' names (their serde names differ).
fn kind() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(OutboxKind::ALL.iter().map(|kind| kind.as_str())))
}

impl From<OutboxItem> for OutboxItemView {
    fn from(i: OutboxItem) -> Self {
        Self {
            id: i.id,
            kind: i.kind.as_str(),
            status: i.status,
            idempotency_key: i.idempotency_key,
            message_id: i.message_id,
            attempts: i.attempts,
            due_at: i.due_at,
            last_error: i.last_error,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// The outbox's part of readiness: informative, it never makes a node unready.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct OutboxHealthView {
    /// Items waiting to be delivered.
    pub pending: i64,
    /// Age in seconds of the oldest of them.
    pub oldest_pending_secs: i64,
    /// Items that failed for good.
    pub dead: i64,
}

impl From<OutboxStats> for OutboxHealthView {
    fn from(s: OutboxStats) -> Self {
        Self { pending: s.pending, oldest_pending_secs: s.oldest_pending_secs, dead: s.dead }
    }
}
