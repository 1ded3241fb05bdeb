//! Every error path answers with the documented envelope and a request id.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use actix_web::http::StatusCode;
use actix_web::{test, web};
use serde::Deserialize;
use serde_json::{Value, json};
use tidings_api::{AppState, app};
use tidings_auth::AuthSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

mod hardening;
mod inputs;
mod metrics;
mod nul;
mod openapi;
mod parser;
mod rate_limits;
mod store_errors;
#[path = "../support/mod.rs"]
mod support;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Probe {
    name: String,
    count: u32,
}

fn state(db: &TestDb) -> AppState {
    let auth = AuthSettings {
        bcrypt_cost: 4,
        ..AuthSettings::with_secret(b"envelope-test-secret-0123456789abcdef".to_vec())
    };
    AppState::new(db.store().clone(), auth, tidings_api::RealtimeSettings::default())
}

macro_rules! service {
    ($db:expr) => {
        test::init_service(app(state($db)).route(
            "/probe",
            web::post().to(|probe: tidings_api::extract::Json<Probe>| async move {
                web::Json(json!({ "name": probe.name }))
            }),
        ))
        .await
    };
}

/// Asserts the envelope shape and returns `error`.
fn error_of(body: &Value, code: &str) -> Value {
    let error = body.get("error").unwrap_or_else(|| panic!("no envelope in {body}")).clone();
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["request_id"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    error
}

backend_tests!(
    health_and_readiness_answer,
    readiness_fails_when_the_store_is_closed,
    unknown_route_is_a_json_404,
    wrong_method_is_a_json_405,
    malformed_json_is_a_validation_error,
    wrong_field_type_is_a_validation_error,
    wrong_content_type_is_415,
    oversized_body_is_413,
    caller_request_id_is_echoed,
);

async fn health_and_readiness_answer(db: &TestDb) {
    let svc = service!(db);
    let res = test::call_service(&svc, test::TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));
    let mut res: Value =
        test::call_and_read_body_json(&svc, test::TestRequest::get().uri("/health/ready").to_request()).await;
    // The pool as the readiness check left it: the test database's 8 connections at most, at least
    // the one the check used open, none in use any more.
    let pool = res.as_object_mut().unwrap().remove("pool").expect("pool stats");
    assert_eq!(
        (pool["max_size"].as_u64(), pool["in_use"].as_u64(), pool["waiting"].as_u64()),
        (Some(8), Some(0), Some(0)),
        "{pool}"
    );
    assert!(pool["open"].as_u64().unwrap() >= 1 && pool["open"] == pool["idle"], "{pool}");
    assert_eq!(
        res,
        json!({
            "status": "ready",
            "checks": { "store": "ok", "bus": "local" },
            "outbox": { "pending": 0, "oldest_pending_secs": 0, "dead": 0 },
        })
    );
}

async fn readiness_fails_when_the_store_is_closed(db: &TestDb) {
    let svc = service!(db);
    db.store().close();
    let res = test::call_service(&svc, test::TestRequest::get().uri("/health/ready").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    let body: Value = test::read_body_json(res).await;
    let error = error_of(&body, "UNAVAILABLE");
    assert_eq!(error["details"]["checks"]["store"], "unavailable");
}

async fn unknown_route_is_a_json_404(db: &TestDb) {
    let svc = service!(db);
    let res = test::call_service(&svc, test::TestRequest::get().uri("/v1/nowhere").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers().get("content-type").unwrap(), "application/json");
    error_of(&test::read_body_json(res).await, "NOT_FOUND");
}

async fn wrong_method_is_a_json_405(db: &TestDb) {
    let svc = service!(db);
    let res = test::call_service(&svc, test::TestRequest::delete().uri("/health").to_request()).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    error_of(&test::read_body_json(res).await, "METHOD_NOT_ALLOWED");
}

async fn malformed_json_is_a_validation_error(db: &TestDb) {
    let svc = service!(db);
    let req = test::TestRequest::post()
        .uri("/probe")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"name\": ")
        .to_request();
    let res = test::call_service(&svc, req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error = error_of(&test::read_body_json(res).await, "VALIDATION_ERROR");
    assert!(error["message"].as_str().unwrap().contains("malformed JSON"), "{error}");
}

async fn wrong_field_type_is_a_validation_error(db: &TestDb) {
    let svc = service!(db);
    let req = test::TestRequest::post()
        .uri("/probe")
        .set_json(json!({ "name": "a", "count": "many" }))
        .to_request();
    let res = test::call_service(&svc, req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error = error_of(&test::read_body_json(res).await, "VALIDATION_ERROR");
    assert_eq!(error["message"], "field `count`: expected an integer, got a string", "{error}");
    assert_eq!(error["details"]["fields"]["count"], json!(["expected an integer, got a string"]));
}

async fn wrong_content_type_is_415(db: &TestDb) {
    let svc = service!(db);
    let req = test::TestRequest::post()
        .uri("/probe")
        .insert_header(("content-type", "text/plain"))
        .set_payload("{\"name\":\"a\",\"count\":1}")
        .to_request();
    let res = test::call_service(&svc, req).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    error_of(&test::read_body_json(res).await, "UNSUPPORTED_MEDIA_TYPE");
}

async fn oversized_body_is_413(db: &TestDb) {
    let svc = service!(db);
    let huge = format!("{{\"name\":\"{}\",\"count\":1}}", "x".repeat(1024 * 1024));
    let req = test::TestRequest::post()
        .uri("/probe")
        .insert_header(("content-type", "application/json"))
        .set_payload(huge)
        .to_request();
    let res = test::call_service(&svc, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error = error_of(&test::read_body_json(res).await, "PAYLOAD_TOO_LARGE");
    assert_eq!(error["details"]["limit"], 1024 * 1024);
}

async fn caller_request_id_is_echoed(db: &TestDb) {
    let svc = service!(db);
    let req =
        test::TestRequest::get().uri("/nowhere").insert_header(("x-request-id", "trace-42")).to_request();
    let res = test::call_service(&svc, req).await;
    assert_eq!(res.headers().get("x-request-id").unwrap(), "trace-42");
    let error = error_of(&test::read_body_json(res).await, "NOT_FOUND");
    assert_eq!(error["request_id"], "trace-42");
    // An id that could forge log lines is replaced, not echoed.
    let req = test::TestRequest::get().uri("/health").insert_header(("x-request-id", "a b")).to_request();
    let res = test::call_service(&svc, req).await;
    assert_ne!(res.headers().get("x-request-id").unwrap(), "a b");
}
