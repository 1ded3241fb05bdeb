//! What must not bring a connection, or the server, down: slow readers, bad frames, silent clients,
//! bad credentials, and shutting down.

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio_tungstenite::tungstenite::Message;

use crate::live::{Live, Received, as_refs, sdk_headers};

backend_tests!(
    a_slow_consumer_is_closed_while_others_keep_receiving,
    malformed_and_oversized_frames_are_refused_and_the_server_goes_on,
    a_silent_client_is_dropped_after_the_heartbeat_timeout,
    credentials_are_checked_at_the_door_or_in_the_first_frame,
    shutdown_tells_every_socket_and_closes_normally,
    protocol_breaches_close_with_their_codes,
    a_clients_close_is_answered_with_its_code,
    a_store_failure_is_reported_as_such_and_shows_no_internals,
    a_client_flooding_frames_is_closed,
);

async fn a_slow_consumer_is_closed_while_others_keep_receiving(db: &TestDb) {
    let settings = RealtimeSettings {
        queue_capacity: 16,
        write_timeout: Duration::from_millis(500),
        ..RealtimeSettings::default()
    };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let auth = format!("Bearer {owner}");
    let mut slow = live.slow_ws(&[("authorization", &auth)]).await;
    let mut fast = live.ws(&[("authorization", &auth)]).await;
    fast.until("connected").await;

    // Large frames (a full body of 4-byte characters, 20 KB) fill the socket buffers quickly.
    let message = json!({ "body": "\u{1F600}".repeat(5000) });
    let total = 500;
    for _ in 0..total {
        let path = format!("/v1/conversations/{conv}/messages");
        let (status, _) =
            live.call(reqwest::Method::POST, &path, &[("authorization", &auth)], Some(message.clone())).await;
        assert_eq!(status, 201);
        fast.until("message.new").await;
    }
    // The slow one now reads what reached it before it was cut off, then the close.
    let mut received = 0;
    let code = loop {
        match slow.next_within(Duration::from_secs(20)).await {
            Some(Received::Json(frame)) if frame["type"] == "message.new" => received += 1,
            Some(Received::Json(_)) => {}
            Some(Received::Closed(code)) => break code,
            None => panic!("the slow consumer was never closed (got {received} messages)"),
        }
    };
    // The close frame says why when it can still get through; a socket stuffed full just ends.
    assert!(matches!(code, Some(1013) | None), "closed as a slow consumer: {code:?}");
    assert!(received < total, "it was cut off before the end ({received})");
    assert_eq!(live.state.hub.session_count(), 1, "only the fast session is left");
    live.stop().await;
}

async fn malformed_and_oversized_frames_are_refused_and_the_server_goes_on(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let mut ws = live.ws(&[("authorization", &auth)]).await;
    ws.until("connected").await;
    ws.send_raw(Message::text("this is not json")).await;
    assert_eq!(ws.until("error").await["code"], "BAD_FRAME");
    ws.send(json!({ "type": "teleport" })).await;
    assert_eq!(ws.until("error").await["code"], "BAD_FRAME");
    ws.send(json!({ "type": "subscribe", "conversation_id": "not-an-id" })).await;
    assert_eq!(ws.until("error").await["code"], "BAD_FRAME");
    ws.send_raw(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(ws.until("error").await["code"], "BAD_FRAME");
    ws.send(json!({ "type": "ping" })).await;
    ws.until("pong").await;

    ws.send_raw(Message::text("x".repeat(100 * 1024))).await;
    let closed = loop {
        match ws.next_within(Duration::from_secs(10)).await {
            Some(Received::Closed(code)) => break code,
            Some(Received::Json(_)) => {}
            None => panic!("an oversized frame did not close the connection"),
        }
    };
    assert_eq!(closed, Some(1009));
    let mut again = live.ws(&[("authorization", &auth)]).await;
    assert_eq!(again.json().await["type"], "connected", "the server keeps serving");
    live.stop().await;
}

async fn a_silent_client_is_dropped_after_the_heartbeat_timeout(db: &TestDb) {
    let settings = RealtimeSettings {
        ping_interval: Duration::from_millis(300),
        client_timeout: Duration::from_millis(1500),
        ..RealtimeSettings::default()
    };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let mut silent = live.ws(&[("authorization", &auth)]).await;
    let mut alive = live.ws(&[("authorization", &auth)]).await;
    alive.until("connected").await;
    // `alive` reads continuously, which answers the server's pings; `silent` does not read at all.
    let keep_reading = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(4000);
        while tokio::time::Instant::now() < deadline {
            if let Some(Received::Closed(code)) = alive.next_within(Duration::from_millis(100)).await {
                panic!("a responsive client was closed ({code:?})");
            }
        }
        alive
    });
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let mut alive = keep_reading.await.unwrap();
    assert_eq!(live.state.hub.session_count(), 1, "the silent session is gone, the responsive one is not");
    // Reading now, the silent client finds its connection closed (with 1008 when the close frame
    // is read before the library's belated pongs hit the closed socket).
    let code = loop {
        match silent.next_within(Duration::from_secs(5)).await {
            Some(Received::Closed(code)) => break code,
            Some(Received::Json(_)) => {}
            None => panic!("the silent client was not closed"),
        }
    };
    assert!(matches!(code, Some(1008) | None), "{code:?}");
    alive.send(json!({ "type": "ping" })).await;
    alive.until("pong").await;
    live.stop().await;
}

async fn credentials_are_checked_at_the_door_or_in_the_first_frame(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    assert_eq!(live.try_ws(&[("authorization", "Bearer forged")]).await.err(), Some(401));
    let mut wrong_app = sdk_headers(&app, "dev-1");
    wrong_app[0].1 = uuid::Uuid::now_v7().to_string();
    assert_eq!(live.try_ws(&as_refs(&wrong_app)).await.err(), Some(401));

    let mut by_frame = live.ws(&[]).await;
    by_frame.send(json!({ "type": "auth", "token": owner })).await;
    assert_eq!(by_frame.json().await["participant"]["kind"], "agent");
    let mut device = live.ws(&[]).await;
    device.send(json!({ "type": "auth", "app_id": app.0, "device_id": "dev-9", "api_key": app.1, "platform": "ios" })).await;
    assert_eq!(device.json().await["participant"]["kind"], "contact");

    let mut rude = live.ws(&[]).await;
    rude.send(json!({ "type": "subscribe", "conversation_id": uuid::Uuid::now_v7() })).await;
    assert_eq!(rude.json().await["code"], "UNAUTHENTICATED");
    assert!(matches!(rude.next_within(Duration::from_secs(5)).await, Some(Received::Closed(Some(1008)))));
    let mut liar = live.ws(&[]).await;
    liar.send(json!({ "type": "auth", "token": "forged" })).await;
    assert_eq!(liar.json().await["code"], "UNAUTHENTICATED");
    live.stop().await;
}

async fn shutdown_tells_every_socket_and_closes_normally(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let mut agent = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    agent.until("connected").await;
    device.until("connected").await;
    live.state.hub.shutdown(Duration::from_secs(5)).await;
    for ws in [&mut agent, &mut device] {
        ws.until("server.shutdown").await;
        assert!(matches!(ws.next_within(Duration::from_secs(5)).await, Some(Received::Closed(Some(1000)))));
    }
    assert_eq!(live.state.hub.session_count(), 0);
    assert_eq!(
        live.try_ws(&[("authorization", &format!("Bearer {owner}"))]).await.map(|_| ()).err(),
        None,
        "upgrade still answers"
    );
    live.stop().await;
}

async fn protocol_breaches_close_with_their_codes(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let breaches: [(&str, u8, &[u8], bool, u16); 3] = [
        ("text that is not UTF-8", 0x81, &[0xff, 0xfe, 0xfd], true, 1007),
        ("an unmasked client frame", 0x81, b"{}", false, 1002),
        ("reserved bits", 0xc1, b"{}", true, 1002),
    ];
    for (what, first, payload, masked, code) in breaches {
        let mut raw = live.raw_ws(&[("authorization", &auth)]).await;
        raw.frame(first, payload, masked).await;
        assert_eq!(raw.close_code().await, Some(code), "{what}");
    }
    live.stop().await;
}

async fn a_clients_close_is_answered_with_its_code(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let mut ws = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    ws.until("connected").await;
    ws.close_with(4000).await;
    assert_eq!(ws.closed().await, Some(4000));
    live.stop().await;
}

async fn a_store_failure_is_reported_as_such_and_shows_no_internals(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut ws = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    ws.until("connected").await;

    db.store().close();
    ws.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    let refused = ws.until("error").await;
    assert_eq!(refused["code"], "UNAVAILABLE", "a store failure is not a missing conversation: {refused}");
    assert_eq!(refused["conversation_id"], conv.as_str());
    let text = refused["message"].as_str().unwrap().to_lowercase();
    for internal in ["pool", "diesel", "closed", "sql", "error:"] {
        assert!(!text.contains(internal), "internals leaked: {refused}");
    }
    // The connection itself goes on.
    ws.send(json!({ "type": "ping" })).await;
    ws.until("pong").await;
    live.stop().await;
}

async fn a_client_flooding_frames_is_closed(db: &TestDb) {
    let settings = RealtimeSettings { client_frames_per_second: 2, ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let mut calm = live.ws(&[("authorization", &auth)]).await;
    calm.until("connected").await;
    let mut flood = live.ws(&[("authorization", &auth)]).await;
    flood.until("connected").await;
    // A burst of three times the rate goes through.
    for _ in 0..6 {
        calm.send(json!({ "type": "ping" })).await;
        assert_eq!(calm.until("pong").await["type"], "pong");
    }
    for _ in 0..50 {
        flood.send(json!({ "type": "ping" })).await;
    }
    assert_eq!(flood.closed().await, Some(1008), "closed for too many frames");
    // The calm one, after a pause within its budget, goes on.
    tokio::time::sleep(Duration::from_millis(600)).await;
    calm.send(json!({ "type": "ping" })).await;
    assert_eq!(calm.until("pong").await["type"], "pong");
    live.stop().await;
}
