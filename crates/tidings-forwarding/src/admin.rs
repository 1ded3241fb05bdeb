//! The outbox as owners and admins see it: their company's items, a hand retry of a dead one, and
//! removal; and the counts health checks report.

use std::sync::Arc;

use chrono::Utc;
use tidings_domain::{
    Audit, AuditAction, AuditEvent, OutboxId, OutboxItem, OutboxKind, OutboxRepo, OutboxStats, OutboxStatus,
    Principal, Role,
};

use crate::error::{ForwardingError, ForwardingResult};

/// Managing a company's outbox.
#[derive(Clone)]
pub struct OutboxAdmin {
    repo: Arc<dyn OutboxRepo>,
    audit: Audit,
}

impl OutboxAdmin {
    /// Builds the service over `repo`.
    pub fn new(repo: Arc<dyn OutboxRepo>) -> Self {
        Self { repo, audit: Audit::default() }
    }

    /// Records items removed by hand in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    fn admin(principal: &Principal) -> ForwardingResult<()> {
        if principal.role >= Role::Admin {
            Ok(())
        } else {
            Err(ForwardingError::Forbidden("only owners and admins see the outbox"))
        }
    }

    /// A page of the admin's company's items, newest first.
    pub async fn list(
        &self,
        admin: &Principal,
        status: Option<OutboxStatus>,
        kind: Option<OutboxKind>,
        after: Option<OutboxId>,
        limit: i64,
    ) -> ForwardingResult<Vec<OutboxItem>> {
        Self::admin(admin)?;
        Ok(self.repo.list_outbox(admin.company_id, status, kind, after, limit).await?)
    }

    /// Makes an item that is not delivered due now, with its attempts counted from zero again.
    pub async fn retry(&self, admin: &Principal, id: OutboxId) -> ForwardingResult<OutboxItem> {
        Self::admin(admin)?;
        Ok(self.repo.retry_outbox(admin.company_id, id).await?)
    }

    /// Removes an item (it will not be delivered, or is kept no longer).
    pub async fn delete(&self, admin: &Principal, id: OutboxId) -> ForwardingResult<()> {
        Self::admin(admin)?;
        self.repo.delete_outbox(admin.company_id, id).await?;
        let event = AuditEvent::new(admin.company_id, AuditAction::OutboxDeleted, admin).target("outbox", id);
        self.audit.record(event).await;
        Ok(())
    }

    /// Counts over every company, for `/health/ready`.
    pub async fn stats(&self) -> ForwardingResult<OutboxStats> {
        Ok(self.repo.outbox_stats(Utc::now()).await?)
    }
}
