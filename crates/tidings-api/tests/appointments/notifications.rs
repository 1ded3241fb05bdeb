//! What appointments tell the outside world through the outbox: e-mails to the customer and the
//! company's notification address (received by a stand-in SMTP server), webhook events
//! `appointment.*` in order, and reminders sent once however often the job runs.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tidings_domain::{CompanyId, OutboxKind, OutboxRepo};
use tidings_forwarding::test_smtp::{Received, SmtpSink};
use tidings_forwarding::{
    AppointmentReminders, Channel, EmailChannel, Job, Sender, SmtpServer, Worker, WorkerSettings,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Caller, delete, patch, post, put, register, settings, state};
use crate::{at, book, monday};

backend_tests!(
    customers_and_the_company_are_e_mailed_and_webhooks_hear_every_change,
    a_due_reminder_is_sent_once_however_often_the_job_runs,
);

/// Delivers every due outbox item (e-mail to `smtp`, webhooks) until none is left.
async fn deliver(db: &TestDb, app: &tidings_api::AppState, smtp: &SmtpSink) {
    let server = SmtpServer::parse(&smtp.url()).unwrap();
    let email = EmailChannel::new(Some(&server), Sender::default(), settings().cipher()).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(email), Arc::new(app.webhook_channel(true).unwrap())];
    let worker = Worker::new(Arc::new(db.store().clone()), channels, WorkerSettings::default());
    for _ in 0..50 {
        if worker.tick().await == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

fn subjects(mails: &[Received], to: &str) -> Vec<String> {
    mails.iter().filter(|m| m.to == [to]).map(|m| m.header("subject").unwrap()).collect()
}

async fn customers_and_the_company_are_e_mailed_and_webhooks_hear_every_change(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let sink = SmtpSink::start().await.unwrap();
    let owner = register(&svc, "Acme Grooming", "owner@acme.test").await;
    let settings = json!({ "notification_email": "desk@acme.test", "time_zone": "Europe/London" });
    svc.call(put("/v1/appointments/settings", &owner.token, settings)).await.expect(200);
    let events = ["appointment.created", "appointment.updated", "appointment.cancelled"];
    let hook = json!({ "url": format!("{}/hook", receiver.uri()), "events": events });
    svc.call(post("/v1/webhooks", &owner.token, hook)).await.expect(201);

    let body = json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "name": "Ada",
        "email": "ada@example.com", "phone": "+44 1", "inquiry": "Poodle, full groom" });
    let booked = book(&svc, &owner, body).await.expect(201);
    let path = format!("/v1/appointments/{}", booked["id"].as_str().unwrap());
    svc.call(patch(&path, &owner.token, json!({ "status": "confirmed" }))).await.expect(200);
    svc.call(put(&path, &owner.token, json!({ "starts_at": at(monday(), 14, 0) }))).await.expect(200);
    svc.call(put(&path, &owner.token, json!({ "inquiry": "Poodle, trim only" }))).await.expect(200);
    svc.call(delete(&path, &owner.token)).await.expect(200);

    // E-mails are sealed in the outbox: neither address nor name can be read there.
    let company: CompanyId = owner.company_id.parse().unwrap();
    let queued = db.store().list_outbox(company, None, Some(OutboxKind::Email), None, 50).await.unwrap();
    assert_eq!(queued.len(), 7, "booked x2, confirmed, moved x2, cancelled x2");
    for item in &queued {
        let payload = item.payload.to_string();
        assert!(!payload.contains("ada@example.com") && !payload.contains("Poodle"), "{payload}");
    }
    deliver(db, &app, &sink).await;
    let mails = sink.received();
    let day = monday().format("%A, %-d %B %Y").to_string();
    assert_eq!(
        subjects(&mails, "ada@example.com"),
        [
            "We received your booking with Acme Grooming",
            "Your appointment with Acme Grooming is confirmed",
            "Your appointment with Acme Grooming was moved",
            "Your appointment with Acme Grooming was cancelled",
        ]
    );
    let desk = subjects(&mails, "desk@acme.test");
    assert_eq!(desk.len(), 3, "{desk:?}");
    assert!(
        desk[0].starts_with("New booking: Ada, ") && desk[1].starts_with("Booking moved: Ada"),
        "{desk:?}"
    );
    assert!(desk[2].starts_with("Booking cancelled: Ada"), "{desk:?}");
    let moved = mails.iter().find(|m| m.header("subject").unwrap().ends_with("was moved")).unwrap();
    let text = moved.part("text/plain").unwrap();
    // Shown in the company's zone: London is UTC in winter and UTC+1 in summer.
    let local = |hour| {
        let utc = chrono::DateTime::parse_from_rfc3339(&at(monday(), hour, 0)).unwrap();
        utc.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string()
    };
    assert!(text.contains(&format!("{day} at {} (Europe/London)", local(10))), "{text}");
    assert!(text.contains(&format!("moved to {day} at {}", local(14))), "{text}");
    assert!(!text.contains("+44 1"), "the customer's own phone stays out of their e-mail");
    let notice = mails.iter().find(|m| m.to == ["desk@acme.test"]).unwrap().part("text/plain").unwrap();
    assert!(notice.contains("Phone: +44 1") && notice.contains("E-mail: ada@example.com"), "{notice}");

    let received = receiver.received_requests().await.unwrap();
    let hooks: Vec<Value> = received.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    let kinds: Vec<&str> = hooks.iter().map(|h| h["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "appointment.created",
            "appointment.updated",
            "appointment.updated",
            "appointment.updated",
            "appointment.cancelled"
        ]
    );
    assert_eq!(hooks[0]["data"]["appointment"]["email"], "ada@example.com");
    assert_eq!(hooks[1]["data"]["previous"]["status"], "pending");
    assert_eq!(hooks[2]["data"]["previous"]["starts_at"], booked["starts_at"]);
    assert_eq!(hooks[4]["data"]["appointment"]["status"], "cancelled");
    // The webhook's appointment is the API's.
    let read = svc.call(crate::support::get(&path, &owner.token)).await.expect(200);
    assert_eq!(hooks[4]["data"]["appointment"], read);
}

async fn a_due_reminder_is_sent_once_however_often_the_job_runs(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let sink = SmtpSink::start().await.unwrap();
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let week = json!({ "reminder_hours": 168 });
    svc.call(put("/v1/appointments/settings", &owner.token, week)).await.expect(200);
    let mut ids = Vec::new();
    for (hour, email) in [(9, Some("ada@example.com")), (10, Some("bob@example.com")), (11, None)] {
        let mut body = json!({ "starts_at": at(monday(), hour, 0), "duration": 30 });
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        ids.push(book(&svc, &owner, body).await.expect(201)["id"].as_str().unwrap().to_owned());
    }
    let reminders =
        AppointmentReminders::new(Arc::new(db.store().clone()), settings().cipher(), Duration::from_secs(1));
    reminders.run().await.unwrap();
    let company: CompanyId = owner.company_id.parse().unwrap();
    let reminder_items = || async {
        let items = db.store().list_outbox(company, None, Some(OutboxKind::Email), None, 50).await.unwrap();
        items.into_iter().filter(|i| i.idempotency_key.contains("_reminder_")).count()
    };
    assert_eq!(reminder_items().await, 0, "not due yet: a week ahead of a Monday two weeks away");

    // A week passes for Bob's and Ada's bookings; Bob's is cancelled meanwhile.
    db.execute("UPDATE appointments SET remind_at = '2020-01-01 00:00:00' WHERE remind_at IS NOT NULL")
        .await
        .unwrap();
    svc.call(delete(&format!("/v1/appointments/{}", ids[1]), &owner.token)).await.expect(200);
    let runs = join_all((0..4).map(|_| reminders.run())).await;
    assert!(runs.iter().all(Result::is_ok), "{runs:?}");
    reminders.run().await.unwrap();
    assert_eq!(reminder_items().await, 1, "Ada's only: once, however many runs");
    deliver(db, &app, &sink).await;
    let sent: Vec<_> = sink
        .received()
        .into_iter()
        .filter(|m| m.header("subject").unwrap().starts_with("Reminder"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, ["ada@example.com"]);
    assert!(sent[0].part("text/plain").unwrap().contains("This is a reminder of your appointment on"));

    // Moving the appointment sets a new reminder for the new time.
    let moved = json!({ "starts_at": at(monday(), 15, 0) });
    svc.call(put(&format!("/v1/appointments/{}", ids[0]), &owner.token, moved)).await.expect(200);
    let id = ids[0].parse().unwrap();
    let again = tidings_domain::AppointmentRepo::get_appointment(db.store(), company, id).await.unwrap();
    assert!(again.remind_at.is_some(), "a reminder for the new time");
}
