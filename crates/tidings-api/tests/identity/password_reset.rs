//! Password reset and invitations through HTTP, with the outbox delivered by a worker and its e-mail
//! channel to a stand-in SMTP server: the link arrives as text and HTML, works once, sets the new
//! password, ends every session and lifts a lockout; unknown addresses are answered alike and send
//! nothing; without SMTP the e-mail is kept as skipped with the reason; the outbox shows neither the
//! address nor the token. Members added to a team get an invitation whose link sets their password.

use std::sync::Arc;

use actix_web::test::TestRequest;
use chrono::Duration;
use futures_util::future::join;
use serde_json::{Value, json};
use tidings_auth::{AuthSettings, LockoutPolicy};
use tidings_domain::{CompanyId, OutboxItem, OutboxKind, OutboxRepo, OutboxStatus};
use tidings_forwarding::test_smtp::{Received, SmtpSink};
use tidings_forwarding::{Channel, EmailChannel, Sender, SmtpServer, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, Reply, get, login, post, register, send, settings};

backend_tests!(
    a_reset_link_arrives_and_sets_a_new_password_once,
    unknown_addresses_get_the_same_answer_and_nothing_is_sent,
    without_smtp_the_email_is_kept_as_skipped_with_the_reason,
    expired_links_and_weak_passwords_are_refused,
    of_two_confirms_at_once_one_wins,
    a_reset_lifts_a_lockout,
    members_added_without_a_password_log_in_through_their_invitation,
    members_added_with_a_password_are_invited_too,
);

/// `POST /v1/auth/password-reset`.
async fn request_reset(svc: &impl Caller, email: &str) -> Reply {
    svc.call(TestRequest::post().uri("/v1/auth/password-reset").set_json(json!({ "email": email }))).await
}

/// `POST /v1/auth/password-reset/confirm`.
async fn confirm(svc: &impl Caller, token: &str, password: &str) -> Reply {
    let body = json!({ "token": token, "password": password });
    svc.call(TestRequest::post().uri("/v1/auth/password-reset/confirm").set_json(body)).await
}

/// Delivers every due outbox item through an e-mail channel to `smtp` (none: no SMTP configured),
/// sealed items opened with the test settings' key, until none is left.
async fn deliver(db: &TestDb, smtp: Option<&SmtpSink>) {
    let server = smtp.map(|sink| SmtpServer::parse(&sink.url()).unwrap());
    let channel = EmailChannel::new(server.as_ref(), Sender::default(), settings().cipher()).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(channel)];
    let worker = Worker::new(Arc::new(db.store().clone()), channels, WorkerSettings::default());
    while worker.tick().await > 0 {}
}

/// The company's e-mail items, newest first.
async fn emails(db: &TestDb, company_id: &str) -> Vec<OutboxItem> {
    let company: CompanyId = company_id.parse().unwrap();
    db.store().list_outbox(company, None, Some(OutboxKind::Email), None, 50).await.unwrap()
}

/// The token of the link in an e-mail's plain-text part.
fn token_in(mail: &Received) -> String {
    let text = mail.part("text/plain").expect("a plain-text part");
    let start = text.find("/reset-password?token=").expect("a reset link") + "/reset-password?token=".len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn a_reset_link_arrives_and_sets_a_new_password_once(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    let sink = SmtpSink::start().await.unwrap();

    let accepted = request_reset(&svc, "Ada@Acme.test").await.expect(202);
    assert_eq!(accepted, json!({ "status": "accepted" }));
    let queued = emails(db, &acme.company_id).await;
    assert_eq!(queued.len(), 1);
    assert!(queued[0].idempotency_key.starts_with("password-reset:"), "{}", queued[0].idempotency_key);
    deliver(db, Some(&sink)).await;

    let received = sink.received();
    assert_eq!(received.len(), 1, "one e-mail");
    let mail = &received[0];
    assert_eq!(mail.to, ["ada@acme.test"]);
    assert!(mail.header("content-type").unwrap().starts_with("multipart/alternative"));
    let html = mail.part("text/html").expect("an HTML part");
    let token = token_in(mail);
    assert!(token.starts_with("tdp_") && token.len() == 47, "{token}");
    let link = format!("http://127.0.0.1:8080/reset-password?token={token}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");

    let stored = emails(db, &acme.company_id).await.remove(0);
    assert_eq!(stored.status, OutboxStatus::Delivered);
    let payload = stored.payload.to_string();
    assert!(
        !payload.contains("ada@acme.test") && !payload.contains(&token),
        "readable in the outbox: {payload}"
    );

    assert_eq!(confirm(&svc, &token, "new-password-456").await.status.as_u16(), 204);
    login(&svc, "ada@acme.test", "new-password-456").await.expect(200);
    login(&svc, "ada@acme.test", "password123").await.assert_error(401, "UNAUTHENTICATED");
    confirm(&svc, &token, "third-password-789").await.assert_error(400, "VALIDATION_ERROR");
    login(&svc, "ada@acme.test", "new-password-456").await.expect(200);
    let refresh =
        TestRequest::post().uri("/v1/auth/refresh").set_json(json!({ "refresh_token": acme.refresh_token }));
    send(&svc, refresh).await.assert_error(401, "UNAUTHENTICATED");

    // The owner's audit log holds the one reset (the refused second use records nothing).
    let session = login(&svc, "ada@acme.test", "new-password-456").await.expect(200);
    let token = session["access_token"].as_str().unwrap();
    let resets = send(&svc, get("/v1/audit?action=password.reset", token)).await.expect(200);
    let resets = resets["data"].as_array().unwrap();
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["target"], json!({ "kind": "user", "id": acme.owner_id }));
}

async fn unknown_addresses_get_the_same_answer_and_nothing_is_sent(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    let known = request_reset(&svc, "ada@acme.test").await;
    let unknown = request_reset(&svc, "nobody@acme.test").await;
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert_eq!(db.count_rows("outbox").await, 1, "only the known address gets an e-mail");
    assert_eq!(db.count_rows("password_resets").await, 1);
    assert_eq!(emails(db, &acme.company_id).await.len(), 1);

    request_reset(&svc, "not an address").await.assert_error(400, "VALIDATION_ERROR");
    let extra = json!({ "email": "ada@acme.test", "role": "owner" });
    send(&svc, TestRequest::post().uri("/v1/auth/password-reset").set_json(extra))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    confirm(&svc, "tdp_made-up", "new-password-456").await.assert_error(400, "VALIDATION_ERROR");
}

async fn without_smtp_the_email_is_kept_as_skipped_with_the_reason(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    request_reset(&svc, "ada@acme.test").await.expect(202);
    deliver(db, None).await;
    let item = emails(db, &acme.company_id).await.remove(0);
    assert_eq!(item.status, OutboxStatus::Skipped);
    assert_eq!(item.last_error.as_deref(), Some("no SMTP server configured (TIDINGS_SMTP_URL)"));
    let listed = send(&svc, crate::support::get("/v1/outbox?status=skipped", &acme.token)).await.expect(200);
    assert_eq!(listed["data"][0]["last_error"], "no SMTP server configured (TIDINGS_SMTP_URL)");
}

async fn expired_links_and_weak_passwords_are_refused(db: &TestDb) {
    let expired = AuthSettings { password_reset_ttl: Duration::zero(), ..settings() };
    let svc = app!(db, expired);
    register(&svc, "Acme", "ada@acme.test").await;
    let sink = SmtpSink::start().await.unwrap();
    request_reset(&svc, "ada@acme.test").await.expect(202);
    deliver(db, Some(&sink)).await;
    let token = token_in(&sink.received()[0]);
    let refused = confirm(&svc, &token, "new-password-456").await;
    refused.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(
        refused.body["error"]["details"]["fields"]["token"][0],
        "invalid, expired or already used password reset token"
    );
    login(&svc, "ada@acme.test", "password123").await.expect(200);

    let svc = app!(db);
    request_reset(&svc, "ada@acme.test").await.expect(202);
    deliver(db, Some(&sink)).await;
    let token = token_in(&sink.received()[1]);
    let weak = confirm(&svc, &token, "short").await;
    weak.assert_error(400, "VALIDATION_ERROR");
    assert!(weak.body["error"]["details"]["fields"]["password"].is_array(), "{}", weak.body);
    assert_eq!(
        confirm(&svc, &token, "long-enough-password").await.status.as_u16(),
        204,
        "a refused password does not spend the link"
    );
}

async fn of_two_confirms_at_once_one_wins(db: &TestDb) {
    let svc = app!(db);
    register(&svc, "Acme", "ada@acme.test").await;
    let sink = SmtpSink::start().await.unwrap();
    request_reset(&svc, "ada@acme.test").await.expect(202);
    deliver(db, Some(&sink)).await;
    let token = token_in(&sink.received()[0]);
    let (first, second) =
        join(confirm(&svc, &token, "first-password-1"), confirm(&svc, &token, "second-password-2")).await;
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 400]);
    let winner = if first.status.as_u16() == 204 { "first-password-1" } else { "second-password-2" };
    login(&svc, "ada@acme.test", winner).await.expect(200);
}

async fn a_reset_lifts_a_lockout(db: &TestDb) {
    let auth = AuthSettings {
        lockout: LockoutPolicy { max_failures: 2, lock_for: Duration::minutes(10) },
        ..settings()
    };
    let svc = app!(db, auth);
    register(&svc, "Acme", "ada@acme.test").await;
    for _ in 0..2 {
        login(&svc, "ada@acme.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");
    }
    login(&svc, "ada@acme.test", "password123").await.assert_error(401, "UNAUTHENTICATED");
    let sink = SmtpSink::start().await.unwrap();
    request_reset(&svc, "ada@acme.test").await.expect(202);
    deliver(db, Some(&sink)).await;
    assert_eq!(confirm(&svc, &token_in(&sink.received()[0]), "new-password-456").await.status.as_u16(), 204);
    login(&svc, "ada@acme.test", "new-password-456").await.expect(200);
}

/// Adds `email` to the tenant's team as an agent, with `password` if given.
async fn add_member(svc: &impl Caller, token: &str, email: &str, password: Option<&str>) -> Value {
    let mut body = json!({ "email": email, "name": "Bob <the agent>", "role": "agent" });
    if let Some(password) = password {
        body["password"] = password.into();
    }
    svc.call(post("/v1/users", token, body)).await.expect(201)
}

async fn members_added_without_a_password_log_in_through_their_invitation(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme & Sons", "ada@acme.test").await;
    let bob = add_member(&svc, &acme.token, "bob@acme.test", None).await;
    assert_eq!((bob["email"].as_str(), bob["role"].as_str()), (Some("bob@acme.test"), Some("agent")));
    login(&svc, "bob@acme.test", "").await.assert_error(400, "VALIDATION_ERROR");
    login(&svc, "bob@acme.test", "!").await.assert_error(401, "UNAUTHENTICATED");

    let sink = SmtpSink::start().await.unwrap();
    deliver(db, Some(&sink)).await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let invitation = &received[0];
    assert_eq!(invitation.to, ["bob@acme.test"]);
    assert!(invitation.header("subject").unwrap().contains("Acme"), "{:?}", invitation.header("subject"));
    let text = invitation.part("text/plain").unwrap();
    assert!(text.contains("Owner added you to the team of Acme & Sons on Tidings, as an agent"), "{text}");
    let html = invitation.part("text/html").unwrap();
    assert!(html.contains("Bob &lt;the agent&gt;") && html.contains("Acme &amp; Sons"), "{html}");
    let item = emails(db, &acme.company_id).await.remove(0);
    assert!(item.idempotency_key.starts_with("invitation:"));
    assert!(!item.payload.to_string().contains("bob@acme.test"));

    assert_eq!(confirm(&svc, &token_in(invitation), "bobs-own-password").await.status.as_u16(), 204);
    login(&svc, "bob@acme.test", "bobs-own-password").await.expect(200);
}

async fn members_added_with_a_password_are_invited_too(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    add_member(&svc, &acme.token, "bob@acme.test", Some("given-password-1")).await;
    login(&svc, "bob@acme.test", "given-password-1").await.expect(200);
    let sink = SmtpSink::start().await.unwrap();
    deliver(db, Some(&sink)).await;
    let text = sink.received()[0].part("text/plain").unwrap();
    assert!(text.contains("the password you were given"), "{text}");

    // A refused addition sends nobody anything.
    let taken = json!({ "email": "BOB@acme.test", "name": "Bob", "role": "agent" });
    send(&svc, post("/v1/users", &acme.token, taken)).await.assert_error(409, "CONFLICT");
    assert_eq!(emails(db, &acme.company_id).await.len(), 1);
}
