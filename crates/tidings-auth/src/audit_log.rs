//! Reading the audit log: owners page through their company's entries, newest first, with the
//! client addresses opened; and old entries expire.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tidings_domain::{Audit, AuditEntry, AuditQuery, AuditRepo, Principal};

use crate::error::AuthError;

/// An entry as owners read it.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    /// The stored entry.
    pub entry: AuditEntry,
    /// The client's address, when the action came through a door that knew it.
    pub ip: Option<String>,
}

/// The company's audit log.
#[derive(Clone)]
pub struct AuditLog {
    repo: Arc<dyn AuditRepo>,
    audit: Audit,
}

impl AuditLog {
    /// Reads entries from `repo`, opening their addresses with `audit`'s key.
    pub fn new(repo: Arc<dyn AuditRepo>, audit: Audit) -> Self {
        Self { repo, audit }
    }

    /// A page of the caller's company's entries, newest first.
    pub async fn list(&self, owner: &Principal, query: AuditQuery) -> Result<Vec<AuditRecord>, AuthError> {
        let entries = self.repo.list_audit(owner.company_id, query).await?;
        Ok(entries.into_iter().map(|entry| AuditRecord { ip: self.audit.address(&entry), entry }).collect())
    }

    /// Removes up to `limit` entries of every company made before `before`; returns how many went.
    pub async fn expire(&self, before: DateTime<Utc>, limit: i64) -> Result<u64, AuthError> {
        Ok(self.repo.expire_audit(before, limit).await?)
    }
}
