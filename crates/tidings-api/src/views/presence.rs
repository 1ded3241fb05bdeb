//! Presence: who of the company is connected now.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_messaging::realtime::event::PresenceStatus;
use tidings_messaging::realtime::{Participant, PresenceEntry};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who a presence entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    /// A user of the company; `id` is a user id.
    Agent,
    /// A contact; `id` is a contact id.
    Contact,
}

/// Whether a participant is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// At least one connection open.
    Online,
    /// No connection open.
    Offline,
}

/// One participant's presence.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceView {
    /// `agent` or `contact`.
    pub kind: ParticipantKind,
    /// The user's or contact's id.
    pub id: Uuid,
    /// `online` (the list holds only those who are).
    pub status: PresenceState,
    /// Last time connected (now, while online).
    pub last_seen_at: DateTime<Utc>,
}

impl From<PresenceEntry> for PresenceView {
    fn from(e: PresenceEntry) -> Self {
        let (kind, id) = match e.participant {
            Participant::Agent(id) => (ParticipantKind::Agent, id.0),
            Participant::Contact(id) => (ParticipantKind::Contact, id.0),
        };
        let status = match e.status {
            PresenceStatus::Online => PresenceState::Online,
            PresenceStatus::Offline => PresenceState::Offline,
        };
        Self { kind, id, status, last_seen_at: e.last_seen_at }
    }
}
