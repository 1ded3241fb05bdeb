//! Readiness of the store, as seen by `GET /health/ready`.

use async_trait::async_trait;

use crate::error::RepoResult;

/// A store that can prove it answers queries.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Runs a trivial query against the store.
    async fn ping(&self) -> RepoResult<()>;
}
