//! The outbox: every call that must leave the system (a forward to the Meta bot service, later
//! webhooks, push and e-mail) is a row written in the transaction of the change that causes it, then
//! delivered by workers that lease it, retry it with backoff and bury it when it cannot succeed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, MessageId, OutboxId};
use crate::named_enum::named_enum;

named_enum!(
    /// What an outbox item does when delivered.
    OutboxKind {
        /// An agent's reply forwarded to the Meta bot service (Facebook or Instagram).
        MetaForward = "meta.forward",
        /// An event posted to a company's webhook endpoint.
        WebhookDelivery = "webhook.delivery",
        /// A push notification to a contact's devices.
        Push = "push.notification",
        /// An e-mail.
        Email = "email",
        /// An appointment created, moved or cancelled in a company's Google Calendar.
        CalendarSync = "calendar.sync",
    }
);

named_enum!(
    /// Where an outbox item stands.
    OutboxStatus {
        /// Waiting for its next attempt (or being attempted under a lease).
        Pending = "pending",
        /// Delivered; kept for the record.
        Delivered = "delivered",
        /// Failed for good (a permanent error or the last attempt); kept with its last error.
        Dead = "dead",
        /// Nothing was sent, on purpose (no SMTP server configured, a contact already online); kept
        /// with the reason.
        Skipped = "skipped",
    }
);

/// An outbox item as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    /// Identifier.
    pub id: OutboxId,
    /// The company whose call it is.
    pub company_id: CompanyId,
    /// What it does.
    pub kind: OutboxKind,
    /// Unique per effect within the company: sent along as `Idempotency-Key`, and a second enqueue
    /// with the same key stores nothing.
    pub idempotency_key: String,
    /// What the channel needs to make the call (JSON); never a secret, which the worker reads at
    /// call time.
    pub payload: serde_json::Value,
    /// The message whose status follows the delivery, if any.
    pub message_id: Option<MessageId>,
    /// Items with the same key are delivered one after another, in the order they were enqueued.
    pub order_key: Option<String>,
    /// Pending, delivered, dead or skipped.
    pub status: OutboxStatus,
    /// Attempts started so far.
    pub attempts: i32,
    /// When it may be attempted next.
    pub due_at: DateTime<Utc>,
    /// Until when the worker that claimed it holds it; after that, another worker may claim it.
    pub leased_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What is needed to enqueue a call.
#[derive(Clone, Debug)]
pub struct NewOutboxItem {
    /// The company whose call it is.
    pub company_id: CompanyId,
    /// What it does.
    pub kind: OutboxKind,
    /// Unique per effect within the company.
    pub idempotency_key: String,
    /// What the channel needs (JSON, no secret).
    pub payload: serde_json::Value,
    /// The message whose status follows the delivery.
    pub message_id: Option<MessageId>,
    /// Delivered after every earlier pending item with the same key.
    pub order_key: Option<String>,
    /// Not attempted before this time (`None`: now); a window in which later effects with the same
    /// idempotency key collapse into this one.
    pub due_at: Option<DateTime<Utc>>,
}

/// An item claimed by a worker: it holds the item until `leased_until` and must settle it with its
/// `lease` (a later claimer's settle wins over an expired one's).
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    /// The item, its `attempts` counting this one.
    pub item: OutboxItem,
    /// The claim's token.
    pub lease: String,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Settlement {
    /// Delivered.
    Delivered,
    /// Failed for now: try again at this time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Failed for good.
    Dead {
        /// Why.
        error: String,
    },
    /// Nothing to send, on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Counts for health checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Items waiting to be delivered.
    pub pending: i64,
    /// Age in seconds of the oldest pending item (0 when there is none).
    pub oldest_pending_secs: i64,
    /// Items that failed for good.
    pub dead: i64,
}

/// Persistence of the outbox.
#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// Stores a call, due now; when the company already has one with the same idempotency key,
    /// stores nothing and returns that one.
    async fn enqueue(&self, new: NewOutboxItem) -> RepoResult<OutboxItem>;
    /// Claims up to `limit` due items (pending, due, not leased or with an expired lease, and no
    /// earlier pending item of the same order key), oldest due first, counting an attempt and leasing
    /// each until `now + lease`. Concurrent claimers never get the same item while its lease holds.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> RepoResult<Vec<Claimed>>;
    /// Records how an attempt ended; `false` when the lease was lost (the item was claimed again),
    /// in which case nothing changes.
    async fn settle(&self, id: OutboxId, lease: &str, outcome: Settlement) -> RepoResult<bool>;
    /// A page of a company's items, newest first, optionally of one status and kind.
    async fn list_outbox(
        &self,
        company_id: CompanyId,
        status: Option<OutboxStatus>,
        kind: Option<OutboxKind>,
        after: Option<OutboxId>,
        limit: i64,
    ) -> RepoResult<Vec<OutboxItem>>;
    /// One item of a company.
    async fn get_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<OutboxItem>;
    /// Makes a company's dead (or pending) item due now again, with its attempts reset.
    async fn retry_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<OutboxItem>;
    /// Deletes a company's item.
    async fn delete_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<()>;
    /// Counts over every company, for health checks.
    async fn outbox_stats(&self, now: DateTime<Utc>) -> RepoResult<OutboxStats>;
}
