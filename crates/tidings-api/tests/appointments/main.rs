//! Appointments through HTTP, on SQLite and PostgreSQL: bookings never overlap (racing ones
//! included), keep to the company's hours, move through their statuses; customers see their own
//! only, other companies nothing; personal data is sealed at rest and found by e-mail.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod availability;
mod booking;
mod calendar;
mod notifications;
mod privacy;
#[path = "../support/mod.rs"]
mod support;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::support::{Caller, Tenant, post};

/// A Monday two to three weeks ahead: in the future, inside the default business hours.
pub(crate) fn monday() -> NaiveDate {
    let today = Utc::now().date_naive() + Duration::days(14);
    today - Duration::days(i64::from(today.weekday().num_days_from_monday()))
}

/// `HH:MM` UTC on `date`, as RFC 3339.
pub(crate) fn at(date: NaiveDate, hour: u32, minute: u32) -> String {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, minute, 0).unwrap()).to_rfc3339()
}

/// Books through the agent API; the reply as is.
pub(crate) async fn book(svc: &impl Caller, owner: &Tenant, body: Value) -> support::Reply {
    svc.call(post("/v1/appointments", &owner.token, body)).await
}

/// A booking of `minutes` at `HH:MM` on the Monday.
pub(crate) fn slot(hour: u32, minute: u32, minutes: i32) -> Value {
    json!({ "starts_at": at(monday(), hour, minute), "duration": minutes, "name": "Ada Lovelace" })
}

/// A time of a reply, to compare whatever its spelling.
pub(crate) fn time(value: &Value) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().to_utc()
}
