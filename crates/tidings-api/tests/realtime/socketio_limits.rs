//! The Socket.IO door keeps the native door's promises: shutdown notice, slow consumers closed,
//! credentials that expire or are withdrawn end their namespace (and only it).

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, auth_settings};
use crate::socketio::{Packet, Sio, device_auth};

backend_tests!(
    socketio_shutdown_tells_every_namespace_then_closes_normally,
    socketio_a_slow_consumer_is_closed_while_others_keep_receiving,
    socketio_an_expired_token_ends_its_namespace_unless_renewed,
    socketio_a_removed_user_loses_the_namespace_at_once,
    socketio_a_connection_without_a_namespace_is_closed_in_time,
    socketio_a_client_flooding_events_is_closed,
);

/// Skips packets until `ns` is disconnected by the server; returns the `error` it was told first.
async fn disconnected(sio: &mut Sio, ns: &str) -> serde_json::Value {
    let mut error = serde_json::Value::Null;
    loop {
        match sio.packet().await {
            Packet::Event(n, event, data) if n == ns && event == "error" => error = data,
            Packet::Disconnect(n) if n == ns => return error,
            Packet::Closed(_) => panic!("the whole connection closed"),
            _ => {}
        }
    }
}

async fn socketio_shutdown_tells_every_namespace_then_closes_normally(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    // Both namespaces on one connection.
    let mut sio = Sio::open(&live).await;
    sio.connect("/admin", json!({ "token": owner })).await.unwrap();
    sio.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    sio.until("/client", "conversation:joined").await;

    live.state.hub.shutdown(Duration::from_secs(5)).await;
    let mut told = Vec::new();
    let code = loop {
        match sio.packet().await {
            Packet::Event(ns, event, _) if event == "server:shutdown" => told.push(ns),
            Packet::Closed(code) => break code,
            _ => {}
        }
    };
    told.sort();
    assert_eq!(told, ["/admin", "/client"]);
    assert_eq!(code, Some(1000));
    live.stop().await;
}

async fn socketio_a_slow_consumer_is_closed_while_others_keep_receiving(db: &TestDb) {
    let settings = RealtimeSettings {
        queue_capacity: 16,
        write_timeout: Duration::from_millis(500),
        ..RealtimeSettings::default()
    };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut slow = Sio::open_slow(&live).await;
    slow.connect("/admin", json!({ "token": owner })).await.unwrap();
    let mut fast = Sio::open(&live).await;
    fast.connect("/admin", json!({ "token": owner })).await.unwrap();

    let message = json!({ "body": "\u{1F600}".repeat(5000) });
    let auth = format!("Bearer {owner}");
    let total = 500;
    for _ in 0..total {
        let path = format!("/v1/conversations/{conv}/messages");
        let (status, _) =
            live.call(reqwest::Method::POST, &path, &[("authorization", &auth)], Some(message.clone())).await;
        assert_eq!(status, 201);
        fast.until("/admin", "message:new").await;
    }
    let (code, received) = slow.closed_counting("message:new").await;
    assert!(matches!(code, Some(1013) | None), "closed as a slow consumer: {code:?}");
    assert!(received < total, "it was cut off before the end ({received})");
    assert_eq!(live.state.hub.session_count(), 1, "only the fast session is left");
    live.stop().await;
}

async fn socketio_an_expired_token_ends_its_namespace_unless_renewed(db: &TestDb) {
    let auth = tidings_auth::AuthSettings { access_ttl: chrono::Duration::seconds(4), ..auth_settings() };
    let live = Live::start_with(db, RealtimeSettings::default(), auth).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;

    let mut lapsing = Sio::open(&live).await;
    lapsing.connect("/admin", json!({ "token": owner })).await.unwrap();
    lapsing.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    let mut renewing = Sio::open(&live).await;
    renewing.connect("/admin", json!({ "token": owner })).await.unwrap();
    let connected = renewing.until("/admin", "connected").await;

    tokio::time::sleep(Duration::from_secs(2)).await;
    let login = json!({ "email": "owner@acme.test", "password": "password123" });
    let (_, fresh) = live.call(reqwest::Method::POST, "/v1/auth/login", &[], Some(login)).await;
    let id = renewing.emit("/admin", "auth", json!({ "token": fresh["access_token"] })).await;
    let (renewed, _) = renewing.ack_collecting("/admin", id, "").await;
    assert!(renewed["expires_at"].as_str() > connected["expires_at"].as_str(), "{renewed} {connected}");

    let error = disconnected(&mut lapsing, "/admin").await;
    assert_eq!(error["code"], "TOKEN_EXPIRED", "{error}");
    // The device's namespace on the same connection goes on.
    let id = lapsing.emit("/client", "ping", json!({})).await;
    lapsing.ack_collecting("/client", id, "").await;
    // The renewed namespace is still there after the first token's end.
    let id = renewing.emit("/admin", "ping", json!({})).await;
    renewing.ack_collecting("/admin", id, "").await;
    live.stop().await;
}

async fn socketio_a_removed_user_loses_the_namespace_at_once(db: &TestDb) {
    let settings =
        RealtimeSettings { recheck_interval: Duration::from_secs(3600), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let body = json!({ "name": "Bo", "email": "bo@acme.test", "password": "password123", "role": "agent" });
    let (status, member) =
        live.call(reqwest::Method::POST, "/v1/users", &[("authorization", &auth)], Some(body)).await;
    assert_eq!(status, 201, "{member}");
    let login = json!({ "email": "bo@acme.test", "password": "password123" });
    let (_, session) = live.call(reqwest::Method::POST, "/v1/auth/login", &[], Some(login)).await;

    let mut removed = Sio::open(&live).await;
    removed.connect("/admin", json!({ "token": session["access_token"] })).await.unwrap();
    let mut staying = Sio::open(&live).await;
    staying.connect("/admin", json!({ "token": owner })).await.unwrap();

    let path = format!("/v1/users/{}", member["id"].as_str().unwrap());
    let (status, _) = live.call(reqwest::Method::DELETE, &path, &[("authorization", &auth)], None).await;
    assert_eq!(status, 204);
    let error = disconnected(&mut removed, "/admin").await;
    assert_eq!(error["code"], "UNAUTHENTICATED", "{error}");
    let id = staying.emit("/admin", "ping", json!({})).await;
    staying.ack_collecting("/admin", id, "").await;
    live.stop().await;
}

async fn socketio_a_connection_without_a_namespace_is_closed_in_time(db: &TestDb) {
    let settings =
        RealtimeSettings { auth_timeout: Duration::from_millis(500), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let mut idle = Sio::open(&live).await;
    // A refused CONNECT does not count as connected.
    assert!(idle.connect("/admin", json!({ "token": "nope" })).await.is_err());
    let started = tokio::time::Instant::now();
    let Packet::Closed(code) = idle.packet().await else { panic!("expected the close") };
    assert_eq!(code, Some(1008));
    assert!(started.elapsed() < Duration::from_secs(10));

    // One that connects in time stays.
    let mut busy = Sio::open(&live).await;
    busy.connect("/admin", json!({ "token": owner })).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let id = busy.emit("/admin", "ping", json!({})).await;
    busy.ack_collecting("/admin", id, "").await;
    live.stop().await;
}

async fn socketio_a_client_flooding_events_is_closed(db: &TestDb) {
    let settings = RealtimeSettings { client_frames_per_second: 2, ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let mut sio = Sio::open(&live).await;
    sio.connect("/admin", json!({ "token": owner })).await.unwrap();
    for _ in 0..50 {
        sio.send(format!("2/admin,{}", json!(["typing:start", { "conversation_id": "x" }]))).await;
    }
    let (code, _) = sio.closed_counting("error").await;
    assert_eq!(code, Some(1008), "closed for too many events");
    live.stop().await;
}
