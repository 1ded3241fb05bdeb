//! Tidings messaging: contacts, conversations and messages as services that know nothing of HTTP.
//!
//! Build [`Messaging`] over any store that implements the domain's repositories (for example
//! `tidings_store::Store`) and call it directly; `examples/embedded.rs` shows a whole conversation
//! without a server. The guarantees (gapless sequences, idempotent retries, forward-only status) are
//! enforced by the store, so they hold for every caller.

pub mod actor;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod input;
pub mod messages;
pub mod repos;
pub mod sdk;

use std::sync::Arc;

pub use actor::Actor;
pub use contacts::Contacts;
pub use conversations::{ConversationSummary, Conversations};
pub use error::{MessagingError, MessagingResult};
pub use input::{
    ContactInput, ConversationPatchInput, DeviceInput, EditMessageInput, IdentifyInput, ReceiptInput,
    SendMessageInput, TrackInput,
};
pub use messages::{Messages, Receipt, Sent};
pub use repos::MessagingRepos;
pub use sdk::Sdk;

/// Every messaging service over one store.
#[derive(Clone)]
pub struct Messaging {
    /// Contacts.
    pub contacts: Contacts,
    /// Conversations.
    pub conversations: Conversations,
    /// Messages.
    pub messages: Messages,
    /// Device-side operations.
    pub sdk: Sdk,
}

impl Messaging {
    /// Builds the services over `repos`.
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self {
            contacts: Contacts::new(repos.clone()),
            conversations: Conversations::new(repos.clone()),
            messages: Messages::new(repos.clone()),
            sdk: Sdk::new(repos),
        }
    }
}
