//! Readiness of the store, as seen by `GET /health/ready`.

use async_trait::async_trait;

use crate::error::RepoResult;

/// How a store's connection pool is used right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Most connections it may open.
    pub max_size: usize,
    /// Connections open.
    pub open: usize,
    /// Open connections nobody uses.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// A store that can prove it answers queries.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Runs a trivial query against the store.
    async fn ping(&self) -> RepoResult<()>;

    /// Its pool's use; `None` for a store without one (a unit of work).
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }
}
