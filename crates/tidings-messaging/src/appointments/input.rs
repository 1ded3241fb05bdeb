//! What callers send to book, move, edit and list appointments, with its validation rules.

use chrono::{DateTime, NaiveDate, Utc};
use garde::Validate;
use serde::Deserialize;
use tidings_domain::{AppointmentStatus, ContactId, ConversationId, DURATIONS, PersonalData};
use utoipa::ToSchema;

fn allowed_duration(value: &i32, _ctx: &()) -> garde::Result {
    if DURATIONS.contains(value) { Ok(()) } else { Err(garde::Error::new("must be 15, 30, 45 or 60")) }
}

fn optional_duration(value: &Option<i32>, ctx: &()) -> garde::Result {
    value.as_ref().map_or(Ok(()), |v| allowed_duration(v, ctx))
}

fn not_blank(value: &Option<String>, _ctx: &()) -> garde::Result {
    match value {
        Some(v) if v.trim().is_empty() => Err(garde::Error::new("must not be blank")),
        _ => Ok(()),
    }
}

/// The customer's details given with a booking or an edit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
}

impl Customer {
    /// Applies the fields given over `personal`.
    pub(crate) fn apply(self, personal: &mut PersonalData) {
        let given = [
            (self.name, &mut personal.name),
            (self.email, &mut personal.email),
            (self.phone, &mut personal.phone),
            (self.company_name, &mut personal.company_name),
        ];
        for (value, field) in given {
            if let Some(value) = value {
                *field = Some(value.trim().to_owned());
            }
        }
    }
}

// The customer's four fields are written out in both inputs below: serde cannot flatten a shared
// struct into one that refuses unknown fields.

/// A booking (`POST /v1/appointments`).
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppointmentInput {
    /// When it starts (in the future, inside business hours, on the slot grid).
    #[garde(skip)]
    pub starts_at: DateTime<Utc>,
    /// Its length in minutes: 15, 30, 45 or 60.
    #[garde(custom(allowed_duration))]
    #[schema(minimum = 15, maximum = 60, multiple_of = 15, example = 30)]
    pub duration: i32,
    /// The contact it is for (agents; an SDK device books for its own contact).
    #[garde(skip)]
    pub contact_id: Option<ContactId>,
    /// The conversation it was booked in.
    #[garde(skip)]
    pub conversation_id: Option<ConversationId>,
    /// The customer's name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// The customer's e-mail address (confirmations and reminders go there).
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// The customer's phone number.
    #[garde(length(chars, min = 3, max = 40), custom(not_blank))]
    #[schema(min_length = 3, max_length = 40)]
    pub phone: Option<String>,
    /// The customer's company.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200)]
    pub company_name: Option<String>,
    /// What the customer wants to talk about.
    #[garde(length(chars, max = 2000))]
    #[schema(max_length = 2000)]
    pub inquiry: Option<String>,
    /// `pending` (default) or, for agents, `confirmed`.
    #[garde(skip)]
    pub status: Option<AppointmentStatus>,
}

/// A reschedule or an edit of details (`PUT /v1/appointments/{id}`): fields left out stay as they are.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentUpdateInput {
    /// A new start.
    #[garde(skip)]
    pub starts_at: Option<DateTime<Utc>>,
    /// A new length.
    #[garde(custom(optional_duration))]
    #[schema(minimum = 15, maximum = 60, multiple_of = 15)]
    pub duration: Option<i32>,
    /// The customer's name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// The customer's e-mail address (confirmations and reminders go there).
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// The customer's phone number.
    #[garde(length(chars, min = 3, max = 40), custom(not_blank))]
    #[schema(min_length = 3, max_length = 40)]
    pub phone: Option<String>,
    /// The customer's company.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200)]
    pub company_name: Option<String>,
    /// A new inquiry text.
    #[garde(length(chars, max = 2000))]
    #[schema(max_length = 2000)]
    pub inquiry: Option<String>,
}

/// Filters of a list of appointments (`GET /v1/appointments`).
#[derive(Clone, Debug, Default)]
pub struct AppointmentFilter {
    /// Only this status.
    pub status: Option<AppointmentStatus>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
    /// Only this contact's.
    pub contact_id: Option<ContactId>,
    /// Only those booked with this e-mail address.
    pub email: Option<String>,
    /// After this one, in start order.
    pub after: Option<(DateTime<Utc>, tidings_domain::AppointmentId)>,
    /// Page size.
    pub limit: i64,
}

/// A day to find free slots in (`GET /v1/appointments/availability`).
#[derive(Clone, Copy, Debug)]
pub struct AvailabilityInput {
    /// The day, in the company's time zone.
    pub date: NaiveDate,
    /// The length wanted, in minutes.
    pub duration: i32,
}

impl NewAppointmentInput {
    /// The customer's details given.
    pub(crate) fn customer(&self) -> Customer {
        Customer {
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company_name: self.company_name.clone(),
        }
    }
}

impl AppointmentUpdateInput {
    /// The customer's details given.
    pub(crate) fn customer(&self) -> Customer {
        Customer {
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company_name: self.company_name.clone(),
        }
    }
}
