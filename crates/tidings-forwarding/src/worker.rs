//! The outbox worker: claims due items under a lease, delivers each through its channel, and settles
//! it (delivered, retried after a backoff, or dead). Several workers, on one node or many, share the
//! work: the store never hands the same item to two of them while a lease holds, and a worker that
//! dies mid-call leaves its items to the others once their leases expire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tidings_domain::{
    Claimed, DomainEvent, EffectList, Effects, Message, MessageStatus, OutboxKind, OutboxRepo, RepoResult,
    Settlement, UnitOfWork,
};
use tokio::sync::watch;

use crate::channel::CALL_TIMEOUT;
use crate::channel::{Channel, Delivery, DeliveryError};
use crate::retry::RetryPolicy;

/// Sizes and timers of a worker.
#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    /// Retries and attempts.
    pub retry: RetryPolicy,
    /// How long a claimed item is held: longer than a call can take (10 s); an item whose lease has
    /// less left than that when its turn comes is not called.
    pub lease: Duration,
    /// Items claimed at once.
    pub batch: i64,
    /// How long an idle worker waits before it looks for due items again.
    pub poll: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(60),
            batch: 16,
            poll: Duration::from_secs(1),
        }
    }
}

/// The store a worker needs: the outbox, and units of work that settle an item together with the
/// status of the message it forwards.
pub trait ForwardingRepos: OutboxRepo + UnitOfWork {}

impl<T: OutboxRepo + UnitOfWork> ForwardingRepos for T {}

/// Told when a settled forward changed its message's status (to publish it live).
pub trait ForwardListener: Send + Sync {
    /// The message's new status is recorded at `position` of its conversation's feed.
    fn message_settled(&self, message: &Message, position: i64);
}

/// Delivers outbox items.
pub struct Worker {
    repo: Arc<dyn ForwardingRepos>,
    channels: HashMap<OutboxKind, Arc<dyn Channel>>,
    settings: WorkerSettings,
    listener: Option<Arc<dyn ForwardListener>>,
    effects: EffectList,
}

impl Worker {
    /// A worker over `repo` delivering through `channels` (one per kind).
    pub fn new(
        repo: Arc<dyn ForwardingRepos>,
        channels: Vec<Arc<dyn Channel>>,
        settings: WorkerSettings,
    ) -> Self {
        let channels = channels.into_iter().map(|c| (c.kind(), c)).collect();
        Self { repo, channels, settings, listener: None, effects: EffectList::default() }
    }

    /// Records `effects` (webhooks) of the message statuses settled forwards change.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects = effects;
        self
    }

    /// Tells `listener` about the message statuses settled forwards change.
    pub fn with_listener(mut self, listener: Arc<dyn ForwardListener>) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Claims one batch of due items and settles each; returns how many were attempted.
    pub async fn tick(&self) -> usize {
        let claimed = match self.repo.claim(Utc::now(), self.settings.lease, self.settings.batch).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %tidings_domain::ErrorChain(&error), "could not claim outbox items");
                return 0;
            }
        };
        let count = claimed.len();
        // The batch's calls run together, so that all of them end within one call's timeout, well
        // inside the lease: called one after another, the last ones could outlive it and be claimed
        // and sent again by another worker.
        futures_util::future::join_all(claimed.into_iter().map(|item| self.attempt(item))).await;
        count
    }

    /// Delivers until `stop` turns true, looking for due items again at once after a full batch and
    /// after `poll` otherwise. An attempt under way is finished before it stops.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let attempted = self.tick().await;
            if attempted as i64 >= self.settings.batch {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll) => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
        }
    }

    async fn attempt(&self, claimed: Claimed) {
        let item = &claimed.item;
        // A call that might outlive the lease is not started: another worker may claim the item as
        // soon as the lease ends, and both would deliver it. The item waits for its next claim.
        let left = item.leased_until.map(|until| until - Utc::now());
        if left.is_none_or(|left| {
            left < chrono::Duration::from_std(CALL_TIMEOUT).unwrap_or(chrono::Duration::MAX)
        }) {
            tracing::warn!(item = %item.id, "an outbox item's lease is too short for a call; left for its next claim");
            return;
        }
        let delivered = match self.channels.get(&item.kind) {
            Some(channel) => match tokio::time::timeout(CALL_TIMEOUT, channel.deliver(item)).await {
                Ok(delivered) => delivered,
                Err(_) => Err(DeliveryError::Transient("timed out".into())),
            },
            None => Err(DeliveryError::Permanent(format!("no channel delivers {}", item.kind))),
        };
        let attempt = u32::try_from(item.attempts).unwrap_or(u32::MAX);
        let outcome = match delivered {
            Ok(Delivery::Sent) => Settlement::Delivered,
            Ok(Delivery::Skipped(reason)) => Settlement::Skipped { reason },
            Err(DeliveryError::Transient(error)) if !self.settings.retry.exhausted(attempt) => {
                let wait = self.settings.retry.delay(attempt, &mut rand::rng());
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                Settlement::Retry { at, error }
            }
            Err(DeliveryError::Transient(error) | DeliveryError::Permanent(error)) => {
                Settlement::Dead { error }
            }
        };
        let dead = matches!(outcome, Settlement::Dead { .. });
        let result = match &outcome {
            Settlement::Delivered => "delivered",
            Settlement::Skipped { .. } => "skipped",
            Settlement::Retry { .. } => "retry",
            Settlement::Dead { .. } => "dead",
        };
        metrics::counter!("tidings_outbox_attempts_total", "kind" => item.kind.as_str(), "result" => result)
            .increment(1);
        match self.settle(&claimed, outcome).await {
            Ok(true) if dead => {
                tracing::warn!(item = %item.id, kind = %item.kind, attempts = item.attempts, "an outbox item is dead");
            }
            Ok(true) => {}
            Ok(false) => tracing::warn!(item = %item.id, "an outbox item's lease ran out during its call"),
            Err(error) => {
                // Its lease will expire and another attempt follow; the key makes it harmless.
                tracing::warn!(item = %item.id, error = %tidings_domain::ErrorChain(&error), "could not settle an outbox item");
            }
        }
    }

    /// Settles an item; one that forwards a message settles the message's status in the same unit
    /// of work, so that the two never disagree, and the change is then published.
    async fn settle(&self, claimed: &Claimed, outcome: Settlement) -> RepoResult<bool> {
        let item = &claimed.item;
        let status = match &outcome {
            Settlement::Delivered => MessageStatus::Sent,
            Settlement::Dead { .. } => MessageStatus::Failed,
            Settlement::Retry { .. } | Settlement::Skipped { .. } => {
                return self.repo.settle(item.id, &claimed.lease, outcome).await;
            }
        };
        let Some(message_id) = item.message_id else {
            return self.repo.settle(item.id, &claimed.lease, outcome).await;
        };
        let unit = self.repo.begin().await?;
        if !unit.settle(item.id, &claimed.lease, outcome).await? {
            return Ok(false);
        }
        let changed = unit.settle_forward(item.company_id, message_id, status).await?;
        if let Some(message) = &changed.value {
            self.effects.record(&*unit, &DomainEvent::MessageUpdated { message: message.clone() }).await?;
        }
        unit.commit().await?;
        if let (Some(message), Some(position), Some(listener)) =
            (changed.value, changed.position, &self.listener)
        {
            listener.message_settled(&message, position);
        }
        Ok(true)
    }
}
