//! Who may book what, and when: the checks a booking passes before the store sees it.

use chrono::{DateTime, Utc};
use tidings_domain::{AppointmentStatus, Contact, ContactId, ConversationId, OutsideHours, Schedule};

use crate::actor::Actor;
use crate::error::{MessagingError, MessagingResult};
use crate::repos::MessagingRepos;

/// The status a booking starts in: pending, or confirmed when an agent says so.
pub(super) fn initial_status(
    actor: &Actor,
    asked: Option<AppointmentStatus>,
) -> MessagingResult<AppointmentStatus> {
    match (actor, asked) {
        (_, None | Some(AppointmentStatus::Pending)) => Ok(AppointmentStatus::Pending),
        (Actor::Agent(_), Some(AppointmentStatus::Confirmed)) => Ok(AppointmentStatus::Confirmed),
        (Actor::Contact(_), Some(AppointmentStatus::Confirmed)) => {
            Err(MessagingError::Forbidden("only the company confirms appointments"))
        }
        (_, Some(_)) => {
            Err(MessagingError::Invalid("status", "a booking starts pending or confirmed".into()))
        }
    }
}

/// The contact and conversation a booking is linked to, checked against the caller: agents link
/// their company's (the conversation's contact when only it is given), devices their own.
pub(super) async fn link(
    repos: &dyn MessagingRepos,
    actor: &Actor,
    contact_id: Option<ContactId>,
    conversation_id: Option<ConversationId>,
) -> MessagingResult<(Option<Contact>, Option<ConversationId>)> {
    let company_id = actor.company_id();
    let conversation = match conversation_id {
        Some(id) => Some(repos.get_conversation(company_id, id).await.map_err(unknown("conversation_id"))?),
        None => None,
    };
    let contact_id = match actor {
        Actor::Contact(device) => {
            if contact_id.is_some_and(|id| id != device.contact_id) {
                return Err(MessagingError::Forbidden("a device books for its own contact only"));
            }
            Some(device.contact_id)
        }
        Actor::Agent(_) => contact_id.or(conversation.as_ref().map(|c| c.contact_id)),
    };
    if let Some(conversation) = &conversation
        && Some(conversation.contact_id) != contact_id
    {
        return Err(MessagingError::Invalid("conversation_id", "is another contact's conversation".into()));
    }
    let contact = match contact_id {
        Some(id) => Some(repos.get_contact(company_id, id).await.map_err(unknown("contact_id"))?),
        None => None,
    };
    Ok((contact, conversation.map(|c| c.id)))
}

/// A reference to nothing the company has is a bad field, not a missing resource: the request
/// itself was found.
fn unknown(field: &'static str) -> impl FnOnce(tidings_domain::RepoError) -> MessagingError {
    move |err| {
        if err.is_not_found() {
            MessagingError::Invalid(field, "no such one in this company".into())
        } else {
            err.into()
        }
    }
}

/// Whether an appointment may start at `starts_at`: in the future, inside business hours, on the grid.
pub(super) fn bookable(
    schedule: &Schedule,
    starts_at: DateTime<Utc>,
    minutes: i32,
    now: DateTime<Utc>,
) -> MessagingResult<()> {
    if starts_at <= now {
        return Err(MessagingError::Invalid("starts_at", "must be in the future".into()));
    }
    let reason = match schedule.check(starts_at, minutes) {
        Ok(()) => return Ok(()),
        Err(OutsideHours::Closed) => "falls on a day the company is closed",
        Err(OutsideHours::OutsideHours) => "is outside the company's business hours",
        Err(OutsideHours::OffGrid) => {
            "is not on the company's slot grid (opening time plus a multiple of the slot step)"
        }
    };
    Err(MessagingError::Invalid("starts_at", reason.into()))
}
