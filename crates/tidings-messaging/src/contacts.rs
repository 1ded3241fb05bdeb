//! Contacts, as agents manage them.

use std::sync::Arc;

use garde::Validate;
use tidings_domain::{Contact, ContactId, ContactQuery, DomainEvent, EffectList, Principal};

use crate::change::Change;

use crate::error::MessagingResult;
use crate::input::ContactInput;
use crate::repos::MessagingRepos;

/// Creating, finding and editing a company's contacts.
#[derive(Clone)]
pub struct Contacts {
    repos: Arc<dyn MessagingRepos>,
    effects: EffectList,
}

impl Contacts {
    /// Builds the service over `repos`.
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self { repos, effects: EffectList::default() }
    }

    /// Records `effects` in the unit of work of every change.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects = effects;
        self
    }

    /// Adds a contact to the agent's company.
    pub async fn create(&self, agent: &Principal, input: ContactInput) -> MessagingResult<Contact> {
        input.validate()?;
        let change = Change::begin(&*self.repos, &self.effects).await?;
        let contact = change.contacts().create_contact(agent.company_id, input.into()).await?;
        change.record(DomainEvent::ContactCreated { contact: contact.clone() }).await?;
        change.commit().await?;
        Ok(contact)
    }

    /// One contact of the agent's company.
    pub async fn get(&self, agent: &Principal, id: ContactId) -> MessagingResult<Contact> {
        Ok(self.repos.get_contact(agent.company_id, id).await?)
    }

    /// Changes the given fields of a contact.
    pub async fn update(
        &self,
        agent: &Principal,
        id: ContactId,
        input: ContactInput,
    ) -> MessagingResult<Contact> {
        input.validate()?;
        Ok(self.repos.update_contact(agent.company_id, id, input.into()).await?)
    }

    /// A page of the company's contacts, oldest first, optionally searched by name, e-mail or phone.
    pub async fn list(&self, agent: &Principal, query: ContactQuery) -> MessagingResult<Vec<Contact>> {
        Ok(self.repos.list_contacts(agent.company_id, query).await?)
    }
}
