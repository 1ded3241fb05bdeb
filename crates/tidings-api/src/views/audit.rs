//! The audit log, as owners read it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_auth::AuditRecord;
use tidings_domain::AuditId;

/// Who acted.
#[derive(Debug, Serialize)]
pub struct AuditActorView {
    /// `user` or `api_key`.
    pub kind: &'static str,
    /// The user's or the key's id.
    pub id: String,
}

/// What an action was done to.
#[derive(Debug, Serialize)]
pub struct AuditTargetView {
    /// `user`, `api_key`, `app`, `webhook`, `integration`, `message` or `outbox`.
    pub kind: String,
    /// Its id (for integrations, their name).
    pub id: String,
}

/// One entry of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditEntryView {
    /// Identifier (time-ordered).
    pub id: AuditId,
    /// What happened, e.g. `login.failed` or `key.revoked`.
    pub action: &'static str,
    /// Who did it.
    pub actor: AuditActorView,
    /// What it was done to.
    pub target: Option<AuditTargetView>,
    /// More about it (never a secret).
    pub detail: serde_json::Value,
    /// The client's address, when known.
    pub ip: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
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
