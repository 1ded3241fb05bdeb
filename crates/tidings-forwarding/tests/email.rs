//! The e-mail channel against a real store and a stand-in SMTP server: a sealed e-mail goes out once
//! as plain text and HTML; a 4xx answer or an unreachable server is retried, a 5xx one is dead; no
//! server configured skips the item with the reason; an item sealed under another key is dead. The
//! stored payload never shows the address, and errors never quote it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::sync::Arc;
use std::time::Duration;

use tidings_auth::Cipher;
use tidings_domain::{CompanyId, CompanyRepo, NewCompany, OutboxItem, OutboxRepo, OutboxStatus};
use tidings_forwarding::test_smtp::SmtpSink;
use tidings_forwarding::{
    Channel, Email, EmailChannel, NO_SMTP_SERVER, RetryPolicy, Sender, SmtpServer, Worker, WorkerSettings,
    enqueue_email,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

backend_tests!(
    a_sealed_email_goes_out_once_as_text_and_html,
    a_temporary_refusal_is_retried_and_a_permanent_one_is_dead,
    an_unreachable_server_is_retried,
    without_a_server_the_item_is_skipped_with_the_reason,
    an_email_sealed_under_another_key_is_dead,
);

const TO: &str = "ada.lovelace@acme.test";

fn cipher() -> Cipher {
    Cipher::new(&[7; 32])
}

fn email() -> Email {
    Email {
        to: TO.into(),
        subject: "Réinitialisez votre mot de passe".into(),
        text: "Hello Ada,\n\nhttp://127.0.0.1:8080/reset-password?token=tdp_secret-token\n".into(),
        html: "<p>Hello Ada,</p><p><a href=\"http://127.0.0.1:8080/reset-password?token=tdp_secret-token\">Reset</a></p>"
            .into(),
    }
}

async fn company(db: &TestDb) -> CompanyId {
    db.store().create_company(NewCompany { name: "Acme".into() }).await.unwrap().id
}

fn worker(db: &TestDb, smtp: Option<&str>, cipher: Cipher) -> Worker {
    let server = smtp.map(|url| SmtpServer::parse(url).unwrap());
    let from: Sender = "Acme Support <support@acme.test>".parse().unwrap();
    let channel = EmailChannel::new(server.as_ref(), from, cipher).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(channel)];
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(20),
            max_attempts: 3,
        },
        lease: Duration::from_secs(30),
        batch: 16,
        poll: Duration::from_millis(10),
    };
    Worker::new(Arc::new(db.store().clone()), channels, settings)
}

async fn item(db: &TestDb, company_id: CompanyId) -> OutboxItem {
    let items = db.store().list_outbox(company_id, None, None, None, 10).await.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    items.into_iter().next().unwrap()
}

async fn a_sealed_email_goes_out_once_as_text_and_html(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let acme = company(db).await;
    let queued =
        enqueue_email(db.store(), &cipher(), acme, "password-reset:1".into(), &email()).await.unwrap();
    let again =
        enqueue_email(db.store(), &cipher(), acme, "password-reset:1".into(), &email()).await.unwrap();
    assert_eq!(again.id, queued.id, "one item per key");
    let stored = queued.payload.to_string();
    assert!(!stored.contains("ada.lovelace") && !stored.contains("tdp_secret"), "{stored}");

    let worker = worker(db, Some(&sink.url()), cipher());
    assert_eq!(worker.tick().await, 1);
    assert_eq!(worker.tick().await, 0, "nothing left");
    assert_eq!(item(db, acme).await.status, OutboxStatus::Delivered);

    let received = sink.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!((mail.from.as_str(), mail.to.as_slice()), ("support@acme.test", [TO.to_owned()].as_slice()));
    assert!(mail.header("content-type").unwrap().starts_with("multipart/alternative"));
    assert!(mail.header("from").unwrap().contains("support@acme.test"));
    assert!(mail.header("message-id").is_some());
    let text = mail.part("text/plain").expect("a plain-text part");
    let html = mail.part("text/html").expect("an HTML part");
    assert!(text.contains("reset-password?token=tdp_secret-token"), "{text}");
    assert!(
        html.contains("<a href=\"http://127.0.0.1:8080/reset-password?token=tdp_secret-token\">"),
        "{html}"
    );
}

async fn a_temporary_refusal_is_retried_and_a_permanent_one_is_dead(db: &TestDb) {
    let busy = SmtpSink::answering_rcpt(&format!("450 4.2.1 <{TO}>: mailbox busy")).await.unwrap();
    let acme = company(db).await;
    enqueue_email(db.store(), &cipher(), acme, "k".into(), &email()).await.unwrap();
    worker(db, Some(&busy.url()), cipher()).tick().await;
    let retried = item(db, acme).await;
    assert_eq!((retried.status, retried.attempts), (OutboxStatus::Pending, 1));
    let error = retried.last_error.unwrap();
    assert!(error.contains("450") && !error.contains("ada.lovelace"), "{error}");
    assert!(busy.received().is_empty());

    tokio::time::sleep(Duration::from_millis(50)).await;
    let unknown = SmtpSink::answering_rcpt(&format!("550 5.1.1 <{TO}>: no such user")).await.unwrap();
    worker(db, Some(&unknown.url()), cipher()).tick().await;
    let dead = item(db, acme).await;
    assert_eq!((dead.status, dead.attempts), (OutboxStatus::Dead, 2));
    let error = dead.last_error.unwrap();
    assert!(error.contains("550") && !error.contains("ada.lovelace"), "{error}");
}

async fn an_unreachable_server_is_retried(db: &TestDb) {
    // A port that was free a moment ago: nothing listens there.
    let url = {
        let sink = SmtpSink::start().await.unwrap();
        sink.url()
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let acme = company(db).await;
    enqueue_email(db.store(), &cipher(), acme, "k".into(), &email()).await.unwrap();
    worker(db, Some(&url), cipher()).tick().await;
    let retried = item(db, acme).await;
    assert_eq!((retried.status, retried.attempts), (OutboxStatus::Pending, 1), "{:?}", retried.last_error);
}

async fn without_a_server_the_item_is_skipped_with_the_reason(db: &TestDb) {
    let acme = company(db).await;
    enqueue_email(db.store(), &cipher(), acme, "k".into(), &email()).await.unwrap();
    assert_eq!(worker(db, None, cipher()).tick().await, 1);
    let skipped = item(db, acme).await;
    assert_eq!(skipped.status, OutboxStatus::Skipped);
    assert_eq!(skipped.last_error.as_deref(), Some(NO_SMTP_SERVER));
    assert_eq!(NO_SMTP_SERVER, "no SMTP server configured (TIDINGS_SMTP_URL)");
}

async fn an_email_sealed_under_another_key_is_dead(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let acme = company(db).await;
    enqueue_email(db.store(), &Cipher::new(&[9; 32]), acme, "k".into(), &email()).await.unwrap();
    worker(db, Some(&sink.url()), cipher()).tick().await;
    let dead = item(db, acme).await;
    assert_eq!(dead.status, OutboxStatus::Dead);
    assert!(dead.last_error.unwrap().contains("does not open"));
    assert!(sink.received().is_empty());
}
