//! Tidings messaging: contacts, conversations and messages as services that know nothing of HTTP.
//!
//! Build [`Messaging`] over any store that implements the domain's repositories (for example
//! `tidings_store::Store`) and call it directly; `examples/embedded.rs` shows a whole conversation
//! without a server. The guarantees (gapless sequences, idempotent retries, forward-only status) are
//! enforced by the store, so they hold for every caller.

pub mod actor;
pub mod appointments;
pub mod attachments;
mod change;
pub mod contacts;
pub mod conversations;
pub mod download_links;
pub mod error;
pub mod feed;
pub mod forward;
pub mod input;
pub mod messages;
pub mod publish;
pub mod rate;
pub mod realtime;
pub mod repos;
pub mod retention;
pub mod sdk;
pub mod social;
pub mod thumbnails;
mod upload_kinds;
pub mod uploads;

use std::sync::Arc;

pub use actor::Actor;
pub use appointments::{
    AppointmentFilter, AppointmentUpdateInput, Appointments, Availability, AvailabilityInput,
    NewAppointmentInput,
};
pub use attachments::Attachments;
pub use contacts::Contacts;
pub use conversations::{ConversationSummary, Conversations};
pub use download_links::{DownloadLink, DownloadLinks, Linked};
pub use error::{MessagingError, MessagingResult};
pub use feed::{Changed, Feed, FeedPage};
pub use input::{
    ContactInput, ConversationPatchInput, DeviceInput, EditMessageInput, IdentifyInput, ReceiptInput,
    SendMessageInput, TrackInput,
};
pub use messages::{Messages, Receipt, ReceiptApplied, Sent};
pub use publish::{PublishInput, PublishLimits, Publisher};
pub use realtime::{Bus, Hub, HubSettings, LocalBus};
pub use repos::MessagingRepos;
pub use retention::{Retention, RetentionSettings};
pub use sdk::Sdk;
pub use social::Social;
pub use uploads::{Download, UploadInput, UploadSettings, Uploads};

/// Every messaging service over one store.
#[derive(Clone)]
pub struct Messaging {
    repos: Arc<dyn MessagingRepos>,
    /// Contacts.
    pub contacts: Contacts,
    /// Conversations.
    pub conversations: Conversations,
    /// Messages.
    pub messages: Messages,
    /// Conversations' change feeds.
    pub feed: Feed,
    /// Device-side operations.
    pub sdk: Sdk,
    /// Custom live events from the company's services.
    pub publisher: Publisher,
    /// Facebook and Instagram events, from authenticated webhooks.
    pub social: Social,
    /// Appointments.
    pub appointments: Appointments,
    /// How long messages are kept.
    pub retention: Retention,
    bus: Arc<dyn Bus>,
}

impl Messaging {
    /// Builds the services over `repos`, publishing live events on `bus` and sealing personal data
    /// with `sealer`.
    pub fn new(
        repos: Arc<dyn MessagingRepos>,
        bus: Arc<dyn Bus>,
        sealer: Arc<dyn tidings_domain::Sealer>,
    ) -> Self {
        let messages = Messages::new(repos.clone(), bus.clone());
        Self {
            repos: repos.clone(),
            contacts: Contacts::new(repos.clone()),
            conversations: Conversations::new(repos.clone(), bus.clone()),
            messages: messages.clone(),
            social: Social::new(repos.clone(), messages),
            feed: Feed::new(repos.clone()),
            sdk: Sdk::new(repos.clone()),
            appointments: Appointments::new(repos.clone(), bus.clone(), sealer),
            publisher: Publisher::new(repos.clone(), bus.clone(), PublishLimits::default()),
            retention: Retention::new(repos, tidings_domain::Audit::default()),
            bus,
        }
    }

    /// Limits custom events to `limits` per company.
    pub fn with_publish_limits(mut self, limits: PublishLimits) -> Self {
        self.publisher = Publisher::new(self.repos.clone(), self.bus.clone(), limits);
        self
    }

    /// Records `effects` (webhooks, push) in the unit of work of every change.
    pub fn with_effects(mut self, effects: tidings_domain::EffectList) -> Self {
        self.messages = self.messages.with_effects(effects.clone());
        self.conversations = self.conversations.with_effects(effects.clone());
        self.contacts = self.contacts.with_effects(effects.clone());
        self.appointments = self.appointments.with_effects(effects);
        self.social = Social::new(self.repos.clone(), self.messages.clone());
        self
    }

    /// Lets each sender send `per_15_minutes` messages per 15 minutes (0: no limit), counted across
    /// the cluster when `shared` is given.
    pub fn with_send_limit(
        mut self,
        per_15_minutes: u32,
        shared: Option<Arc<dyn tidings_domain::SharedLimiter>>,
    ) -> Self {
        self.messages = self.messages.with_send_limit(per_15_minutes, shared);
        self.social = Social::new(self.repos.clone(), self.messages.clone());
        self
    }

    /// Records deletions and retention changes in `audit`.
    pub fn with_audit(mut self, audit: tidings_domain::Audit) -> Self {
        self.messages = self.messages.with_audit(audit.clone());
        self.retention = Retention::new(self.repos.clone(), audit);
        self.social = Social::new(self.repos.clone(), self.messages.clone());
        self
    }

    /// Takes uploads as messages' attachments, and links them wherever messages leave.
    pub fn with_attachments(mut self, attachments: Attachments) -> Self {
        self.messages = self.messages.with_attachments(attachments.clone());
        self.feed = self.feed.with_attachments(attachments);
        self.social = Social::new(self.repos.clone(), self.messages.clone());
        self
    }

    /// Verifies SDK identifies with `verifier` (see [`Sdk::identify`]).
    pub fn with_identity_verifier(mut self, verifier: Arc<dyn tidings_domain::IdentityVerifier>) -> Self {
        self.sdk = self.sdk.with_verifier(verifier);
        self
    }

    /// Resolves a caller for live sessions (registering an SDK device on first contact).
    pub async fn actor(&self, caller: &tidings_domain::Caller) -> MessagingResult<Actor> {
        Actor::resolve(&*self.repos, caller).await
    }
}
