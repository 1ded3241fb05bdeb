//! Appointments, their free slots and the company's appointment settings.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tidings_domain::{
    AppointmentId, AppointmentSettings, AppointmentStatus, Booking, ContactId, ConversationId, OpenHours,
};
use tidings_messaging::Availability;
use utoipa::ToSchema;

/// An appointment, with its personal data opened for the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    /// Identifier.
    pub id: AppointmentId,
    /// The contact it is for.
    pub contact_id: Option<ContactId>,
    /// The conversation it was booked in.
    pub conversation_id: Option<ConversationId>,
    /// The customer's name.
    pub name: Option<String>,
    /// The customer's e-mail address.
    pub email: Option<String>,
    /// The customer's phone number.
    pub phone: Option<String>,
    /// The customer's company.
    pub company_name: Option<String>,
    /// What the customer wants to talk about.
    pub inquiry: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration: i32,
    /// `pending`, `confirmed`, `cancelled`, `completed` or `no_show`.
    pub status: AppointmentStatus,
    /// Who booked it: `user:<id>` or `contact:<id>`.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Booking> for AppointmentView {
    fn from(Booking { appointment: a, personal: p }: Booking) -> Self {
        Self {
            id: a.id,
            contact_id: a.contact_id,
            conversation_id: a.conversation_id,
            name: p.name,
            email: p.email,
            phone: p.phone,
            company_name: p.company_name,
            inquiry: a.inquiry.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at(),
            duration: a.duration_min,
            status: a.status,
            created_by: a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A page of appointments, with how many match the filters in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentListView {
    /// This page, by start time.
    pub data: Vec<AppointmentView>,
    /// The cursor of the next page (`?cursor=`); `null` on the last.
    pub next_cursor: Option<String>,
    /// Every appointment matching the filters, over all pages.
    pub total: i64,
}

/// One free slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (exclusive).
    pub ends_at: DateTime<Utc>,
}

/// The free slots of a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    /// The day, in the company's time zone.
    pub date: NaiveDate,
    /// The length asked for, in minutes.
    pub duration: i32,
    /// The company's time zone.
    pub time_zone: String,
    /// Free slots, in order.
    pub slots: Vec<SlotView>,
}

impl AvailabilityView {
    /// The slots of `availability` for appointments of `duration` minutes on `date`.
    pub fn of(date: NaiveDate, duration: i32, availability: Availability) -> Self {
        let length = chrono::Duration::minutes(i64::from(duration));
        let slots = availability
            .slots
            .into_iter()
            .map(|starts_at| SlotView { starts_at, ends_at: starts_at + length })
            .collect();
        Self { date, duration, time_zone: availability.time_zone, slots }
    }
}

/// The company's appointment settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentSettingsView {
    /// IANA time zone of the business hours.
    pub time_zone: String,
    /// Opening hours per day (`mon` .. `sun`); absent days are closed.
    pub business_hours: BTreeMap<String, OpenHoursView>,
    /// Appointments start at opening time plus a multiple of this many minutes.
    pub slot_step_min: u32,
    /// Hours before an appointment that its reminder goes out (0: none).
    pub reminder_hours: u32,
    /// Where the company is told of bookings.
    pub notification_email: Option<String>,
}

/// A day's opening hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenHoursView {
    /// Opening, `HH:MM` local time.
    pub open: String,
    /// Closing, `HH:MM` local time.
    pub close: String,
}

impl From<AppointmentSettings> for AppointmentSettingsView {
    fn from(s: AppointmentSettings) -> Self {
        let hours = |OpenHours { open, close }: OpenHours| OpenHoursView { open, close };
        Self {
            time_zone: s.time_zone,
            business_hours: s.business_hours.into_iter().map(|(day, h)| (day, hours(h))).collect(),
            slot_step_min: s.slot_step_min,
            reminder_hours: s.reminder_hours,
            notification_email: s.notification_email,
        }
    }
}
