//! What every handler can reach: the services, behind the domain's traits.

use std::sync::Arc;

use tidings_domain::StoreHealth;

/// Shared application state, cloned into each worker.
#[derive(Clone)]
pub struct AppState {
    /// Readiness probe of the store.
    pub store_health: Arc<dyn StoreHealth>,
}
