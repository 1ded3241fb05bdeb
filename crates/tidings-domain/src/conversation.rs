//! Conversations: one thread between a company and a contact, with a gapless message sequence.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::device::Platform;
use crate::error::RepoResult;
use crate::feed::Recorded;
use crate::ids::{AppId, CompanyId, ContactId, ConversationId, UserId};
use crate::message::Message;
use crate::named_enum::named_enum;

named_enum!(
    /// Where a conversation stands.
    ConversationStatus {
        /// Waiting for an agent.
        Open = "open",
        /// Waiting for the contact.
        Pending = "pending",
        /// Done; a new message from the contact starts a new conversation.
        Resolved = "resolved",
    }
);

/// A conversation as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Identifier.
    pub id: ConversationId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The contact on the other side.
    pub contact_id: ContactId,
    /// The SDK app it started from, if any.
    pub app_id: Option<AppId>,
    /// Where it takes place.
    pub platform: Platform,
    /// Open, pending or resolved.
    pub status: ConversationStatus,
    /// The agent in charge.
    pub assignee_id: Option<UserId>,
    /// Sequence of the newest message (0 before the first).
    pub last_sequence: i64,
    /// Time of the newest message.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Highest inbound sequence agents have read.
    pub agent_read_sequence: i64,
    /// Highest outbound sequence the contact has read.
    pub contact_read_sequence: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of status, assignee or messages; lists sort on it.
    pub updated_at: DateTime<Utc>,
    /// Position of the newest change in the conversation's feed (0 before the first).
    pub last_position: i64,
    /// Time of the newest change of any kind (receipts and edits included), by the store's clock.
    pub changed_at: DateTime<Utc>,
}

/// Filters and page of `GET /v1/conversations`.
#[derive(Clone, Debug, Default)]
pub struct ConversationQuery {
    /// Only this status.
    pub status: Option<ConversationStatus>,
    /// Only conversations assigned to this agent.
    pub assignee_id: Option<UserId>,
    /// Only unassigned conversations (ignored when `assignee_id` is set).
    pub unassigned: bool,
    /// Only this contact's.
    pub contact_id: Option<ContactId>,
    /// Only this platform.
    pub platform: Option<Platform>,
    /// Only conversations after this position in the list (newest activity first).
    pub after: Option<(DateTime<Utc>, ConversationId)>,
    /// Page size.
    pub limit: i64,
}

/// A change to a conversation; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ConversationPatch {
    /// New status.
    pub status: Option<ConversationStatus>,
    /// New assignee; `Some(None)` unassigns.
    pub assignee_id: Option<Option<UserId>>,
}

/// Persistence of conversations.
#[async_trait]
pub trait ConversationRepo: Send + Sync {
    /// The contact's unresolved conversation on `app_id`, created when there is none. At most one
    /// exists at a time, even under concurrent calls.
    async fn open_conversation(
        &self,
        company_id: CompanyId,
        contact_id: ContactId,
        app_id: Option<AppId>,
        platform: Platform,
    ) -> RepoResult<Conversation>;
    /// Loads a conversation of `company_id`.
    async fn get_conversation(&self, company_id: CompanyId, id: ConversationId) -> RepoResult<Conversation>;
    /// Lists conversations of `company_id`, newest activity first.
    async fn list_conversations(
        &self,
        company_id: CompanyId,
        query: ConversationQuery,
    ) -> RepoResult<Vec<Conversation>>;
    /// Applies a change to a conversation of `company_id`, recorded in its feed when it changes
    /// anything.
    async fn update_conversation(
        &self,
        company_id: CompanyId,
        id: ConversationId,
        patch: ConversationPatch,
    ) -> RepoResult<Recorded<Conversation>>;
    /// Inbound messages agents have not read, per conversation, for the given conversations.
    async fn unread_counts(
        &self,
        company_id: CompanyId,
        ids: &[ConversationId],
    ) -> RepoResult<Vec<(ConversationId, i64)>>;
    /// The newest message of each of the given conversations of `company_id` that has one (deleted
    /// or not), in no particular order.
    async fn last_messages(&self, company_id: CompanyId, ids: &[ConversationId]) -> RepoResult<Vec<Message>>;
}
