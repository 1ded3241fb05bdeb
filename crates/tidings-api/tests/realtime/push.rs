//! Push notifications seen from the outside: an agent's message (over HTTP) to a contact with no
//! live connection reaches a stand-in FCM (wiremock, also serving the token endpoint) once its
//! collapse window has passed, a burst of messages makes one notification, a contact connected
//! over WebSocket gets none (the item is kept as skipped), and a token FCM calls unregistered is
//! removed from its device.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use tidings_domain::{
    AppId, CompanyId, DeviceRepo, EffectList, OutboxItem, OutboxKind, OutboxRepo, OutboxStatus,
};
use tidings_forwarding::push::test_account::TestAccount;
use tidings_forwarding::{
    Channel, FcmChannel, PushNotifications, RetryPolicy, ServiceAccount, Worker, WorkerSettings,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::live::{Live, as_refs, sdk_headers};

backend_tests!(
    an_offline_contact_gets_one_notification_when_the_window_ends,
    three_rapid_messages_make_one_notification,
    a_contact_with_a_live_connection_gets_nothing,
    an_unregistered_token_is_removed_from_its_device,
);

const WINDOW: Duration = Duration::from_secs(2);
const SEND: &str = "/v1/projects/tidings-test/messages:send";
const ACCESS_TOKEN: &str = "ya29.stand-in-access-token";

/// A stand-in for Google: issues access tokens and takes sends (200 unless mounted otherwise).
async fn google() -> (MockServer, TestAccount) {
    let server = MockServer::start().await;
    let account = TestAccount::generate(&format!("{}/token", server.uri()));
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer" }),
        ))
        .mount(&server)
        .await;
    (server, account)
}

async fn accept_sends(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "name": "projects/tidings-test/messages/1" })),
        )
        .mount(server)
        .await;
}

async fn start(db: &TestDb) -> Live {
    let push = PushNotifications::new(WINDOW);
    Live::start_with_effects(db, EffectList(vec![Arc::new(push)])).await
}

fn worker(db: &TestDb, live: &Live, server: &MockServer, account: &TestAccount) -> Worker {
    let account = ServiceAccount::from_json(&account.json).unwrap();
    let store = Arc::new(db.store().clone());
    let fcm = FcmChannel::new(account, &server.uri(), store.clone(), live.state.contact_online()).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(fcm)];
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
            max_attempts: 5,
        },
        ..WorkerSettings::default()
    };
    Worker::new(store, channels, settings)
}

/// An agent, and a contact on an iOS app whose devices registered push tokens.
struct Scene {
    owner: String,
    company: CompanyId,
    app: (String, String),
    conversation: String,
}

/// A contact whose `devices` (device id, push token) are theirs (identified as one customer) and
/// who opened a conversation from the first.
async fn scene(live: &Live, devices: &[(&str, &str)]) -> Scene {
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let app = live.sdk_app(&owner).await;
    let secret_path = format!("/v1/apps/{}/identity_secret", app.0);
    let (code, issued) =
        live.call(Method::POST, &secret_path, &[("authorization", &auth)], Some(json!({}))).await;
    assert_eq!(code, 201, "{issued}");
    let claim = json!({ "external_id": "crm-1", "user_hash": user_hash(issued["identity_secret"].as_str().unwrap(), "crm-1") });
    for (device, token) in devices {
        let headers = sdk_headers(&app, device);
        let body = json!({ "platform": "ios", "push_token": token });
        let (code, reply) = live.call(Method::PUT, "/v1/device", &as_refs(&headers), Some(body)).await;
        assert_eq!(code, 200, "{reply}");
        let (code, reply) =
            live.call(Method::POST, "/v1/identify", &as_refs(&headers), Some(claim.clone())).await;
        assert_eq!(code, 200, "{reply}");
    }
    let conversation = live.conversation(&app, devices[0].0).await;
    let (_, list) = live.call(Method::GET, "/v1/conversations", &[("authorization", &auth)], None).await;
    let company = list["data"][0]["company_id"].as_str().unwrap().parse().unwrap();
    Scene { owner, company, app, conversation }
}

/// What the company's backend signs: hex HMAC-SHA256 of the user id under the app's secret.
fn user_hash(secret: &str, external_id: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    hex::encode(aws_lc_rs::hmac::sign(&key, external_id.as_bytes()))
}

/// The agent's message; returns it.
async fn agent_says(live: &Live, scene: &Scene, body: &str) -> Value {
    let auth = format!("Bearer {}", scene.owner);
    let path = format!("/v1/conversations/{}/messages", scene.conversation);
    let (code, sent) =
        live.call(Method::POST, &path, &[("authorization", &auth)], Some(json!({ "body": body }))).await;
    assert_eq!(code, 201, "{sent}");
    sent
}

/// Ticks until the company has no pending item (bounded by twice the window); its push items.
async fn drain(db: &TestDb, worker: &Worker, company: CompanyId) -> Vec<OutboxItem> {
    for _ in 0..400 {
        worker.tick().await;
        let pending =
            db.store().list_outbox(company, Some(OutboxStatus::Pending), None, None, 1).await.unwrap();
        if pending.is_empty() {
            return db.store().list_outbox(company, None, Some(OutboxKind::Push), None, 100).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox did not drain");
}

async fn sends(server: &MockServer) -> Vec<wiremock::Request> {
    let all = server.received_requests().await.unwrap();
    all.into_iter().filter(|r| r.url.path() == SEND).collect()
}

fn body(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

async fn an_offline_contact_gets_one_notification_when_the_window_ends(db: &TestDb) {
    let live = start(db).await;
    let (server, account) = google().await;
    accept_sends(&server).await;
    let scene = scene(&live, &[("phone", "tok-phone")]).await;
    let worker = worker(db, &live, &server, &account);

    window_start().await;
    let sent = agent_says(&live, &scene, "Your order shipped").await;
    let queued = db.store().list_outbox(scene.company, None, Some(OutboxKind::Push), None, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let window = chrono::Duration::from_std(WINDOW).unwrap();
    assert!(queued[0].due_at > queued[0].created_at && queued[0].due_at <= queued[0].created_at + window);
    assert_eq!(queued[0].due_at.timestamp_millis() % window.num_milliseconds(), 0, "at the window's end");
    worker.tick().await;
    assert!(sends(&server).await.is_empty(), "nothing before the window ends");
    let payload = queued[0].payload.to_string();
    assert!(!payload.contains("tok-phone"), "no push token in the outbox: {payload}");
    assert_eq!(queued[0].payload["conversation_id"], scene.conversation.as_str());
    let items = drain(db, &worker, scene.company).await;
    assert_eq!((items.len(), items[0].status), (1, OutboxStatus::Delivered));
    assert!(Utc::now() >= queued[0].due_at);

    let sends = sends(&server).await;
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].headers.get("authorization").unwrap(), &format!("Bearer {ACCESS_TOKEN}"));
    let message = &body(&sends[0])["message"];
    let conversation = scene.conversation.as_str();
    assert_eq!(message["token"], "tok-phone");
    assert_eq!(message["notification"], json!({ "title": "Acme", "body": "Your order shipped" }));
    assert_eq!(message["data"], json!({ "conversation_id": conversation, "message_id": sent["id"] }));
    assert_eq!(message["android"]["collapse_key"], conversation);
    assert_eq!(message["apns"]["headers"]["apns-collapse-id"], conversation);
    // The contact's own messages push nothing.
    live.device_says(&scene.app, "phone", &scene.conversation, "thanks").await;
    let items = db.store().list_outbox(scene.company, None, Some(OutboxKind::Push), None, 10).await.unwrap();
    assert_eq!(items.len(), 1);
    live.stop().await;
}

/// Sleeps until just after a collapse window starts, so that a burst falls in one window.
async fn window_start() {
    let window = WINDOW.as_millis() as i64;
    let now = Utc::now().timestamp_millis();
    let next = (now.div_euclid(window) + 1) * window;
    tokio::time::sleep(Duration::from_millis((next - now + 20) as u64)).await;
}

async fn three_rapid_messages_make_one_notification(db: &TestDb) {
    let live = start(db).await;
    let (server, account) = google().await;
    accept_sends(&server).await;
    let scene = scene(&live, &[("phone", "tok-phone")]).await;

    window_start().await;
    for text in ["Hello", "Are you there?", "We found your parcel"] {
        agent_says(&live, &scene, text).await;
    }
    let items = drain(db, &worker(db, &live, &server, &account), scene.company).await;
    assert_eq!(items.len(), 1, "one item for the window");
    let sends = sends(&server).await;
    assert_eq!(sends.len(), 1, "one notification");
    assert_eq!(body(&sends[0])["message"]["notification"]["body"], "We found your parcel", "the newest");
    live.stop().await;
}

async fn a_contact_with_a_live_connection_gets_nothing(db: &TestDb) {
    let live = start(db).await;
    let (server, account) = google().await;
    accept_sends(&server).await;
    let scene = scene(&live, &[("phone", "tok-phone"), ("laptop", "tok-laptop")]).await;
    // Connected from another of their devices: online all the same.
    let mut socket = live.ws(&as_refs(&sdk_headers(&scene.app, "laptop"))).await;
    assert_eq!(socket.json().await["type"], "connected");

    agent_says(&live, &scene, "Are you there?").await;
    let items = drain(db, &worker(db, &live, &server, &account), scene.company).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].status, items[0].last_error.as_deref()),
        (OutboxStatus::Skipped, Some("the contact is online"))
    );
    assert!(server.received_requests().await.unwrap().is_empty(), "no token exchanged, nothing sent");
    live.stop().await;
}

async fn an_unregistered_token_is_removed_from_its_device(db: &TestDb) {
    let live = start(db).await;
    let (server, account) = google().await;
    let unregistered = json!({ "error": { "code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
        "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED" }] } });
    Mock::given(method("POST"))
        .and(path(SEND))
        .and(body_partial_json(json!({ "message": { "token": "tok-old" } })))
        .respond_with(ResponseTemplate::new(404).set_body_json(unregistered))
        .with_priority(1)
        .mount(&server)
        .await;
    accept_sends(&server).await;
    let scene = scene(&live, &[("phone", "tok-old"), ("tablet", "tok-new")]).await;

    agent_says(&live, &scene, "hello").await;
    let items = drain(db, &worker(db, &live, &server, &account), scene.company).await;
    assert_eq!(items[0].status, OutboxStatus::Delivered, "the other device got it");
    let app: AppId = scene.app.0.parse().unwrap();
    let phone = db.store().find_device(scene.company, app, "phone").await.unwrap().unwrap();
    let tablet = db.store().find_device(scene.company, app, "tablet").await.unwrap().unwrap();
    assert_eq!(phone.push_token, None, "the unregistered token is gone");
    assert_eq!(tablet.push_token.as_deref(), Some("tok-new"));
    let mut tokens: Vec<_> = sends(&server)
        .await
        .iter()
        .map(|r| body(r)["message"]["token"].as_str().unwrap().to_owned())
        .collect();
    tokens.sort_unstable();
    assert_eq!(tokens, ["tok-new", "tok-old"]);
    live.stop().await;
}
