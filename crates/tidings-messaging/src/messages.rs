//! Messages: sending (with idempotent retries), reading pages, editing, deleting, receipts, search.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use garde::Validate;
use tidings_domain::{
    Appended, Audit, AuditAction, AuditEvent, Caller, Conversation, ConversationId, ConversationStatus,
    Direction, DomainEvent, EffectList, Message, MessageCursor, MessageId, MessageStatus, NewMessage,
    Principal, Role, Sender, SharedLimiter,
};

use crate::actor::Actor;
use crate::attachments::{Attachments, Described};
use crate::change::Change;
use crate::conversations::visible;
use crate::error::{MessagingError, MessagingResult};
use crate::forward;
use crate::input::{EditMessageInput, ReceiptInput, SendMessageInput};
use crate::rate::Limiter;
use crate::realtime::{Bus, Envelope, ServerEvent};
use crate::repos::MessagingRepos;

/// The window of the send limit.
const SEND_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A message just sent, and whether it is new or the original of a retried `local_id`.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The stored message.
    pub message: Message,
    /// False when the same `local_id` was sent before: nothing new was stored.
    pub created: bool,
    /// True when the message leaves through the outbox (a reply on Facebook or Instagram): its
    /// status follows the forward.
    pub forwarded: bool,
}

/// Which receipt a caller sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// The messages reached the device.
    Delivered,
    /// The messages were seen.
    Read,
}

/// What a receipt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptApplied {
    /// How many messages changed status.
    pub updated: u64,
    /// The sequence the receipt was applied up to: the requested one, lowered to the conversation's
    /// last sequence (a receipt cannot cover messages that do not exist yet).
    pub up_to_sequence: i64,
}

/// Sending and managing messages.
#[derive(Clone)]
pub struct Messages {
    repos: Arc<dyn MessagingRepos>,
    bus: Arc<dyn Bus>,
    effects: EffectList,
    attachments: Option<Attachments>,
    send_limiter: Option<Limiter>,
    audit: Audit,
}

impl Messages {
    /// Builds the service over `repos`, publishing live events on `bus`.
    pub fn new(repos: Arc<dyn MessagingRepos>, bus: Arc<dyn Bus>) -> Self {
        Self {
            repos,
            bus,
            effects: EffectList::default(),
            attachments: None,
            send_limiter: None,
            audit: Audit::default(),
        }
    }

    /// Records deletions in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// Lets each sender (an agent, a customer) send `per_15_minutes` messages per 15 minutes, in
    /// bursts of as many, counted across the cluster when `shared` is given; 0 lifts the limit.
    pub fn with_send_limit(mut self, per_15_minutes: u32, shared: Option<Arc<dyn SharedLimiter>>) -> Self {
        self.send_limiter = Limiter::new("sends", per_15_minutes, SEND_WINDOW).map(|l| l.shared(shared));
        self
    }

    /// Takes uploads as attachments, and links them wherever a message leaves the service; without
    /// it, messages carry no files.
    pub fn with_attachments(mut self, attachments: Attachments) -> Self {
        self.attachments = Some(attachments);
        self
    }

    /// `message` with fresh download links on its files.
    pub(crate) fn linked(&self, message: Message) -> Message {
        match &self.attachments {
            Some(attachments) => attachments.message(message),
            None => message,
        }
    }

    /// Records `effects` (webhooks, push) in the unit of work of every change.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects = effects;
        self
    }

    pub(crate) fn publish_message(&self, message: &Message, position: i64, new: bool) {
        let (company_id, conversation_id, sequence) =
            (message.company_id, message.conversation_id, message.sequence);
        let message = self.linked(message.clone());
        let event = if new {
            ServerEvent::MessageNew { conversation_id, position, sequence, message }
        } else {
            ServerEvent::MessageUpdated { conversation_id, position, sequence, message }
        };
        self.bus.publish(Envelope::conversation(company_id, conversation_id, event));
    }

    /// Appends a message. Agents write outbound, contacts inbound. Once this returns, the message
    /// is committed; a retry with the same `local_id` returns it again instead of storing a copy.
    pub async fn send(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        input: SendMessageInput,
    ) -> MessagingResult<Sent> {
        input.validate()?;
        let no_attachments = input.attachments.as_ref().and_then(|a| a.as_array()).is_none_or(Vec::is_empty);
        if input.body.trim().is_empty() && no_attachments {
            return Err(MessagingError::Invalid("body", "must not be empty without attachments".into()));
        }
        let actor = Actor::find(&*self.repos, caller).await?;
        self.count_send(&actor).await?;
        let conversation = visible(&*self.repos, &actor, conversation_id).await?;
        if !no_attachments
            && let Some(local_id) = &input.local_id
            && let Some(existing) =
                self.repos.find_message_by_local_id(actor.company_id(), conversation_id, local_id).await?
        {
            // A retry: its uploads are held by the original, which is the answer.
            let forwarded = matches!(actor, Actor::Agent(_)) && forward::is_forwarded(conversation.platform);
            return Ok(Sent { message: self.linked(existing.message), created: false, forwarded });
        }
        let described = match (&self.attachments, no_attachments) {
            (_, true) => Described::default(),
            (Some(attachments), false) => attachments.describe(&actor, input.attachments.as_ref()).await?,
            (None, false) => return Err(MessagingError::Unsupported("this server keeps no files".into())),
        };
        let (sender, direction) = match &actor {
            Actor::Agent(_) => (Sender::Agent, Direction::Outbound),
            Actor::Contact(_) => {
                if conversation.status == ConversationStatus::Resolved {
                    return Err(MessagingError::Conflict(
                        "this conversation is resolved; get the open one with POST /v1/conversations",
                    ));
                }
                (Sender::Contact, Direction::Inbound)
            }
        };
        let new = NewMessage {
            company_id: actor.company_id(),
            conversation_id,
            local_id: input.local_id,
            sender,
            author_id: Some(actor.author_id()),
            direction,
            platform: None,
            body: input.body,
            attachments: if no_attachments { serde_json::json!([]) } else { described.attachments },
            awaiting_forward: false,
            uploads: described.uploads,
        };
        let forwarded = direction == Direction::Outbound && forward::is_forwarded(conversation.platform);
        let appended = if forwarded {
            self.append_forwarded(&conversation, new).await.map_err(claimed)?
        } else {
            // A unit of work only when effects are configured: `Change` decides, as for every change.
            let mut change = Change::begin(&*self.repos, &self.effects).await?;
            let appended = change.append_message(new).await.map_err(|e| claimed(e.into()))?;
            change.record_created(&appended, &conversation).await?;
            change.commit().await?;
            appended
        };
        if appended.created {
            self.publish_message(&appended.message, appended.position, true);
        }
        Ok(Sent { message: self.linked(appended.message), created: appended.created, forwarded })
    }

    /// Counts a send against its sender's limit.
    async fn count_send(&self, actor: &Actor) -> MessagingResult<()> {
        let Some(limiter) = &self.send_limiter else { return Ok(()) };
        limiter
            .check(&actor.author())
            .await
            .map_err(|wait| MessagingError::RateLimited { retry_after_secs: wait.as_secs().max(1) })
    }

    /// Stores a reply to a Facebook or Instagram contact together with its forward, once Meta's
    /// messaging window allows it; a retried `local_id` forwards nothing again.
    async fn append_forwarded(
        &self,
        conversation: &Conversation,
        new: NewMessage,
    ) -> MessagingResult<Appended> {
        let company_id = conversation.company_id;
        if let Some(local_id) = &new.local_id
            && let Some(existing) =
                self.repos.find_message_by_local_id(company_id, conversation.id, local_id).await?
        {
            return Ok(existing);
        }
        let contact = self.repos.get_contact(company_id, conversation.contact_id).await?;
        let social_id = forward::social_id(&contact, conversation.platform)?;
        let last_inbound = self.repos.last_inbound_at(company_id, contact.id, conversation.platform).await?;
        let window = forward::window(new.sender, last_inbound, Utc::now())?;
        let mut change = Change::begin_unit(&*self.repos, &self.effects).await?;
        let appended = change.append_message(NewMessage { awaiting_forward: true, ..new }).await?;
        if appended.created {
            change.enqueue(forward::item(&appended.message, conversation, social_id, window)).await?;
        }
        change.record_created(&appended, conversation).await?;
        change.commit().await?;
        Ok(appended)
    }

    /// The effects recorded with every change.
    pub(crate) fn effects(&self) -> &EffectList {
        &self.effects
    }

    /// Publishes a message whose forward was settled (its status changed at `position`).
    pub fn publish_settled(&self, message: &Message, position: i64) {
        self.publish_message(message, position, false);
    }

    /// A page of a conversation's messages in sequence order (deleted ones included, emptied, so
    /// sequences stay contiguous).
    pub async fn list(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        cursor: MessageCursor,
        limit: i64,
    ) -> MessagingResult<Vec<Message>> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let conversation = visible(&*self.repos, &actor, conversation_id).await?;
        let messages =
            self.repos.list_messages(conversation.company_id, conversation_id, cursor, limit).await?;
        Ok(messages.into_iter().map(|m| self.linked(m)).collect())
    }

    /// One message the caller may see.
    pub async fn get(&self, caller: &Caller, id: MessageId) -> MessagingResult<Message> {
        let actor = Actor::find(&*self.repos, caller).await?;
        Ok(self.linked(self.visible_message(&actor, id).await?))
    }

    /// Replaces the text of the caller's own message.
    pub async fn edit(
        &self,
        caller: &Caller,
        id: MessageId,
        input: EditMessageInput,
    ) -> MessagingResult<Message> {
        input.validate()?;
        let actor = Actor::find(&*self.repos, caller).await?;
        let message = self.visible_message(&actor, id).await?;
        if !is_author(&actor, &message) {
            return Err(MessagingError::Forbidden("only the author can edit a message"));
        }
        let change = Change::begin(&*self.repos, &self.effects).await?;
        let edited =
            change.messages().edit_message(message.company_id, id, input.body).await.map_err(|e| {
                if e.is_conflict() {
                    MessagingError::Conflict("a deleted message cannot be edited")
                } else {
                    e.into()
                }
            })?;
        change.record(DomainEvent::MessageUpdated { message: edited.value.clone() }).await?;
        change.commit().await?;
        if let Some(position) = edited.position {
            self.publish_message(&edited.value, position, false);
        }
        Ok(self.linked(edited.value))
    }

    /// Deletes a message: its author may, and so may admins and owners (moderation). The message keeps
    /// its sequence; its text and attachments are erased.
    pub async fn delete(&self, caller: &Caller, id: MessageId) -> MessagingResult<Message> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let message = self.visible_message(&actor, id).await?;
        let moderator = matches!(&actor, Actor::Agent(p) if p.role >= Role::Admin);
        if !is_author(&actor, &message) && !moderator {
            return Err(MessagingError::Forbidden("only the author or an admin can delete a message"));
        }
        let change = Change::begin(&*self.repos, &self.effects).await?;
        let deleted = change.messages().delete_message(message.company_id, id).await?;
        if deleted.position.is_some() {
            change.record(DomainEvent::MessageUpdated { message: deleted.value.clone() }).await?;
        }
        change.commit().await?;
        if let Some(position) = deleted.position {
            self.publish_message(&deleted.value, position, false);
        }
        if let Some(attachments) = &self.attachments {
            attachments.discard(message.company_id, &message.attachments).await;
        }
        let event = AuditEvent::new(message.company_id, AuditAction::MessageDeleted, caller)
            .target("message", id)
            .detail(serde_json::json!({ "conversation_id": message.conversation_id }));
        self.audit.record(event).await;
        Ok(deleted.value)
    }

    /// Marks the other side's messages up to a sequence delivered or read. Status only moves forward;
    /// returns how many messages changed and the sequence actually applied.
    pub async fn receipt(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        receipt: Receipt,
        input: ReceiptInput,
    ) -> MessagingResult<ReceiptApplied> {
        input.validate()?;
        let actor = Actor::find(&*self.repos, caller).await?;
        let conversation = visible(&*self.repos, &actor, conversation_id).await?;
        let direction = match actor {
            Actor::Agent(_) => Direction::Inbound,
            Actor::Contact(_) => Direction::Outbound,
        };
        let status = match receipt {
            Receipt::Delivered => MessageStatus::Delivered,
            Receipt::Read => MessageStatus::Read,
        };
        let up_to = input.up_to_sequence.min(conversation.last_sequence);
        self.apply_receipt(&conversation, direction, up_to, status).await
    }

    /// Moves a conversation's messages of `direction` up to `up_to` to `status`, and publishes the
    /// receipt when any moved.
    pub(crate) async fn apply_receipt(
        &self,
        conversation: &Conversation,
        direction: Direction,
        up_to: i64,
        status: MessageStatus,
    ) -> MessagingResult<ReceiptApplied> {
        let (company_id, conversation_id) = (conversation.company_id, conversation.id);
        let change = Change::begin(&*self.repos, &self.effects).await?;
        let moved =
            change.messages().advance_status(company_id, conversation_id, direction, up_to, status).await?;
        if moved.position.is_some() {
            let conversation = conversation.clone();
            change
                .record(DomainEvent::MessageStatus { conversation, direction, status, up_to_sequence: up_to })
                .await?;
        }
        change.commit().await?;
        if let Some(position) = moved.position {
            let event = ServerEvent::MessageStatus {
                conversation_id,
                position,
                direction,
                status,
                up_to_sequence: up_to,
            };
            self.bus.publish(Envelope::conversation(company_id, conversation_id, event));
        }
        Ok(ReceiptApplied { updated: moved.value, up_to_sequence: up_to })
    }

    /// Full-text search over the agent's company's messages, best match first.
    pub async fn search(
        &self,
        agent: &Principal,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> MessagingResult<Vec<Message>> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > 200 {
            return Err(MessagingError::Invalid("q", "must be 1 to 200 characters".into()));
        }
        let found = self.repos.search_messages(agent.company_id, query, limit, offset).await?;
        Ok(found.into_iter().map(|m| self.linked(m)).collect())
    }

    async fn visible_message(&self, actor: &Actor, id: MessageId) -> MessagingResult<Message> {
        let message = self.repos.get_message(actor.company_id(), id).await?;
        visible(&*self.repos, actor, message.conversation_id).await?;
        Ok(message)
    }
}

/// A store conflict over the uploads a message claims, said as such (one was attached or removed
/// since it was checked).
fn claimed(error: MessagingError) -> MessagingError {
    match &error {
        MessagingError::Store(e) if e.constraint() == Some("uploads_attached") => {
            MessagingError::Conflict("an upload is attached to one message only")
        }
        _ => error,
    }
}

fn is_author(actor: &Actor, message: &Message) -> bool {
    let same_side = matches!(
        (actor, message.sender),
        (Actor::Agent(_), Sender::Agent) | (Actor::Contact(_), Sender::Contact)
    );
    same_side && message.author_id.as_deref() == Some(actor.author_id().as_str())
}
