//! The calendar channel: Google Calendar API v3 events insert, patch and delete, with an access
//! token refreshed from the company's refresh token when it has expired (or is refused). The event's
//! id is the appointment's, so a retried insert finds its event instead of making a second one.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tidings_auth::Cipher;
use tidings_domain::{
    AppointmentId, AppointmentRepo, AppointmentStatus, Booking, IntegrationRepo, OutboxItem, OutboxKind,
};

use super::sync::Action;
use super::{Calendars, Connection};
use crate::channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};

/// Where Google's APIs are (overridable for tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoogleEndpoints {
    /// Calendar API v3 (`https://www.googleapis.com/calendar/v3`).
    pub calendar: String,
    /// OAuth token endpoint (`https://oauth2.googleapis.com/token`).
    pub token: String,
}

impl Default for GoogleEndpoints {
    fn default() -> Self {
        Self {
            calendar: "https://www.googleapis.com/calendar/v3".into(),
            token: "https://oauth2.googleapis.com/token".into(),
        }
    }
}

/// The stores the calendar channel reads: the connection and the appointment.
pub trait CalendarRepos: IntegrationRepo + AppointmentRepo {}

impl<T: IntegrationRepo + AppointmentRepo> CalendarRepos for T {}

/// Writes appointments to companies' Google Calendars.
pub struct GoogleCalendar {
    http: reqwest::Client,
    endpoints: GoogleEndpoints,
    calendars: Calendars,
    appointments: Arc<dyn CalendarRepos>,
    cipher: Cipher,
}

impl GoogleCalendar {
    /// A channel over `repos`, opening secrets and appointments with `cipher`.
    pub fn new(
        repos: Arc<dyn CalendarRepos>,
        cipher: Cipher,
        endpoints: GoogleEndpoints,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        let calendars = Calendars::new(repos.clone(), cipher.clone());
        Ok(Self { http, endpoints, calendars, appointments: repos, cipher })
    }

    /// A working access token: the stored one while it lasts, else a fresh one (stored for the
    /// next calls).
    async fn token(&self, connection: &mut Connection, force: bool) -> Result<String, DeliveryError> {
        let fresh = connection
            .config
            .access_token_expires_at
            .is_some_and(|at| at > Utc::now() + chrono::Duration::seconds(60));
        if let (false, true, Some(token)) = (force, fresh, &connection.secrets.access_token) {
            return Ok(token.clone());
        }
        let (Some(client_id), Some(secret), Some(refresh)) = (
            &connection.config.client_id,
            &connection.secrets.client_secret,
            &connection.secrets.refresh_token,
        ) else {
            return Err(DeliveryError::Permanent(
                "the calendar connection has no client or refresh token".into(),
            ));
        };
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret)
            .append_pair("refresh_token", refresh)
            .finish();
        let answer = self
            .http
            .post(&self.endpoints.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::from_transport(&e))?;
        let status = answer.status();
        let reply: Value = answer.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            // Google's error codes only: the reply never echoes the secrets.
            return Err(DeliveryError::from_status(status, &format!("token refresh: {}", reply["error"])));
        }
        let token = reply["access_token"]
            .as_str()
            .ok_or_else(|| DeliveryError::Transient("token refresh: no access_token in the reply".into()))?
            .to_owned();
        let lifetime = reply["expires_in"].as_i64().unwrap_or(3600);
        connection.secrets.access_token = Some(token.clone());
        connection.config.access_token_expires_at = Some(Utc::now() + chrono::Duration::seconds(lifetime));
        let stored = self.calendars.store(connection.clone()).await;
        if let Err(error) = stored {
            tracing::warn!(%error, "a refreshed calendar token could not be stored; the next call refreshes again");
        }
        Ok(token)
    }

    /// One call to the Calendar API; a refused token is refreshed once.
    async fn call(
        &self,
        connection: &mut Connection,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), DeliveryError> {
        let url = format!(
            "{}/calendars/{}{path}",
            self.endpoints.calendar.trim_end_matches('/'),
            encode(connection.calendar_id())
        );
        for attempt in 0..2 {
            let token = self.token(connection, attempt > 0).await?;
            let mut request = self.http.request(method.clone(), &url).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request.send().await.map_err(|e| DeliveryError::from_transport(&e))?;
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            if status != StatusCode::UNAUTHORIZED || attempt > 0 {
                return Ok((status, text));
            }
        }
        Err(DeliveryError::Transient("the calendar refused a fresh access token".into()))
    }

    async fn upsert(
        &self,
        connection: &mut Connection,
        booking: &Booking,
        insert_first: bool,
    ) -> Result<Delivery, DeliveryError> {
        let id = event_id(booking.appointment.id);
        let mut event = event(booking);
        let order = if insert_first { [true, false] } else { [false, true] };
        for insert in order {
            let (status, text) = if insert {
                event["id"] = json!(id);
                self.call(connection, Method::POST, "/events", Some(&event)).await?
            } else {
                self.call(connection, Method::PATCH, &format!("/events/{id}"), Some(&event)).await?
            };
            match status {
                s if s.is_success() => return Ok(Delivery::Sent),
                // A retried insert whose event exists, or a patch of an event not there: the other.
                StatusCode::CONFLICT if insert => continue,
                StatusCode::NOT_FOUND | StatusCode::GONE if !insert => continue,
                s => return Err(DeliveryError::from_status(s, &text)),
            }
        }
        Err(DeliveryError::Transient("the calendar neither created nor updated the event".into()))
    }
}

#[async_trait]
impl Channel for GoogleCalendar {
    fn kind(&self) -> OutboxKind {
        OutboxKind::CalendarSync
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError> {
        let unreadable = || DeliveryError::Permanent("not a calendar item".into());
        let id: AppointmentId =
            item.payload["appointment_id"].as_str().and_then(|s| s.parse().ok()).ok_or_else(unreadable)?;
        let action = item.payload["action"].as_str().and_then(Action::parse).ok_or_else(unreadable)?;
        let mut connection = self
            .calendars
            .open(item.company_id)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        if !connection.is_connected() {
            return Ok(Delivery::Skipped("no Google Calendar connected".into()));
        }
        if action == Action::Delete {
            let (status, text) = self
                .call(&mut connection, Method::DELETE, &format!("/events/{}", event_id(id)), None)
                .await?;
            return match status {
                s if s.is_success() => Ok(Delivery::Sent),
                StatusCode::NOT_FOUND | StatusCode::GONE => {
                    Ok(Delivery::Skipped("the event is not in the calendar".into()))
                }
                s => Err(DeliveryError::from_status(s, &text)),
            };
        }
        let stored = self.appointments.get_appointment(item.company_id, id).await.map_err(|e| {
            if e.is_not_found() {
                DeliveryError::Permanent("the appointment is gone".into())
            } else {
                DeliveryError::Transient(e.to_string())
            }
        })?;
        if stored.status == AppointmentStatus::Cancelled {
            return Ok(Delivery::Skipped("the appointment was cancelled meanwhile".into()));
        }
        let booking =
            Booking::open(stored, &self.cipher).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        self.upsert(&mut connection, &booking, action == Action::Insert).await
    }
}

/// The calendar event of an appointment: Google's event ids are base32hex, which a UUID's hex is.
fn event_id(id: AppointmentId) -> String {
    id.0.simple().to_string()
}

/// What the event says: who and what about, when.
fn event(booking: &Booking) -> Value {
    let (a, p) = (&booking.appointment, &booking.personal);
    let who = p.name.as_deref().or(p.email.as_deref()).unwrap_or("a customer");
    let mut lines: Vec<String> = Vec::new();
    for (label, value) in
        [("E-mail", &p.email), ("Phone", &p.phone), ("Company", &p.company_name), ("About", &a.inquiry)]
    {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    }
    json!({
        "summary": format!("Appointment with {who}"),
        "description": lines.join("\n"),
        "start": { "dateTime": a.starts_at.to_rfc3339() },
        "end": { "dateTime": a.ends_at().to_rfc3339() },
    })
}

/// A calendar id as one path segment.
fn encode(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}
