//! Memory: the server's resident memory idle and with many idle connections.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::client::Tenant;
use crate::server::ServerProcess;

/// One memory measurement.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryResult {
    /// Server RSS before the connections, KiB.
    pub idle_rss_kib: u64,
    /// Connections opened and held.
    pub connections: usize,
    /// Server RSS with them open, KiB.
    pub loaded_rss_kib: u64,
    /// Extra KiB per connection.
    pub kib_per_connection: f64,
}

/// Opens `connections` idle agent sockets and measures the server.
pub async fn run(server: &ServerProcess, tenant: &Arc<Tenant>, connections: usize) -> MemoryResult {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = server.rss_kib();
    let sockets = crate::fanout::connect(tenant, connections).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = server.rss_kib();
    let held = sockets.len();
    drop(sockets);
    MemoryResult {
        idle_rss_kib: idle,
        connections: held,
        loaded_rss_kib: loaded,
        kib_per_connection: loaded.saturating_sub(idle) as f64 / held.max(1) as f64,
    }
}
