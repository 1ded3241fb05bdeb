//! What every handler can reach: the services, behind the domain's traits.

use std::sync::Arc;

use async_trait::async_trait;
use tidings_auth::{
    Accounts, AppKeys, AuditLog, AuthSettings, Authenticator, Forgetting, PasswordResets, Team,
};
use tidings_domain::{
    AccountMail, Audit, AuditRepo, CompanyId, ContactId, EffectList, IdentityRepos, IntegrationRepo, Message,
    OutboxRepo, Revocations, StoreHealth, WebhookRepo,
};
use tidings_forwarding::{
    AccountMailer, AppointmentMail, CalendarSync, Calendars, ContactOnline, ForwardListener, Integrations,
    MetaWebhooks, OutboxAdmin, WebhookRepos, Webhooks,
};
use tidings_messaging::realtime::Participant;
use tidings_messaging::{Bus, Hub, LocalBus, Messages, Messaging, MessagingRepos, UploadSettings, Uploads};

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
    /// Contacts, conversations and messages; shared, since every live session holds it.
    pub messaging: Arc<Messaging>,
    /// Live sessions of this node.
    pub hub: Arc<Hub>,
    /// Timers and limits of live connections.
    pub realtime: RealtimeSettings,
    /// Live connections open on this node, against `realtime.max_connections`.
    pub live_connections: Arc<crate::metrics::LiveConnections>,
    /// CORS, security headers and the request deadline.
    pub http: crate::hardening::HttpSettings,
    /// Requests per client address (none unless configured).
    pub rate_limits: crate::rate_limit::RateLimits,
    /// The bus to the other nodes, for readiness.
    pub bus: Arc<dyn Bus>,
    /// The outbox, for its admins and for readiness.
    pub outbox: OutboxAdmin,
    /// Companies' integrations (Meta).
    pub integrations: Integrations,
    /// Companies' Google Calendar connections.
    pub calendars: Calendars,
    /// The companies' audit logs.
    pub audit_log: AuditLog,
    /// Files agents and customers send.
    pub uploads: Uploads,
    upload_repos: Arc<dyn MessagingRepos>,
    /// Meta's webhooks.
    pub meta_webhooks: MetaWebhooks,
    /// The company's outbound webhook endpoints.
    pub webhooks: Webhooks,
    webhook_repos: Arc<dyn WebhookRepos>,
    notice_repos: Arc<dyn tidings_forwarding::NoticeRepos>,
    cipher: tidings_auth::Cipher,
    effects: EffectList,
}

impl AppState {
    /// Everything over one store, on one node: a hub whose timer and an in-process bus whose
    /// dispatcher run on the current tokio runtime for as long as they live. For tests and
    /// embedding; the server wires its own parts with [`AppState::build`] and owns their tasks.
    pub fn new<S>(store: S, auth: AuthSettings, realtime: RealtimeSettings) -> Self
    where
        S: IdentityRepos
            + MessagingRepos
            + OutboxRepo
            + IntegrationRepo
            + WebhookRepo
            + AuditRepo
            + StoreHealth
            + 'static,
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
        S: IdentityRepos
            + MessagingRepos
            + OutboxRepo
            + IntegrationRepo
            + WebhookRepo
            + AuditRepo
            + StoreHealth
            + 'static,
    {
        let repos: Arc<dyn IdentityRepos> = store.clone();
        let authenticator = Authenticator::new(repos.clone(), &auth);
        // Withdrawn credentials are forgotten by the authenticator before live sessions hear of them.
        let revocations: Arc<dyn Revocations> =
            Arc::new(Forgetting::new(authenticator.recent_users(), revocations));
        let audit = Audit::new(store.clone(), Arc::new(auth.cipher()));
        // Account e-mails are sealed with the key the e-mail channel opens them with.
        let mail: Arc<dyn AccountMail> = Arc::new(AccountMailer::new(auth.cipher()));
        let password_resets = PasswordResets::new(repos.clone(), &auth, mail).with_audit(audit.clone());
        let app_keys = AppKeys::new(repos.clone(), &auth, revocations.clone()).with_audit(audit.clone());
        let integrations = Integrations::new(store.clone(), auth.cipher()).with_audit(audit.clone());
        let webhooks = Webhooks::new(store.clone(), auth.cipher(), false).with_audit(audit.clone());
        let effects = EffectList(vec![
            Arc::new(webhooks.events()),
            Arc::new(AppointmentMail::new(auth.cipher())),
            Arc::new(CalendarSync),
        ]);
        let uploads = Uploads::new(
            store.clone(),
            default_blobs(),
            Arc::new(auth.cipher()),
            UploadSettings { public_url: auth.public_url.clone(), ..UploadSettings::default() },
        );
        let messaging = Messaging::new(store.clone(), bus.clone(), Arc::new(auth.cipher()))
            .with_identity_verifier(Arc::new(app_keys.clone()))
            .with_publish_limits(realtime.publish)
            .with_effects(effects.clone())
            .with_attachments(uploads.attachments())
            .with_audit(audit.clone());
        let cipher = auth.cipher();
        Self {
            effects,
            webhooks,
            webhook_repos: store.clone(),
            notice_repos: store.clone(),
            cipher,
            meta_webhooks: MetaWebhooks::new(integrations.clone(), Arc::new(messaging.social.clone())),
            integrations,
            calendars: Calendars::new(store.clone(), auth.cipher()).with_audit(audit.clone()),
            uploads,
            upload_repos: store.clone(),
            store_health: store.clone(),
            outbox: OutboxAdmin::new(store.clone()).with_audit(audit.clone()),
            audit_log: AuditLog::new(store.clone(), audit.clone()),
            accounts: Accounts::new(repos.clone(), auth.clone()).with_audit(audit.clone()),
            authenticator,
            team: Team::new(repos, &auth, revocations, password_resets.clone()).with_audit(audit.clone()),
            password_resets,
            messaging: Arc::new(messaging),
            app_keys,
            hub,
            realtime,
            live_connections: Arc::default(),
            http: crate::hardening::HttpSettings::default(),
            rate_limits: crate::rate_limit::RateLimits::new(
                &crate::rate_limit::RateLimitSettings::default(),
                None,
            ),
            bus,
        }
    }
}

/// Where uploads go unless told otherwise: a directory of this process under the system's temporary
/// directory (tests and embedding; the server always says where, see [`AppState::with_uploads`]).
fn default_blobs() -> Arc<dyn tidings_domain::BlobStore> {
    let dir = std::env::temp_dir().join(format!("tidings-uploads-{}", std::process::id()));
    match tidings_blobs::Blobs::local(&dir) {
        Ok(blobs) => Arc::new(blobs),
        Err(error) => Arc::new(Unwritable(error.to_string())),
    }
}

/// A blob store that refuses everything, with the reason the real one could not be opened.
struct Unwritable(String);

#[async_trait]
impl tidings_domain::BlobStore for Unwritable {
    async fn writer(
        &self,
        _: &str,
    ) -> Result<Box<dyn tidings_domain::BlobWriter>, tidings_domain::BlobError> {
        Err(tidings_domain::BlobError::Failed(self.0.clone()))
    }

    async fn put(&self, _: &str, _: bytes::Bytes) -> Result<(), tidings_domain::BlobError> {
        Err(tidings_domain::BlobError::Failed(self.0.clone()))
    }

    async fn read(
        &self,
        _: &str,
        _: Option<std::ops::Range<u64>>,
    ) -> Result<tidings_domain::ByteStream, tidings_domain::BlobError> {
        Err(tidings_domain::BlobError::Failed(self.0.clone()))
    }

    async fn delete(&self, _: &str) -> Result<(), tidings_domain::BlobError> {
        Err(tidings_domain::BlobError::Failed(self.0.clone()))
    }
}

impl AppState {
    /// Stores uploads in `blobs`, with `settings`' limits and links.
    pub fn with_uploads(
        mut self,
        blobs: Arc<dyn tidings_domain::BlobStore>,
        settings: UploadSettings,
        signer: Arc<dyn tidings_domain::Signer>,
    ) -> Self {
        self.uploads = Uploads::new(self.upload_repos.clone(), blobs, signer, settings);
        self.messaging = Arc::new((*self.messaging).clone().with_attachments(self.uploads.attachments()));
        self.meta_webhooks =
            MetaWebhooks::new(self.integrations.clone(), Arc::new(self.messaging.social.clone()));
        self
    }

    /// Answers browsers and slow requests as `settings` say.
    pub fn with_http(mut self, settings: crate::hardening::HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Limits requests per client address and messages per sender as `settings` say, counted in
    /// this process, or across the cluster through `shared`.
    pub fn with_rate_limits(
        mut self,
        settings: &crate::rate_limit::RateLimitSettings,
        shared: Option<Arc<dyn tidings_domain::SharedLimiter>>,
    ) -> Self {
        self.rate_limits = crate::rate_limit::RateLimits::new(settings, shared.clone());
        self.messaging =
            Arc::new((*self.messaging).clone().with_send_limit(settings.sends_per_15_minutes, shared));
        self.meta_webhooks =
            MetaWebhooks::new(self.integrations.clone(), Arc::new(self.messaging.social.clone()));
        self
    }

    /// Accepts `http://` webhook endpoints on this machine (development and tests only).
    pub fn allow_loopback_webhooks(mut self, allow: bool) -> Self {
        self.webhooks = self.webhooks.clone().allowing_loopback(allow);
        self
    }

    /// The channel that posts webhook deliveries, for outbox workers.
    pub fn webhook_channel(
        &self,
        allow_loopback: bool,
    ) -> Result<tidings_forwarding::WebhookChannel, Box<dyn std::error::Error + Send + Sync>> {
        let notice = tidings_forwarding::OwnersByEmail::new(self.notice_repos.clone(), self.cipher.clone());
        let channel = tidings_forwarding::WebhookChannel::new(
            self.webhook_repos.clone(),
            self.cipher.clone(),
            allow_loopback,
        )?;
        Ok(channel.with_notice(Arc::new(notice)).with_links(self.uploads.attachments().links()))
    }

    /// The effects every change records (webhooks, appointment e-mails), for outbox workers that
    /// change messages.
    pub fn effects(&self) -> EffectList {
        self.effects.clone()
    }

    /// Adds `effects` (push notifications) to those every change records in its unit of work (the
    /// webhooks), Meta's inbound messages included.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects.0.extend(effects.0);
        self.messaging = Arc::new((*self.messaging).clone().with_effects(self.effects.clone()));
        self.meta_webhooks =
            MetaWebhooks::new(self.integrations.clone(), Arc::new(self.messaging.social.clone()));
        self
    }

    /// What outbox workers tell when a settled forward changed its message: published to the
    /// conversation's live clients like any other change.
    pub fn forward_listener(&self) -> Arc<dyn ForwardListener> {
        Arc::new(PublishSettled(self.messaging.messages.clone()))
    }

    /// Whether a contact is connected anywhere, for the push channel: the hub's presence, which
    /// spans the cluster when it is shared through Redis.
    pub fn contact_online(&self) -> Arc<dyn ContactOnline> {
        Arc::new(HubPresence(self.hub.clone()))
    }
}

/// A contact's presence, as the hub counts it.
struct HubPresence(Arc<Hub>);

#[async_trait]
impl ContactOnline for HubPresence {
    async fn is_online(&self, company_id: CompanyId, contact_id: ContactId) -> bool {
        self.0.presence().is_online(company_id, Participant::Contact(contact_id)).await
    }
}

/// Publishes the status a settled forward gave its message.
struct PublishSettled(Messages);

impl ForwardListener for PublishSettled {
    fn message_settled(&self, message: &Message, position: i64) {
        self.0.publish_settled(message, position);
    }
}
