//! Outbound webhooks through HTTP and a stand-in receiver: admins register endpoints whose secret is
//! shown once; events arrive signed with the documented scheme, once each and in order per
//! conversation, also after the receiver was down; a rotated secret signs beside the new one during
//! the overlap; the delivery log, redeliveries and pings; an endpoint failing for a day is disabled.

use std::sync::Arc;
use std::time::Duration;

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_domain::{OutboxStatus, WebhookRepo};
use tidings_forwarding::{Channel, RetryPolicy, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    Caller, Tenant, delete, get, member, patch, post, register, sdk, sdk_app, send, settings, state,
};

backend_tests!(
    admins_manage_endpoints_and_see_the_secret_once,
    events_arrive_signed_once_and_in_order_even_after_the_receiver_was_down,
    a_rotated_secret_signs_beside_the_new_one_and_pings_and_redeliveries_arrive,
    an_endpoint_failing_for_a_day_is_disabled,
    a_message_event_carries_links_to_its_files,
    endpoint_changes_apply_to_the_very_next_event,
);

fn worker(db: &TestDb, app: &tidings_api::AppState) -> Worker {
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(app.webhook_channel(true).unwrap())];
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            max_attempts: 10,
        },
        ..WorkerSettings::default()
    };
    Worker::new(Arc::new(db.store().clone()), channels, settings)
}

/// Ticks until nothing is pending (bounded).
async fn drain(db: &TestDb, worker: &Worker) {
    for _ in 0..500 {
        worker.tick().await;
        if db.count_rows("outbox").await == 0 {
            return;
        }
        let pending: i64 = {
            let stats =
                tidings_domain::OutboxRepo::outbox_stats(db.store(), chrono::Utc::now()).await.unwrap();
            stats.pending
        };
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the outbox did not drain");
}

async fn endpoint(svc: &impl Caller, owner: &Tenant, url: &str, events: &[&str]) -> Value {
    svc.call(post("/v1/webhooks", &owner.token, json!({ "url": url, "events": events }))).await.expect(201)
}

/// Checks `X-Tidings-Signature` as a receiver would: every `v1` that matches one of `secrets`.
fn verified(request: &wiremock::Request, secrets: &[&str]) -> usize {
    let header = request.headers.get("x-tidings-signature").unwrap().to_str().unwrap();
    let mut parts = header.split(',');
    let t: i64 = parts.next().unwrap().strip_prefix("t=").unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - t).abs() < 300, "a fresh timestamp");
    let signatures: Vec<&str> = parts.map(|p| p.strip_prefix("v1=").unwrap()).collect();
    let mut signed = t.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(&request.body);
    secrets
        .iter()
        .filter(|secret| {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            let expected = hex::encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref());
            signatures.contains(&expected.as_str())
        })
        .count()
}

fn header<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request.headers.get(name).unwrap().to_str().unwrap()
}

async fn admins_manage_endpoints_and_see_the_secret_once(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let created = endpoint(&svc, &acme, "https://hooks.example.com/tidings", &["message.created"]).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(
        (created["enabled"].as_bool(), created["events"].clone()),
        (Some(true), json!(["message.created"]))
    );
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/webhooks/{id}");
    let shown = send(&svc, get(&path, &acme.token)).await.expect(200);
    assert!(shown.get("secret").is_none() && !shown.to_string().contains(secret), "shown once only");
    let listed = send(&svc, get("/v1/webhooks", &acme.token)).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(secret));
    let stored = db.store().get_webhook(acme.company_id.parse().unwrap(), id.parse().unwrap()).await.unwrap();
    assert!(!stored.secret.contains(secret), "sealed at rest");

    for bad in [
        json!({ "url": "http://hooks.example.com/", "events": ["message.created"] }),
        json!({ "url": "https://10.1.2.3/", "events": ["message.created"] }),
        json!({ "url": "https://hooks.example.com/", "events": ["message.exploded"] }),
        json!({ "url": "https://hooks.example.com/", "events": [] }),
    ] {
        send(&svc, post("/v1/webhooks", &acme.token, bad)).await.assert_error(400, "VALIDATION_ERROR");
    }
    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    send(&svc, get("/v1/webhooks", &agent)).await.assert_error(403, "FORBIDDEN");
    send(&svc, get(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");
    send(&svc, delete(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");

    let changed =
        json!({ "events": ["message.created", "contact.created", "contact.created"], "enabled": false });
    let patched = send(&svc, patch(&path, &acme.token, changed)).await.expect(200);
    assert_eq!((patched["enabled"].as_bool(), patched["events"].as_array().unwrap().len()), (Some(false), 2));
    send(&svc, delete(&path, &acme.token)).await.expect(204);
    send(&svc, get(&path, &acme.token)).await.assert_error(404, "NOT_FOUND");
}

async fn events_arrive_signed_once_and_in_order_even_after_the_receiver_was_down(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let events = [
        "conversation.created",
        "message.created",
        "message.updated",
        "conversation.updated",
        "contact.created",
    ];
    let created = endpoint(&svc, &acme, &format!("{}/hook", receiver.uri()), &events).await;
    let secret = created["secret"].as_str().unwrap().to_owned();

    let web = sdk_app(&svc, &acme).await;
    let opened =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let conv = opened["id"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        let body = json!({ "body": format!("message {n}") });
        let req = sdk(
            TestRequest::post().uri(&format!("/v1/conversations/{conv}/messages")).set_json(body),
            &web,
            "dev-1",
        );
        send(&svc, req).await.expect(201);
    }
    let agent_reply =
        send(&svc, post(&format!("/v1/conversations/{conv}/messages"), &acme.token, json!({ "body": "hi" })))
            .await
            .expect(201);
    let edit = json!({ "body": "hi there" });
    send(&svc, patch(&format!("/v1/messages/{}", agent_reply["id"].as_str().unwrap()), &acme.token, edit))
        .await
        .expect(200);
    send(&svc, patch(&format!("/v1/conversations/{conv}"), &acme.token, json!({ "status": "resolved" })))
        .await
        .expect(200);
    send(&svc, post("/v1/contacts", &acme.token, json!({ "name": "Ada" }))).await.expect(201);
    // Another company's events never reach Acme's endpoint.
    send(&svc, post("/v1/contacts", &globex.token, json!({ "name": "Spy" }))).await.expect(201);

    drain(db, &worker(db, &app)).await;
    let requests = receiver.received_requests().await.unwrap();
    let mut delivered: Vec<(String, Value)> = Vec::new();
    for request in &requests {
        assert_eq!(verified(request, &[&secret]), 1, "signed with the endpoint's secret");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(header(request, "x-tidings-event"), body["type"].as_str().unwrap());
        assert_eq!(body["company_id"], acme.company_id.as_str());
        let key = header(request, "x-tidings-delivery").to_owned();
        if !delivered.iter().any(|(k, _)| *k == key) {
            delivered.push((key, body));
        }
    }
    assert_eq!(requests.len(), delivered.len() + 2, "two refusals, then each delivery once: {requests:?}");
    let kinds: Vec<&str> = delivered.iter().map(|(_, b)| b["type"].as_str().unwrap()).collect();
    let in_conversation: Vec<&str> = kinds.iter().copied().filter(|k| *k != "contact.created").collect();
    assert_eq!(
        in_conversation,
        [
            "conversation.created",
            "message.created",
            "message.created",
            "message.created",
            "message.created",
            "message.updated",
            "conversation.updated"
        ],
        "in order within the conversation"
    );
    let sequences: Vec<i64> = delivered
        .iter()
        .filter(|(_, b)| b["type"] == "message.created")
        .map(|(_, b)| b["data"]["message"]["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
    assert_eq!(kinds.iter().filter(|k| **k == "contact.created").count(), 1, "Acme's contact only");

    let log =
        send(&svc, get(&format!("/v1/webhooks/{}/deliveries", created["id"].as_str().unwrap()), &acme.token))
            .await
            .expect(200);
    let codes: Vec<i64> =
        log["data"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 503).count(), 2, "{log}");
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), delivered.len());

    // The attempts are counted by result (at least these: other tests of this process count too).
    let res = actix_web::test::call_service(&svc, TestRequest::get().uri("/metrics").to_request()).await;
    let page = String::from_utf8(actix_web::test::read_body(res).await.to_vec()).unwrap();
    let attempts = |result: &str| -> f64 {
        page.lines()
            .filter(|l| l.starts_with("tidings_outbox_attempts_total{"))
            .filter(|l| {
                l.contains("kind=\"webhook.delivery\"") && l.contains(&format!("result=\"{result}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(attempts("retry") >= 2.0, "{page}");
    assert!(attempts("delivered") >= delivered.len() as f64, "{page}");
}

async fn a_rotated_secret_signs_beside_the_new_one_and_pings_and_redeliveries_arrive(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let created = endpoint(&svc, &acme, &format!("{}/hook", receiver.uri()), &["contact.created"]).await;
    let (id, old) =
        (created["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned());
    let rotated = send(&svc, post(&format!("/v1/webhooks/{id}/rotate-secret"), &acme.token, json!({})))
        .await
        .expect(200);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_until"].is_string());

    send(&svc, post("/v1/contacts", &acme.token, json!({ "name": "Ada" }))).await.expect(201);
    send(&svc, post(&format!("/v1/webhooks/{id}/test"), &acme.token, json!({}))).await.expect(202);
    let worker = worker(db, &app);
    drain(db, &worker).await;
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(verified(request, &[&old]), 1, "the old secret still signs during the overlap");
        assert_eq!(verified(request, &[&new]), 1, "and so does the new one");
    }
    // The two are not about one conversation: they may arrive in either order.
    let of_type = |requests: &[wiremock::Request], kind: &str| -> Vec<wiremock::Request> {
        requests.iter().filter(|r| header(r, "x-tidings-event") == kind).cloned().collect()
    };
    let ping: Value = serde_json::from_slice(&of_type(&requests, "ping")[0].body).unwrap();
    assert_eq!(ping["type"], "ping");

    let log = send(&svc, get(&format!("/v1/webhooks/{id}/deliveries"), &acme.token)).await.expect(200);
    let contact_delivery =
        log["data"].as_array().unwrap().iter().find(|a| a["event"] == "contact.created").unwrap();
    let again = format!(
        "/v1/webhooks/{id}/deliveries/{}/redeliver",
        contact_delivery["delivery_id"].as_str().unwrap()
    );
    send(&svc, post(&again, &acme.token, json!({}))).await.expect(202);
    drain(db, &worker).await;
    let requests = receiver.received_requests().await.unwrap();
    let contacts = of_type(&requests, "contact.created");
    assert_eq!((requests.len(), contacts.len()), (3, 2));
    assert_eq!(contacts[1].body, contacts[0].body, "the same event");
    assert_ne!(
        header(&contacts[1], "x-tidings-delivery"),
        header(&contacts[0], "x-tidings-delivery"),
        "a new delivery"
    );
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    send(&svc, post(&again, &globex.token, json!({}))).await.assert_error(404, "NOT_FOUND");
}

async fn an_endpoint_failing_for_a_day_is_disabled(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&receiver).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let created = endpoint(&svc, &acme, &format!("{}/hook", receiver.uri()), &["contact.created"]).await;
    let id = created["id"].as_str().unwrap();
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(25)).format("%Y-%m-%d %H:%M:%S%.6f");
    db.execute(&format!("UPDATE webhook_endpoints SET failing_since = '{day_ago}' WHERE id = '{id}'"))
        .await
        .unwrap();
    send(&svc, post("/v1/contacts", &acme.token, json!({ "name": "Ada" }))).await.expect(201);
    let worker = worker(db, &app);
    worker.tick().await;
    let shown = send(&svc, get(&format!("/v1/webhooks/{id}"), &acme.token)).await.expect(200);
    assert_eq!(shown["enabled"], false, "{shown}");
    assert!(shown["disabled_reason"].as_str().unwrap().contains("500"));
    // Its owners are told by e-mail (sealed in the outbox: the address is not readable there).
    let company = acme.company_id.parse().unwrap();
    let mails = tidings_domain::OutboxRepo::list_outbox(
        db.store(),
        company,
        None,
        Some(tidings_domain::OutboxKind::Email),
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(mails.len(), 1, "one owner, one e-mail");
    assert!(!mails[0].payload.to_string().contains("owner@acme.test"));
    drain(db, &worker).await;
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1, "nothing more is sent to it");
    let skipped = tidings_domain::OutboxRepo::list_outbox(
        db.store(),
        company,
        Some(OutboxStatus::Skipped),
        None,
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(skipped.len(), 1, "the pending delivery was skipped");
    assert_eq!(skipped[0].last_error.as_deref(), Some("the endpoint is disabled"));
}

async fn a_message_event_carries_links_to_its_files(db: &TestDb) {
    let app = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let created = endpoint(&svc, &acme, &format!("{}/hook", receiver.uri()), &["message.created"]).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let web = sdk_app(&svc, &acme).await;
    let opened =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let pdf = b"%PDF-1.7\n%\xe2\xe3\n".to_vec();
    let file = send(&svc, crate::uploads::upload(&acme.token, pdf.clone(), "application/pdf", "quote.pdf"))
        .await
        .expect(201);
    let path = format!("/v1/conversations/{}/messages", opened["id"].as_str().unwrap());
    let reply = json!({ "body": "Your quote", "attachments": [file["id"]] });
    send(&svc, post(&path, &acme.token, reply)).await.expect(201);
    // The stored delivery holds no link (a link is a credential); the call has a fresh one.
    let items = tidings_domain::OutboxRepo::list_outbox(
        db.store(),
        acme.company_id.parse().unwrap(),
        None,
        None,
        None,
        10,
    )
    .await
    .unwrap();
    let stored = &items[0].payload["body"]["data"]["message"]["attachments"][0];
    assert!(stored["upload_id"].is_string() && stored["url"].is_null(), "{stored}");
    drain(db, &worker(db, &app)).await;
    let calls = receiver.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(verified(&calls[0], &[&secret]), 1, "signed over the body with its links");
    let body: Value = serde_json::from_slice(&calls[0].body).unwrap();
    let attachment = &body["data"]["message"]["attachments"][0];
    assert_eq!(attachment["name"], "quote.pdf");
    let (status, _, bytes) =
        crate::uploads::raw(&svc, crate::uploads::fetch(attachment["url"].as_str().unwrap())).await;
    assert_eq!((status, bytes.as_ref()), (200, pdf.as_slice()));
}

/// The node remembers each company's endpoints for a moment: the webhook service makes it forget
/// them as it changes them, so the very next event already goes where the change says.
async fn endpoint_changes_apply_to_the_very_next_event(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let opened =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let path = format!("/v1/conversations/{}/messages", opened["id"].as_str().unwrap());
    let message = |n: u32| post(&path, &acme.token, json!({ "body": format!("message {n}") }));
    // No endpoint yet: the node now remembers that nobody listens to `message.created`.
    send(&svc, message(1)).await.expect(201);
    assert_eq!(db.count_rows("outbox").await, 0);

    let created = endpoint(&svc, &acme, "http://127.0.0.1:9/hook", &["message.created"]).await;
    send(&svc, message(2)).await.expect(201);
    assert_eq!(db.count_rows("outbox").await, 1, "the new endpoint gets the next message at once");

    let hook = format!("/v1/webhooks/{}", created["id"].as_str().unwrap());
    send(&svc, patch(&hook, &acme.token, json!({ "events": ["contact.created"] }))).await.expect(200);
    send(&svc, message(3)).await.expect(201);
    assert_eq!(db.count_rows("outbox").await, 1, "unsubscribed at once");

    send(&svc, patch(&hook, &acme.token, json!({ "events": ["message.created"] }))).await.expect(200);
    send(&svc, message(4)).await.expect(201);
    assert_eq!(db.count_rows("outbox").await, 2);
    assert_eq!(send(&svc, delete(&hook, &acme.token)).await.status, 204);
    let before = db.count_rows("outbox").await;
    send(&svc, message(5)).await.expect(201);
    assert_eq!(db.count_rows("outbox").await, before, "a deleted endpoint gets nothing more");
}
