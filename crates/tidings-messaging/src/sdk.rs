//! What SDK devices do besides messaging: say who uses them, report their push token, track events.

use std::sync::Arc;

use chrono::Utc;
use garde::Validate;
use tidings_domain::{
    Caller, ClientPrincipal, Contact, ContactFields, ContactId, ContactRepo, Device, DeviceRepo, Event,
    IdentityVerifier, NewEvent, NoIdentityVerification,
};

use crate::actor::Actor;
use crate::error::{MessagingError, MessagingResult};
use crate::input::{DeviceInput, IdentifyInput, TrackInput};
use crate::repos::MessagingRepos;

/// Device-side operations.
#[derive(Clone)]
pub struct Sdk {
    repos: Arc<dyn MessagingRepos>,
    verifier: Arc<dyn IdentityVerifier>,
}

impl Sdk {
    /// Builds the service over `repos`; no identify is verified until [`Sdk::with_verifier`].
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self { repos, verifier: Arc::new(NoIdentityVerification) }
    }

    /// Checks identifies' signatures with `verifier`.
    pub fn with_verifier(self, verifier: Arc<dyn IdentityVerifier>) -> Self {
        Self { verifier, ..self }
    }

    async fn device(&self, client: &ClientPrincipal) -> MessagingResult<Device> {
        match Actor::resolve(&*self.repos, &Caller::Client(client.clone())).await? {
            Actor::Contact(device) => Ok(device),
            Actor::Agent(_) => Err(MessagingError::Forbidden("only SDK clients have devices")),
        }
    }

    /// Says who uses the device. Only a signed claim reaches beyond the device's own contact: with
    /// an `external_id` and a valid `user_hash`, the device joins the contact that has that id (its
    /// anonymous contact is merged in: devices and conversations move over). Anything unsigned
    /// only describes the device's own contact, so a device can never take over, or read, somebody
    /// else's. Apps that require verification refuse unsigned identifies.
    pub async fn identify(&self, client: &ClientPrincipal, input: IdentifyInput) -> MessagingResult<Contact> {
        input.validate()?;
        if input.name.is_none() && input.email.is_none() && input.external_id.is_none() {
            return Err(MessagingError::Invalid(
                "body",
                "give at least one of name, email, external_id".into(),
            ));
        }
        let device = self.device(client).await?;
        let verdict = self
            .verifier
            .verify(
                device.company_id,
                device.app_id,
                input.external_id.as_deref(),
                input.user_hash.as_deref(),
            )
            .await?;
        if input.external_id.is_some() && !verdict.verified {
            return Err(MessagingError::Forbidden(
                "external_id must be signed: send user_hash, the HMAC-SHA256 of the external id under the app's identity secret",
            ));
        }
        if verdict.required && !verdict.verified {
            return Err(MessagingError::Forbidden(
                "this app requires identity verification: send external_id with its user_hash",
            ));
        }
        // Joining a known contact and recording the profile commit together: a failure half-way
        // leaves the device where it was.
        let unit = self.repos.begin().await?;
        let target = match &input.external_id {
            Some(external_id) => join_identified(&*unit, &device, external_id).await?,
            None => device.contact_id,
        };
        let fields = ContactFields {
            name: input.name.map(|n| n.trim().to_owned()),
            email: input.email,
            external_id: input.external_id,
            ..ContactFields::default()
        };
        let contact = unit.update_contact(device.company_id, target, fields).await.map_err(|e| {
            if e.is_conflict() {
                MessagingError::Conflict("another contact already has this external id")
            } else {
                e.into()
            }
        })?;
        unit.commit().await?;
        Ok(contact)
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
        Ok(self.repos.update_device(device.company_id, device.id, input.platform, input.push_token).await?)
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

/// The contact a device verified as `external_id` belongs to. An anonymous device brings its
/// history along (its contact is merged in); a device that was somebody else's changes hands
/// alone, so the next person never sees the previous one's conversations.
async fn join_identified<R>(repos: &R, device: &Device, external_id: &str) -> MessagingResult<ContactId>
where
    R: ContactRepo + DeviceRepo + ?Sized,
{
    let company_id = device.company_id;
    let own = repos.get_contact(company_id, device.contact_id).await?;
    if own.external_id.as_deref() == Some(external_id) {
        return Ok(own.id);
    }
    let known = repos.find_contact_by_identity(company_id, Some(external_id), None).await?;
    match known {
        Some(known) if own.external_id.is_none() => {
            repos.merge_contacts(company_id, own.id, known.id).await?;
            Ok(known.id)
        }
        Some(known) => {
            repos.assign_device(company_id, device.id, known.id).await?;
            Ok(known.id)
        }
        None if own.external_id.is_none() => Ok(own.id),
        None => {
            let fresh = repos.create_contact(company_id, ContactFields::default()).await?;
            repos.assign_device(company_id, device.id, fresh.id).await?;
            Ok(fresh.id)
        }
    }
}
