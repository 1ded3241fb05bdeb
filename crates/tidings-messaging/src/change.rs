//! A change and its effects in one unit of work: when effects are configured (webhooks, push), the
//! change runs in a transaction that also writes their outbox items; when none are, it runs as a
//! plain store call, with no transaction to pay for.

use tidings_domain::{
    ContactRepo, ConversationRepo, DomainEvent, EffectList, Effects, MessageRepo, Transaction,
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

    /// Messages, inside the change.
    pub fn messages(&self) -> &dyn MessageRepo {
        match &self.unit {
            Some(unit) => &**unit,
            None => self.repos,
        }
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
