//! Forwards to the Meta bot service seen from the outside: a reply reaches the stand-in bot exactly
//! once however often it was down, a refused one dies and is delivered after a hand retry, and
//! each status the outbox learns reaches live clients and the conversation's feed.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_api::RealtimeSettings;
use tidings_domain::{CompanyId, OutboxRepo, OutboxStatus};
use tidings_forwarding::{Channel, MetaBot, RetryPolicy, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::live::{Live, Ws};

backend_tests!(
    a_reply_reaches_the_bot_once_after_it_was_down_and_live_clients_see_it_sent,
    a_refused_forward_dies_and_a_hand_retry_delivers_it,
);

const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";
const PAGE_TOKEN: &str = "EAAB-page-access-token-0123456789";

/// A company with page 1001 connected and a contact who wrote on it: (owner token, company, conversation).
pub(crate) async fn facebook_conversation(live: &Live) -> (String, CompanyId, String) {
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let settings = json!({ "page_id": "1001", "page_access_token": PAGE_TOKEN, "app_secret": APP_SECRET });
    let (code, _) =
        live.call(Method::PUT, "/v1/integrations/meta", &[("authorization", &auth)], Some(settings)).await;
    assert_eq!(code, 200);
    let body = json!({ "object": "page", "entry": [{ "id": "1001", "messaging": [{
        "sender": { "id": "psid-1" }, "recipient": { "id": "1001" }, "timestamp": 1_700_000_000_000_i64,
        "message": { "mid": "m-1", "text": "hello" } }] }] });
    let raw = serde_json::to_vec(&body).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, APP_SECRET.as_bytes());
    let signature = format!("sha256={}", hex::encode(aws_lc_rs::hmac::sign(&key, &raw)));
    let (code, _) = live
        .call(Method::POST, "/v1/webhooks/meta", &[("x-hub-signature-256", &signature)], Some(body))
        .await;
    assert_eq!(code, 200);
    let (_, list) = live.call(Method::GET, "/v1/conversations", &[("authorization", &auth)], None).await;
    let company = list["data"][0]["company_id"].as_str().unwrap().parse().unwrap();
    (owner, company, list["data"][0]["id"].as_str().unwrap().to_owned())
}

fn worker(db: &TestDb, live: &Live, bot: &MockServer) -> Worker {
    let meta = MetaBot::new(&bot.uri(), Arc::new(live.state.integrations.clone())).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(meta)];
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            max_attempts: 10,
        },
        ..WorkerSettings::default()
    };
    Worker::new(Arc::new(db.store().clone()), channels, settings).with_listener(live.state.forward_listener())
}

/// Ticks until the company has no pending item (bounded).
async fn drain(db: &TestDb, worker: &Worker, company: CompanyId) {
    for _ in 0..500 {
        worker.tick().await;
        let pending =
            db.store().list_outbox(company, Some(OutboxStatus::Pending), None, None, 1).await.unwrap();
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the outbox did not drain");
}

async fn reply(live: &Live, owner: &str, conv: &str, body: &str) -> Value {
    let auth = format!("Bearer {owner}");
    let path = format!("/v1/conversations/{conv}/messages");
    let (code, sent) =
        live.call(Method::POST, &path, &[("authorization", &auth)], Some(json!({ "body": body }))).await;
    assert_eq!((code, sent["forwarding"].as_str()), (201, Some("queued")), "{sent}");
    sent
}

/// The next `message.updated` frame about message `id`.
async fn updated(ws: &mut Ws, id: &Value) -> Value {
    loop {
        let frame = ws.until("message.updated").await;
        if frame["message"]["id"] == *id {
            return frame;
        }
    }
}

async fn a_reply_reaches_the_bot_once_after_it_was_down_and_live_clients_see_it_sent(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, company, conv) = facebook_conversation(&live).await;
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/facebook"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&bot)
        .await;
    Mock::given(method("POST"))
        .and(path("/facebook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&bot)
        .await;
    let mut agent = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    assert_eq!(agent.json().await["type"], "connected");

    let sent = reply(&live, &owner, &conv, "We can help").await;
    let new = agent.until("message.new").await;
    assert_eq!(
        (new["message"]["id"].clone(), new["message"]["status"].as_str()),
        (sent["id"].clone(), Some("pending"))
    );
    drain(db, &worker(db, &live, &bot), company).await;

    let frame = updated(&mut agent, &sent["id"]).await;
    assert_eq!(frame["message"]["status"], "sent", "{frame}");
    let calls = bot.received_requests().await.unwrap();
    assert_eq!(calls.len(), 4, "three refusals, then the delivery");
    let key = format!("meta.forward:{}", sent["id"].as_str().unwrap());
    for call in &calls {
        assert_eq!(
            call.headers.get("idempotency-key").unwrap().to_str().unwrap(),
            key,
            "one key for every attempt"
        );
        let body: Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(
            (body["access_token"].as_str(), body["content"].as_str()),
            (Some(PAGE_TOKEN), Some("We can help"))
        );
        assert_eq!(
            (body["customer_social_id"].as_str(), body["platform"].as_str()),
            (Some("psid-1"), Some("facebook"))
        );
    }
    let auth = format!("Bearer {owner}");
    let (_, message) = live
        .call(
            Method::GET,
            &format!("/v1/messages/{}", sent["id"].as_str().unwrap()),
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(message["status"], "sent");
    let events = format!("/v1/conversations/{conv}/events?after={}", new["position"]);
    let (_, feed) = live.call(Method::GET, &events, &[("authorization", &auth)], None).await;
    assert_eq!(feed["data"][0]["type"], "message.updated", "{feed}");
    assert_eq!(feed["data"][0]["message"]["status"], "sent");
    let items = db.store().list_outbox(company, None, None, None, 10).await.unwrap();
    assert_eq!((items[0].status, items[0].attempts), (OutboxStatus::Delivered, 4));
    live.stop().await;
}

async fn a_refused_forward_dies_and_a_hand_retry_delivers_it(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, company, conv) = facebook_conversation(&live).await;
    let bot = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "content": "refused" })))
        .respond_with(ResponseTemplate::new(400).set_body_string("unknown recipient"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&bot)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&bot).await;
    let mut agent = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    assert_eq!(agent.json().await["type"], "connected");
    let auth = format!("Bearer {owner}");

    let sent = reply(&live, &owner, &conv, "refused").await;
    let worker = worker(db, &live, &bot);
    drain(db, &worker, company).await;
    assert_eq!(updated(&mut agent, &sent["id"]).await["message"]["status"], "failed");
    let (_, dead) = live.call(Method::GET, "/v1/outbox?status=dead", &[("authorization", &auth)], None).await;
    assert_eq!(dead["data"].as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead["data"][0]["attempts"], 1, "a 400 is not retried");
    assert!(dead["data"][0]["last_error"].as_str().unwrap().contains("unknown recipient"));

    let retry = format!("/v1/outbox/{}/retry", dead["data"][0]["id"].as_str().unwrap());
    let (code, _) = live.call(Method::POST, &retry, &[("authorization", &auth)], Some(json!({}))).await;
    assert_eq!(code, 200);
    drain(db, &worker, company).await;
    assert_eq!(updated(&mut agent, &sent["id"]).await["message"]["status"], "sent");
    assert_eq!(bot.received_requests().await.unwrap().len(), 2, "refused once, delivered once");
    let (_, left) = live.call(Method::GET, "/v1/outbox?status=dead", &[("authorization", &auth)], None).await;
    assert_eq!(left["data"], json!([]));
    live.stop().await;
}
