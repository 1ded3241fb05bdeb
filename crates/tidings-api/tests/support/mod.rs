//! Shared test plumbing: an app over a test database, requests, and a registered company.
// Shared by several test crates, each of which uses only part of it.
#![allow(dead_code)]

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};
use tidings_api::AppState;
use tidings_auth::AuthSettings;
use tidings_store::test_db::TestDb;

/// The signing secret of the test apps, so tests can forge tokens with and without it.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Settings for tests: cheap bcrypt, otherwise the defaults.
pub fn settings() -> AuthSettings {
    AuthSettings { bcrypt_cost: 4, ..AuthSettings::with_secret(SECRET.as_bytes().to_vec()) }
}

/// State over the test database.
pub fn state(db: &TestDb, settings: AuthSettings) -> AppState {
    AppState::new(db.store().clone(), settings, tidings_api::RealtimeSettings::default())
        .allow_loopback_webhooks(true)
}

/// Starts the app over `db` with `settings`.
#[macro_export]
macro_rules! app {
    ($db:expr) => {
        $crate::app!($db, $crate::support::settings())
    };
    ($db:expr, $settings:expr) => {
        actix_web::test::init_service(tidings_api::app($crate::support::state($db, $settings))).await
    };
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The error code of an envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error envelope: {}", self.body))
    }

    /// Asserts the status and the envelope's code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self.body
    }
}

/// Sends a request to the app.
pub async fn send<S, B>(svc: &S, req: TestRequest) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status();
    let bytes = test::read_body(res).await;
    let body =
        if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    Reply { status, body }
}

/// `GET path` with a bearer token.
pub fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(("authorization", format!("Bearer {token}")))
}

/// `POST path` with a bearer token and a JSON body.
pub fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(path).insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
}

/// `PATCH path` with a bearer token and a JSON body.
pub fn patch(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::patch().uri(path).insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
}

/// `DELETE path` with a bearer token.
pub fn delete(path: &str, token: &str) -> TestRequest {
    TestRequest::delete().uri(path).insert_header(("authorization", format!("Bearer {token}")))
}

/// A registered company: its owner's session.
pub struct Tenant {
    pub company_id: String,
    pub owner_id: String,
    pub token: String,
    pub refresh_token: String,
}

/// Registers a company whose owner is `email` with password `password123`.
pub async fn register(svc: &impl Caller, company: &str, email: &str) -> Tenant {
    let body = json!({ "company_name": company, "name": "Owner", "email": email, "password": "password123" });
    let reply = svc.call(TestRequest::post().uri("/v1/auth/register").set_json(body)).await.expect(201);
    Tenant {
        company_id: reply["company"]["id"].as_str().unwrap().into(),
        owner_id: reply["user"]["id"].as_str().unwrap().into(),
        token: reply["access_token"].as_str().unwrap().into(),
        refresh_token: reply["refresh_token"].as_str().unwrap().into(),
    }
}

/// Adds a member with `role` to the tenant and logs them in; returns (user id, access token).
pub async fn member(svc: &impl Caller, tenant: &Tenant, email: &str, role: &str) -> (String, String) {
    let body = json!({ "email": email, "name": "Member", "password": "password123", "role": role });
    let user = svc.call(post("/v1/users", &tenant.token, body)).await.expect(201);
    let session = login(svc, email, "password123").await.expect(200);
    (user["id"].as_str().unwrap().into(), session["access_token"].as_str().unwrap().into())
}

/// `POST /v1/auth/login`.
pub async fn login(svc: &impl Caller, email: &str, password: &str) -> Reply {
    let body = json!({ "email": email, "password": password });
    svc.call(TestRequest::post().uri("/v1/auth/login").set_json(body)).await
}

/// Anything `send` can talk to, as a method, for helpers that must not name the service type.
pub trait Caller {
    /// Sends a request.
    async fn call(&self, req: TestRequest) -> Reply;
}

impl<S, B> Caller for S
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    async fn call(&self, req: TestRequest) -> Reply {
        send(self, req).await
    }
}

/// An SDK app with a client key.
#[derive(Clone)]
pub struct SdkApp {
    pub app_id: String,
    pub key: String,
}

/// Creates an app and a client key for the tenant.
pub async fn sdk_app(svc: &impl Caller, tenant: &Tenant) -> SdkApp {
    let app = svc.call(post("/v1/apps", &tenant.token, json!({ "name": "Web" }))).await.expect(201);
    let app_id = app["id"].as_str().unwrap().to_owned();
    let key =
        svc.call(post(&format!("/v1/apps/{app_id}/keys"), &tenant.token, json!({ "kind": "client" }))).await;
    SdkApp { app_id, key: key.expect(201)["key"].as_str().unwrap().to_owned() }
}

/// A request from device `device` of an SDK app.
pub fn sdk(req: TestRequest, app: &SdkApp, device: &str) -> TestRequest {
    req.insert_header(("x-app-id", app.app_id.as_str()))
        .insert_header(("x-device-id", device))
        .insert_header(("x-api-key", app.key.as_str()))
}

/// The field names of a JSON object, sorted, to compare a response's shape with the documented one.
#[track_caller]
pub fn fields(value: &Value) -> Vec<&str> {
    let object = value.as_object().unwrap_or_else(|| panic!("not an object: {value}"));
    let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

/// Sorted field names, to write the expected side of [`fields`].
pub fn names<'a>(list: &[&'a str]) -> Vec<&'a str> {
    let mut names = list.to_vec();
    names.sort_unstable();
    names
}

/// Walks a paginated list (`?limit=&cursor=`) the way a client does, following `next_cursor` until it
/// is `null`; returns every page's items in order. `path` may already carry a query string.
pub async fn page_through(svc: &impl Caller, path: &str, token: &str, limit: u32) -> Vec<Vec<Value>> {
    let join = if path.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut uri = format!("{path}{join}limit={limit}");
    loop {
        let page = svc.call(get(&uri, token)).await.expect(200);
        assert_eq!(fields(&page), ["data", "next_cursor"], "{page}");
        let items = page["data"].as_array().unwrap().clone();
        assert!(items.len() <= limit as usize, "{page}");
        pages.push(items);
        assert!(pages.len() <= 20, "paging does not end");
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{path}{join}limit={limit}&cursor={cursor}"),
            None => return pages,
        }
    }
}

/// `PUT path` with a bearer token and a JSON body.
pub fn put(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::put().uri(path).insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
}

/// The app secret, verify token and page token the Meta tests connect with.
pub const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";
pub const VERIFY_TOKEN: &str = "verify-token-0123456789";
pub const PAGE_TOKEN: &str = "EAAB-page-access-token-0123456789";

/// The body of `PUT /v1/integrations/meta` connecting `page`.
pub fn meta_settings(page: &str) -> Value {
    json!({
        "page_id": page,
        "app_id": "1234",
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    })
}

/// `X-Hub-Signature-256` of `body` under `secret`, as Meta computes it.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(aws_lc_rs::hmac::sign(&key, body).as_ref()))
}

/// A page webhook delivery carrying one messaging item from `psid` to `page`.
pub fn meta_delivery(page: &str, psid: &str, item: Value) -> Value {
    let mut messaging =
        json!({ "sender": { "id": psid }, "recipient": { "id": page }, "timestamp": 1_700_000_000_000_i64 });
    for (k, v) in item.as_object().unwrap() {
        messaging[k] = v.clone();
    }
    json!({ "object": "page", "entry": [{ "id": page, "time": 1_700_000_000_000_i64, "messaging": [messaging] }] })
}

/// `POST /v1/webhooks/meta` with `body`, signed with `secret` (unsigned when `None`).
pub fn meta_webhook(body: &Value, secret: Option<&str>) -> TestRequest {
    let raw = serde_json::to_vec(body).unwrap();
    let mut req =
        TestRequest::post().uri("/v1/webhooks/meta").insert_header(("content-type", "application/json"));
    if let Some(secret) = secret {
        req = req.insert_header(("x-hub-signature-256", meta_signature(secret, &raw)));
    }
    req.set_payload(raw)
}
