//! Contacts, and what SDK devices report: the device itself and tracked events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::{AppId, CompanyId, Contact, ContactId, Device, DeviceId, Event, EventId, Platform};
use utoipa::ToSchema;

/// A contact (a customer of the company).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// Identifier.
    pub id: ContactId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Display name, when known.
    pub name: Option<String>,
    /// E-mail, lower-cased.
    pub email: Option<String>,
    /// Phone number as given.
    pub phone: Option<String>,
    /// Page-scoped Facebook user id.
    pub facebook_id: Option<String>,
    /// Instagram-scoped user id.
    pub instagram_id: Option<String>,
    /// The company's own id for this person (set by a signed identify).
    pub external_id: Option<String>,
    /// Free-form attributes (a JSON object).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            facebook_id: c.facebook_id,
            instagram_id: c.instagram_id,
            external_id: c.external_id,
            metadata: c.metadata,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// An SDK device.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Identifier.
    pub id: DeviceId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app it runs.
    pub app_id: AppId,
    /// The SDK's own id for the installation (`X-Device-Id`).
    pub device_id: String,
    /// The contact using it.
    pub contact_id: ContactId,
    /// `ios`, `android`, `web` or `desktop`.
    pub platform: Platform,
    /// Push notification token; absent when none was registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_token: Option<String>,
    /// First seen.
    pub created_at: DateTime<Utc>,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        Self {
            id: d.id,
            company_id: d.company_id,
            app_id: d.app_id,
            device_id: d.device_id,
            contact_id: d.contact_id,
            platform: d.platform,
            push_token: d.push_token,
            created_at: d.created_at,
        }
    }
}

/// A tracked analytics event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Identifier.
    pub id: EventId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app that sent it.
    pub app_id: Option<AppId>,
    /// The SDK device that sent it (`X-Device-Id`).
    pub device_id: Option<String>,
    /// The contact using that device.
    pub contact_id: Option<ContactId>,
    /// Event name, e.g. `screen_view`.
    pub name: String,
    /// Free-form properties (a JSON object).
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    /// When it happened, by the device's clock.
    pub occurred_at: DateTime<Utc>,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            company_id: e.company_id,
            app_id: e.app_id,
            device_id: e.device_id,
            contact_id: e.contact_id,
            name: e.name,
            properties: e.properties,
            occurred_at: e.occurred_at,
            received_at: e.received_at,
        }
    }
}
