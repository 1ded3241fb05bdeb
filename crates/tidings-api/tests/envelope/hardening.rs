//! The HTTP surface's defences seen by a browser and a slow request: security headers on every
//! answer (errors included), CORS only for the configured origins, and a deadline per request.

use std::time::Duration;

use actix_web::test::{self, TestRequest};
use serde_json::json;
use tidings_api::HttpSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{settings, state};

backend_tests!(
    every_answer_carries_the_security_headers,
    only_configured_origins_may_call_from_a_browser,
    a_request_past_its_deadline_gets_503,
);

async fn every_answer_carries_the_security_headers(db: &TestDb) {
    for hsts in [false, true] {
        let http = HttpSettings { hsts, ..HttpSettings::default() };
        let svc = test::init_service(tidings_api::app(state(db, settings()).with_http(http))).await;
        for req in [
            TestRequest::get().uri("/health"),
            TestRequest::get().uri("/v1/no-such-route"),
            TestRequest::get().uri("/v1/conversations"),
            TestRequest::post()
                .uri("/v1/auth/login")
                .set_payload("{not json")
                .insert_header(("content-type", "application/json")),
        ] {
            let res = test::call_service(&svc, req.to_request()).await;
            let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
            let status = res.status();
            assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{status}");
            assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{status}");
            assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{status}");
            assert_eq!(
                header("content-security-policy").as_deref(),
                Some("default-src 'none'; frame-ancestors 'none'"),
                "{status}"
            );
            assert!(header("x-request-id").is_some(), "{status}");
            let expected = hsts.then_some("max-age=31536000; includeSubDomains");
            assert_eq!(header("strict-transport-security").as_deref(), expected, "{status}");
        }
    }
}

async fn only_configured_origins_may_call_from_a_browser(db: &TestDb) {
    let preflight = |origin: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/v1/conversations")
            .insert_header(("origin", origin))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header(("access-control-request-headers", "authorization, content-type"))
            .to_request()
    };
    fn allowed<B>(res: &actix_web::dev::ServiceResponse<B>) -> Option<String> {
        res.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
    }
    // None configured: no page of another origin may call.
    let svc = test::init_service(tidings_api::app(state(db, settings()))).await;
    let res = test::call_service(&svc, preflight("https://app.example.com")).await;
    assert_eq!(allowed(&res), None);
    assert!(res.status().is_client_error(), "{}", res.status());

    let http =
        HttpSettings { cors_origins: vec!["https://app.example.com".into()], ..HttpSettings::default() };
    let svc = test::init_service(tidings_api::app(state(db, settings()).with_http(http))).await;
    let res = test::call_service(&svc, preflight("https://app.example.com")).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(allowed(&res).as_deref(), Some("https://app.example.com"));
    let methods = res.headers().get("access-control-allow-methods").unwrap().to_str().unwrap().to_owned();
    assert!(methods.contains("POST") && methods.contains("DELETE"), "{methods}");
    let headers = res.headers().get("access-control-allow-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");

    let res = test::call_service(&svc, preflight("https://evil.example")).await;
    assert_eq!(allowed(&res), None, "another origin is refused");
    assert!(res.status().is_client_error(), "{}", res.status());

    // A plain call: the allowed origin may read the answer and its request id; another may not.
    let call =
        |origin: &str| TestRequest::get().uri("/health").insert_header(("origin", origin)).to_request();
    let res = test::call_service(&svc, call("https://app.example.com")).await;
    assert_eq!(allowed(&res).as_deref(), Some("https://app.example.com"));
    let exposed =
        res.headers().get("access-control-expose-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(exposed.contains("x-request-id") && exposed.contains("retry-after"), "{exposed}");
    // Another origin's plain call is served without CORS headers (the browser keeps the answer
    // from the page); so is a same-origin page's, which sends an Origin too.
    let res = test::call_service(&svc, call("https://evil.example")).await;
    assert_eq!((res.status().as_u16(), allowed(&res)), (200, None));
    let svc = test::init_service(tidings_api::app(state(db, settings()))).await;
    let register =
        json!({ "company_name": "Acme", "name": "Owner", "email": "o@acme.test", "password": "password123" });
    let same_origin = TestRequest::post()
        .uri("/v1/auth/register")
        .insert_header(("origin", "http://127.0.0.1:8080"))
        .set_json(register)
        .to_request();
    let res = test::call_service(&svc, same_origin).await;
    assert_eq!((res.status().as_u16(), allowed(&res)), (201, None));
}

async fn a_request_past_its_deadline_gets_503(db: &TestDb) {
    // A slow password hash (bcrypt cost 13) stands in for a slow request.
    let slow = tidings_auth::AuthSettings { bcrypt_cost: 13, ..settings() };
    let http = HttpSettings { request_timeout: Duration::from_millis(50), ..HttpSettings::default() };
    let svc = test::init_service(tidings_api::app(state(db, slow).with_http(http))).await;
    let body =
        json!({ "company_name": "Acme", "name": "Owner", "email": "o@acme.test", "password": "password123" });
    // Rendered by actix after the middleware (as every error of an inner middleware is).
    let req = TestRequest::post().uri("/v1/auth/register").set_json(body).to_request();
    let error = match test::try_call_service(&svc, req).await {
        Ok(res) => panic!("answered in time: {}", res.status()),
        Err(error) => error.error_response(),
    };
    assert_eq!(error.status().as_u16(), 503);
    assert_eq!(error.headers().get("x-content-type-options").unwrap(), "nosniff");
    let body: serde_json::Value =
        serde_json::from_slice(&actix_web::body::to_bytes(error.into_body()).await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "UNAVAILABLE", "{body}");
    assert!(body["error"]["request_id"].is_string(), "{body}");
    // Quick requests are untouched.
    let health = test::call_service(&svc, TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(health.status().as_u16(), 200);
}
