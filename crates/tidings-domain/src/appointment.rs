//! Appointments: time a company's contacts book. The store guarantees that two active (pending or
//! confirmed) appointments of one company never overlap; personal data reaches it sealed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::RepoResult;
use crate::ids::{AppointmentId, CompanyId, ContactId, ConversationId};
use crate::named_enum::named_enum;
use crate::sealing::{SealError, Sealed, Sealer};

/// The lengths an appointment may have, in minutes.
pub const DURATIONS: [i32; 4] = [15, 30, 45, 60];

named_enum!(
    /// Where an appointment stands.
    AppointmentStatus {
        /// Booked, not yet confirmed by the company.
        Pending = "pending",
        /// Confirmed.
        Confirmed = "confirmed",
        /// Called off; its time is free again.
        Cancelled = "cancelled",
        /// Took place.
        Completed = "completed",
        /// The customer did not come.
        NoShow = "no_show",
    }
);

impl AppointmentStatus {
    /// Whether it holds its time (no other active appointment may overlap it).
    pub fn is_active(self) -> bool {
        matches!(self, AppointmentStatus::Pending | AppointmentStatus::Confirmed)
    }

    /// The statuses it may move to.
    pub fn next(self) -> &'static [AppointmentStatus] {
        use AppointmentStatus::*;
        match self {
            Pending => &[Confirmed, Cancelled],
            Confirmed => &[Completed, NoShow, Cancelled],
            Cancelled | Completed | NoShow => &[],
        }
    }
}

/// An appointment as stored: personal data sealed.
#[derive(Clone, Debug, PartialEq)]
pub struct Appointment {
    /// Identifier.
    pub id: AppointmentId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The contact it is for, if linked.
    pub contact_id: Option<ContactId>,
    /// The conversation it was booked in, if any.
    pub conversation_id: Option<ConversationId>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes: 15, 30, 45 or 60.
    pub duration_min: i32,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// The customer's [`PersonalData`], sealed.
    pub personal_sealed: Option<String>,
    /// Keyed HMAC of the normalised e-mail, to filter by it.
    pub email_index: Option<String>,
    /// The key that sealed the personal data.
    pub key_id: Option<String>,
    /// When its reminder e-mail is due; `None` when none is (sent, off, or booked too late).
    pub remind_at: Option<DateTime<Utc>>,
    /// What the customer wants to talk about.
    pub inquiry: Option<String>,
    /// Who booked it (`user:<id>` or `contact:<id>`).
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Appointment {
    /// End of the appointment (exclusive).
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(i64::from(self.duration_min))
    }
}

/// What an appointment says about the customer: sealed at rest as one JSON value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    /// The customer's name.
    pub name: Option<String>,
    /// The customer's e-mail address.
    pub email: Option<String>,
    /// The customer's phone number.
    pub phone: Option<String>,
    /// The customer's company.
    pub company_name: Option<String>,
}

impl PersonalData {
    /// Whether it says nothing.
    pub fn is_empty(&self) -> bool {
        *self == PersonalData::default()
    }

    /// Seals it for appointment `id` (it opens on no other row); `None` when there is nothing to seal.
    pub fn seal(&self, sealer: &dyn Sealer, id: AppointmentId) -> Result<Option<Sealed>, SealError> {
        if self.is_empty() {
            return Ok(None);
        }
        let json = serde_json::to_vec(self).map_err(|_| SealError)?;
        sealer.seal(&json, &sealing_context(id)).map(Some)
    }

    /// The blind index of its e-mail address under the current key, to store beside it.
    pub fn email_index(&self, sealer: &dyn Sealer) -> Option<String> {
        let email = self.email.as_deref()?;
        sealer.blind_indexes(&normalized_email(email)).into_iter().next()
    }
}

/// What sealed personal data is bound to: its appointment.
fn sealing_context(id: AppointmentId) -> String {
    format!("appointment:{id}")
}

impl Booking {
    /// Opens the personal data of a stored appointment.
    pub fn open(appointment: Appointment, sealer: &dyn Sealer) -> Result<Booking, SealError> {
        let personal = match &appointment.personal_sealed {
            None => PersonalData::default(),
            Some(sealed) => {
                let json = sealer.open(sealed, &sealing_context(appointment.id))?;
                serde_json::from_slice(&json).map_err(|_| SealError)?
            }
        };
        Ok(Booking { appointment, personal })
    }
}

/// The form of an e-mail address its blind index is computed over.
pub fn normalized_email(address: &str) -> String {
    address.trim().to_lowercase()
}

/// An appointment with its personal data opened: what services hand out and events carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Booking {
    /// The appointment as stored.
    pub appointment: Appointment,
    /// Its personal data, in clear.
    pub personal: PersonalData,
}

/// How a booking is shown: the API's appointment, live events' and webhooks' payload.
#[derive(Serialize)]
struct BookingView<'a> {
    id: AppointmentId,
    contact_id: Option<ContactId>,
    conversation_id: Option<ConversationId>,
    name: &'a Option<String>,
    email: &'a Option<String>,
    phone: &'a Option<String>,
    company_name: &'a Option<String>,
    inquiry: &'a Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    duration: i32,
    status: AppointmentStatus,
    created_by: &'a str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Serialize for Booking {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (a, p) = (&self.appointment, &self.personal);
        BookingView {
            id: a.id,
            contact_id: a.contact_id,
            conversation_id: a.conversation_id,
            name: &p.name,
            email: &p.email,
            phone: &p.phone,
            company_name: &p.company_name,
            inquiry: &a.inquiry,
            starts_at: a.starts_at,
            ends_at: a.ends_at(),
            duration: a.duration_min,
            status: a.status,
            created_by: &a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
        .serialize(serializer)
    }
}

/// Filters and page of a company's appointments.
#[derive(Clone, Debug, Default)]
pub struct AppointmentQuery {
    /// Only this status.
    pub status: Option<AppointmentStatus>,
    /// Only those starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Only those starting before.
    pub to: Option<DateTime<Utc>>,
    /// Only this contact's.
    pub contact_id: Option<ContactId>,
    /// Only those whose e-mail index is one of these (the address's index under each key).
    pub email_indexes: Option<Vec<String>>,
    /// Only those after this one in (start, id) order.
    pub after: Option<(DateTime<Utc>, AppointmentId)>,
    /// Page size.
    pub limit: i64,
}

/// Persistence of appointments.
#[async_trait]
pub trait AppointmentRepo: Send + Sync {
    /// Stores an appointment; an [`Exclusion`](crate::RepoErrorKind::Exclusion) error (constraint
    /// `appointments_no_overlap`) when it is active and overlaps another active one of the company.
    async fn create_appointment(&self, appointment: Appointment) -> RepoResult<Appointment>;
    /// One appointment of a company.
    async fn get_appointment(&self, company_id: CompanyId, id: AppointmentId) -> RepoResult<Appointment>;
    /// Replaces an appointment's time, details and status (the same overlap rule applies), if its
    /// status is still `expected`: `NotFound` when it is not (another change came first).
    async fn update_appointment(
        &self,
        appointment: Appointment,
        expected: AppointmentStatus,
    ) -> RepoResult<Appointment>;
    /// A page of a company's appointments by start time, and how many match in all.
    async fn list_appointments(
        &self,
        company_id: CompanyId,
        query: AppointmentQuery,
    ) -> RepoResult<(Vec<Appointment>, i64)>;
    /// A company's active appointments overlapping `[from, to)`, by start time.
    async fn active_between(
        &self,
        company_id: CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> RepoResult<Vec<Appointment>>;
    /// Up to `limit` active appointments of any company whose reminder is due at `now`, soonest
    /// first: for the reminder job.
    async fn due_reminders(&self, now: DateTime<Utc>, limit: i64) -> RepoResult<Vec<Appointment>>;
    /// Up to `limit` appointments of any company, by id after `after`, whose personal data is sealed
    /// under another key than `current_key_id`: for sealing them again after a key rotation.
    async fn sealed_under_other_keys(
        &self,
        current_key_id: &str,
        after: Option<AppointmentId>,
        limit: i64,
    ) -> RepoResult<Vec<Appointment>>;
    /// Replaces an appointment's sealed personal data and e-mail index, if it is still sealed under
    /// `old_key_id` (an edit in between sealed it anew); `false` when it was not. Nothing else changes.
    async fn reseal_appointment(&self, resealed: &Appointment, old_key_id: &str) -> RepoResult<bool>;
    /// Marks an appointment's reminder as sent, if it is still due at `remind_at` (a reschedule in
    /// between moved it); `false` when it was not.
    async fn clear_reminder(
        &self,
        company_id: CompanyId,
        id: AppointmentId,
        remind_at: DateTime<Utc>,
    ) -> RepoResult<bool>;
}
