//! Effects: what the outside world is told about a change (webhooks, push notifications), written
//! into the outbox in the unit of work of the change itself, so that the change and its effects
//! commit together or not at all.

use async_trait::async_trait;

use crate::appointment::{Appointment, Booking};
use crate::contact::Contact;
use crate::conversation::Conversation;
use crate::error::RepoResult;
use crate::message::{Direction, Message, MessageStatus};
use crate::unit_of_work::Transaction;

/// A change the outside world may be told about.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    /// A message was stored in a conversation.
    MessageCreated {
        /// The message.
        message: Message,
        /// Its conversation.
        conversation: Conversation,
    },
    /// A message was edited, deleted, or its forward settled.
    MessageUpdated {
        /// The message as it is now.
        message: Message,
    },
    /// Messages of a conversation moved to a status (a receipt).
    MessageStatus {
        /// The conversation.
        conversation: Conversation,
        /// Whose messages.
        direction: Direction,
        /// The new status.
        status: MessageStatus,
        /// Every message of that direction up to this sequence.
        up_to_sequence: i64,
    },
    /// A conversation was opened.
    ConversationCreated {
        /// The conversation.
        conversation: Conversation,
    },
    /// A conversation's status or assignee changed.
    ConversationUpdated {
        /// The conversation as it is now.
        conversation: Conversation,
    },
    /// A contact was created.
    ContactCreated {
        /// The contact.
        contact: Contact,
    },
    /// An appointment was booked.
    AppointmentCreated {
        /// The appointment.
        booking: Booking,
    },
    /// An appointment was moved, its details edited, or its status changed (but not cancelled).
    AppointmentUpdated {
        /// The appointment as it is now.
        booking: Booking,
        /// The appointment as it was before.
        previous: Box<Appointment>,
    },
    /// An appointment was cancelled.
    AppointmentCancelled {
        /// The appointment as it is now.
        booking: Booking,
    },
}

impl DomainEvent {
    /// The company the event belongs to.
    pub fn company_id(&self) -> crate::ids::CompanyId {
        match self {
            DomainEvent::MessageCreated { message, .. } | DomainEvent::MessageUpdated { message } => {
                message.company_id
            }
            DomainEvent::MessageStatus { conversation, .. }
            | DomainEvent::ConversationCreated { conversation }
            | DomainEvent::ConversationUpdated { conversation } => conversation.company_id,
            DomainEvent::ContactCreated { contact } => contact.company_id,
            DomainEvent::AppointmentCreated { booking }
            | DomainEvent::AppointmentUpdated { booking, .. }
            | DomainEvent::AppointmentCancelled { booking } => booking.appointment.company_id,
        }
    }

    /// The event's name as webhooks subscribe to it (`message.created`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::MessageCreated { .. } => "message.created",
            DomainEvent::MessageUpdated { .. } => "message.updated",
            DomainEvent::MessageStatus { .. } => "message.status",
            DomainEvent::ConversationCreated { .. } => "conversation.created",
            DomainEvent::ConversationUpdated { .. } => "conversation.updated",
            DomainEvent::ContactCreated { .. } => "contact.created",
            DomainEvent::AppointmentCreated { .. } => "appointment.created",
            DomainEvent::AppointmentUpdated { .. } => "appointment.updated",
            DomainEvent::AppointmentCancelled { .. } => "appointment.cancelled",
        }
    }
}

/// Writes the outbox items a change causes, inside the change's unit of work.
#[async_trait]
pub trait Effects: Send + Sync {
    /// Enqueues, through `unit`, what `event` makes this effect send.
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()>;
}

/// Several effects, recorded in order.
#[derive(Clone, Default)]
pub struct EffectList(pub Vec<std::sync::Arc<dyn Effects>>);

#[async_trait]
impl Effects for EffectList {
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()> {
        for effect in &self.0 {
            effect.record(unit, event).await?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for EffectList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EffectList({} effects)", self.0.len())
    }
}
