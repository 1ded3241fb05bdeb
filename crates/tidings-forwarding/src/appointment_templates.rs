//! The e-mails of appointments: to the customer (booked, confirmed, moved, cancelled, reminder) and
//! to the company's notification address. Times are shown in the company's time zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tidings_domain::Booking;

use crate::mail::Email;
use crate::templates::{escape, one_line, page};

/// What happened to an appointment, as an e-mail tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Booked, waiting for the company to confirm.
    Requested,
    /// Booked or confirmed: it takes place.
    Confirmed,
    /// Moved from another time.
    Moved {
        /// Where it started before.
        from: DateTime<Utc>,
    },
    /// Called off.
    Cancelled,
    /// It is coming up.
    Reminder,
}

/// An appointment as e-mails describe it.
pub struct Visit<'a> {
    /// The company's display name.
    pub company: &'a str,
    /// The company's time zone.
    pub time_zone: Tz,
    /// The appointment.
    pub booking: &'a Booking,
}

impl Visit<'_> {
    fn when(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.time_zone);
        format!("{} ({})", local.format("%A, %-d %B %Y at %H:%M"), self.time_zone.name())
    }

    fn starts(&self) -> String {
        self.when(self.booking.appointment.starts_at)
    }
}

/// The e-mail to the customer at `to`.
pub fn to_customer(to: &str, visit: &Visit<'_>, notice: Notice) -> Email {
    let company = visit.company;
    let (subject, headline) = match notice {
        Notice::Requested => (
            format!("We received your booking with {company}"),
            format!("We received your booking for {}. {company} will confirm it shortly.", visit.starts()),
        ),
        Notice::Confirmed => (
            format!("Your appointment with {company} is confirmed"),
            format!("Your appointment on {} is confirmed.", visit.starts()),
        ),
        Notice::Moved { from } => (
            format!("Your appointment with {company} was moved"),
            format!("Your appointment on {} was moved to {}.", visit.when(from), visit.starts()),
        ),
        Notice::Cancelled => (
            format!("Your appointment with {company} was cancelled"),
            format!("Your appointment on {} was cancelled.", visit.starts()),
        ),
        Notice::Reminder => (
            format!("Reminder: your appointment with {company}"),
            format!("This is a reminder of your appointment on {}.", visit.starts()),
        ),
    };
    let name = visit.booking.personal.name.as_deref().unwrap_or("there");
    render(to, &subject, &format!("Hello {name},"), &headline, &details(visit, false))
}

/// The e-mail to the company's notification address `to`.
pub fn to_company(to: &str, visit: &Visit<'_>, notice: Notice) -> Email {
    let who = visit.booking.personal.name.as_deref().unwrap_or("A customer");
    let (subject, headline) = match notice {
        Notice::Requested | Notice::Confirmed => {
            (format!("New booking: {who}, {}", visit.starts()), format!("{who} booked {}.", visit.starts()))
        }
        Notice::Moved { from } => (
            format!("Booking moved: {who}, {}", visit.starts()),
            format!("The booking of {who} on {} was moved to {}.", visit.when(from), visit.starts()),
        ),
        Notice::Cancelled | Notice::Reminder => (
            format!("Booking cancelled: {who}, {}", visit.starts()),
            format!("The booking of {who} on {} was cancelled.", visit.starts()),
        ),
    };
    render(to, &subject, "Hello,", &headline, &details(visit, true))
}

/// The lines of details an e-mail lists; the company also sees the customer's contact data.
fn details(visit: &Visit<'_>, for_company: bool) -> Vec<(&'static str, String)> {
    let (a, p) = (&visit.booking.appointment, &visit.booking.personal);
    let mut lines = vec![("When", visit.starts()), ("Length", format!("{} minutes", a.duration_min))];
    if for_company {
        let contact =
            [("Name", &p.name), ("E-mail", &p.email), ("Phone", &p.phone), ("Company", &p.company_name)];
        lines.extend(contact.into_iter().filter_map(|(label, value)| Some((label, value.clone()?))));
        lines.push(("Status", a.status.as_str().to_owned()));
    }
    if let Some(inquiry) = &a.inquiry {
        lines.push(("About", inquiry.clone()));
    }
    lines
}

fn render(to: &str, subject: &str, greeting: &str, headline: &str, details: &[(&str, String)]) -> Email {
    let text_details: String = details.iter().map(|(label, value)| format!("{label}: {value}\n")).collect();
    let text = format!("{greeting}\n\n{headline}\n\n{text_details}");
    let rows: String = details
        .iter()
        .map(|(label, value)| {
            format!("<tr><th align=\"left\">{}</th><td>{}</td></tr>", escape(label), escape(value))
        })
        .collect();
    let html = page(&format!(
        "<p>{}</p><p>{}</p><table cellpadding=\"4\">{rows}</table>",
        escape(greeting),
        escape(headline)
    ));
    Email { to: to.to_owned(), subject: one_line(subject), text, html }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tidings_domain::{Appointment, AppointmentId, AppointmentStatus, CompanyId, PersonalData};

    use super::*;

    fn booking() -> Booking {
        let starts_at = Utc.with_ymd_and_hms(2030, 1, 7, 9, 0, 0).single().unwrap_or_default();
        Booking {
            appointment: Appointment {
                id: AppointmentId::new(),
                company_id: CompanyId::new(),
                contact_id: None,
                conversation_id: None,
                starts_at,
                duration_min: 30,
                status: AppointmentStatus::Pending,
                personal_sealed: None,
                email_index: None,
                key_id: None,
                remind_at: None,
                inquiry: Some("<b>Dog</b> grooming".into()),
                created_by: "user:x".into(),
                created_at: starts_at,
                updated_at: starts_at,
            },
            personal: PersonalData {
                name: Some("Ada <Lovelace>".into()),
                email: Some("ada@example.com".into()),
                phone: Some("+44 1".into()),
                company_name: None,
            },
        }
    }

    #[test]
    fn times_are_the_company_s_and_values_are_escaped() {
        let booking = booking();
        let visit =
            Visit { company: "Acme\r\nBcc: x", time_zone: chrono_tz::Europe::Berlin, booking: &booking };
        let email = to_customer("ada@example.com", &visit, Notice::Confirmed);
        assert_eq!(email.subject, "Your appointment with Acme  Bcc: x is confirmed");
        assert!(email.text.contains("Monday, 7 January 2030 at 10:00 (Europe/Berlin)"), "{}", email.text);
        assert!(email.text.contains("Hello Ada <Lovelace>,") && !email.text.contains("+44 1"));
        assert!(email.html.contains("&lt;b&gt;Dog&lt;/b&gt;") && !email.html.contains("<b>Dog"));
        let notice = to_company(
            "desk@acme.test",
            &visit,
            Notice::Moved { from: booking.appointment.starts_at - chrono::Duration::days(1) },
        );
        assert!(
            notice.text.contains("Sunday, 6 January 2030 at 10:00") && notice.text.contains("Phone: +44 1")
        );
    }
}
