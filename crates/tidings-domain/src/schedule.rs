//! A company's bookable time: business hours in its time zone, the slot step, and when reminders go
//! out. Stored in the company's settings under `appointments`; every field has a default.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The week's days as settings name them, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The opening hours of one day, local time (`HH:MM`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenHours {
    /// First bookable minute.
    #[schema(example = "09:00")]
    pub open: String,
    /// End of the last bookable appointment.
    #[schema(example = "17:00")]
    pub close: String,
}

/// Appointment settings as a company stores and edits them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSettings {
    /// IANA time zone the hours are in (default `UTC`).
    #[serde(default = "default_time_zone")]
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// Opening hours per day (`mon` .. `sun`); a day that is absent is closed (default Mon-Fri
    /// 09:00-17:00).
    #[serde(default = "default_hours")]
    pub business_hours: BTreeMap<String, OpenHours>,
    /// Appointments start at opening time plus a multiple of this many minutes (default 15).
    #[serde(default = "default_step")]
    #[schema(minimum = 5, maximum = 240, multiple_of = 5)]
    pub slot_step_min: u32,
    /// How many hours before an appointment its reminder e-mail goes out; 0 sends none (default 24).
    #[serde(default = "default_reminder")]
    #[schema(maximum = 168)]
    pub reminder_hours: u32,
    /// Where the company is told of bookings, changes and cancellations.
    #[serde(default)]
    #[schema(format = Email)]
    pub notification_email: Option<String>,
}

fn default_time_zone() -> String {
    "UTC".into()
}

fn default_hours() -> BTreeMap<String, OpenHours> {
    WEEKDAYS[..5]
        .iter()
        .map(|day| ((*day).into(), OpenHours { open: "09:00".into(), close: "17:00".into() }))
        .collect()
}

fn default_step() -> u32 {
    15
}

fn default_reminder() -> u32 {
    24
}

impl Default for AppointmentSettings {
    fn default() -> Self {
        Self {
            time_zone: default_time_zone(),
            business_hours: default_hours(),
            slot_step_min: default_step(),
            reminder_hours: default_reminder(),
            notification_email: None,
        }
    }
}

/// Longest reminder lead: a week.
pub const MAX_REMINDER_HOURS: u32 = 168;

impl AppointmentSettings {
    /// The settings of a company's settings object; defaults where it has none.
    pub fn of_company(settings: &serde_json::Value) -> Self {
        settings
            .get("appointments")
            .and_then(|value| serde_json::from_value(value.clone()).ok())
            .unwrap_or_default()
    }

    /// Checks every field; the error names the field and what is wrong with it.
    pub fn schedule(&self) -> Result<Schedule, (&'static str, String)> {
        let time_zone: Tz = self
            .time_zone
            .parse()
            .map_err(|_| ("time_zone", format!("`{}` is not an IANA time zone", self.time_zone)))?;
        let mut hours = [None; 7];
        for (day, open_hours) in &self.business_hours {
            let index = WEEKDAYS
                .iter()
                .position(|d| d == day)
                .ok_or_else(|| ("business_hours", format!("`{day}` is not one of mon, tue, ... sun")))?;
            let parse = |value: &str| {
                NaiveTime::parse_from_str(value, "%H:%M")
                    .map_err(|_| ("business_hours", format!("{day}: `{value}` is not a time (HH:MM)")))
            };
            let (open, close) = (parse(&open_hours.open)?, parse(&open_hours.close)?);
            if open >= close {
                return Err(("business_hours", format!("{day}: opens at or after it closes")));
            }
            hours[index] = Some((open, close));
        }
        if !(5..=240).contains(&self.slot_step_min) || !self.slot_step_min.is_multiple_of(5) {
            return Err(("slot_step_min", "must be a multiple of 5 from 5 to 240".into()));
        }
        if self.reminder_hours > MAX_REMINDER_HOURS {
            return Err(("reminder_hours", format!("must be at most {MAX_REMINDER_HOURS}")));
        }
        if let Some(address) = &self.notification_email
            && (address.len() > 254 || !address.contains('@') || address.chars().any(char::is_whitespace))
        {
            return Err(("notification_email", "is not an e-mail address".into()));
        }
        Ok(Schedule {
            time_zone,
            hours,
            step: Duration::minutes(i64::from(self.slot_step_min)),
            reminder: Duration::hours(i64::from(self.reminder_hours)),
        })
    }
}

/// Checked settings: when appointments may be booked.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    time_zone: Tz,
    hours: [Option<(NaiveTime, NaiveTime)>; 7],
    step: Duration,
    reminder: Duration,
}

/// Why a time cannot be booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutsideHours {
    /// The day is closed.
    Closed,
    /// It starts before opening or ends after closing.
    OutsideHours,
    /// It does not start on the slot grid (opening time plus a multiple of the step).
    OffGrid,
}

impl Schedule {
    /// The company's time zone.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// When the reminder of an appointment starting at `starts_at` goes out, if one does: `None`
    /// when reminders are off or that moment is not after `now` (a late booking needs none).
    pub fn remind_at(&self, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let at = starts_at - self.reminder;
        (self.reminder > Duration::zero() && at > now).then_some(at)
    }

    /// Opening and closing of a local date, in UTC; `None` when the day is closed.
    fn day(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (open, close) = self.hours[date.weekday().num_days_from_monday() as usize]?;
        let open = self.time_zone.from_local_datetime(&date.and_time(open)).earliest()?;
        let close = self.time_zone.from_local_datetime(&date.and_time(close)).latest()?;
        Some((open.with_timezone(&Utc), close.with_timezone(&Utc)))
    }

    /// Whether an appointment of `minutes` may start at `starts_at`: inside one day's hours, on the
    /// slot grid.
    pub fn check(&self, starts_at: DateTime<Utc>, minutes: i32) -> Result<(), OutsideHours> {
        let date = starts_at.with_timezone(&self.time_zone).date_naive();
        let (open, close) = self.day(date).ok_or(OutsideHours::Closed)?;
        let ends_at = starts_at + Duration::minutes(i64::from(minutes));
        if starts_at < open || ends_at > close {
            return Err(OutsideHours::OutsideHours);
        }
        let step = self.step.num_seconds();
        if (starts_at - open).num_seconds() % step != 0 {
            return Err(OutsideHours::OffGrid);
        }
        Ok(())
    }

    /// The whole of a local date's opening hours in UTC, for reading its bookings.
    pub fn opening(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.day(date)
    }

    /// The free starts of a local date for an appointment of `minutes`: every slot of the grid that
    /// fits in the day's hours, starts after `now` and overlaps none of `busy` (`[start, end)`).
    pub fn free_slots(
        &self,
        date: NaiveDate,
        minutes: i32,
        busy: &[(DateTime<Utc>, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let Some((open, close)) = self.day(date) else { return Vec::new() };
        let length = Duration::minutes(i64::from(minutes));
        let mut slots = Vec::new();
        let mut start = open;
        while start + length <= close {
            let end = start + length;
            if start > now && !busy.iter().any(|(from, to)| *from < end && start < *to) {
                slots.push(start);
            }
            start += self.step;
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn defaults_are_weekdays_nine_to_five_in_utc() {
        let schedule = AppointmentSettings::default().schedule().unwrap();
        // 2030-01-07 is a Monday.
        assert_eq!(schedule.check(at("2030-01-07T09:00:00Z"), 60), Ok(()));
        assert_eq!(schedule.check(at("2030-01-07T16:00:00Z"), 60), Ok(()));
        assert_eq!(schedule.check(at("2030-01-07T16:30:00Z"), 45), Err(OutsideHours::OutsideHours));
        assert_eq!(schedule.check(at("2030-01-07T08:45:00Z"), 15), Err(OutsideHours::OutsideHours));
        assert_eq!(schedule.check(at("2030-01-07T09:10:00Z"), 15), Err(OutsideHours::OffGrid));
        assert_eq!(schedule.check(at("2030-01-12T10:00:00Z"), 30), Err(OutsideHours::Closed));
    }

    #[test]
    fn hours_are_read_in_the_company_time_zone() {
        let settings = AppointmentSettings { time_zone: "Europe/Berlin".into(), ..Default::default() };
        let schedule = settings.schedule().unwrap();
        // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
        assert_eq!(schedule.check(at("2030-01-07T08:00:00Z"), 30), Ok(()));
        assert_eq!(schedule.check(at("2030-07-01T07:00:00Z"), 30), Ok(()));
        assert_eq!(schedule.check(at("2030-07-01T15:30:00Z"), 30), Err(OutsideHours::OutsideHours));
    }

    #[test]
    fn free_slots_leave_out_the_past_and_the_busy() {
        let settings = AppointmentSettings { slot_step_min: 30, ..Default::default() };
        let schedule = settings.schedule().unwrap();
        let date = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
        let busy = [(at("2030-01-07T10:00:00Z"), at("2030-01-07T11:00:00Z"))];
        let slots = schedule.free_slots(date, 60, &busy, at("2030-01-07T09:10:00Z"));
        let first: Vec<String> = slots.iter().take(3).map(|s| s.format("%H:%M").to_string()).collect();
        // 09:00 is past, 09:30 and 10:00/10:30 would overlap the booking, 11:00 is the first free.
        assert_eq!(first, ["11:00", "11:30", "12:00"]);
        assert_eq!(slots.last().unwrap().format("%H:%M").to_string(), "16:00");
        assert!(
            schedule
                .free_slots(date.succ_opt().unwrap().succ_opt().unwrap(), 30, &[], at("2030-01-01T00:00:00Z"))
                .len()
                == 16
        );
        let saturday = NaiveDate::from_ymd_opt(2030, 1, 12).unwrap();
        assert!(schedule.free_slots(saturday, 30, &[], at("2030-01-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn bad_settings_name_their_field() {
        let bad = |f: fn(&mut AppointmentSettings)| {
            let mut settings = AppointmentSettings::default();
            f(&mut settings);
            settings.schedule().unwrap_err().0
        };
        assert_eq!(bad(|s| s.time_zone = "Mars/Olympus".into()), "time_zone");
        assert_eq!(bad(|s| s.slot_step_min = 7), "slot_step_min");
        assert_eq!(bad(|s| s.reminder_hours = 500), "reminder_hours");
        assert_eq!(bad(|s| s.notification_email = Some("nobody".into())), "notification_email");
        assert_eq!(
            bad(|s| {
                s.business_hours
                    .insert("mon".into(), OpenHours { open: "18:00".into(), close: "09:00".into() });
            }),
            "business_hours"
        );
        assert_eq!(
            bad(|s| {
                s.business_hours
                    .insert("funday".into(), OpenHours { open: "09:00".into(), close: "10:00".into() });
            }),
            "business_hours"
        );
    }

    #[test]
    fn reminders_go_out_ahead_unless_the_booking_is_late() {
        let schedule = AppointmentSettings::default().schedule().unwrap();
        let start = at("2030-01-08T10:00:00Z");
        assert_eq!(schedule.remind_at(start, at("2030-01-01T00:00:00Z")), Some(at("2030-01-07T10:00:00Z")));
        assert_eq!(schedule.remind_at(start, at("2030-01-07T12:00:00Z")), None);
        let off = AppointmentSettings { reminder_hours: 0, ..Default::default() }.schedule().unwrap();
        assert_eq!(off.remind_at(start, at("2030-01-01T00:00:00Z")), None);
    }
}
