//! The Redis bus of a Tidings cluster: every node publishes its live events and credential
//! revocations to Redis and delivers the other nodes' to its own sessions, and keeps presence
//! leases there so that presence is the cluster's, and counts rate limits there so that they are the
//! cluster's too. Selected by
//! `TIDINGS_REDIS_URL`; one node needs none of it.

pub mod bus;
pub mod presence;
pub mod rate_limit;
pub mod wire;
pub mod worker;

use std::sync::Arc;

use tidings_messaging::realtime::{Hub, LocalBus, NodeId};
use tokio::sync::mpsc;

pub use bus::{BusStats, PUBLISH_QUEUE, RedisBus};
pub use presence::{DEFAULT_LEASE, PresenceKeeper, RedisPresence, cluster_presence};
pub use rate_limit::RedisLimiter;
pub use worker::{Publisher, Subscriber};

/// A node's Redis bus and the two tasks its owner runs. `local` delivers to this node's hub (its
/// dispatcher must run too). Fails only on a malformed URL: Redis may be down at start.
pub fn connect(
    url: &str,
    node: NodeId,
    hub: Arc<Hub>,
    local: Arc<LocalBus>,
) -> Result<(Arc<RedisBus>, Publisher, Subscriber), redis::RedisError> {
    let client = redis::Client::open(url)?;
    let stats = Arc::new(BusStats::default());
    let (outbox, queue) = mpsc::channel(PUBLISH_QUEUE);
    let bus = Arc::new(RedisBus::new(node, local, outbox, stats.clone()));
    let publisher = Publisher { client: client.clone(), queue, stats: stats.clone() };
    let subscriber = Subscriber { client, node, hub, stats };
    Ok((bus, publisher, subscriber))
}
