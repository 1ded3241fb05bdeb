//! Attachments seen live: a message's files reach the other side's WebSocket and the conversation's
//! feed with working download links, and a reply with a file hands the Meta bot service a link it
//! can fetch.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_domain::OutboxRepo;
use tidings_forwarding::{Channel, MetaBot, RetryPolicy, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::live::{Live, as_refs, sdk_headers};

backend_tests!(
    files_reach_the_other_side_live_and_in_the_feed,
    a_forwarded_reply_hands_meta_a_link_to_its_file
);

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

async fn files_reach_the_other_side_live_and_in_the_feed(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let device = sdk_headers(&app, "dev-1");
    let mut phone = live.ws(&as_refs(&device)).await;
    phone.until("connected").await;
    phone.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    phone.until("subscribed").await;
    let auth = format!("Bearer {owner}");
    let mut agent = live.ws(&[("authorization", &auth)]).await;
    agent.until("connected").await;

    // The agent sends a PDF: the phone gets it live and can open it.
    let manual = live.upload(&[("authorization", &auth)], PDF.to_vec(), "manual.pdf").await;
    let path = format!("/v1/conversations/{conv}/messages");
    let reply = json!({ "body": "The manual", "attachments": [manual["id"]] });
    let (status, _) = live.call(Method::POST, &path, &[("authorization", &auth)], Some(reply)).await;
    assert_eq!(status, 201);
    let frame = phone.until("message.new").await;
    let file = &frame["message"]["attachments"][0];
    assert_eq!((file["name"].as_str(), file["size"].as_u64()), (Some("manual.pdf"), Some(PDF.len() as u64)));
    assert_eq!(live.download(file["url"].as_str().unwrap()).await, (200, PDF.to_vec()));

    // The phone sends one back; the agent's session shows it.
    let shot = live.upload(&as_refs(&device), PDF.to_vec(), "receipt.pdf").await;
    let sent = json!({ "body": "", "attachments": [shot["id"]] });
    let (status, _) = live.call(Method::POST, &path, &as_refs(&device), Some(sent)).await;
    assert_eq!(status, 201);
    let mut frame = agent.until("message.new").await;
    while frame["sequence"] != 2 {
        frame = agent.until("message.new").await;
    }
    let seen = &frame["message"]["attachments"][0];
    assert_eq!(seen["upload_id"], shot["id"]);
    assert_eq!(live.download(seen["url"].as_str().unwrap()).await.0, 200);

    // A client that catches up through the feed gets links too.
    let (_, feed) = live
        .call(Method::GET, &format!("/v1/conversations/{conv}/events?after=0"), &as_refs(&device), None)
        .await;
    let urls: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["message"]["attachments"][0]["url"].as_str())
        .collect();
    assert_eq!(urls.len(), 2, "{feed}");
    for url in urls {
        assert_eq!(live.download(url).await.0, 200);
    }
    live.stop().await;
}

async fn a_forwarded_reply_hands_meta_a_link_to_its_file(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, company, conv) = crate::forward::facebook_conversation(&live).await;
    let bot = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&bot).await;
    let auth = format!("Bearer {owner}");
    let file = live.upload(&[("authorization", &auth)], PDF.to_vec(), "invoice.pdf").await;
    let path = format!("/v1/conversations/{conv}/messages");
    let reply = json!({ "body": "Your invoice", "attachments": [file["id"]] });
    let (status, sent) = live.call(Method::POST, &path, &[("authorization", &auth)], Some(reply)).await;
    assert_eq!((status, sent["forwarding"].as_str()), (201, Some("queued")), "{sent}");
    // The outbox keeps no link (a link is a credential); the call carries a fresh one.
    let items = db.store().list_outbox(company, None, None, None, 10).await.unwrap();
    assert!(items[0].payload["attachments"][0]["url"].is_null(), "{}", items[0].payload);

    let meta = MetaBot::new(&bot.uri(), Arc::new(live.state.integrations.clone()))
        .unwrap()
        .with_links(live.state.uploads.attachments().links());
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(meta)];
    let settings = WorkerSettings {
        retry: RetryPolicy { base: Duration::from_millis(1), cap: Duration::from_millis(5), max_attempts: 3 },
        ..WorkerSettings::default()
    };
    let worker = Worker::new(Arc::new(db.store().clone()), channels, settings);
    for _ in 0..100 {
        worker.tick().await;
        if !bot.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let calls = bot.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&calls[0].body).unwrap();
    let attachment = &body["attachments"][0];
    assert_eq!(
        (attachment["name"].as_str(), attachment["content_type"].as_str()),
        (Some("invoice.pdf"), Some("application/pdf"))
    );
    assert_eq!(live.download(attachment["url"].as_str().unwrap()).await, (200, PDF.to_vec()));
    live.stop().await;
}
