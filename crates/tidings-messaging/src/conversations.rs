//! Conversations: the agents' inbox and the SDK's current conversation.

use std::collections::HashMap;
use std::sync::Arc;

use garde::Validate;
use tidings_domain::{
    Caller, ClientPrincipal, CompanyId, Conversation, ConversationId, ConversationPatch, ConversationQuery,
    DomainEvent, EffectList, Message, Principal,
};

use crate::actor::Actor;
use crate::change::Change;
use crate::error::{MessagingError, MessagingResult};
use crate::input::ConversationPatchInput;
use crate::realtime::{Bus, Envelope, ServerEvent};
use crate::repos::MessagingRepos;

/// A conversation with what agents have not read yet.
#[derive(Clone, Debug)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// Inbound messages no agent has read (`None` for SDK callers).
    pub unread_count: Option<i64>,
    /// The newest message, which inbox lists preview (`None` for SDK callers, and before the first).
    pub last_message: Option<Message>,
}

/// Listing, opening and updating conversations.
#[derive(Clone)]
pub struct Conversations {
    repos: Arc<dyn MessagingRepos>,
    bus: Arc<dyn Bus>,
    effects: EffectList,
}

impl Conversations {
    /// Builds the service over `repos`, publishing live events on `bus`.
    pub fn new(repos: Arc<dyn MessagingRepos>, bus: Arc<dyn Bus>) -> Self {
        Self { repos, bus, effects: EffectList::default() }
    }

    /// Records `effects` in the unit of work of every change.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects = effects;
        self
    }

    /// A page of the agent's company's conversations, newest activity first, with unread counts.
    pub async fn list(
        &self,
        agent: &Principal,
        query: ConversationQuery,
    ) -> MessagingResult<Vec<ConversationSummary>> {
        let conversations = self.repos.list_conversations(agent.company_id, query).await?;
        summaries(&*self.repos, agent.company_id, conversations).await
    }

    /// One conversation the caller may see.
    pub async fn get(&self, caller: &Caller, id: ConversationId) -> MessagingResult<ConversationSummary> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let conversation = visible(&*self.repos, &actor, id).await?;
        match actor {
            Actor::Agent(_) => {
                let mut summary =
                    summaries(&*self.repos, conversation.company_id, vec![conversation]).await?;
                summary.pop().ok_or(MessagingError::NotFound)
            }
            Actor::Contact(_) => {
                Ok(ConversationSummary { conversation, unread_count: None, last_message: None })
            }
        }
    }

    /// Changes status or assignee.
    pub async fn update(
        &self,
        agent: &Principal,
        id: ConversationId,
        input: ConversationPatchInput,
    ) -> MessagingResult<Conversation> {
        input.validate()?;
        if let Some(Some(assignee)) = input.assignee_id {
            match self.repos.get_user(agent.company_id, assignee).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    return Err(MessagingError::Invalid(
                        "assignee_id",
                        "no such user in this company".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let patch = ConversationPatch { status: input.status, assignee_id: input.assignee_id };
        let change = Change::begin(&*self.repos, &self.effects).await?;
        let recorded = change.conversations().update_conversation(agent.company_id, id, patch).await?;
        if recorded.position.is_some() {
            change.record(DomainEvent::ConversationUpdated { conversation: recorded.value.clone() }).await?;
        }
        change.commit().await?;
        let conversation = recorded.value;
        if let Some(position) = recorded.position {
            let event = ServerEvent::ConversationUpdated { position, conversation: conversation.clone() };
            self.bus.publish(Envelope::conversation(conversation.company_id, conversation.id, event));
        }
        Ok(conversation)
    }

    /// The device's contact's unresolved conversation on this app, created when there is none.
    pub async fn open_for_device(&self, client: &ClientPrincipal) -> MessagingResult<Conversation> {
        let Actor::Contact(device) = Actor::resolve(&*self.repos, &Caller::Client(client.clone())).await?
        else {
            return Err(MessagingError::Forbidden("only SDK clients open conversations"));
        };
        open(
            &*self.repos,
            &self.effects,
            device.company_id,
            device.contact_id,
            Some(device.app_id),
            device.platform,
        )
        .await
    }
}

/// The contact's unresolved conversation, opened (with its `conversation.created` effects) when
/// there is none.
pub(crate) async fn open(
    repos: &dyn MessagingRepos,
    effects: &EffectList,
    company_id: CompanyId,
    contact_id: tidings_domain::ContactId,
    app_id: Option<tidings_domain::AppId>,
    platform: tidings_domain::Platform,
) -> MessagingResult<Conversation> {
    let change = Change::begin(repos, effects).await?;
    let conversation =
        change.conversations().open_conversation(company_id, contact_id, app_id, platform).await?;
    // Fresh: nothing has happened in it yet. Opened twice at once, both record it; the event's id
    // is the conversation's, so it is delivered once.
    if conversation.last_position == 0 {
        change.record(DomainEvent::ConversationCreated { conversation: conversation.clone() }).await?;
    }
    change.commit().await?;
    Ok(conversation)
}

/// The conversations with their unread counts and newest messages, for agents of `company_id`.
pub(crate) async fn summaries(
    repos: &dyn MessagingRepos,
    company_id: CompanyId,
    conversations: Vec<Conversation>,
) -> MessagingResult<Vec<ConversationSummary>> {
    let ids: Vec<ConversationId> = conversations.iter().map(|c| c.id).collect();
    let unread: HashMap<ConversationId, i64> =
        repos.unread_counts(company_id, &ids).await?.into_iter().collect();
    let mut last: HashMap<ConversationId, Message> =
        repos.last_messages(company_id, &ids).await?.into_iter().map(|m| (m.conversation_id, m)).collect();
    Ok(conversations
        .into_iter()
        .map(|c| {
            let unread_count = Some(unread.get(&c.id).copied().unwrap_or(0));
            let last_message = last.remove(&c.id);
            ConversationSummary { conversation: c, unread_count, last_message }
        })
        .collect())
}

/// The conversation, if the actor may see it; `NotFound` otherwise, so nobody learns it exists.
pub(crate) async fn visible(
    repos: &dyn MessagingRepos,
    actor: &Actor,
    id: ConversationId,
) -> MessagingResult<Conversation> {
    let conversation = repos.get_conversation(actor.company_id(), id).await?;
    if actor.can_see(&conversation) { Ok(conversation) } else { Err(MessagingError::NotFound) }
}
