//! Conversations, messages and receipts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::{
    AppId, CompanyId, ContactId, Conversation, ConversationId, ConversationStatus, Direction, Message,
    MessageId, MessageStatus, Platform, Sender, UserId,
};
use tidings_messaging::realtime::ServerEvent;
use tidings_messaging::{Changed, ConversationSummary, ReceiptApplied};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::paging;

/// A conversation; agents' listings, lookups and catch-ups add `unread_count` and `last_message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
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
    /// `open`, `pending` or `resolved`.
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
    /// Position of the newest change in the conversation's feed (`GET .../events?after=`).
    pub last_position: i64,
    /// Time of the newest change of any kind, receipts and edits included.
    pub changed_at: DateTime<Utc>,
    /// Inbound messages no agent has read; absent for SDK callers and in answers to changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    /// The newest message, as an inbox list previews it; absent for SDK callers and before the
    /// first message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessageView>,
}

/// The most an inbox list shows of a message.
const PREVIEW_CHARS: usize = 140;

/// The start of a conversation's newest message.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastMessageView {
    /// Its place in the conversation's sequence.
    pub sequence: i64,
    /// `inbound` (from the contact) or `outbound`.
    pub direction: Direction,
    /// The first 140 characters of its text (empty once deleted).
    pub body: String,
    /// How many files it carries.
    pub attachments: usize,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it was deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<Message> for LastMessageView {
    fn from(m: Message) -> Self {
        let deleted = m.deleted_at.is_some();
        Self {
            sequence: m.sequence,
            direction: m.direction,
            body: if deleted { String::new() } else { m.body.chars().take(PREVIEW_CHARS).collect() },
            attachments: if deleted { 0 } else { m.attachments.as_array().map_or(0, Vec::len) },
            created_at: m.created_at,
            deleted_at: m.deleted_at,
        }
    }
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            contact_id: c.contact_id,
            app_id: c.app_id,
            platform: c.platform,
            status: c.status,
            assignee_id: c.assignee_id,
            last_sequence: c.last_sequence,
            last_message_at: c.last_message_at,
            agent_read_sequence: c.agent_read_sequence,
            contact_read_sequence: c.contact_read_sequence,
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_position: c.last_position,
            changed_at: c.changed_at,
            unread_count: None,
            last_message: None,
        }
    }
}

impl From<ConversationSummary> for ConversationView {
    fn from(s: ConversationSummary) -> Self {
        Self {
            unread_count: s.unread_count,
            last_message: s.last_message.map(Into::into),
            ..Self::from(s.conversation)
        }
    }
}

/// The inbox list: a page, and on the first page the cursor an inbox catches up from later.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationListView {
    /// The conversations of this page.
    pub data: Vec<ConversationView>,
    /// The cursor of the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// On the first page: pass it as `?changed_after=` later to get what changed since this list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_cursor: Option<String>,
}

/// The schema of `GET /v1/conversations`' answer: a page of the inbox, or, with `?changed_after=`, the
/// conversations changed since the cursor. Both have `data` and `next_cursor`, so the schema is
/// `anyOf`: a catch-up also fits the shape of a page.
pub struct ConversationList;

impl utoipa::PartialSchema for ConversationList {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(ConversationListView::name()))
            .item(Ref::from_schema_name(ChangedView::name()))
            .into()
    }
}

impl ToSchema for ConversationList {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ConversationListView::name().into(), ConversationListView::schema()));
        schemas.push((ChangedView::name().into(), ChangedView::schema()));
        <ConversationListView as ToSchema>::schemas(schemas);
        <ChangedView as ToSchema>::schemas(schemas);
    }
}

/// The conversations that changed since a cursor (`?changed_after=`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedView {
    /// The conversations, oldest change first, as they are now.
    pub data: Vec<ConversationView>,
    /// Where the next catch-up starts; always present.
    pub next_cursor: String,
    /// True when more changed conversations wait: ask again at once with `next_cursor`.
    pub has_more: bool,
}

impl ChangedView {
    /// The view of a catch-up.
    pub fn of(changed: Changed) -> Self {
        Self {
            data: changed.conversations.into_iter().map(ConversationView::from).collect(),
            next_cursor: paging::change_cursor(changed.next),
            has_more: changed.has_more,
        }
    }
}

/// A page of a conversation's change feed (`GET /v1/conversations/{id}/events`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    /// The changes, oldest first, each shaped as the live event with its `position`.
    #[schema(value_type = Vec<FeedEvent>)]
    pub data: Vec<ServerEvent>,
    /// The conversation's newest position when the page was read.
    pub last_position: i64,
    /// True when more changes wait: ask again with `after` set to the last position of this page.
    pub has_more: bool,
}

/// One change of a conversation's feed, shaped as the live event that announced it (the schema of
/// the feed's [`ServerEvent`]s; messages and the conversation as they are now).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type")]
pub enum FeedEvent {
    /// A message was stored.
    #[serde(rename = "message.new")]
    MessageNew {
        /// Its conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Its sequence.
        sequence: i64,
        /// The message.
        message: MessageView,
    },
    /// A message was edited or deleted.
    #[serde(rename = "message.updated")]
    MessageUpdated {
        /// Its conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Its sequence.
        sequence: i64,
        /// The message as it is now.
        message: MessageView,
    },
    /// Messages moved to a new delivery status.
    #[serde(rename = "message.status")]
    MessageStatus {
        /// The conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Whose messages: `inbound` (the contact's) or `outbound` (the agents').
        direction: Direction,
        /// The new status.
        status: MessageStatus,
        /// Every message of `direction` up to this sequence has at least this status.
        up_to_sequence: i64,
    },
    /// The conversation's status, assignee or contact changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        /// The change's position in the conversation's feed.
        position: i64,
        /// The conversation as it is now.
        conversation: ConversationView,
    },
}

/// A message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
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
    /// `contact`, `agent`, `bot` or `system`.
    pub sender: Sender,
    /// The agent or contact who wrote it.
    pub author_id: Option<String>,
    /// `inbound` (from the contact) or `outbound` (from the company).
    pub direction: Direction,
    /// Where it was written or is delivered.
    pub platform: Platform,
    /// Text, at most 5,000 characters; empty once deleted.
    pub body: String,
    /// Attachments (a JSON array of objects): for uploads `{upload_id, name, content_type, size, width,
    /// height, url, thumbnail_url, expires_at}` with download links signed for this answer; for
    /// Facebook and Instagram messages, what Meta describes.
    #[schema(value_type = Vec<Object>)]
    pub attachments: serde_json::Value,
    /// `sent`, `delivered` or `read` (also `pending`, `failed`).
    pub status: MessageStatus,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub edited_at: Option<DateTime<Utc>>,
    /// Deletion time; deleted messages keep their place in the sequence.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            company_id: m.company_id,
            conversation_id: m.conversation_id,
            sequence: m.sequence,
            local_id: m.local_id,
            sender: m.sender,
            author_id: m.author_id,
            direction: m.direction,
            platform: m.platform,
            body: m.body,
            attachments: m.attachments,
            status: m.status,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
        }
    }
}

/// What a delivered or read receipt did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    /// How many messages changed status.
    pub updated: u64,
    /// The sequence the receipt was applied up to: the one requested, lowered to the conversation's
    /// last sequence.
    pub up_to_sequence: i64,
}

impl From<ReceiptApplied> for ReceiptView {
    fn from(r: ReceiptApplied) -> Self {
        Self { updated: r.updated, up_to_sequence: r.up_to_sequence }
    }
}

/// A message just sent: the message, and `forwarding: "queued"` when it leaves through the outbox
/// (a reply to a Facebook or Instagram contact; its status then follows the forward).
#[derive(Debug, Serialize, ToSchema)]
pub struct SentView {
    /// The message.
    #[serde(flatten)]
    pub message: MessageView,
    /// `queued` for a forwarded message; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = queued, required = false)]
    pub forwarding: Option<&'static str>,
}

/// The schema of [`SentView::forwarding`].
fn queued() -> utoipa::openapi::schema::ObjectBuilder {
    super::word("queued")
}

impl From<tidings_messaging::Sent> for SentView {
    fn from(sent: tidings_messaging::Sent) -> Self {
        Self { forwarding: sent.forwarded.then_some("queued"), message: sent.message.into() }
    }
}
