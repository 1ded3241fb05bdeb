//! Messages: stored once, ordered by a gapless per-conversation sequence, tracked
//! sent -> delivered -> read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::device::Platform;
use crate::error::RepoResult;
use crate::feed::Recorded;
use crate::ids::{CompanyId, ContactId, ConversationId, MessageId};
use crate::named_enum::named_enum;

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 5000;

/// The conflict an append inside a unit of work fails with when its `local_id` is already used
/// in the conversation: the unit cannot commit, and the original is found after it.
pub const LOCAL_ID_TAKEN: &str = "messages_local_id_key";

named_enum!(
    /// Who wrote a message.
    Sender {
        /// The contact (through an SDK or a social platform).
        Contact = "contact",
        /// An agent of the company.
        Agent = "agent",
        /// An automated responder.
        Bot = "bot",
        /// Tidings itself (assignment notes and the like).
        System = "system",
    }
);

named_enum!(
    /// Which way a message travels, seen from the company.
    Direction {
        /// From the contact to the company.
        Inbound = "inbound",
        /// From the company to the contact.
        Outbound = "outbound",
    }
);

named_enum!(
    /// Delivery state. Ordered: a status only ever moves forward (failed stands apart).
    MessageStatus {
        /// Accepted by the client, not yet by the server.
        Pending = "pending",
        /// Stored by the server.
        Sent = "sent",
        /// Reached the recipient's device.
        Delivered = "delivered",
        /// Seen by the recipient.
        Read = "read",
        /// Could not be forwarded to the platform.
        Failed = "failed",
    }
);

/// A message as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Identifier.
    pub id: MessageId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, ... with no gap.
    pub sequence: i64,
    /// The client's id for the message, which makes retries idempotent.
    pub local_id: Option<String>,
    /// Who wrote it.
    pub sender: Sender,
    /// The agent or contact who wrote it.
    pub author_id: Option<String>,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Where it was written or is delivered.
    pub platform: Platform,
    /// Text, at most 5,000 characters; empty once deleted.
    pub body: String,
    /// Attachments (JSON array).
    pub attachments: serde_json::Value,
    /// Delivery state.
    pub status: MessageStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub edited_at: Option<DateTime<Utc>>,
    /// Deletion time; deleted messages keep their place in the sequence.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// What is needed to append a message.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// The owning company.
    pub company_id: CompanyId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Client id for idempotent retries.
    pub local_id: Option<String>,
    /// Who wrote it.
    pub sender: Sender,
    /// The agent or contact who wrote it.
    pub author_id: Option<String>,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Where; `None` takes the conversation's platform.
    pub platform: Option<Platform>,
    /// Text.
    pub body: String,
    /// Attachments (JSON array).
    pub attachments: serde_json::Value,
    /// The uploads its attachments refer to, attached to it in the same unit of work; a conflict,
    /// `uploads_attached`, when one is gone or held by another message.
    pub uploads: Vec<crate::ids::UploadId>,
    /// The message leaves through the outbox: it is stored `pending` until the forward is settled.
    pub awaiting_forward: bool,
}

/// A message appended, or found again by its `local_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Appended {
    /// The stored message.
    pub message: Message,
    /// The feed position of its creation.
    pub position: i64,
    /// False when the same `local_id` was stored before: nothing new was stored.
    pub created: bool,
}

/// Where a page of messages starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageCursor {
    /// The newest messages.
    Latest,
    /// Messages with a greater sequence, oldest first.
    After(i64),
    /// Messages with a smaller sequence, newest first.
    Before(i64),
}

/// Persistence of messages.
#[async_trait]
pub trait MessageRepo: Send + Sync {
    /// Stores a message at the conversation's next sequence and records it at the next feed
    /// position, in one transaction with both increments. When the conversation already has a
    /// message with the same `local_id`, stores nothing and returns that message, not `created`;
    /// inside a unit of work it fails instead with the conflict [`LOCAL_ID_TAKEN`], which leaves
    /// the unit unable to commit. A conversation of another company is `NotFound`.
    async fn append_message(&self, new: NewMessage) -> RepoResult<Appended>;
    /// The message a client stored in a conversation under `local_id`, if any (not `created`).
    async fn find_message_by_local_id(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        local_id: &str,
    ) -> RepoResult<Option<Appended>>;
    /// Loads a message of `company_id`.
    async fn get_message(&self, company_id: CompanyId, id: MessageId) -> RepoResult<Message>;
    /// A page of a conversation's messages, in sequence order.
    async fn list_messages(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        cursor: MessageCursor,
        limit: i64,
    ) -> RepoResult<Vec<Message>>;
    /// Replaces the body of a message that is not deleted (a deleted one is a conflict), and records
    /// the change in the conversation's feed.
    async fn edit_message(
        &self,
        company_id: CompanyId,
        id: MessageId,
        body: String,
    ) -> RepoResult<Recorded<Message>>;
    /// Marks a message deleted, clears its body and attachments, lets go of its uploads (they are
    /// unattached from then on), and records the change; a message deleted before is returned as it is, with no change recorded.
    async fn delete_message(&self, company_id: CompanyId, id: MessageId) -> RepoResult<Recorded<Message>>;
    /// Moves messages of `direction` up to `up_to_sequence` forward to `status` (never backward),
    /// and records the read position when `status` is read. Returns how many messages moved; when
    /// any did, the receipt is recorded in the conversation's feed.
    async fn advance_status(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        direction: Direction,
        up_to_sequence: i64,
        status: MessageStatus,
    ) -> RepoResult<Recorded<u64>>;
    /// Settles the status of a message stored `pending` for a forward: `sent` once delivered (also
    /// from `failed`, for a forward retried by hand), `failed` once given up, recorded in the
    /// conversation's feed. A message a receipt moved on, or a deleted one, is left as it is: `None`.
    async fn settle_forward(
        &self,
        company_id: CompanyId,
        id: MessageId,
        status: MessageStatus,
    ) -> RepoResult<Recorded<Option<Message>>>;
    /// When the contact last wrote on a platform, across their conversations there.
    async fn last_inbound_at(
        &self,
        company_id: CompanyId,
        contact_id: ContactId,
        platform: Platform,
    ) -> RepoResult<Option<DateTime<Utc>>>;
    /// The greatest sequence of a conversation's messages created at or before `at`.
    async fn sequence_at(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        at: DateTime<Utc>,
    ) -> RepoResult<Option<i64>>;
    /// Messages of `company_id` matching a full-text query, best match first. PostgreSQL matches
    /// English word stems; SQLite matches tokens.
    async fn search_messages(
        &self,
        company_id: CompanyId,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> RepoResult<Vec<Message>>;
    /// Removes for good up to `limit` of the company's oldest messages created before `before`
    /// (retention), with their search entries; their uploads are left unattached for the collector.
    /// Returns how many went.
    async fn expire_messages(
        &self,
        company_id: CompanyId,
        before: DateTime<Utc>,
        limit: i64,
    ) -> RepoResult<u64>;
}
