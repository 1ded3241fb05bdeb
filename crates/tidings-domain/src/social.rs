//! What social platforms tell us about a conversation, once a webhook has been authenticated and
//! read: a contact wrote, or our messages reached or were seen by them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::device::Platform;
use crate::error::RepoResult;
use crate::ids::CompanyId;

/// One authenticated event of a social platform.
#[derive(Clone, Debug, PartialEq)]
pub struct SocialEvent {
    /// The company whose page or account it concerns.
    pub company_id: CompanyId,
    /// Facebook or Instagram.
    pub platform: Platform,
    /// The contact's id on the platform (page-scoped or Instagram-scoped).
    pub social_id: String,
    /// What happened.
    pub kind: SocialEventKind,
}

/// What a social platform reported.
#[derive(Clone, Debug, PartialEq)]
pub enum SocialEventKind {
    /// The contact sent a message.
    Message {
        /// The platform's message id: a message redelivered with the same id is stored once.
        mid: String,
        /// Its text (may be empty when it carries only attachments).
        text: String,
        /// Its attachments, as the platform describes them (JSON array).
        attachments: serde_json::Value,
    },
    /// Our messages sent up to this time reached the contact.
    Delivered {
        /// Every outbound message created at or before it is delivered.
        watermark: DateTime<Utc>,
    },
    /// The contact saw our messages sent up to this time.
    Read {
        /// Every outbound message created at or before it is read.
        watermark: DateTime<Utc>,
    },
}

/// Takes authenticated social events into conversations.
#[async_trait]
pub trait SocialInbox: Send + Sync {
    /// Applies the events in order; a redelivered message changes nothing.
    async fn receive(&self, events: Vec<SocialEvent>) -> RepoResult<()>;
}
