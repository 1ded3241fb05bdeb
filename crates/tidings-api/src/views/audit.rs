//! The audit log, as owners read it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_auth::AuditRecord;
use tidings_domain::{AuditAction, AuditId};
use utoipa::ToSchema;

/// Who acted.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    /// `user` or `api_key`.
    #[schema(schema_with = actor_kind)]
    pub kind: &'static str,
    /// The user's or the key's id.
    pub id: String,
}

/// What an action was done to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTargetView {
    /// `user`, `api_key`, `app`, `webhook`, `integration`, `message` or `outbox`.
    pub kind: String,
    /// Its id (for integrations, their name).
    pub id: String,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Identifier (time-ordered).
    pub id: AuditId,
    /// What happened, e.g. `login.failed` or `key.revoked`.
    #[schema(schema_with = action)]
    pub action: &'static str,
    /// Who did it.
    pub actor: AuditActorView,
    /// What it was done to.
    pub target: Option<AuditTargetView>,
    /// More about it (never a secret).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// The schema of [`AuditEntryView::action`]: the actions' names (their serde names differ).
fn action() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(AuditAction::ALL.iter().map(|action| action.as_str())))
}

/// The schema of [`AuditActorView::kind`].
fn actor_kind() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["user", "api_key"]))
}

impl From<AuditRecord> for AuditEntryView {
    fn from(record: AuditRecord) -> Self {
        let entry = record.entry;
        Self {
            id: entry.id,
            action: entry.action.as_str(),
            actor: AuditActorView { kind: entry.actor.kind(), id: entry.actor.id() },
            target: entry.target.map(|(kind, id)| AuditTargetView { kind, id }),
            detail: entry.detail,
            ip: record.ip,
            occurred_at: entry.occurred_at,
        }
    }
}
