//! Which appointment changes reach the company's calendar: an outbox item per change, written in
//! the change's unit of work, carrying only the appointment's id and what to do (the channel reads
//! the appointment as it is when the call is made, so nothing personal waits in the outbox).

use async_trait::async_trait;
use serde_json::json;
use tidings_domain::{
    AppointmentStatus, Booking, DomainEvent, Effects, IntegrationKind, NewOutboxItem, OutboxKind, RepoResult,
    Transaction,
};

/// What the calendar is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Create the event (an appointment that became confirmed).
    Insert,
    /// Move or edit the event (a confirmed appointment that changed).
    Patch,
    /// Remove the event (a cancelled appointment).
    Delete,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Patch => "patch",
            Action::Delete => "delete",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Action> {
        [Action::Insert, Action::Patch, Action::Delete].into_iter().find(|a| a.as_str() == text)
    }
}

/// What an event asks of the calendar: confirmed appointments are in it, cancelled ones leave it.
fn action(event: &DomainEvent) -> Option<(&Booking, Action)> {
    match event {
        DomainEvent::AppointmentCreated { booking } => {
            (booking.appointment.status == AppointmentStatus::Confirmed).then_some((booking, Action::Insert))
        }
        DomainEvent::AppointmentUpdated { booking, previous } => {
            let now = &booking.appointment;
            match (previous.status, now.status) {
                (AppointmentStatus::Pending, AppointmentStatus::Confirmed) => Some((booking, Action::Insert)),
                (AppointmentStatus::Confirmed, AppointmentStatus::Confirmed) => {
                    Some((booking, Action::Patch))
                }
                _ => None,
            }
        }
        DomainEvent::AppointmentCancelled { booking } => Some((booking, Action::Delete)),
        _ => None,
    }
}

/// Queues calendar calls for the appointment changes of companies with a connected calendar.
#[derive(Clone, Copy, Debug, Default)]
pub struct CalendarSync;

#[async_trait]
impl Effects for CalendarSync {
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()> {
        let Some((booking, action)) = action(event) else { return Ok(()) };
        let a = &booking.appointment;
        // A connection has a client id in its (clear) config; a disconnected one has none.
        let connected = unit
            .get_integration(a.company_id, IntegrationKind::GoogleCalendar)
            .await?
            .is_some_and(|calendar| calendar.config["client_id"].is_string());
        if !connected {
            return Ok(());
        }
        let item = NewOutboxItem {
            company_id: a.company_id,
            kind: OutboxKind::CalendarSync,
            idempotency_key: format!(
                "calendar_{}_{}_{}",
                a.id,
                action.as_str(),
                a.updated_at.timestamp_micros()
            ),
            payload: json!({ "appointment_id": a.id, "action": action.as_str() }),
            message_id: None,
            // One appointment's calls in order: its insert before its moves and its deletion.
            order_key: Some(format!("calendar:{}", a.id)),
            due_at: None,
        };
        unit.enqueue(item).await?;
        Ok(())
    }
}
