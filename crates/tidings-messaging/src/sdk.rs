//! What SDK devices do besides messaging: say who uses them, report their push token, track events.

use std::sync::Arc;

use chrono::Utc;
use garde::Validate;
use tidings_domain::{Caller, ClientPrincipal, Contact, ContactFields, Device, Event, NewEvent, RepoError};

use crate::actor::Actor;
use crate::error::{MessagingError, MessagingResult};
use crate::input::{DeviceInput, IdentifyInput, TrackInput};
use crate::repos::MessagingRepos;

/// Device-side operations.
#[derive(Clone)]
pub struct Sdk {
    repos: Arc<dyn MessagingRepos>,
}

impl Sdk {
    /// Builds the service over `repos`.
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self { repos }
    }

    async fn device(&self, client: &ClientPrincipal) -> MessagingResult<Device> {
        match Actor::resolve(&*self.repos, &Caller::Client(client.clone())).await? {
            Actor::Contact(device) => Ok(device),
            Actor::Agent(_) => Err(MessagingError::Forbidden("only SDK clients have devices")),
        }
    }

    /// Attaches a profile to the device's contact. When the company already has a contact with the
    /// same external id (or else e-mail), the device's contact is merged into it: devices and
    /// conversations move over, and the anonymous contact disappears.
    pub async fn identify(&self, client: &ClientPrincipal, input: IdentifyInput) -> MessagingResult<Contact> {
        input.validate()?;
        if input.name.is_none() && input.email.is_none() && input.external_id.is_none() {
            return Err(MessagingError::Invalid(
                "body",
                "give at least one of name, email, external_id".into(),
            ));
        }
        let device = self.device(client).await?;
        let existing = match (&input.external_id, &input.email) {
            (None, None) => None,
            (ext, email) => {
                self.repos
                    .find_contact_by_identity(device.company_id, ext.as_deref(), email.as_deref())
                    .await?
            }
        };
        let target = match existing {
            Some(known) if known.id != device.contact_id => {
                self.repos.merge_contacts(device.company_id, device.contact_id, known.id).await?;
                known.id
            }
            _ => device.contact_id,
        };
        let fields = ContactFields {
            name: input.name.map(|n| n.trim().to_owned()),
            email: input.email,
            external_id: input.external_id,
            ..ContactFields::default()
        };
        self.repos.update_contact(device.company_id, target, fields).await.map_err(|e| match e {
            RepoError::Conflict(_) => {
                MessagingError::Conflict("another contact already has this external id")
            }
            other => other.into(),
        })
    }

    /// Records the device's platform and push token.
    pub async fn update_device(
        &self,
        client: &ClientPrincipal,
        input: DeviceInput,
    ) -> MessagingResult<Device> {
        input.validate()?;
        if !input.platform.is_device() {
            return Err(MessagingError::Invalid("platform", "must be ios, android, web or desktop".into()));
        }
        let device = self.device(client).await?;
        Ok(self.repos.update_device(device.id, input.platform, input.push_token).await?)
    }

    /// Appends an analytics event from the device.
    pub async fn track(&self, client: &ClientPrincipal, input: TrackInput) -> MessagingResult<Event> {
        input.validate()?;
        let device = self.device(client).await?;
        let event = NewEvent {
            company_id: device.company_id,
            app_id: Some(device.app_id),
            device_id: Some(device.device_id),
            contact_id: Some(device.contact_id),
            name: input.name,
            properties: input.properties.unwrap_or_else(|| serde_json::json!({})),
            occurred_at: input.occurred_at.unwrap_or_else(Utc::now),
        };
        Ok(self.repos.record_event(event).await?)
    }
}
