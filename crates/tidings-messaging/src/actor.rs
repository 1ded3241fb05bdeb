//! Who acts in a conversation: an agent of the company, or a contact through one of their devices.

use tidings_domain::{Caller, CompanyId, Conversation, Device, Platform, Principal};

use crate::error::{MessagingError, MessagingResult};
use crate::realtime::Participant;
use crate::repos::MessagingRepos;

/// A caller resolved for messaging.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A user of the company (any role).
    Agent(Principal),
    /// A contact, through the SDK device that made the request.
    Contact(Device),
}

impl Actor {
    /// Resolves a caller; an SDK device seen for the first time is registered with a new anonymous
    /// contact. Services (server keys) do not take part in conversations.
    pub async fn resolve(repos: &dyn MessagingRepos, caller: &Caller) -> MessagingResult<Actor> {
        match caller {
            Caller::User(principal) => Ok(Actor::Agent(principal.clone())),
            Caller::Client(client) => {
                let platform = client.platform.unwrap_or(Platform::Web);
                let device =
                    repos.device_for(client.company_id, client.app_id, &client.device_id, platform).await?;
                Ok(Actor::Contact(device))
            }
            Caller::Service(_) => {
                Err(MessagingError::Forbidden("server keys cannot take part in conversations"))
            }
        }
    }

    /// Resolves a caller without registering anything: a device never seen before is `NotFound`.
    /// Everything but opening a conversation, identifying and reporting uses this, so that device ids
    /// which only read or probe leave no rows behind.
    pub async fn find(repos: &dyn MessagingRepos, caller: &Caller) -> MessagingResult<Actor> {
        match caller {
            Caller::Client(client) => {
                match repos.find_device(client.company_id, client.app_id, &client.device_id).await? {
                    Some(device) => Ok(Actor::Contact(device)),
                    None => Err(MessagingError::NotFound),
                }
            }
            other => Actor::resolve(repos, other).await,
        }
    }

    /// The company the actor belongs to.
    pub fn company_id(&self) -> CompanyId {
        match self {
            Actor::Agent(p) => p.company_id,
            Actor::Contact(d) => d.company_id,
        }
    }

    /// Whether the actor may see the conversation: agents see their company's, contacts their own.
    pub fn can_see(&self, conversation: &Conversation) -> bool {
        match self {
            Actor::Agent(p) => conversation.company_id == p.company_id,
            Actor::Contact(d) => {
                conversation.company_id == d.company_id && conversation.contact_id == d.contact_id
            }
        }
    }

    /// The actor as it appears in typing and presence events.
    pub fn participant(&self) -> Participant {
        match self {
            Actor::Agent(p) => Participant::Agent(p.user_id),
            Actor::Contact(d) => Participant::Contact(d.contact_id),
        }
    }

    /// Who did something, as records keep it: `user:<id>` or `contact:<id>`.
    pub fn author(&self) -> String {
        match self {
            Actor::Agent(p) => format!("user:{}", p.user_id),
            Actor::Contact(d) => format!("contact:{}", d.contact_id),
        }
    }

    /// The id recorded as a message's author.
    pub fn author_id(&self) -> String {
        match self {
            Actor::Agent(p) => p.user_id.to_string(),
            Actor::Contact(d) => d.contact_id.to_string(),
        }
    }
}
