//! Store failures reach clients as their kind only: a 500 is the bare envelope, whatever the cause,
//! and an outage is a 503 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, get, register, sdk, sdk_app};

backend_tests!(a_500_says_nothing_but_internal_error, a_store_outage_is_a_503_with_retry_after);

/// Sends `req`; returns the status, the `Retry-After` header, the request id and the raw body.
async fn call<S, B>(svc: &S, req: TestRequest) -> (StatusCode, Option<String>, String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(svc, req.to_request()).await;
    let header = |name| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, retry_after, request_id) = (res.status(), header("retry-after"), header("x-request-id"));
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    (status, retry_after, request_id.expect("every response has a request id"), body)
}

async fn a_500_says_nothing_but_internal_error(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let conv = svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let path = format!("/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
    let hello = sdk(TestRequest::post().uri(&path).set_json(json!({ "body": "Hello?" })), &web, "dev-1");
    let message = svc.call(hello).await.expect(201);
    let id = message["id"].as_str().unwrap();
    // A platform the domain does not know (the column has no CHECK, unlike `status`, so both
    // backends accept the write): reading the message back fails to parse it.
    db.execute(&format!("UPDATE messages SET platform = 'carrier-pigeon' WHERE id = '{id}'")).await.unwrap();

    let (status, retry_after, request_id, body) =
        call(&svc, get(&format!("/v1/messages/{id}"), &acme.token)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(retry_after, None);
    let expected =
        json!({ "error": { "code": "INTERNAL", "message": "internal error", "request_id": request_id } });
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected);
    for leak in ["pigeon", "malformed", "store", "messages", "Repo", "Error"] {
        assert!(!body.contains(leak), "{leak:?} in {body}");
    }
}

async fn a_store_outage_is_a_503_with_retry_after(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    db.store().close();

    let (status, retry_after, request_id, body) = call(&svc, get("/v1/conversations", &acme.token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    let expected = json!({ "error": {
        "code": "UNAVAILABLE",
        "message": "the store is unavailable, retry shortly",
        "request_id": request_id,
    } });
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected);
}
