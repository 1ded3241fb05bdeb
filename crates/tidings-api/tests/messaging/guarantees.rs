//! What we sell: no lost, duplicated or reordered message, whatever the concurrency.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, SdkApp, Tenant, get, post, register, sdk, sdk_app, send};

backend_tests!(
    a_contact_and_an_agent_converse,
    concurrent_senders_get_every_sequence_exactly_once,
    racing_retries_of_one_local_id_make_one_message,
    bodies_are_limited_to_5000_characters,
    status_moves_forward_only,
    a_receipt_answers_the_sequence_it_applied,
    pagination_walks_every_message_once,
);

/// A tenant, an SDK app, and the conversation of device `dev-1`.
pub async fn setup(svc: &impl Caller) -> (Tenant, SdkApp, String) {
    let tenant = register(svc, "Acme", "owner@acme.test").await;
    let app = sdk_app(svc, &tenant).await;
    let conv = svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &app, "dev-1")).await.expect(200);
    (tenant, app, conv["id"].as_str().unwrap().to_owned())
}

pub fn body(text: &str) -> Value {
    json!({ "body": text })
}

async fn a_contact_and_an_agent_converse(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let again =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    assert_eq!(again["id"], conv.as_str(), "the device keeps its open conversation");

    let path = format!("/v1/conversations/{conv}/messages");
    let hello = send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("Hello?")), &web, "dev-1"))
        .await
        .expect(201);
    assert_eq!((hello["sequence"].as_i64(), hello["direction"].as_str()), (Some(1), Some("inbound")));
    assert_eq!((hello["sender"].as_str(), hello["status"].as_str()), (Some("contact"), Some("sent")));

    let inbox = send(&svc, get("/v1/conversations", &acme.token)).await.expect(200);
    assert_eq!(inbox["data"][0]["id"], conv.as_str());
    assert_eq!(inbox["data"][0]["unread_count"], 1);
    let preview = &inbox["data"][0]["last_message"];
    assert_eq!((preview["body"].as_str(), preview["direction"].as_str()), (Some("Hello?"), Some("inbound")));
    assert_eq!((preview["sequence"].as_i64(), preview["attachments"].as_i64()), (Some(1), Some(0)));

    let reply = send(&svc, post(&path, &acme.token, body("Hi, how can I help?"))).await.expect(201);
    assert_eq!((reply["sequence"].as_i64(), reply["direction"].as_str()), (Some(2), Some("outbound")));
    assert_eq!(reply["author_id"], acme.owner_id.as_str());

    let read = send(&svc, post(&format!("{path}/read"), &acme.token, json!({ "up_to_sequence": 1 })))
        .await
        .expect(200);
    assert_eq!(read["updated"], 1);
    let inbox = send(&svc, get(&format!("/v1/conversations/{conv}"), &acme.token)).await.expect(200);
    assert_eq!(inbox["unread_count"], 0);
    assert_eq!(inbox["last_message"]["body"], "Hi, how can I help?", "the newest message, the agent's");
    assert_eq!(inbox["last_message"]["direction"], "outbound");

    let receipt = TestRequest::post().uri(&format!("{path}/read")).set_json(json!({ "up_to_sequence": 99 }));
    assert_eq!(send(&svc, sdk(receipt, &web, "dev-1")).await.expect(200)["updated"], 1);
    let seen = send(&svc, sdk(TestRequest::get().uri(&path), &web, "dev-1")).await.expect(200);
    let statuses: Vec<&str> =
        seen["data"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["read", "read"]);
    let single =
        send(&svc, get(&format!("/v1/messages/{}", reply["id"].as_str().unwrap()), &acme.token)).await;
    assert_eq!(single.expect(200)["body"], "Hi, how can I help?");
}

async fn concurrent_senders_get_every_sequence_exactly_once(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let writers = (0..20).map(|w| {
        let (svc, path, web, token) = (&svc, &path, &web, &acme.token);
        async move {
            let mut sequences = Vec::new();
            for i in 0..50 {
                // Half the writers are agents, half the contact's device.
                let req = if w % 2 == 0 {
                    post(path, token, body(&format!("{w}-{i}")))
                } else {
                    sdk(TestRequest::post().uri(path).set_json(body(&format!("{w}-{i}"))), web, "dev-1")
                };
                sequences.push(send(svc, req).await.expect(201)["sequence"].as_i64().unwrap());
            }
            sequences
        }
    });
    for sequences in join_all(writers).await {
        assert!(sequences.windows(2).all(|p| p[0] < p[1]), "a writer's messages keep their order");
    }
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = send(&svc, get(&format!("{path}?after={after}&limit=200"), &acme.token)).await.expect(200);
        let data = page["data"].as_array().unwrap().clone();
        all.extend(data.iter().map(|m| m["sequence"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => after = next.parse().unwrap(),
            None => break,
        }
    }
    assert_eq!(all, (1..=1000).collect::<Vec<_>>());
}

async fn racing_retries_of_one_local_id_make_one_message(db: &TestDb) {
    let svc = app!(db);
    let (_, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let msg = json!({ "body": "only once", "local_id": "c-42" });
    let replies = join_all(
        (0..10).map(|_| send(&svc, sdk(TestRequest::post().uri(&path).set_json(msg.clone()), &web, "dev-1"))),
    )
    .await;
    let created = replies.iter().filter(|r| r.status.as_u16() == 201).count();
    let repeated = replies.iter().filter(|r| r.status.as_u16() == 200).count();
    assert_eq!((created, repeated), (1, 9));
    assert!(replies.iter().all(|r| r.body["id"] == replies[0].body["id"] && r.body["sequence"] == 1));
    assert_eq!(db.count_rows("messages").await, 1);
    let later =
        send(&svc, sdk(TestRequest::post().uri(&path).set_json(msg), &web, "dev-1")).await.expect(200);
    assert_eq!(later["id"], replies[0].body["id"], "a retry much later still gets the original");
}

async fn bodies_are_limited_to_5000_characters(db: &TestDb) {
    let svc = app!(db);
    let (acme, _, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let max = "é".repeat(5000);
    send(&svc, post(&path, &acme.token, body(&max))).await.expect(201);
    let over = send(&svc, post(&path, &acme.token, body(&format!("{max}x")))).await;
    over.assert_error(400, "VALIDATION_ERROR");
    assert!(over.body["error"]["details"]["fields"]["body"].is_array(), "{}", over.body);
    send(&svc, post(&path, &acme.token, body("   "))).await.assert_error(400, "VALIDATION_ERROR");
    let bad_attachments = json!({ "body": "x", "attachments": "file.png" });
    send(&svc, post(&path, &acme.token, bad_attachments)).await.assert_error(400, "VALIDATION_ERROR");
    let unknown_field = json!({ "body": "x", "sequence": 7 });
    send(&svc, post(&path, &acme.token, unknown_field)).await.assert_error(400, "VALIDATION_ERROR");
    // Attachments are uploads: a file described by the client is refused.
    let with_file =
        json!({ "body": "", "attachments": [{ "url": "https://cdn.example/a.png", "type": "image" }] });
    send(&svc, post(&path, &acme.token, with_file)).await.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("messages").await, 1, "rejected messages left nothing behind");
}

async fn status_moves_forward_only(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    for i in 0..3 {
        send(&svc, post(&path, &acme.token, body(&format!("m{i}")))).await.expect(201);
    }
    let receipt = |kind: &str, n: i64| {
        sdk(
            TestRequest::post().uri(&format!("{path}/{kind}")).set_json(json!({ "up_to_sequence": n })),
            &web,
            "dev-1",
        )
    };
    send(&svc, receipt("read", 2)).await.expect(200);
    assert_eq!(send(&svc, receipt("delivered", 3)).await.expect(200)["updated"], 1, "read ones stay read");
    let listed = send(&svc, get(&path, &acme.token)).await.expect(200);
    let statuses: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["read", "read", "delivered"]);
    // An agent's receipt concerns inbound messages only: the outbound ones do not move.
    send(&svc, post(&format!("{path}/read"), &acme.token, json!({ "up_to_sequence": 3 }))).await.expect(200);
    let last = send(&svc, get(&format!("{path}?after=2"), &acme.token)).await.expect(200);
    assert_eq!(last["data"][0]["status"], "delivered");
    send(&svc, receipt("read", 0)).await.assert_error(400, "VALIDATION_ERROR");
}

async fn a_receipt_answers_the_sequence_it_applied(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let receipt = |kind: &str, n: i64| {
        let req = TestRequest::post().uri(&format!("{path}/{kind}")).set_json(json!({ "up_to_sequence": n }));
        sdk(req, &web, "dev-1")
    };
    // Nothing to cover yet: the receipt applies up to sequence 0.
    let empty = send(&svc, receipt("read", 5)).await.expect(200);
    assert_eq!(empty, json!({ "updated": 0, "up_to_sequence": 0 }));
    for i in 0..2 {
        send(&svc, post(&path, &acme.token, body(&format!("m{i}")))).await.expect(201);
    }
    // Asking past the last message covers only what exists, and says so.
    let delivered = send(&svc, receipt("delivered", 99)).await.expect(200);
    assert_eq!(delivered, json!({ "updated": 2, "up_to_sequence": 2 }));
    let read = send(&svc, receipt("read", 1)).await.expect(200);
    assert_eq!(read, json!({ "updated": 1, "up_to_sequence": 1 }), "within range, the request itself");
    // A message sent after the receipt is not covered by it.
    send(&svc, post(&path, &acme.token, body("m2"))).await.expect(201);
    let last = send(&svc, get(&format!("{path}?after=2"), &acme.token)).await.expect(200);
    assert_eq!(last["data"][0]["status"], "sent");
    let agent = post(&format!("{path}/read"), &acme.token, json!({ "up_to_sequence": 1000 }));
    assert_eq!(send(&svc, agent).await.expect(200), json!({ "updated": 0, "up_to_sequence": 3 }));
}

async fn pagination_walks_every_message_once(db: &TestDb) {
    let svc = app!(db);
    let (acme, _, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    for i in 0..25 {
        send(&svc, post(&path, &acme.token, body(&format!("m{i}")))).await.expect(201);
    }
    let mut seen = Vec::new();
    let mut page = send(&svc, get(&format!("{path}?limit=10"), &acme.token)).await.expect(200);
    loop {
        let mut batch: Vec<i64> =
            page["data"].as_array().unwrap().iter().map(|m| m["sequence"].as_i64().unwrap()).collect();
        batch.extend(seen);
        seen = batch;
        let Some(before) = page["next_cursor"].as_str() else { break };
        page = send(&svc, get(&format!("{path}?limit=10&before={before}"), &acme.token)).await.expect(200);
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    send(&svc, get(&format!("{path}?limit=500"), &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    send(&svc, get(&format!("{path}?after=1&before=5"), &acme.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    send(&svc, get(&format!("{path}?after=abc"), &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
}
