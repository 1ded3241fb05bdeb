//! `POST /v1/realtime/publish`: a company's service sends custom events to its agents or a
//! conversation's followers, on both doors, under its own name, within size and rate limits.

use std::time::Duration;

use serde_json::{Value, json};
use tidings_api::RealtimeSettings;
use tidings_messaging::PublishLimits;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, as_refs, sdk_headers};
use crate::socketio::{Sio, device_auth};

backend_tests!(
    publish_to_the_company_reaches_its_agents_on_both_doors_only,
    publish_to_a_conversation_reaches_its_followers,
    publish_refuses_bad_input_wrong_callers_and_other_companies,
    publish_is_rate_limited_per_company,
);

/// A server key of the owner's company.
async fn server_key(live: &Live, owner: &str) -> String {
    let auth = format!("Bearer {owner}");
    let (_, app) = live
        .call(reqwest::Method::POST, "/v1/apps", &[("authorization", &auth)], Some(json!({ "name": "Bot" })))
        .await;
    let path = format!("/v1/apps/{}/keys", app["id"].as_str().unwrap());
    let (status, key) = live
        .call(reqwest::Method::POST, &path, &[("authorization", &auth)], Some(json!({ "kind": "server" })))
        .await;
    assert_eq!(status, 201, "{key}");
    key["key"].as_str().unwrap().to_owned()
}

async fn publish(live: &Live, key: &str, body: Value) -> (u16, Value) {
    live.call(reqwest::Method::POST, "/v1/realtime/publish", &[("x-api-key", key)], Some(body)).await
}

async fn publish_to_the_company_reaches_its_agents_on_both_doors_only(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let key = server_key(&live, &owner).await;
    let app = live.sdk_app(&owner).await;

    let mut native = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    assert_eq!(native.json().await["type"], "connected");
    let mut agent = Sio::open(&live).await;
    agent.connect("/admin", json!({ "token": owner })).await.unwrap();
    let mut device = Sio::open(&live).await;
    device.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    device.until("/client", "conversation:joined").await;

    let (status, body) =
        publish(&live, &key, json!({ "room": "company", "event": "order.shipped", "data": { "order": 42 } }))
            .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        body,
        json!({ "event": "order.shipped", "socket_io_event": "custom:order.shipped", "conversation_id": null })
    );

    let frame = native.until("custom").await;
    assert_eq!((frame["event"].as_str(), frame["data"]["order"].as_i64()), (Some("order.shipped"), Some(42)));
    let event = agent.until("/admin", "custom:order.shipped").await;
    assert_eq!(event["data"], json!({ "order": 42 }));
    // Company-wide custom events are for agents: devices do not hear them.
    device.quiet("custom:order.shipped", Duration::from_millis(300)).await;
    live.stop().await;
}

async fn publish_to_a_conversation_reaches_its_followers(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let key = server_key(&live, &owner).await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let other = live.conversation(&app, "dev-2").await;

    let mut device = Sio::open(&live).await;
    device.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    device.until("/client", "conversation:joined").await;
    let mut native = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    native.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    native.until("subscribed").await;

    // Another conversation's card does not reach this device.
    let card = json!({ "title": "Your order", "items": [1, 2] });
    let body = json!({ "room": "conversation", "conversation_id": other, "event": "bot:card", "data": card });
    assert_eq!(publish(&live, &key, body).await.0, 202);
    let body = json!({ "room": "conversation", "conversation_id": conv, "event": "bot:card", "data": card });
    assert_eq!(publish(&live, &key, body).await.0, 202);

    let event = device.until("/client", "custom:bot:card").await;
    assert_eq!((event["conversation_id"].as_str(), &event["data"]), (Some(conv.as_str()), &card));
    let frame = native.until("custom").await;
    assert_eq!(frame["conversation_id"], conv.as_str(), "{frame}");
    live.stop().await;
}

async fn publish_refuses_bad_input_wrong_callers_and_other_companies(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (rival, _) = live.register("Globex", "owner@globex.test").await;
    let key = server_key(&live, &owner).await;
    let rival_app = live.sdk_app(&rival).await;
    let rival_conv = live.conversation(&rival_app, "dev-1").await;

    let cases = [
        (json!({ "room": "conversation", "conversation_id": rival_conv, "event": "x" }), 404, "NOT_FOUND"),
        (json!({ "room": "conversation", "event": "x" }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "company", "conversation_id": rival_conv, "event": "x" }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "company", "event": "" }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "company", "event": "message new" }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "company", "event": "x", "extra": 1 }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "everyone", "event": "x" }), 400, "VALIDATION_ERROR"),
        (json!({ "room": "company", "event": "x", "data": "a".repeat(17 * 1024) }), 413, "PAYLOAD_TOO_LARGE"),
    ];
    for (body, status, code) in cases {
        let (got, reply) = publish(&live, &key, body.clone()).await;
        assert_eq!((got, reply["error"]["code"].as_str()), (status, Some(code)), "{body} -> {reply}");
    }

    // Only server keys publish.
    let body = json!({ "room": "company", "event": "x" });
    let (status, _) = live
        .call(
            reqwest::Method::POST,
            "/v1/realtime/publish",
            &[("authorization", &format!("Bearer {owner}"))],
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = publish(&live, &rival_app.1, body).await;
    assert_eq!(status, 401);
    live.stop().await;
}

async fn publish_is_rate_limited_per_company(db: &TestDb) {
    let settings = RealtimeSettings { publish: PublishLimits::per_second(1), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (rival, _) = live.register("Globex", "owner@globex.test").await;
    let key = server_key(&live, &owner).await;
    let rival_key = server_key(&live, &rival).await;

    let body = json!({ "room": "company", "event": "tick" });
    let url = format!("{}/v1/realtime/publish", live.base);
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let res = http.post(&url).header("x-api-key", &key).json(&body).send().await.unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            retry_after = Some(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap());
            let reply: Value = res.json().await.unwrap();
            assert_eq!(reply["error"]["code"], "RATE_LIMITED");
            break;
        }
    }
    assert_eq!(&statuses[..2], [202, 202], "a burst of two passes: {statuses:?}");
    assert!(retry_after.is_some_and(|secs| (1..=2).contains(&secs)), "{statuses:?} {retry_after:?}");
    // Another company has its own budget.
    assert_eq!(publish(&live, &rival_key, body).await.0, 202);
    live.stop().await;
}
