//! Registration, login and lockout.

use std::time::Duration;

use actix_web::test::TestRequest;
use serde_json::json;
use tidings_auth::LockoutPolicy;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{get, login, register, send, settings};

backend_tests!(
    register_creates_a_company_and_logs_its_owner_in,
    register_validates_every_field_and_creates_nothing,
    a_registered_email_cannot_register_again,
    login_succeeds_and_failures_reveal_nothing,
    five_failures_lock_the_account_until_the_lock_expires,
);

async fn register_creates_a_company_and_logs_its_owner_in(db: &TestDb) {
    let svc = app!(db);
    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "Ada@Acme.test", "password": "password123" });
    let reply = send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body)).await.expect(201);
    assert_eq!(reply["user"]["email"], "ada@acme.test");
    assert_eq!(reply["user"]["role"], "owner");
    assert_eq!(reply["company"]["name"], "Acme");
    assert_eq!(reply["user"]["company_id"], reply["company"]["id"]);
    assert_eq!(reply["token_type"], "Bearer");
    assert_eq!(reply["expires_in"], 900);
    assert!(reply["refresh_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(reply["user"].get("password_hash").is_none(), "no hash in responses: {reply}");

    let token = reply["access_token"].as_str().unwrap();
    let me = send(&svc, get("/v1/auth/me", token)).await.expect(200);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["user"]["id"], reply["user"]["id"]);
    assert_eq!(me["company"]["id"], reply["company"]["id"]);
}

async fn register_validates_every_field_and_creates_nothing(db: &TestDb) {
    let svc = app!(db);
    let cases = [
        (
            json!({ "company_name": "Acme", "name": "Ada", "email": "not-an-email", "password": "password123" }),
            "email",
        ),
        (
            json!({ "company_name": "Acme", "name": "Ada", "email": "a@acme.test", "password": "short9chr" }),
            "password",
        ),
        (
            json!({ "company_name": "Acme", "name": "Ada", "email": "a@acme.test", "password": "x".repeat(129) }),
            "password",
        ),
        (
            json!({ "company_name": "   ", "name": "Ada", "email": "a@acme.test", "password": "password123" }),
            "company_name",
        ),
        (
            json!({ "company_name": "Acme", "name": "", "email": "a@acme.test", "password": "password123" }),
            "name",
        ),
    ];
    for (body, field) in cases {
        let reply = send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body)).await;
        reply.assert_error(400, "VALIDATION_ERROR");
        assert!(reply.body["error"]["details"]["fields"].get(field).is_some(), "{field}: {}", reply.body);
    }
    let missing =
        send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(json!({ "email": "a@b.c" }))).await;
    missing.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("companies").await, 0);
    assert_eq!(db.count_rows("users").await, 0);
    // Exactly 10 and 128 characters are accepted.
    for password in ["x".repeat(10), "y".repeat(128)] {
        let email = format!("p{}@acme.test", password.len());
        let body = json!({ "company_name": "Acme", "name": "Ada", "email": email, "password": password });
        send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body)).await.expect(201);
    }
}

async fn a_registered_email_cannot_register_again(db: &TestDb) {
    let svc = app!(db);
    register(&svc, "Acme", "ada@acme.test").await;
    let body = json!({ "company_name": "Other", "name": "Ada", "email": "ADA@acme.test", "password": "password123" });
    send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body))
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(db.count_rows("companies").await, 1, "the second company was not left behind");
}

async fn login_succeeds_and_failures_reveal_nothing(db: &TestDb) {
    let svc = app!(db);
    let tenant = register(&svc, "Acme", "ada@acme.test").await;
    let ok = login(&svc, "ADA@acme.test", "password123").await.expect(200);
    assert_eq!(ok["user"]["id"], tenant.owner_id.as_str());
    assert!(ok["access_token"].is_string() && ok["refresh_token"].is_string());

    let wrong = login(&svc, "ada@acme.test", "password124").await;
    let unknown = login(&svc, "nobody@acme.test", "password123").await;
    wrong.assert_error(401, "UNAUTHENTICATED");
    unknown.assert_error(401, "UNAUTHENTICATED");
    assert_eq!(wrong.body["error"]["message"], unknown.body["error"]["message"]);
    assert_eq!(wrong.body["error"].get("details"), unknown.body["error"].get("details"));
}

async fn five_failures_lock_the_account_until_the_lock_expires(db: &TestDb) {
    let lock_for = Duration::from_secs(2);
    let lockout = LockoutPolicy { max_failures: 5, lock_for: chrono::Duration::from_std(lock_for).unwrap() };
    let svc = app!(db, tidings_auth::AuthSettings { lockout, ..settings() });
    register(&svc, "Acme", "ada@acme.test").await;
    for _ in 0..4 {
        login(&svc, "ada@acme.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");
    }
    login(&svc, "ada@acme.test", "password123").await.expect(200);
    // The success reset the count: five more failures are needed for a lock.
    for _ in 0..5 {
        login(&svc, "ada@acme.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");
    }
    let locked = login(&svc, "ada@acme.test", "password123").await;
    locked.assert_error(401, "UNAUTHENTICATED");
    let unknown = login(&svc, "nobody@acme.test", "password123").await;
    assert_eq!(locked.body["error"]["message"], unknown.body["error"]["message"], "a lock is not disclosed");

    tokio::time::sleep(lock_for + Duration::from_millis(300)).await;
    login(&svc, "ada@acme.test", "password123").await.expect(200);
}
