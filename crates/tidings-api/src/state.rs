//! What every handler can reach: the services, behind the domain's traits.

use std::sync::Arc;

use tidings_auth::{Accounts, AppKeys, AuthSettings, Authenticator, Team};
use tidings_domain::{IdentityRepos, StoreHealth};
use tidings_messaging::{Hub, HubSettings, LocalBus, Messaging, MessagingRepos};

use crate::realtime::RealtimeSettings;

/// Shared application state, cloned into each worker.
#[derive(Clone)]
pub struct AppState {
    /// Readiness probe of the store.
    pub store_health: Arc<dyn StoreHealth>,
    /// Register, login, refresh, logout.
    pub accounts: Accounts,
    /// Credentials to callers.
    pub authenticator: Authenticator,
    /// Team management.
    pub team: Team,
    /// Apps and API keys.
    pub app_keys: AppKeys,
    /// Contacts, conversations and messages.
    pub messaging: Messaging,
    /// Live sessions of this node.
    pub hub: Arc<Hub>,
    /// Timers and limits of live connections.
    pub realtime: RealtimeSettings,
}

impl AppState {
    /// Wires every service over one store, with an in-process bus. Call within a tokio runtime: the
    /// hub's timer is started here.
    pub fn new<S>(store: S, auth: AuthSettings, realtime: RealtimeSettings) -> Self
    where
        S: IdentityRepos + MessagingRepos + StoreHealth + 'static,
    {
        let store = Arc::new(store);
        let repos: Arc<dyn IdentityRepos> = store.clone();
        let hub = Hub::new(HubSettings {
            queue_capacity: realtime.queue_capacity,
            typing_ttl: realtime.typing_ttl,
        });
        Hub::start_timers(&hub);
        let bus = Arc::new(LocalBus::new(hub.clone()));
        let app_keys = AppKeys::new(repos.clone(), &auth, bus.clone());
        Self {
            store_health: store.clone(),
            accounts: Accounts::new(repos.clone(), auth.clone()),
            authenticator: Authenticator::new(repos.clone(), &auth),
            team: Team::new(repos, &auth, bus.clone()),
            messaging: Messaging::new(store.clone(), bus).with_identity_verifier(Arc::new(app_keys.clone())),
            app_keys,
            hub,
            realtime,
        }
    }
}
