//! The JSON bodies of every successful response, one named type each.
//!
//! Handlers never serialize a domain entity or an ad-hoc `json!` object: they map what a service
//! returns into one of these. That keeps each shape in one place, written out field by field, so a
//! change to a domain type (a new column, a secret) cannot leak to clients unnoticed, and so the
//! shapes can be described by an OpenAPI generator later. Fields may be added here, never renamed
//! or removed: clients rely on them.

mod appointments;
mod apps;
mod audit;
mod auth;
mod company;
mod contacts;
mod conversations;
mod health;
mod integrations;
mod outbox;
mod presence;
mod realtime;
mod uploads;
mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;

pub use appointments::{
    AppointmentListView, AppointmentSettingsView, AppointmentView, AvailabilityView, OpenHoursView, SlotView,
};
pub use apps::{ApiKeyView, AppView, IdentitySecretView, IssuedKeyView};
pub use audit::{AuditActorView, AuditEntryView, AuditTargetView};
pub use auth::{AcceptedView, CompanyView, MeView, SessionView, SetupView, TokensView, UserView};
pub use company::RetentionView;
pub use contacts::{ContactView, DeviceView, EventView};
pub use conversations::{
    ChangedView, ConversationList, ConversationListView, ConversationView, FeedEvent, FeedView,
    LastMessageView, MessageView, ReceiptView, SentView,
};
pub use health::{BusCheck, Check, ChecksView, HealthView, NotReadyDetails, ReadinessView};
pub use integrations::{CalendarIntegrationView, MetaIntegrationView};
pub use outbox::{OutboxHealthView, OutboxItemView};
pub use presence::{ParticipantKind, PresenceState, PresenceView};
pub use realtime::{EngineIoError, PublishedView};
pub use uploads::UploadView;
pub use webhooks::{MetaDelivery, ReceivedView, WebhookAttemptView, WebhookSecretView, WebhookView};

/// The schema of a string that is always `word`.
fn word(word: &'static str) -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([word]))
}

/// A page of a list: `{"data": [...], "next_cursor": ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// The cursor of the next page, to send back as the list's cursor parameter; `null` on the last
    /// page.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A page of `items`, each turned into its view, followed by the page at `next_cursor`.
    pub fn of<U>(items: impl IntoIterator<Item = U>, next_cursor: Option<String>) -> Self
    where
        T: From<U>,
    {
        Self { data: items.into_iter().map(T::from).collect(), next_cursor }
    }
}
