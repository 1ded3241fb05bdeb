//! The Redis bus: events reach this node's sessions through the in-process bus at once, and the
//! other nodes through Redis pub/sub. Redis is only the doorbell: what a client must not miss is
//! in the store, and clients fill gaps from there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tidings_domain::{CompanyId, Revocations};
use tidings_messaging::realtime::{Bus, BusState, Envelope, LocalBus, NodeId};
use tokio::sync::mpsc;

use crate::wire::Wire;

/// Messages queued for Redis before new ones are dropped (and counted).
pub const PUBLISH_QUEUE: usize = 8192;

/// What the bus has done, for health checks and logs.
#[derive(Debug, Default)]
pub struct BusStats {
    connected: AtomicBool,
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
}

impl BusStats {
    /// Whether the subscription to Redis is up.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Messages sent to Redis.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Messages from other nodes delivered here.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Messages that could not be sent to Redis (queue full, Redis slow or down).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn set_connected(&self, up: bool) -> bool {
        self.connected.swap(up, Ordering::Relaxed)
    }

    pub(crate) fn count_published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tidings_bus_published_total").increment(1);
    }

    pub(crate) fn count_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tidings_bus_received_total").increment(1);
    }

    /// Counts a drop; logs the first and then every power of two, so an outage does not flood the log.
    pub(crate) fn count_dropped(&self, why: &str) {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::counter!("tidings_bus_dropped_total").increment(1);
        if dropped.is_power_of_two() {
            tracing::warn!(dropped, why, "bus messages to other nodes dropped");
        }
    }
}

/// A bus shared by every node through Redis.
pub struct RedisBus {
    node: NodeId,
    local: Arc<LocalBus>,
    outbox: mpsc::Sender<Wire>,
    stats: Arc<BusStats>,
}

impl RedisBus {
    /// A bus for node `node` delivering here through `local` and queueing for Redis through
    /// `outbox` (the publisher's queue).
    pub(crate) fn new(
        node: NodeId,
        local: Arc<LocalBus>,
        outbox: mpsc::Sender<Wire>,
        stats: Arc<BusStats>,
    ) -> Self {
        Self { node, local, outbox, stats }
    }

    /// What the bus has done.
    pub fn stats(&self) -> &Arc<BusStats> {
        &self.stats
    }

    /// Queues a message for the other nodes; never waits.
    fn send(&self, wire: Wire) {
        match self.outbox.try_send(wire) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.stats.count_dropped("the publish queue is full"),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.stats.count_dropped("the publisher has stopped")
            }
        }
    }
}

impl Bus for RedisBus {
    fn publish(&self, envelope: Envelope) {
        self.send(Wire::Event { origin: self.node, envelope: Box::new(envelope.clone()) });
        self.local.publish(envelope);
    }

    fn state(&self) -> BusState {
        if self.stats.is_connected() { BusState::Connected } else { BusState::Degraded }
    }
}

impl Revocations for RedisBus {
    fn withdrawn(&self, company_id: CompanyId) {
        self.local.withdrawn(company_id);
        self.send(Wire::Recheck { origin: self.node, company_id });
    }
}
