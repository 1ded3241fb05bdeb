//! A change and its effects in one unit of work: when effects are configured (webhooks, push), the
//! change runs in a transaction that also writes their outbox items; when none are, it runs as a
//! plain store call, with no transaction to pay for.

use tidings_domain::{
    Appended, ContactRepo, Conversation, ConversationRepo, DomainEvent, EffectList, Effects, LOCAL_ID_TAKEN,
    MessageRepo, NewMessage, NewOutboxItem, RepoError, RepoResult, Transaction,
};

use crate::error::MessagingResult;
use crate::repos::MessagingRepos;

/// A change under way.
pub(crate) struct Change<'a> {
    repos: &'a dyn MessagingRepos,
    unit: Option<Box<dyn Transaction>>,
    effects: &'a EffectList,
}

impl<'a> Change<'a> {
    /// Starts a change over `repos`; a unit of work only when there are effects to record.
    pub async fn begin(
        repos: &'a dyn MessagingRepos,
        effects: &'a EffectList,
    ) -> MessagingResult<Change<'a>> {
        let unit = if effects.0.is_empty() { None } else { Some(repos.begin().await?) };
        Ok(Change { repos, unit, effects })
    }

    /// Starts a change in a unit of work even without effects: for changes that queue work of
    /// their own (a forward).
    pub async fn begin_unit(
        repos: &'a dyn MessagingRepos,
        effects: &'a EffectList,
    ) -> MessagingResult<Change<'a>> {
        Ok(Change { repos, unit: Some(repos.begin().await?), effects })
    }

    /// Queues `item` in the change's unit of work (started with [`Change::begin_unit`]).
    pub async fn enqueue(&self, item: NewOutboxItem) -> MessagingResult<()> {
        match &self.unit {
            Some(unit) => Ok(unit.enqueue(item).await.map(drop)?),
            None => Err(RepoError::internal("a change without a unit of work queues nothing").into()),
        }
    }

    /// Messages, inside the change.
    pub fn messages(&self) -> &dyn MessageRepo {
        match &self.unit {
            Some(unit) => &**unit,
            None => self.repos,
        }
    }

    /// Appends a message inside the change. A `local_id` already used answers its original, as
    /// outside a unit of work: the unit, which cannot commit after that, is rolled back and the
    /// change goes on without one (there is nothing left to record).
    pub async fn append_message(&mut self, new: NewMessage) -> RepoResult<Appended> {
        let (company_id, conversation_id, local_id) =
            (new.company_id, new.conversation_id, new.local_id.clone());
        match self.messages().append_message(new).await {
            Err(e) if e.constraint() == Some(LOCAL_ID_TAKEN) && self.unit.is_some() => {
                self.unit = None;
                let local_id = local_id.unwrap_or_default();
                self.repos.find_message_by_local_id(company_id, conversation_id, &local_id).await?.ok_or(e)
            }
            other => other,
        }
    }

    /// Records the creation of `appended` in `conversation`; nothing for an original answered
    /// again.
    pub async fn record_created(
        &self,
        appended: &Appended,
        conversation: &Conversation,
    ) -> MessagingResult<()> {
        if !appended.created {
            return Ok(());
        }
        let message = appended.message.clone();
        self.record(DomainEvent::MessageCreated { message, conversation: conversation.clone() }).await
    }

    /// Conversations, inside the change.
    pub fn conversations(&self) -> &dyn ConversationRepo {
        match &self.unit {
            Some(unit) => &**unit,
            None => self.repos,
        }
    }

    /// Contacts, inside the change.
    pub fn contacts(&self) -> &dyn ContactRepo {
        match &self.unit {
            Some(unit) => &**unit,
            None => self.repos,
        }
    }

    /// Records what the outside world is told of `event`, in the change's unit of work.
    pub async fn record(&self, event: DomainEvent) -> MessagingResult<()> {
        if let Some(unit) = &self.unit {
            self.effects.record(&**unit, &event).await?;
        }
        Ok(())
    }

    /// Commits the change with its effects.
    pub async fn commit(self) -> MessagingResult<()> {
        if let Some(unit) = self.unit {
            unit.commit().await?;
        }
        Ok(())
    }
}
