//! The FCM channel through a worker, against a real store and a stand-in for Google (wiremock)
//! serving both the token endpoint and the send endpoint: every token of the contact gets the
//! notification with an access token exchanged once and cached, FCM down or refusing the access
//! token is retried, dead tokens are removed while the others still get theirs, and a refused
//! service account buries the item without a send.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tidings_domain::{
    AppRepo, CompanyId, CompanyRepo, ContactId, Conversation, ConversationRepo, DeviceId, DeviceRepo,
    Direction, DomainEvent, Effects, MessageRepo, NewApp, NewCompany, NewMessage, OutboxItem, OutboxKind,
    OutboxRepo, OutboxStatus, Platform, Sender,
};
use tidings_forwarding::push::test_account::TestAccount;
use tidings_forwarding::{
    Channel, ContactOnline, FcmChannel, PushNotifications, RetryPolicy, ServiceAccount, Worker,
    WorkerSettings,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

backend_tests!(
    every_token_gets_it_with_one_access_token_exchanged_and_cached,
    fcm_down_is_retried_and_a_refused_access_token_is_replaced,
    dead_tokens_are_removed_and_the_others_still_get_theirs,
    a_refused_service_account_buries_the_item_without_a_send,
);

const SEND: &str = "/v1/projects/tidings-test/messages:send";
const WINDOW: Duration = Duration::from_millis(300);

/// Nobody is ever online.
struct Offline;

#[async_trait]
impl ContactOnline for Offline {
    async fn is_online(&self, _: CompanyId, _: ContactId) -> bool {
        false
    }
}

/// A stand-in for Google, and the service account whose tokens it issues.
struct Google {
    server: MockServer,
    account: TestAccount,
}

impl Google {
    async fn start() -> Google {
        let server = MockServer::start().await;
        let account = TestAccount::generate(&format!("{}/token", server.uri()));
        Google { server, account }
    }

    /// Issues `token` to the next `times` token requests (all of them when `None`).
    async fn issues(&self, token: &str, times: Option<u64>, priority: u8) {
        let mock = Mock::given(method("POST")).and(path("/token")).respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" })),
        );
        let mock = match times {
            Some(n) => mock.up_to_n_times(n),
            None => mock,
        };
        mock.with_priority(priority).mount(&self.server).await;
    }

    async fn requests(&self, at: &str) -> Vec<wiremock::Request> {
        let all = self.server.received_requests().await.unwrap();
        all.into_iter().filter(|r| r.url.path() == at).collect()
    }

    async fn sends(&self) -> Vec<Value> {
        let sends = self.requests(SEND).await;
        sends.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
    }
}

/// A company with an iOS contact whose devices hold `tokens`.
struct Contact {
    company: CompanyId,
    conversation: Conversation,
    devices: Vec<DeviceId>,
}

async fn contact(db: &TestDb, tokens: &[&str]) -> Contact {
    let s = db.store();
    let company = s.create_company(NewCompany { name: "Acme".into() }).await.unwrap().id;
    let app = s.create_app(NewApp { company_id: company, name: "iOS".into() }).await.unwrap();
    let first = s.device_for(company, app.id, "device-0", Platform::Ios).await.unwrap();
    let mut devices = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let device = s.device_for(company, app.id, &format!("device-{n}"), Platform::Ios).await.unwrap();
        s.assign_device(company, device.id, first.contact_id).await.unwrap();
        s.update_device(company, device.id, Platform::Ios, Some((*token).into())).await.unwrap();
        devices.push(device.id);
    }
    let conversation =
        s.open_conversation(company, first.contact_id, Some(app.id), Platform::Ios).await.unwrap();
    Contact { company, conversation, devices }
}

/// An agent's message, stored with its push item in one unit of work as the messaging service does.
async fn agent_says(db: &TestDb, contact: &Contact, body: &str) {
    let unit = db.store().begin().await.unwrap();
    let appended = unit
        .append_message(NewMessage {
            company_id: contact.company,
            conversation_id: contact.conversation.id,
            local_id: None,
            sender: Sender::Agent,
            author_id: None,
            direction: Direction::Outbound,
            platform: None,
            body: body.into(),
            attachments: json!([]),
            awaiting_forward: false,
            uploads: Vec::new(),
        })
        .await
        .unwrap();
    let event =
        DomainEvent::MessageCreated { message: appended.message, conversation: contact.conversation.clone() };
    PushNotifications::new(WINDOW).record(&unit, &event).await.unwrap();
    unit.commit().await.unwrap();
}

fn worker(db: &TestDb, google: &Google) -> Worker {
    let account = ServiceAccount::from_json(&google.account.json).unwrap();
    let fcm = FcmChannel::new(account, &google.server.uri(), Arc::new(db.store().clone()), Arc::new(Offline));
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(fcm.unwrap())];
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
            max_attempts: 5,
        },
        poll: Duration::from_millis(10),
        ..WorkerSettings::default()
    };
    Worker::new(Arc::new(db.store().clone()), channels, settings)
}

/// Ticks until the company has no pending item (bounded); returns its push items, newest first.
async fn drain(db: &TestDb, worker: &Worker, company: CompanyId) -> Vec<OutboxItem> {
    for _ in 0..500 {
        worker.tick().await;
        let pending =
            db.store().list_outbox(company, Some(OutboxStatus::Pending), None, None, 1).await.unwrap();
        if pending.is_empty() {
            return db.store().list_outbox(company, None, Some(OutboxKind::Push), None, 100).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the outbox did not drain");
}

async fn every_token_gets_it_with_one_access_token_exchanged_and_cached(db: &TestDb) {
    let google = Google::start().await;
    google.issues("ya29.first", None, 5).await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200))
        .mount(&google.server)
        .await;
    let acme = contact(db, &["tok-a", "tok-b"]).await;
    let worker = worker(db, &google);

    agent_says(db, &acme, "Your order shipped").await;
    let items = drain(db, &worker, acme.company).await;
    assert_eq!((items.len(), items[0].status), (1, OutboxStatus::Delivered));
    let sends = google.sends().await;
    let mut tokens: Vec<_> = sends.iter().map(|s| s["message"]["token"].as_str().unwrap()).collect();
    tokens.sort_unstable();
    assert_eq!(tokens, ["tok-a", "tok-b"], "every device of the contact");
    assert_eq!(sends[0]["message"]["notification"], json!({ "title": "Acme", "body": "Your order shipped" }));
    for send in google.requests(SEND).await {
        assert_eq!(send.headers.get("authorization").unwrap(), "Bearer ya29.first");
    }

    // The token request: a JWT bearer grant signed with the account's key.
    let exchanges = google.requests("/token").await;
    assert_eq!(exchanges.len(), 1);
    let form: Vec<(String, String)> = form_urlencoded::parse(&exchanges[0].body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(field("grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
    let token_uri = format!("{}/token", google.server.uri());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&token_uri]);
    validation.set_issuer(&["push@tidings-test.iam.gserviceaccount.com"]);
    let key = DecodingKey::from_rsa_der(&google.account.public_key);
    let signed = jsonwebtoken::decode::<Value>(&field("assertion"), &key, &validation).unwrap();
    assert_eq!(signed.header.kid.as_deref(), Some("test-key-1"));
    assert_eq!(signed.claims["scope"], "https://www.googleapis.com/auth/firebase.messaging");
    assert_eq!(signed.claims["exp"].as_i64().unwrap() - signed.claims["iat"].as_i64().unwrap(), 3600);

    // The next window's push reuses the cached access token.
    tokio::time::sleep(WINDOW).await;
    agent_says(db, &acme, "It arrives tomorrow").await;
    let items = drain(db, &worker, acme.company).await;
    assert_eq!(items.len(), 2, "another window, another item");
    assert_eq!(google.sends().await.len(), 4);
    assert_eq!(google.requests("/token").await.len(), 1, "the access token was cached");
}

async fn fcm_down_is_retried_and_a_refused_access_token_is_replaced(db: &TestDb) {
    let google = Google::start().await;
    google.issues("ya29.revoked", Some(1), 1).await;
    google.issues("ya29.fresh", None, 5).await;
    let unauthorized = json!({ "error": { "code": 401, "status": "UNAUTHENTICATED" } });
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(401).set_body_json(unauthorized))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&google.server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&google.server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200))
        .mount(&google.server)
        .await;
    let acme = contact(db, &["tok-a"]).await;

    agent_says(db, &acme, "hello").await;
    let items = drain(db, &worker(db, &google), acme.company).await;
    assert_eq!((items[0].status, items[0].attempts), (OutboxStatus::Delivered, 3));
    let auth: Vec<_> = google
        .requests(SEND)
        .await
        .iter()
        .map(|r| r.headers.get("authorization").unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer ya29.revoked", "Bearer ya29.fresh", "Bearer ya29.fresh"]);
    assert_eq!(google.requests("/token").await.len(), 2, "a refused access token is exchanged again");
}

async fn dead_tokens_are_removed_and_the_others_still_get_theirs(db: &TestDb) {
    let google = Google::start().await;
    google.issues("ya29.first", None, 5).await;
    let unregistered = json!({ "error": { "code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
        "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED" }] } });
    let invalid = json!({ "error": { "code": 400, "status": "INVALID_ARGUMENT",
        "message": "The registration token is not a valid FCM registration token: tok-junk",
        "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT" }] } });
    for (token, status, body) in [("tok-gone", 404, unregistered), ("tok-junk", 400, invalid)] {
        Mock::given(method("POST"))
            .and(path(SEND))
            .and(body_partial_json(json!({ "message": { "token": token } })))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .with_priority(1)
            .mount(&google.server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200))
        .mount(&google.server)
        .await;
    let acme = contact(db, &["tok-gone", "tok-ok", "tok-junk"]).await;
    let worker = worker(db, &google);

    agent_says(db, &acme, "hello").await;
    let items = drain(db, &worker, acme.company).await;
    assert_eq!((items[0].status, items[0].attempts), (OutboxStatus::Delivered, 1), "not retried");
    let targets = db.store().push_targets(acme.company, acme.conversation.contact_id).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!((targets[0].id, targets[0].push_token.as_deref()), (acme.devices[1], Some("tok-ok")));

    // With no good token left, nothing is delivered: skipped, the tokens gone.
    db.store()
        .update_device(acme.company, acme.devices[1], Platform::Ios, Some("tok-gone".into()))
        .await
        .unwrap();
    tokio::time::sleep(WINDOW).await;
    agent_says(db, &acme, "still there?").await;
    let items = drain(db, &worker, acme.company).await;
    assert_eq!(items[0].status, OutboxStatus::Skipped, "{:?}", items[0]);
    assert!(items[0].last_error.as_deref().unwrap().contains("refused every push token"), "{:?}", items[0]);
    assert_eq!(db.store().push_targets(acme.company, acme.conversation.contact_id).await.unwrap(), []);
    // A third window: nobody to push to.
    tokio::time::sleep(WINDOW).await;
    agent_says(db, &acme, "bye").await;
    let items = drain(db, &worker, acme.company).await;
    assert_eq!(items[0].last_error.as_deref(), Some("the contact has no device with a push token"));
    assert_eq!(google.sends().await.len(), 4, "three, then one, then none");
}

async fn a_refused_service_account_buries_the_item_without_a_send(db: &TestDb) {
    let google = Google::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({ "error": "invalid_grant", "error_description": "Invalid JWT Signature." }),
        ))
        .mount(&google.server)
        .await;
    let acme = contact(db, &["tok-a"]).await;
    agent_says(db, &acme, "hello").await;
    let items = drain(db, &worker(db, &google), acme.company).await;
    assert_eq!((items[0].status, items[0].attempts), (OutboxStatus::Dead, 1));
    let error = items[0].last_error.as_deref().unwrap();
    assert!(error.starts_with("token endpoint: 400") && error.contains("invalid_grant"), "{error}");
    assert!(google.sends().await.is_empty());
}
