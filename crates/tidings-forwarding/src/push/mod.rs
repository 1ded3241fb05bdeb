//! Push notifications through Firebase Cloud Messaging (HTTP v1): a contact who gets a message from
//! the company while none of their devices is connected anywhere is told on those devices.
//!
//! The [`PushNotifications`] effect enqueues one item per conversation and collapse window, due at
//! the window's end, so a burst of messages makes one notification. At delivery the [`FcmChannel`]
//! skips contacts who came online meanwhile, then sends the newest message of the company to each
//! of the contact's push tokens, with an OAuth2 access token of the [`ServiceAccount`].

mod account;
mod answer;
mod channel;
mod effect;
mod notification;
mod token;

use async_trait::async_trait;
use tidings_domain::{CompanyId, CompanyRepo, ContactId, DeviceRepo, MessageRepo};

pub use account::{ServiceAccount, ServiceAccountError};
pub use channel::FcmChannel;
pub use effect::PushNotifications;
pub use notification::Notification;
pub use token::AccessTokens;

/// FCM's public endpoint, the default base URL of [`FcmChannel`].
pub const FCM_BASE_URL: &str = "https://fcm.googleapis.com";

/// Whether a contact has a live connection anywhere in the cluster. Implemented over the realtime
/// hub's presence by the API crate (the forwarding crate does not depend on messaging).
#[async_trait]
pub trait ContactOnline: Send + Sync {
    /// True while any device of the contact has a connection open on any node.
    async fn is_online(&self, company_id: CompanyId, contact_id: ContactId) -> bool;
}

/// What the push channel reads and writes: the contact's devices, the conversation's messages, the
/// company's name.
pub trait PushRepos: DeviceRepo + MessageRepo + CompanyRepo {}

impl<T: DeviceRepo + MessageRepo + CompanyRepo> PushRepos for T {}

#[cfg(any(test, feature = "test-util"))]
pub mod test_account;
