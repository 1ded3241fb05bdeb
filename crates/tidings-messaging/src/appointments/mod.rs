//! Appointments: customers book time with the company, agents manage the calendar. The store keeps
//! two active appointments of a company from overlapping; this service checks the company's hours,
//! seals personal data, and tells agents, webhooks and e-mail of every change in its unit of work.

mod input;
mod rules;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use garde::Validate;
use serde_json::json;
use tidings_domain::{
    Appointment, AppointmentId, AppointmentQuery, AppointmentSettings, AppointmentStatus, Booking, Caller,
    CompanyId, DomainEvent, EffectList, Effects, PersonalData, Principal, RepoErrorKind, Schedule, Sealer,
    Transaction, normalized_email,
};

pub use input::{AppointmentFilter, AppointmentUpdateInput, AvailabilityInput, NewAppointmentInput};

use crate::actor::Actor;
use crate::error::{MessagingError, MessagingResult};
use crate::realtime::{Bus, Envelope, Room, ServerEvent};
use crate::repos::MessagingRepos;

/// The key of a company's settings that holds its [`AppointmentSettings`].
const SETTINGS_KEY: &str = "appointments";

/// The free slots of a day.
#[derive(Clone, Debug, PartialEq)]
pub struct Availability {
    /// The company's time zone, which the day is in.
    pub time_zone: String,
    /// Starts of the free slots, in order.
    pub slots: Vec<DateTime<Utc>>,
}

/// Booking, listing, moving and cancelling appointments.
#[derive(Clone)]
pub struct Appointments {
    repos: Arc<dyn MessagingRepos>,
    bus: Arc<dyn Bus>,
    sealer: Arc<dyn Sealer>,
    effects: EffectList,
}

impl Appointments {
    /// Builds the service over `repos`, sealing personal data with `sealer` and telling agents on `bus`.
    pub fn new(repos: Arc<dyn MessagingRepos>, bus: Arc<dyn Bus>, sealer: Arc<dyn Sealer>) -> Self {
        Self { repos, bus, sealer, effects: EffectList::default() }
    }

    /// Records `effects` (webhooks, e-mails) in the unit of work of every change.
    pub fn with_effects(mut self, effects: EffectList) -> Self {
        self.effects = effects;
        self
    }

    /// The company's appointment settings (defaults where it has none).
    pub async fn settings(&self, agent: &Principal) -> MessagingResult<AppointmentSettings> {
        let company = self.repos.get_company(agent.company_id).await?;
        Ok(AppointmentSettings::of_company(&company.settings))
    }

    /// Replaces the company's appointment settings. Bookings already made stay where they are.
    pub async fn put_settings(
        &self,
        agent: &Principal,
        settings: AppointmentSettings,
    ) -> MessagingResult<AppointmentSettings> {
        settings.schedule().map_err(|(field, message)| MessagingError::Invalid(field, message))?;
        let value = serde_json::to_value(&settings)
            .map_err(|_| MessagingError::Invalid("settings", "cannot be stored".into()))?;
        let company = self.repos.put_company_setting(agent.company_id, SETTINGS_KEY, value).await?;
        Ok(AppointmentSettings::of_company(&company.settings))
    }

    /// Books an appointment: agents for any contact of their company (or none), SDK devices for
    /// their own contact. A clash with another active appointment is a conflict naming it.
    pub async fn book(&self, caller: &Caller, input: NewAppointmentInput) -> MessagingResult<Booking> {
        input.validate()?;
        let actor = Actor::resolve(&*self.repos, caller).await?;
        let company_id = actor.company_id();
        let status = rules::initial_status(&actor, input.status)?;
        let (contact, conversation_id) =
            rules::link(&*self.repos, &actor, input.contact_id, input.conversation_id).await?;
        let now = Utc::now();
        let schedule = self.schedule(company_id).await?;
        rules::bookable(&schedule, input.starts_at, input.duration, now)?;
        let mut personal = PersonalData::default();
        if let Some(contact) = &contact {
            personal = PersonalData {
                name: contact.name.clone(),
                email: contact.email.clone(),
                phone: contact.phone.clone(),
                company_name: None,
            };
        }
        input.customer().apply(&mut personal);
        let mut appointment = Appointment {
            id: AppointmentId::new(),
            company_id,
            contact_id: contact.map(|c| c.id),
            conversation_id,
            starts_at: input.starts_at,
            duration_min: input.duration,
            status,
            personal_sealed: None,
            email_index: None,
            key_id: None,
            remind_at: schedule.remind_at(input.starts_at, now),
            inquiry: input.inquiry.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty()),
            created_by: actor.author(),
            created_at: now,
            updated_at: now,
        };
        self.seal(&mut appointment, &personal)?;
        let unit = self.repos.begin().await?;
        let stored = match unit.create_appointment(appointment).await {
            Ok(stored) => stored,
            Err(err) if err.kind() == RepoErrorKind::Exclusion => {
                drop(unit);
                return Err(self.clash(&actor, input.starts_at, input.duration, None).await);
            }
            Err(err) => return Err(err.into()),
        };
        let booking = Booking { appointment: stored, personal };
        self.commit(unit, DomainEvent::AppointmentCreated { booking: booking.clone() }).await?;
        Ok(booking)
    }

    /// One appointment the caller may see: agents their company's, SDK devices their contact's.
    pub async fn get(&self, caller: &Caller, id: AppointmentId) -> MessagingResult<Booking> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let appointment = self.visible(&actor, id).await?;
        self.open(appointment)
    }

    /// A page of the appointments the caller may see, by start time, and how many match in all.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: AppointmentFilter,
    ) -> MessagingResult<(Vec<Booking>, i64)> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let contact_id = match &actor {
            Actor::Agent(_) => filter.contact_id,
            Actor::Contact(device) => match filter.contact_id {
                Some(other) if other != device.contact_id => return Ok((Vec::new(), 0)),
                _ => Some(device.contact_id),
            },
        };
        let email_indexes =
            filter.email.as_deref().map(|email| self.sealer.blind_indexes(&normalized_email(email)));
        let query = AppointmentQuery {
            status: filter.status,
            from: filter.from,
            to: filter.to,
            contact_id,
            email_indexes,
            after: filter.after,
            limit: filter.limit,
        };
        let (page, total) = self.repos.list_appointments(actor.company_id(), query).await?;
        let bookings = page.into_iter().map(|a| self.open(a)).collect::<MessagingResult<_>>()?;
        Ok((bookings, total))
    }

    /// Moves an active appointment or edits its details; fields left out stay as they are.
    pub async fn update(
        &self,
        caller: &Caller,
        id: AppointmentId,
        input: AppointmentUpdateInput,
    ) -> MessagingResult<Booking> {
        input.validate()?;
        let actor = Actor::find(&*self.repos, caller).await?;
        let current = self.open(self.visible(&actor, id).await?)?;
        if !current.appointment.status.is_active() {
            return Err(MessagingError::Conflict("only pending or confirmed appointments can be changed"));
        }
        let mut appointment = current.appointment.clone();
        let now = Utc::now();
        let starts_at = input.starts_at.unwrap_or(appointment.starts_at);
        let duration = input.duration.unwrap_or(appointment.duration_min);
        let moved = starts_at != appointment.starts_at || duration != appointment.duration_min;
        if moved {
            let schedule = self.schedule(appointment.company_id).await?;
            rules::bookable(&schedule, starts_at, duration, now)?;
            appointment.starts_at = starts_at;
            appointment.duration_min = duration;
            appointment.remind_at = schedule.remind_at(starts_at, now);
        }
        let mut personal = current.personal.clone();
        input.customer().apply(&mut personal);
        if let Some(inquiry) = input.inquiry {
            appointment.inquiry = Some(inquiry.trim().to_owned()).filter(|text| !text.is_empty());
        }
        self.seal(&mut appointment, &personal)?;
        let previous = current.appointment;
        let booking =
            self.store_change(&actor, appointment, personal, previous.status, moved.then_some(id)).await?;
        let previous = Box::new(previous);
        self.commit_change(booking, |booking| DomainEvent::AppointmentUpdated { booking, previous }).await
    }

    /// Moves an appointment to another status (agents): pending -> confirmed -> completed | no_show,
    /// pending | confirmed -> cancelled; any other move is a conflict naming the allowed ones.
    pub async fn set_status(
        &self,
        agent: &Principal,
        id: AppointmentId,
        status: AppointmentStatus,
    ) -> MessagingResult<Booking> {
        let actor = Actor::Agent(agent.clone());
        let current = self.open(self.visible(&actor, id).await?)?;
        self.transition(&actor, current, status).await
    }

    /// Cancels an appointment: agents any of their company's, SDK devices their contact's.
    pub async fn cancel(&self, caller: &Caller, id: AppointmentId) -> MessagingResult<Booking> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let current = self.open(self.visible(&actor, id).await?)?;
        self.transition(&actor, current, AppointmentStatus::Cancelled).await
    }

    /// The free slots of a day for an appointment of a length: business hours minus active bookings,
    /// future starts only. Any caller of the company may ask (a booking widget before its first
    /// booking too); it says when, never who.
    pub async fn availability(
        &self,
        caller: &Caller,
        input: AvailabilityInput,
    ) -> MessagingResult<Availability> {
        if !tidings_domain::DURATIONS.contains(&input.duration) {
            return Err(MessagingError::Invalid("duration", "must be 15, 30, 45 or 60".into()));
        }
        let company_id = caller.company_id();
        let schedule = self.schedule(company_id).await?;
        let Some((open, close)) = schedule.opening(input.date) else {
            return Ok(Availability { time_zone: schedule.time_zone().name().into(), slots: Vec::new() });
        };
        let busy: Vec<_> = self
            .repos
            .active_between(company_id, open, close)
            .await?
            .iter()
            .map(|a| (a.starts_at, a.ends_at()))
            .collect();
        let slots = schedule.free_slots(input.date, input.duration, &busy, Utc::now());
        Ok(Availability { time_zone: schedule.time_zone().name().into(), slots })
    }

    async fn transition(
        &self,
        actor: &Actor,
        current: Booking,
        status: AppointmentStatus,
    ) -> MessagingResult<Booking> {
        let from = current.appointment.status;
        if !from.next().contains(&status) {
            return Err(MessagingError::ConflictWith {
                message: "this status change is not allowed",
                details: json!({ "from": from, "to": status, "allowed": from.next() }),
            });
        }
        let mut appointment = current.appointment.clone();
        appointment.status = status;
        if !status.is_active() {
            appointment.remind_at = None;
        }
        let previous = current.appointment;
        let booking = self.store_change(actor, appointment, current.personal, from, None).await?;
        self.commit_change(booking, |booking| match status {
            AppointmentStatus::Cancelled => DomainEvent::AppointmentCancelled { booking },
            _ => DomainEvent::AppointmentUpdated { booking, previous: Box::new(previous) },
        })
        .await
    }

    /// Writes a changed appointment in a unit of work left open for its event; a clash (when it was
    /// `moved`) names the other appointments, a status changed meanwhile is a conflict.
    async fn store_change(
        &self,
        actor: &Actor,
        appointment: Appointment,
        personal: PersonalData,
        expected: AppointmentStatus,
        moved: Option<AppointmentId>,
    ) -> MessagingResult<(Box<dyn Transaction>, Booking)> {
        let (starts_at, duration) = (appointment.starts_at, appointment.duration_min);
        let unit = self.repos.begin().await?;
        match unit.update_appointment(appointment, expected).await {
            Ok(stored) => Ok((unit, Booking { appointment: stored, personal })),
            Err(err) if err.kind() == RepoErrorKind::Exclusion => {
                drop(unit);
                Err(self.clash(actor, starts_at, duration, moved).await)
            }
            Err(err) if err.is_not_found() => {
                Err(MessagingError::Conflict("the appointment changed meanwhile; read it again"))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn commit_change(
        &self,
        (unit, booking): (Box<dyn Transaction>, Booking),
        event: impl FnOnce(Booking) -> DomainEvent,
    ) -> MessagingResult<Booking> {
        self.commit(unit, event(booking.clone())).await?;
        Ok(booking)
    }

    /// Records `event` in `unit`, commits, then tells the company's agents live.
    async fn commit(&self, unit: Box<dyn Transaction>, event: DomainEvent) -> MessagingResult<()> {
        self.effects.record(&*unit, &event).await?;
        unit.commit().await?;
        let (company_id, live) = match &event {
            DomainEvent::AppointmentCreated { booking } => (
                booking.appointment.company_id,
                ServerEvent::AppointmentCreated { appointment: json!(booking) },
            ),
            DomainEvent::AppointmentUpdated { booking, .. } => (
                booking.appointment.company_id,
                ServerEvent::AppointmentUpdated { appointment: json!(booking) },
            ),
            DomainEvent::AppointmentCancelled { booking } => (
                booking.appointment.company_id,
                ServerEvent::AppointmentCancelled { appointment: json!(booking) },
            ),
            _ => return Ok(()),
        };
        self.bus.publish(Envelope {
            company_id,
            rooms: vec![Room::Company(company_id)],
            event: live,
            except: None,
        });
        Ok(())
    }

    /// The conflict of a booking that overlaps others: which ones (their times only, for customers).
    async fn clash(
        &self,
        actor: &Actor,
        starts_at: DateTime<Utc>,
        duration: i32,
        except: Option<AppointmentId>,
    ) -> MessagingError {
        let ends_at = starts_at + chrono::Duration::minutes(i64::from(duration));
        let others =
            self.repos.active_between(actor.company_id(), starts_at, ends_at).await.unwrap_or_default();
        let clashes: Vec<_> = others
            .iter()
            .filter(|other| Some(other.id) != except)
            .map(|other| match actor {
                Actor::Agent(_) => {
                    json!({ "id": other.id, "starts_at": other.starts_at, "ends_at": other.ends_at() })
                }
                Actor::Contact(_) => json!({ "starts_at": other.starts_at, "ends_at": other.ends_at() }),
            })
            .collect();
        MessagingError::ConflictWith {
            message: "the time overlaps another appointment",
            details: json!({ "clashes_with": clashes }),
        }
    }

    /// An appointment of the actor's company that the actor may see.
    async fn visible(&self, actor: &Actor, id: AppointmentId) -> MessagingResult<Appointment> {
        let appointment = self.repos.get_appointment(actor.company_id(), id).await?;
        match actor {
            Actor::Contact(device) if appointment.contact_id != Some(device.contact_id) => {
                Err(MessagingError::NotFound)
            }
            _ => Ok(appointment),
        }
    }

    /// The company's schedule; the defaults when its stored settings no longer check.
    async fn schedule(&self, company_id: CompanyId) -> MessagingResult<Schedule> {
        let company = self.repos.get_company(company_id).await?;
        let settings = AppointmentSettings::of_company(&company.settings);
        settings
            .schedule()
            .or_else(|_| AppointmentSettings::default().schedule())
            .map_err(|(field, message)| MessagingError::Invalid(field, message))
    }

    fn seal(&self, appointment: &mut Appointment, personal: &PersonalData) -> MessagingResult<()> {
        let sealed = personal.seal(&*self.sealer, appointment.id).map_err(sealing_failed)?;
        appointment.email_index = personal.email_index(&*self.sealer);
        (appointment.personal_sealed, appointment.key_id) = match sealed {
            Some(sealed) => (Some(sealed.value), Some(sealed.key_id)),
            None => (None, None),
        };
        Ok(())
    }

    fn open(&self, appointment: Appointment) -> MessagingResult<Booking> {
        Booking::open(appointment, &*self.sealer).map_err(sealing_failed)
    }
}

/// Sealed data that does not open is a fault of the server's keys, never of the caller.
fn sealing_failed(err: tidings_domain::SealError) -> MessagingError {
    MessagingError::Store(tidings_domain::RepoError::internal(err.to_string()))
}
