//! The change feed: every change to a conversation has a position in one ordered, gapless feed per
//! conversation, written in the transaction that makes the change. Clients that were away replay it
//! from their last position; inboxes that were away ask which conversations changed since a cursor.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::conversation::Conversation;
use crate::error::RepoResult;
use crate::ids::{CompanyId, ConversationId};
use crate::message::{Direction, Message, MessageStatus};
use crate::named_enum::named_enum;

named_enum!(
    /// What kind of change a feed position records; named as the live event that announces it.
    ChangeKind {
        /// A message was stored.
        MessageNew = "message.new",
        /// A message was edited or deleted.
        MessageUpdated = "message.updated",
        /// Messages moved to a new delivery status (a receipt).
        MessageStatus = "message.status",
        /// The conversation's status, assignee or contact changed.
        ConversationUpdated = "conversation.updated",
    }
);

/// A write that may have recorded a change: what it returns, and the feed position of the change.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded<T> {
    /// What the write returns.
    pub value: T,
    /// The change's position in the conversation's feed; `None` when the write changed nothing.
    pub position: Option<i64>,
}

/// One change of a conversation's feed, as a replay sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedEntry {
    /// Its position: 1, 2, 3, ... with no gap.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// What changed.
    pub change: FeedChange,
}

/// What a feed entry says. Messages are read as they are now: a replay never revives the text of a
/// message deleted since.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedChange {
    /// A message was stored (shown as it is now).
    MessageNew(Message),
    /// A message was edited or deleted (shown as it is now).
    MessageUpdated(Message),
    /// A receipt: every message of `direction` up to `up_to_sequence` has at least `status`.
    MessageStatus {
        /// Whose messages.
        direction: Direction,
        /// The status they reached.
        status: MessageStatus,
        /// Up to which sequence.
        up_to_sequence: i64,
    },
    /// The conversation changed (replays show it as it is now).
    ConversationUpdated,
}

/// Where an inbox catch-up starts: after this change time and conversation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeCursor {
    /// A change time, by the store's clock.
    pub changed_at: DateTime<Utc>,
    /// The conversation that changed at that time, if the cursor stops at one (ties on time are
    /// ordered by id).
    pub id: Option<ConversationId>,
}

/// A page of changed conversations.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangedPage {
    /// Conversations whose last change is after the cursor, oldest change first.
    pub conversations: Vec<Conversation>,
    /// The store's clock when the page was read.
    pub clock: DateTime<Utc>,
}

/// Reading conversations' feeds. Writing them is part of every write that changes a conversation.
#[async_trait]
pub trait FeedRepo: Send + Sync {
    /// The changes of a conversation of `company_id` after `after`, oldest first, at most `limit`.
    async fn feed_after(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        after: i64,
        limit: i64,
    ) -> RepoResult<Vec<FeedEntry>>;
    /// The position of the newest message whose sequence is at most `sequence` (0 when there is
    /// none): a client that has the messages up to `sequence` has every message up to it.
    async fn position_of_sequence(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        sequence: i64,
    ) -> RepoResult<i64>;
    /// Conversations of `company_id` whose last change is after `after` (all of them when `None`),
    /// oldest change first, at most `limit`.
    async fn changed_conversations(
        &self,
        company_id: CompanyId,
        after: Option<ChangeCursor>,
        limit: i64,
    ) -> RepoResult<ChangedPage>;
    /// The store's clock, which change times are read from.
    async fn feed_clock(&self) -> RepoResult<DateTime<Utc>>;
}
