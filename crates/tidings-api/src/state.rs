//! What every handler can reach: the services, behind the domain's traits.

use std::sync::Arc;

use tidings_auth::{Accounts, AppKeys, AuthSettings, Authenticator, PasswordResets, Team};
use tidings_domain::Message;
use tidings_domain::{AccountMail, IdentityRepos, IntegrationRepo, OutboxRepo, Revocations, StoreHealth};
use tidings_forwarding::{AccountMailer, ForwardListener, Integrations, MetaWebhooks, OutboxAdmin};
use tidings_messaging::{Bus, Hub, LocalBus, Messages, Messaging, MessagingRepos};

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
    /// Password reset links.
    pub password_resets: PasswordResets,
    /// Team management (with invitations).
    pub team: Team,
    /// Apps and API keys.
    pub app_keys: AppKeys,
    /// Contacts, conversations and messages.
    pub messaging: Messaging,
    /// Live sessions of this node.
    pub hub: Arc<Hub>,
    /// Timers and limits of live connections.
    pub realtime: RealtimeSettings,
    /// The bus to the other nodes, for readiness.
    pub bus: Arc<dyn Bus>,
    /// The outbox, for its admins and for readiness.
    pub outbox: OutboxAdmin,
    /// Companies' integrations (Meta).
    pub integrations: Integrations,
    /// Meta's webhooks.
    pub meta_webhooks: MetaWebhooks,
}

impl AppState {
    /// Everything over one store, on one node: a hub whose timer and an in-process bus whose
    /// dispatcher run on the current tokio runtime for as long as they live. For tests and
    /// embedding; the server wires its own parts with [`AppState::build`] and owns their tasks.
    pub fn new<S>(store: S, auth: AuthSettings, realtime: RealtimeSettings) -> Self
    where
        S: IdentityRepos + MessagingRepos + OutboxRepo + IntegrationRepo + StoreHealth + 'static,
    {
        let hub = Hub::new(realtime.hub_settings());
        Hub::start_timers(&hub);
        let bus = LocalBus::spawned(hub.clone());
        Self::build(Arc::new(store), auth, realtime, hub, bus.clone(), bus)
    }

    /// Builds every service over `store`, publishing live events on `bus` for `hub`, and telling
    /// `revocations` when credentials are withdrawn.
    pub fn build<S>(
        store: Arc<S>,
        auth: AuthSettings,
        realtime: RealtimeSettings,
        hub: Arc<Hub>,
        bus: Arc<dyn Bus>,
        revocations: Arc<dyn Revocations>,
    ) -> Self
    where
        S: IdentityRepos + MessagingRepos + OutboxRepo + IntegrationRepo + StoreHealth + 'static,
    {
        let repos: Arc<dyn IdentityRepos> = store.clone();
        // Account e-mails are sealed with the key the e-mail channel opens them with.
        let mail: Arc<dyn AccountMail> = Arc::new(AccountMailer::new(auth.cipher()));
        let password_resets = PasswordResets::new(repos.clone(), &auth, mail);
        let app_keys = AppKeys::new(repos.clone(), &auth, revocations.clone());
        let integrations = Integrations::new(store.clone(), auth.cipher());
        let messaging = Messaging::new(store.clone(), bus.clone())
            .with_identity_verifier(Arc::new(app_keys.clone()))
            .with_publish_limits(realtime.publish);
        Self {
            meta_webhooks: MetaWebhooks::new(integrations.clone(), Arc::new(messaging.social.clone())),
            integrations,
            store_health: store.clone(),
            outbox: OutboxAdmin::new(store.clone()),
            accounts: Accounts::new(repos.clone(), auth.clone()),
            authenticator: Authenticator::new(repos.clone(), &auth),
            team: Team::new(repos, &auth, revocations, password_resets.clone()),
            password_resets,
            messaging,
            app_keys,
            hub,
            realtime,
            bus,
        }
    }
}

impl AppState {
    /// What outbox workers tell when a settled forward changed its message: published to the
    /// conversation's live clients like any other change.
    pub fn forward_listener(&self) -> Arc<dyn ForwardListener> {
        Arc::new(PublishSettled(self.messaging.messages.clone()))
    }
}

/// Publishes the status a settled forward gave its message.
struct PublishSettled(Messages);

impl ForwardListener for PublishSettled {
    fn message_settled(&self, message: &Message, position: i64) {
        self.0.publish_settled(message, position);
    }
}
