//! Appointment reminders with two servers on one PostgreSQL: each due reminder reaches the customer
//! once, whichever node's job runner takes the run, however many runs there are.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Datelike;
use serde_json::{Value, json};
use tidings_forwarding::test_smtp::SmtpSink;
use tidings_store::test_db::TestDb;

use crate::server::{Server, TempDir};

/// Sends a JSON request as `bearer`; returns status and body.
async fn call(
    server: &Server,
    bearer: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let req = reqwest::Client::new().request(method, server.url(path)).header("authorization", bearer);
    let res = req.json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// Reminders received so far, by recipient.
fn reminders(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in sink.received() {
        if mail.header("subject").is_some_and(|s| s.starts_with("Reminder")) {
            *counts.entry(mail.to.join(",")).or_default() += 1;
        }
    }
    counts
}

/// Waits (bounded) until `count` recipients got their reminder.
async fn until_reminded(sink: &SmtpSink, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while reminders(sink).len() < count {
        assert!(Instant::now() < deadline, "only {:?} reminded", reminders(sink));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_send_each_due_reminder_once() {
    let Some(db) = TestDb::postgres().await else { return };
    let sink = SmtpSink::start().await.unwrap();
    let smtp = sink.url();
    let vars = vec![
        ("TIDINGS_JWT_SECRET", "an-appointment-test-secret-of-32-chars-or-more"),
        ("TIDINGS_ENCRYPTION_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        ("TIDINGS_BCRYPT_COST", "4"),
        ("TIDINGS_DATABASE_URL", db.url()),
        ("TIDINGS_SMTP_URL", &smtp),
        ("TIDINGS_APPOINTMENT_REMINDER_SECS", "1"),
        ("TIDINGS_OUTBOX_POLL_MS", "50"),
    ];
    let dirs = (TempDir::new(), TempDir::new());
    let mut a = Server::start(&dirs.0.0, &vars);
    let mut b = Server::start(&dirs.1.0, &vars);

    let register = json!({ "company_name": "Acme", "name": "Ada", "email": "owner@acme.test", "password": "password123" });
    let res = reqwest::Client::new().post(a.url("/v1/auth/register")).json(&register).send().await.unwrap();
    let owner: Value = res.json().await.unwrap();
    let bearer = format!("Bearer {}", owner["access_token"].as_str().unwrap());
    let week = json!({ "reminder_hours": 168 });
    assert_eq!(call(&b, &bearer, reqwest::Method::PUT, "/v1/appointments/settings", week).await.0, 200);
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    let monday = day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        let starts_at = format!("{monday}T{:02}:{:02}:00Z", 9 + n / 2, 30 * (n % 2));
        let body =
            json!({ "starts_at": starts_at, "duration": 30, "email": format!("customer-{n}@example.com") });
        let (status, reply) = call(server, &bearer, reqwest::Method::POST, "/v1/appointments", body).await;
        assert_eq!(status, 201, "{reply}");
    }
    // A week passes for half of them, then for the rest, while both nodes run their job runners.
    for (batch, hours) in [(4, "('09', '10')"), (10, "('11', '12', '13')")] {
        let due = format!(
            "UPDATE appointments SET remind_at = '2020-01-01 00:00:00' \
             WHERE remind_at IS NOT NULL AND to_char(starts_at, 'HH24') IN {hours}"
        );
        db.execute(&due).await.unwrap();
        until_reminded(&sink, batch).await;
    }
    // Several more runs on both nodes change nothing.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let sent = reminders(&sink);
    assert_eq!(sent.len(), 10, "{sent:?}");
    assert!(sent.values().all(|count| *count == 1), "a reminder sent twice: {sent:?}");
    assert!(a.terminate().success() && b.terminate().success());
}
