//! Contacts, as agents manage them.

use std::sync::Arc;

use garde::Validate;
use tidings_domain::{Contact, ContactId, ContactQuery, Principal};

use crate::error::MessagingResult;
use crate::input::ContactInput;
use crate::repos::MessagingRepos;

/// Creating, finding and editing a company's contacts.
#[derive(Clone)]
pub struct Contacts {
    repos: Arc<dyn MessagingRepos>,
}

impl Contacts {
    /// Builds the service over `repos`.
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self { repos }
    }

    /// Adds a contact to the agent's company.
    pub async fn create(&self, agent: &Principal, input: ContactInput) -> MessagingResult<Contact> {
        input.validate()?;
        Ok(self.repos.create_contact(agent.company_id, input.into()).await?)
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
