//! Appointment e-mails through the outbox: written in the unit of work of the change that causes
//! them (booked, confirmed, moved, cancelled), and reminders before the appointment, sent by a job
//! of the cluster-safe runner exactly once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tidings_auth::Cipher;
use tidings_domain::{
    AppointmentRepo, AppointmentSettings, AppointmentStatus, Booking, Company, DomainEvent, Effects,
    RepoError, RepoResult, Transaction, UnitOfWork,
};

use crate::appointment_templates::{Notice, Visit, to_company, to_customer};
use crate::jobs::Job;
use crate::mail::enqueue_email_in_order;

/// Sends the customer and the company's notification address an e-mail for each appointment change.
#[derive(Clone)]
pub struct AppointmentMail {
    cipher: Cipher,
}

impl AppointmentMail {
    /// Seals the e-mails with `cipher` (the server's: the e-mail channel opens them with it).
    pub fn new(cipher: Cipher) -> Self {
        Self { cipher }
    }
}

/// What an event tells the customer and the company, if anything. Edits of details, and a visit
/// marked completed or missed, are the company's own business.
fn notices(event: &DomainEvent) -> Option<(&Booking, Option<Notice>, Option<Notice>)> {
    match event {
        DomainEvent::AppointmentCreated { booking } => {
            let customer = match booking.appointment.status {
                AppointmentStatus::Confirmed => Notice::Confirmed,
                _ => Notice::Requested,
            };
            Some((booking, Some(customer), Some(Notice::Requested)))
        }
        DomainEvent::AppointmentUpdated { booking, previous } => {
            let now = &booking.appointment;
            if now.starts_at != previous.starts_at {
                let moved = Notice::Moved { from: previous.starts_at };
                Some((booking, Some(moved), Some(moved)))
            } else if now.status == AppointmentStatus::Confirmed && previous.status != now.status {
                Some((booking, Some(Notice::Confirmed), None))
            } else {
                None
            }
        }
        DomainEvent::AppointmentCancelled { booking } => {
            Some((booking, Some(Notice::Cancelled), Some(Notice::Cancelled)))
        }
        _ => None,
    }
}

/// The name of a notice in idempotency keys.
fn label(notice: Notice) -> &'static str {
    match notice {
        Notice::Requested => "requested",
        Notice::Confirmed => "confirmed",
        Notice::Moved { .. } => "moved",
        Notice::Cancelled => "cancelled",
        Notice::Reminder => "reminder",
    }
}

#[async_trait]
impl Effects for AppointmentMail {
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()> {
        let Some((booking, customer, company)) = notices(event) else { return Ok(()) };
        let a = &booking.appointment;
        let owner = unit.get_company(a.company_id).await?;
        let settings = AppointmentSettings::of_company(&owner.settings);
        let visit = visit(&owner, &settings, booking);
        // One e-mail per change: the change's time tells two moves of one appointment apart.
        let key = |notice: Notice, to: &str| {
            format!("appointment_{}_{}_{}_{to}", a.id, label(notice), a.updated_at.timestamp_micros())
        };
        if let (Some(notice), Some(address)) = (customer, &booking.personal.email) {
            let email = to_customer(address, &visit, notice);
            let (key, order) = (key(notice, "customer"), order(a.id, "customer"));
            enqueue_email_in_order(unit, &self.cipher, a.company_id, key, order, &email).await?;
        }
        if let (Some(notice), Some(address)) = (company, &settings.notification_email) {
            let email = to_company(address, &visit, notice);
            let (key, order) = (key(notice, "company"), order(a.id, "company"));
            enqueue_email_in_order(unit, &self.cipher, a.company_id, key, order, &email).await?;
        }
        Ok(())
    }
}

/// The e-mails of one appointment to one recipient go out in order.
fn order(id: tidings_domain::AppointmentId, to: &str) -> Option<String> {
    Some(format!("appointment:{id}:{to}"))
}

fn visit<'a>(company: &'a Company, settings: &AppointmentSettings, booking: &'a Booking) -> Visit<'a> {
    let time_zone = settings.schedule().map(|s| s.time_zone()).unwrap_or(chrono_tz::UTC);
    Visit { company: &company.name, time_zone, booking }
}

/// The stores the reminder job reads and writes.
pub trait ReminderRepos: AppointmentRepo + UnitOfWork {}

impl<T: AppointmentRepo + UnitOfWork> ReminderRepos for T {}

/// Most reminders one run sends; the rest wait for the next run.
const BATCH: i64 = 200;

/// E-mails each customer a reminder when their appointment's reminder is due: once, on one node.
pub struct AppointmentReminders {
    repos: Arc<dyn ReminderRepos>,
    cipher: Cipher,
    period: Duration,
}

impl AppointmentReminders {
    /// The job over `repos`, looking every `period` for due reminders.
    pub fn new(repos: Arc<dyn ReminderRepos>, cipher: Cipher, period: Duration) -> Self {
        Self { repos, cipher, period }
    }

    /// Sends one reminder in a unit of work that also marks it sent; `false` when another run or a
    /// change got there first.
    async fn remind(&self, due: tidings_domain::Appointment) -> RepoResult<bool> {
        let Some(remind_at) = due.remind_at else { return Ok(false) };
        let unit = self.repos.begin().await?;
        if !unit.clear_reminder(due.company_id, due.id, remind_at).await? {
            return Ok(false);
        }
        let booking = Booking::open(due, &self.cipher).map_err(|e| RepoError::internal(e.to_string()))?;
        if let Some(address) = &booking.personal.email {
            let a = &booking.appointment;
            let company = unit.get_company(a.company_id).await?;
            let settings = AppointmentSettings::of_company(&company.settings);
            let email = to_customer(address, &visit(&company, &settings, &booking), Notice::Reminder);
            let key = format!("appointment_{}_reminder_{}", a.id, a.starts_at.timestamp());
            let order = order(a.id, "customer");
            enqueue_email_in_order(&*unit, &self.cipher, a.company_id, key, order, &email).await?;
        }
        unit.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl Job for AppointmentReminders {
    fn name(&self) -> &'static str {
        "appointments.reminders"
    }

    fn period(&self) -> Duration {
        self.period
    }

    async fn run(&self) -> Result<(), String> {
        let due = self.repos.due_reminders(Utc::now(), BATCH).await.map_err(|e| e.to_string())?;
        let mut sent = 0;
        for appointment in due {
            match self.remind(appointment).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(error) => tracing::warn!(error = %error, "an appointment reminder could not be queued"),
            }
        }
        if sent > 0 {
            tracing::info!(sent, "appointment reminders queued");
        }
        Ok(())
    }
}
