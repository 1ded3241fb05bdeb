//! Live delivery: everybody concerned sees each message once, in order; resume fills every gap.

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_domain::{Direction, MessageRepo, NewMessage, Platform, Sender};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, as_refs, sdk_headers};

backend_tests!(
    agents_and_a_device_see_each_other_live,
    a_device_that_was_away_resumes_exactly_what_it_missed,
    a_message_sent_during_a_replay_arrives_once_in_order,
    another_company_cannot_subscribe_or_overhear,
    typing_and_presence_reach_the_agents,
);

async fn agents_and_a_device_see_each_other_live(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let second = live.agent(&owner, "agent@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;

    let mut a = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    let mut b = live.ws(&[("authorization", &format!("Bearer {second}"))]).await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    for ws in [&mut a, &mut b, &mut device] {
        assert_eq!(ws.json().await["type"], "connected");
    }
    device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    assert_eq!(device.until("subscribed").await["last_sequence"], 0);

    live.device_says(&app, "dev-1", &conv, "Hello?").await;
    for ws in [&mut a, &mut b, &mut device] {
        let frame = ws.until("message.new").await;
        assert_eq!(
            (frame["sequence"].as_i64(), frame["message"]["body"].as_str()),
            (Some(1), Some("Hello?"))
        );
        assert_eq!(frame["conversation_id"], conv.as_str());
    }
    live.agent_says(&owner, &conv, "Hi!").await;
    for ws in [&mut a, &mut b, &mut device] {
        let frame = ws.until("message.new").await;
        assert_eq!(
            (frame["sequence"].as_i64(), frame["message"]["sender"].as_str()),
            (Some(2), Some("agent"))
        );
    }
    // A read receipt travels too.
    let headers = sdk_headers(&app, "dev-1");
    let path = format!("/v1/conversations/{conv}/messages/read");
    let (code, reply) = live
        .call(reqwest::Method::POST, &path, &as_refs(&headers), Some(json!({ "up_to_sequence": 2 })))
        .await;
    assert_eq!((code, reply["updated"].as_i64()), (200, Some(1)), "{reply}");
    let status = a.until("message.status").await;
    assert_eq!((status["status"].as_str(), status["up_to_sequence"].as_i64()), (Some("read"), Some(2)));
    // So does an edit.
    let (_, page) = live
        .call(
            reqwest::Method::GET,
            &format!("/v1/conversations/{conv}/messages"),
            &[("authorization", &format!("Bearer {owner}"))],
            None,
        )
        .await;
    let reply_id = page["data"][1]["id"].as_str().unwrap().to_owned();
    let edit = json!({ "body": "Hi there!" });
    live.call(
        reqwest::Method::PATCH,
        &format!("/v1/messages/{reply_id}"),
        &[("authorization", &format!("Bearer {owner}"))],
        Some(edit),
    )
    .await;
    let updated = device.until("message.updated").await;
    assert_eq!(
        (updated["sequence"].as_i64(), updated["message"]["body"].as_str()),
        (Some(2), Some("Hi there!"))
    );
    live.stop().await;
}

async fn a_device_that_was_away_resumes_exactly_what_it_missed(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    device.until("subscribed").await;
    live.agent_says(&owner, &conv, "before").await;
    assert_eq!(device.sequences_until(&conv, 1).await, vec![1]);
    drop(device);

    for i in 0..100 {
        live.agent_says(&owner, &conv, &format!("missed {i}")).await;
    }
    let mut back = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_sequence": 1 })).await;
    assert_eq!(back.sequences_until(&conv, 101).await, (2..=101).collect::<Vec<_>>());
    assert_eq!(back.until("resumed").await["replayed_to"], 101);
    live.agent_says(&owner, &conv, "live again").await;
    assert_eq!(back.sequences_until(&conv, 102).await, vec![102], "then live, without a duplicate");
    live.stop().await;
}

async fn a_message_sent_during_a_replay_arrives_once_in_order(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    // A long backlog, written straight to the store, so that the replay takes a while.
    let auth = format!("Bearer {owner}");
    let (_, conversation) = live
        .call(reqwest::Method::GET, &format!("/v1/conversations/{conv}"), &[("authorization", &auth)], None)
        .await;
    let company = conversation["company_id"].as_str().unwrap().parse().unwrap();
    for i in 0..1500 {
        let new = NewMessage {
            company_id: company,
            conversation_id: conv.parse().unwrap(),
            local_id: None,
            sender: Sender::Agent,
            author_id: None,
            direction: Direction::Outbound,
            platform: Some(Platform::Web),
            body: format!("backlog {i}"),
            attachments: json!([]),
            awaiting_forward: false,
            uploads: Vec::new(),
        };
        db.store().append_message(new).await.unwrap();
    }
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.send(json!({ "type": "resume", "conversation_id": conv, "after_sequence": 0 })).await;
    let during = live.agent_says(&owner, &conv, "during the replay").await;
    assert_eq!(during, 1501);
    assert_eq!(device.sequences_until(&conv, 1501).await, (1..=1501).collect::<Vec<_>>());
    device.quiet("message.new", Duration::from_millis(300)).await;
    live.stop().await;
}

async fn another_company_cannot_subscribe_or_overhear(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (acme, _) = live.register("Acme", "owner@acme.test").await;
    let (globex, _) = live.register("Globex", "owner@globex.test").await;
    let app = live.sdk_app(&acme).await;
    let conv = live.conversation(&app, "dev-1").await;

    let mut spy = live.ws(&[("authorization", &format!("Bearer {globex}"))]).await;
    spy.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    let refused = spy.until("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["conversation_id"].as_str()),
        (Some("NOT_FOUND"), Some(conv.as_str()))
    );
    spy.send(json!({ "type": "resume", "conversation_id": conv, "after_sequence": 0 })).await;
    assert_eq!(spy.until("error").await["code"], "NOT_FOUND");
    // Another device of the same app is a stranger too.
    let mut other_device = live.ws(&as_refs(&sdk_headers(&app, "dev-2"))).await;
    other_device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    assert_eq!(other_device.until("error").await["code"], "NOT_FOUND");

    live.device_says(&app, "dev-1", &conv, "private").await;
    spy.quiet("message.new", Duration::from_millis(500)).await;
    other_device.quiet("message.new", Duration::from_millis(100)).await;
    live.stop().await;
}

async fn typing_and_presence_reach_the_agents(db: &TestDb) {
    let settings = RealtimeSettings { typing_ttl: Duration::from_millis(300), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut agent = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    agent.until("connected").await;

    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    let connected = device.until("connected").await;
    let contact_id = connected["participant"]["id"].as_str().unwrap().to_owned();
    let online = agent.until("presence").await;
    assert_eq!(
        (online["status"].as_str(), online["participant"]["kind"].as_str()),
        (Some("online"), Some("contact"))
    );
    let (_, listed) = live
        .call(reqwest::Method::GET, "/v1/presence", &[("authorization", &format!("Bearer {owner}"))], None)
        .await;
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == contact_id.as_str() && p["status"] == "online"),
        "{listed}"
    );

    device.send(json!({ "type": "typing.start", "conversation_id": conv })).await;
    assert_eq!(device.until("error").await["code"], "NOT_SUBSCRIBED");
    device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    device.until("subscribed").await;
    device.send(json!({ "type": "typing.start", "conversation_id": conv })).await;
    let typing = agent.until("typing").await;
    assert_eq!(
        (typing["state"].as_str(), typing["participant"]["id"].as_str()),
        (Some("start"), Some(contact_id.as_str()))
    );
    // No refresh: it stops by itself.
    assert_eq!(agent.until("typing").await["state"], "stop");

    drop(device);
    let offline = agent.until("presence").await;
    assert_eq!(offline["status"], "offline");
    assert!(offline["last_seen_at"].is_string());
    live.stop().await;
}
