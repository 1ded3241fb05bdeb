//! Memory: the server's resident memory idle and with many idle authenticated connections, each
//! door on a server of its own (memory freed by one door's connections would be reused by the
//! next door's without showing in the RSS).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use crate::client::{Door, Tenant};
use crate::server::{ServerOptions, ServerProcess};

/// One memory measurement.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryResult {
    /// The door the connections used.
    pub door: Door,
    /// Server RSS before the connections, KiB.
    pub idle_rss_kib: u64,
    /// Connections opened and held.
    pub connections: usize,
    /// Server RSS with them open, KiB.
    pub loaded_rss_kib: u64,
    /// Extra KiB per connection.
    pub kib_per_connection: f64,
}

/// Starts a server, opens `connections` idle agent connections through `door` and measures it.
pub async fn run(
    options: &ServerOptions,
    database_url: &str,
    data_dir: &std::path::Path,
    door: Door,
    connections: usize,
) -> MemoryResult {
    let server = ServerProcess::start(options, database_url, data_dir, &[]);
    let tenant = Arc::new(Tenant::create(&server.base, 0).await);
    // Connections authenticate 64 at a time: what that grows once is not a cost per connection.
    tenant.warm_up(256, 64).await;
    let idle = settled_rss(&server).await;
    let (stop, stopped) = watch::channel(false);
    let listeners = crate::fanout::connect(&tenant, door, connections, None, &stopped).await;
    let loaded = settled_rss(&server).await;
    let held = listeners.iter().filter(|l| !l.is_finished()).count();
    let _ = stop.send(true);
    for listener in listeners {
        let _ = listener.await;
    }
    server.stop();
    MemoryResult {
        door,
        idle_rss_kib: idle,
        connections: held,
        loaded_rss_kib: loaded,
        kib_per_connection: loaded.saturating_sub(idle) as f64 / held.max(1) as f64,
    }
}

/// The server's RSS once it stops growing: two readings 250 ms apart within 64 KiB of each
/// other, or whatever it is after five seconds.
async fn settled_rss(server: &ServerProcess) -> u64 {
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut last = server.rss_kib();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = server.rss_kib();
        if now.abs_diff(last) <= 64 || Instant::now() >= give_up {
            return now;
        }
        last = now;
    }
}
