//! Attacks on the live door: subscribing to what one may not see, racing the access check.

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, Received, Ws, as_refs, sdk_headers};

backend_tests!(
    subscribe_bursts_from_another_company_never_deliver_its_messages,
    subscribe_bursts_from_another_device_never_deliver_its_messages,
);

/// Sends `subscribe` frames for `conversation` in bursts while `posts` messages are written, then
/// returns every `message.new` frame of that conversation the attacker received.
async fn race_subscribes(attacker: &mut Ws, conversation: &str, post: impl AsyncFn(usize)) -> Vec<String> {
    let frame = json!({ "type": "subscribe", "conversation_id": conversation });
    let mut leaked = Vec::new();
    for round in 0..20 {
        for _ in 0..25 {
            attacker.send(frame.clone()).await;
        }
        post(round).await;
    }
    // Drain what the attacker was sent: refusals and, before the fix, the victim's messages.
    while let Some(received) = attacker.next_within(Duration::from_millis(700)).await {
        match received {
            Received::Json(frame) => {
                if frame["type"] == "message.new" {
                    leaked.push(frame["message"]["body"].as_str().unwrap_or_default().to_owned());
                } else {
                    assert_eq!(frame["code"], "NOT_FOUND", "{frame}");
                }
            }
            Received::Closed(code) => panic!("the attacker's socket closed ({code:?})"),
        }
    }
    leaked
}

async fn subscribe_bursts_from_another_company_never_deliver_its_messages(db: &TestDb) {
    let live =
        Live::start(db, RealtimeSettings { queue_capacity: 4096, ..RealtimeSettings::default() }).await;
    let (acme, _) = live.register("Acme", "owner@acme.test").await;
    let (globex, _) = live.register("Globex", "owner@globex.test").await;
    let app = live.sdk_app(&acme).await;
    let conv = live.conversation(&app, "victim").await;

    let mut spy = live.ws(&[("authorization", &format!("Bearer {globex}"))]).await;
    spy.until("connected").await;
    let leaked = race_subscribes(&mut spy, &conv, async |round| {
        live.device_says(&app, "victim", &conv, &format!("secret {round}")).await;
    })
    .await;
    assert!(leaked.is_empty(), "another company received {} messages: {leaked:?}", leaked.len());
    live.stop().await;
}

async fn subscribe_bursts_from_another_device_never_deliver_its_messages(db: &TestDb) {
    let live =
        Live::start(db, RealtimeSettings { queue_capacity: 4096, ..RealtimeSettings::default() }).await;
    let (acme, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&acme).await;
    let conv = live.conversation(&app, "victim").await;
    live.conversation(&app, "intruder").await;

    let mut intruder = live.ws(&as_refs(&sdk_headers(&app, "intruder"))).await;
    intruder.until("connected").await;
    let leaked = race_subscribes(&mut intruder, &conv, async |round| {
        live.agent_says(&acme, &conv, &format!("private {round}")).await;
    })
    .await;
    assert!(leaked.is_empty(), "another device received {} messages: {leaked:?}", leaked.len());
    live.stop().await;
}
