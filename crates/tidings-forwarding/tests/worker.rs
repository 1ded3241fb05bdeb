//! The outbox worker against a real store and a stand-in bot service (wiremock): retried until
//! delivered once, dead at once on a permanent error, dead after the last attempt, a missing
//! integration, and several workers sharing the work without a duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tidings_domain::{
    CompanyId, CompanyRepo, NewCompany, NewOutboxItem, OutboxId, OutboxKind, OutboxRepo, OutboxStatus,
};
use tidings_forwarding::{Channel, MetaBot, MetaCredentials, RetryPolicy, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

backend_tests!(
    a_bot_down_three_times_gets_the_forward_once_when_it_is_back,
    a_permanent_error_buries_the_item_at_once,
    the_last_attempt_buries_the_item,
    a_company_without_a_token_gets_a_dead_item_and_no_call,
    several_workers_share_the_work_without_a_duplicate,
    a_slow_bot_does_not_let_a_batch_outlive_its_lease,
    a_settled_forward_records_its_messages_new_status_as_an_effect,
);

/// Tokens for one company only.
struct Tokens(CompanyId);

#[async_trait]
impl MetaCredentials for Tokens {
    async fn access_token(&self, company_id: CompanyId, platform: &str) -> Result<Option<String>, String> {
        Ok((company_id == self.0).then(|| format!("{platform}-token")))
    }
}

fn settings(max_attempts: u32) -> WorkerSettings {
    WorkerSettings {
        retry: RetryPolicy { base: Duration::from_millis(10), cap: Duration::from_millis(40), max_attempts },
        lease: Duration::from_secs(30),
        batch: 16,
        poll: Duration::from_millis(10),
    }
}

async fn company(db: &TestDb, name: &str) -> CompanyId {
    db.store().create_company(NewCompany { name: name.into() }).await.unwrap().id
}

async fn forward(db: &TestDb, company_id: CompanyId, n: usize) -> OutboxId {
    let new = NewOutboxItem {
        company_id,
        kind: OutboxKind::MetaForward,
        idempotency_key: format!("message:{n}"),
        payload: serde_json::json!({
            "company_id": company_id,
            "platform": "facebook",
            "content": format!("reply {n}"),
            "customer_social_id": "psid-1",
        }),
        message_id: None,
        order_key: None,
        due_at: None,
    };
    db.store().enqueue(new).await.unwrap().id
}

fn worker(db: &TestDb, bot: &MockServer, tokens: CompanyId, max_attempts: u32) -> Worker {
    worker_with(db, bot, tokens, settings(max_attempts))
}

fn worker_with(db: &TestDb, bot: &MockServer, tokens: CompanyId, settings: WorkerSettings) -> Worker {
    let meta = MetaBot::new(&bot.uri(), Arc::new(Tokens(tokens))).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(meta)];
    Worker::new(Arc::new(db.store().clone()), channels, settings)
}

/// Runs the workers side by side, each ticking (and resting `idle` when it found nothing) for `span`.
async fn tick_together(workers: Vec<Worker>, span: Duration, idle: Duration) {
    let running: Vec<_> = workers
        .into_iter()
        .map(|w| {
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + span;
                while tokio::time::Instant::now() < deadline {
                    if w.tick().await == 0 {
                        tokio::time::sleep(idle).await;
                    }
                }
            })
        })
        .collect();
    for r in running {
        r.await.unwrap();
    }
}

/// Asserts that the company's `n` items were delivered, each with one call.
async fn each_delivered_once(db: &TestDb, bot: &MockServer, company_id: CompanyId, n: usize) {
    let delivered =
        db.store().list_outbox(company_id, Some(OutboxStatus::Delivered), None, None, 100).await.unwrap();
    assert_eq!(delivered.len(), n);
    let keys = called_keys(bot).await;
    let distinct: HashSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (n, n), "each forward called once");
}

/// The `Idempotency-Key` of every call the bot received, in order.
async fn called_keys(bot: &MockServer) -> Vec<String> {
    let calls = bot.received_requests().await.unwrap();
    calls.iter().map(|r| r.headers.get("idempotency-key").unwrap().to_str().unwrap().to_owned()).collect()
}

/// Ticks until no pending item is left (bounded).
async fn drain(db: &TestDb, worker: &Worker, company_id: CompanyId) {
    for _ in 0..500 {
        worker.tick().await;
        let pending =
            db.store().list_outbox(company_id, Some(OutboxStatus::Pending), None, None, 1).await.unwrap();
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the outbox did not drain");
}

async fn item(db: &TestDb, company_id: CompanyId, id: OutboxId) -> tidings_domain::OutboxItem {
    let all = db.store().list_outbox(company_id, None, None, None, 100).await.unwrap();
    all.into_iter().find(|i| i.id == id).unwrap()
}

async fn a_bot_down_three_times_gets_the_forward_once_when_it_is_back(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/facebook"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .mount(&bot)
        .await;
    Mock::given(method("POST"))
        .and(path("/facebook"))
        .and(header_exists("idempotency-key"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&bot)
        .await;
    let acme = company(db, "Acme").await;
    let id = forward(db, acme, 1).await;
    drain(db, &worker(db, &bot, acme, 10), acme).await;

    let stored = item(db, acme, id).await;
    assert_eq!((stored.status, stored.attempts), (OutboxStatus::Delivered, 4));
    let calls = bot.received_requests().await.unwrap();
    assert_eq!(calls.len(), 4, "three refusals, one delivery, nothing after");
    for call in &calls {
        assert_eq!(call.headers.get("idempotency-key").unwrap(), "message:1", "the same key every time");
        let body: serde_json::Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(
            (body["content"].as_str(), body["access_token"].as_str()),
            (Some("reply 1"), Some("facebook-token"))
        );
    }
    let raw = serde_json::to_string(&stored.payload).unwrap();
    assert!(!raw.contains("facebook-token"), "the token is never stored");
}

async fn a_permanent_error_buries_the_item_at_once(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("unknown recipient"))
        .mount(&bot)
        .await;
    let acme = company(db, "Acme").await;
    let id = forward(db, acme, 1).await;
    drain(db, &worker(db, &bot, acme, 10), acme).await;
    let stored = item(db, acme, id).await;
    assert_eq!((stored.status, stored.attempts), (OutboxStatus::Dead, 1));
    assert!(stored.last_error.as_deref().unwrap().contains("unknown recipient"), "{stored:?}");
    assert_eq!(bot.received_requests().await.unwrap().len(), 1);
    // 429 and 408 are not permanent.
    let busy = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(429)).up_to_n_times(1).mount(&busy).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(408)).up_to_n_times(1).mount(&busy).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&busy).await;
    let id = forward(db, acme, 2).await;
    drain(db, &worker(db, &busy, acme, 10), acme).await;
    assert_eq!(item(db, acme, id).await.status, OutboxStatus::Delivered);
    assert_eq!(busy.received_requests().await.unwrap().len(), 3);
}

async fn the_last_attempt_buries_the_item(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(502)).mount(&bot).await;
    let acme = company(db, "Acme").await;
    let id = forward(db, acme, 1).await;
    drain(db, &worker(db, &bot, acme, 4), acme).await;
    let stored = item(db, acme, id).await;
    assert_eq!((stored.status, stored.attempts), (OutboxStatus::Dead, 4));
    assert!(stored.last_error.as_deref().unwrap().starts_with("502"), "{stored:?}");
    assert_eq!(bot.received_requests().await.unwrap().len(), 4);
}

async fn a_company_without_a_token_gets_a_dead_item_and_no_call(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&bot).await;
    let (acme, globex) = (company(db, "Acme").await, company(db, "Globex").await);
    let id = forward(db, globex, 1).await;
    drain(db, &worker(db, &bot, acme, 10), globex).await;
    let stored = item(db, globex, id).await;
    assert_eq!(stored.status, OutboxStatus::Dead);
    assert!(stored.last_error.as_deref().unwrap().contains("no facebook access token"));
    assert!(bot.received_requests().await.unwrap().is_empty(), "never called with another company's token");
}

async fn several_workers_share_the_work_without_a_duplicate(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(5)))
        .mount(&bot)
        .await;
    let acme = company(db, "Acme").await;
    for n in 0..30 {
        forward(db, acme, n).await;
    }
    let workers = (0..3).map(|_| worker(db, &bot, acme, 10)).collect();
    tick_together(workers, Duration::from_secs(2), Duration::from_millis(10)).await;
    each_delivered_once(db, &bot, acme, 30).await;
}

/// A batch called one item after another would outlive its lease with a slow bot (16 calls of 1 s
/// against a 12 s lease), and the last items would be claimed and sent again by another worker.
async fn a_slow_bot_does_not_let_a_batch_outlive_its_lease(db: &TestDb) {
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(1)))
        .mount(&bot)
        .await;
    let acme = company(db, "Acme").await;
    for n in 0..24 {
        forward(db, acme, n).await;
    }
    let slow = WorkerSettings { lease: Duration::from_secs(12), ..settings(10) };
    let workers = (0..2).map(|_| worker_with(db, &bot, acme, slow)).collect();
    // Each worker keeps ticking past the first leases' end, when a duplicate would be claimed.
    tick_together(workers, Duration::from_secs(14), Duration::from_millis(50)).await;
    each_delivered_once(db, &bot, acme, 24).await;
}

/// Keeps the events it is given.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<tidings_domain::DomainEvent>>);

#[async_trait]
impl tidings_domain::Effects for Recorded {
    async fn record(
        &self,
        _unit: &dyn tidings_domain::Transaction,
        event: &tidings_domain::DomainEvent,
    ) -> tidings_domain::RepoResult<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

async fn a_settled_forward_records_its_messages_new_status_as_an_effect(db: &TestDb) {
    use tidings_domain::{
        ContactRepo, ConversationRepo, Direction, DomainEvent, EffectList, MessageRepo, MessageStatus,
        NewMessage, Platform, Sender,
    };
    let bot = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&bot).await;
    let acme = company(db, "Acme").await;
    let store = db.store();
    let contact = store.social_contact(acme, Platform::Facebook, "psid-1").await.unwrap();
    let conv = store.open_conversation(acme, contact.id, None, Platform::Facebook).await.unwrap();
    let reply = NewMessage {
        company_id: acme,
        conversation_id: conv.id,
        local_id: None,
        sender: Sender::Agent,
        author_id: None,
        direction: Direction::Outbound,
        platform: None,
        body: "hi".into(),
        attachments: serde_json::json!([]),
        awaiting_forward: true,
        uploads: Vec::new(),
    };
    let message = store.append_message(reply).await.unwrap().message;
    store
        .enqueue(NewOutboxItem {
            message_id: Some(message.id),
            ..NewOutboxItem {
                company_id: acme,
                kind: OutboxKind::MetaForward,
                idempotency_key: "meta.forward:1".into(),
                payload: serde_json::json!({ "platform": "facebook", "content": "hi" }),
                message_id: None,
                order_key: None,
                due_at: None,
            }
        })
        .await
        .unwrap();
    let effects = Arc::new(Recorded::default());
    let worker = worker(db, &bot, acme, 10).with_effects(EffectList(vec![effects.clone()]));
    drain(db, &worker, acme).await;
    let events = effects.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        matches!(&events[0], DomainEvent::MessageUpdated { message: m } if m.id == message.id && m.status == MessageStatus::Sent),
        "{events:?}"
    );
}
