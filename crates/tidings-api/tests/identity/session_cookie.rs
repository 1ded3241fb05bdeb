//! Cookie mode of `/v1/auth` (the web inbox): with `X-Tidings-Session: cookie` the refresh token
//! travels in an httpOnly, SameSite=Strict cookie scoped to `/v1/auth` and never in a body; refresh
//! and logout read it only when the same header is present; clients without the header see the API
//! exactly as before.

use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};
use tidings_api::HttpSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{get, send, settings, state};

backend_tests!(
    cookie_mode_keeps_the_refresh_token_out_of_every_body,
    refresh_and_logout_read_the_cookie_only_with_the_header,
    a_spent_cookie_revokes_the_session,
    clients_without_the_header_see_no_cookie,
    the_cookie_is_secure_over_https,
);

const HEADER: (&str, &str) = ("x-tidings-session", "cookie");

/// What a cookie-mode answer carried: status, body and its `Set-Cookie`.
struct Answer {
    status: u16,
    body: Value,
    cookie: Option<String>,
}

impl Answer {
    /// The refresh token the cookie sets.
    fn token(&self) -> String {
        let cookie = self.cookie.as_deref().unwrap_or_else(|| panic!("no Set-Cookie: {}", self.body));
        let value = cookie.split(';').next().unwrap().strip_prefix("tidings_refresh=").unwrap();
        assert!(value.starts_with("tdr_"), "{cookie}");
        value.to_owned()
    }
}

async fn call<S, B>(svc: &S, req: TestRequest) -> Answer
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(cookies.len() <= 1, "{cookies:?}");
    let bytes = test::read_body(res).await;
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    Answer { status, body, cookie: cookies.into_iter().next() }
}

fn register_body() -> Value {
    json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" })
}

fn with_cookie(req: TestRequest, token: &str) -> TestRequest {
    req.insert_header(("cookie", format!("theme=dark; tidings_refresh={token}")))
}

async fn cookie_mode_keeps_the_refresh_token_out_of_every_body(db: &TestDb) {
    let svc = app!(db);
    let registered = call(
        &svc,
        TestRequest::post().uri("/v1/auth/register").insert_header(HEADER).set_json(register_body()),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert!(registered.body.get("refresh_token").is_none(), "{}", registered.body);
    assert!(registered.body["access_token"].is_string());
    assert_eq!(registered.body["user"]["email"], "ada@acme.test");
    let cookie = registered.cookie.clone().unwrap();
    let attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    assert_eq!(attributes, ["Path=/v1/auth", "Max-Age=2592000", "HttpOnly", "SameSite=Strict"], "{cookie}");
    registered.token();

    let login = json!({ "email": "ada@acme.test", "password": "password123" });
    let logged_in =
        call(&svc, TestRequest::post().uri("/v1/auth/login").insert_header(HEADER).set_json(login)).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);
    assert!(logged_in.body.get("refresh_token").is_none(), "{}", logged_in.body);
    assert_ne!(logged_in.token(), registered.token());

    let refreshed = call(
        &svc,
        with_cookie(TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER), &logged_in.token())
            .set_json(json!({})),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(refreshed.body.get("refresh_token").is_none(), "{}", refreshed.body);
    assert_ne!(refreshed.token(), logged_in.token());
    let token = refreshed.body["access_token"].as_str().unwrap();
    let me = send(&svc, get("/v1/auth/me", token)).await.expect(200);
    assert_eq!(me["user"]["email"], "ada@acme.test");

    // A failed login sets no cookie.
    let wrong = json!({ "email": "ada@acme.test", "password": "wrong password" });
    let refused =
        call(&svc, TestRequest::post().uri("/v1/auth/login").insert_header(HEADER).set_json(wrong)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["error"]["message"], "invalid e-mail or password");
    assert!(refused.cookie.is_none());
}

async fn refresh_and_logout_read_the_cookie_only_with_the_header(db: &TestDb) {
    let svc = app!(db);
    let session = call(
        &svc,
        TestRequest::post().uri("/v1/auth/register").insert_header(HEADER).set_json(register_body()),
    )
    .await;
    let token = session.token();

    // Without the header the cookie is ignored, as a cross-site form's request would be: the body
    // must name the token, as it always had to.
    let forged =
        call(&svc, with_cookie(TestRequest::post().uri("/v1/auth/refresh"), &token).set_json(json!({})))
            .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert_eq!(forged.body["error"]["code"], "VALIDATION_ERROR");
    assert!(forged.cookie.is_none());
    let forged =
        call(&svc, with_cookie(TestRequest::post().uri("/v1/auth/logout"), &token).set_json(json!({}))).await;
    assert_eq!(forged.status, 400, "{}", forged.body);

    // With the header but no cookie: no session.
    let none =
        call(&svc, TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER).set_json(json!({})))
            .await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.body["error"]["code"], "UNAUTHENTICATED");
    // Unknown fields are still refused.
    let odd = call(
        &svc,
        with_cookie(TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER), &token)
            .set_json(json!({ "refresh": "x" })),
    )
    .await;
    assert_eq!(odd.status, 400, "{}", odd.body);

    // The cookie still works (nothing above spent it); logout revokes it and clears the cookie.
    let refreshed = call(
        &svc,
        with_cookie(TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER), &token)
            .set_json(json!({})),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let token = refreshed.token();
    let out = call(
        &svc,
        with_cookie(TestRequest::post().uri("/v1/auth/logout").insert_header(HEADER), &token)
            .set_json(json!({})),
    )
    .await;
    assert_eq!(out.status, 204);
    assert_eq!(
        out.cookie.as_deref(),
        Some("tidings_refresh=; Path=/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict")
    );
    let after = call(
        &svc,
        with_cookie(TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER), &token)
            .set_json(json!({})),
    )
    .await;
    assert_eq!(after.status, 401, "{}", after.body);
    // Logging out without a session still clears the cookie.
    let again =
        call(&svc, TestRequest::post().uri("/v1/auth/logout").insert_header(HEADER).set_json(json!({})))
            .await;
    assert_eq!(again.status, 204);
    assert!(again.cookie.unwrap().contains("Max-Age=0"));
}

async fn a_spent_cookie_revokes_the_session(db: &TestDb) {
    let svc = app!(db);
    let session = call(
        &svc,
        TestRequest::post().uri("/v1/auth/register").insert_header(HEADER).set_json(register_body()),
    )
    .await;
    let first = session.token();
    let refresh = |token: String| {
        with_cookie(TestRequest::post().uri("/v1/auth/refresh").insert_header(HEADER), &token)
            .set_json(json!({}))
    };
    let second = call(&svc, refresh(first.clone())).await.token();
    // A copy of the first cookie comes back: the whole family ends, the newest token included.
    let reused = call(&svc, refresh(first)).await;
    assert_eq!(reused.status, 401, "{}", reused.body);
    assert_eq!(call(&svc, refresh(second)).await.status, 401);
}

async fn clients_without_the_header_see_no_cookie(db: &TestDb) {
    let svc = app!(db);
    let registered = call(&svc, TestRequest::post().uri("/v1/auth/register").set_json(register_body())).await;
    assert_eq!(registered.status, 201);
    assert!(registered.cookie.is_none());
    let refresh_token = registered.body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = call(
        &svc,
        TestRequest::post().uri("/v1/auth/refresh").set_json(json!({ "refresh_token": refresh_token })),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(refreshed.cookie.is_none());
    assert!(refreshed.body["refresh_token"].as_str().unwrap().starts_with("tdr_"));
    // A header-mode client may still name its token in the body; the next one goes in the cookie.
    let next = refreshed.body["refresh_token"].as_str().unwrap();
    let moved = call(
        &svc,
        TestRequest::post()
            .uri("/v1/auth/refresh")
            .insert_header(HEADER)
            .set_json(json!({ "refresh_token": next })),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!(moved.body.get("refresh_token").is_none());
    moved.token();
}

async fn the_cookie_is_secure_over_https(db: &TestDb) {
    // Behind a proxy that says the request came over https.
    let svc = app!(db);
    let registered = call(
        &svc,
        TestRequest::post()
            .uri("/v1/auth/register")
            .insert_header(HEADER)
            .insert_header(("x-forwarded-proto", "https"))
            .set_json(register_body()),
    )
    .await;
    assert!(registered.cookie.unwrap().ends_with("; HttpOnly; SameSite=Strict; Secure"));
    // With an https public URL (HSTS on), whatever the request says.
    let http = HttpSettings { hsts: true, ..HttpSettings::default() };
    let svc = test::init_service(tidings_api::app(state(db, settings()).with_http(http))).await;
    let login = json!({ "email": "ada@acme.test", "password": "password123" });
    let logged_in =
        call(&svc, TestRequest::post().uri("/v1/auth/login").insert_header(HEADER).set_json(login)).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);
    assert!(logged_in.cookie.unwrap().ends_with("; Secure"));
}
