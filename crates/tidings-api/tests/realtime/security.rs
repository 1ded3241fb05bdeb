//! Attacks on the live door: subscribing to what one may not see, racing the access check.

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_domain::{CompanyId, UserId, UserRepo};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, RawWs, Received, WAIT, Ws, as_refs, auth_settings, sdk_headers};

backend_tests!(
    subscribe_bursts_from_another_company_never_deliver_its_messages,
    subscribe_bursts_from_another_device_never_deliver_its_messages,
    removed_users_demoted_users_and_revoked_keys_lose_their_sockets_at_once,
    the_periodic_check_notices_what_no_event_announced,
    an_expired_token_closes_the_socket_unless_renewed_in_band,
    a_huge_frame_is_refused_at_its_header_before_authentication,
    presence_lists_who_is_online_a_page_at_a_time,
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
    let live = Live::start(db, racing_settings()).await;
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
    let live = Live::start(db, racing_settings()).await;
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

/// Close code of a connection whose credentials were withdrawn.
const WITHDRAWN: u16 = 4403;

/// Adds a user with `role` to the owner's company; returns (user id, access token).
async fn member(live: &Live, owner: &str, email: &str, role: &str) -> (String, String) {
    let auth = format!("Bearer {owner}");
    let body = json!({ "email": email, "name": "Member", "password": "password123", "role": role });
    let (status, user) =
        live.call(reqwest::Method::POST, "/v1/users", &[("authorization", &auth)], Some(body)).await;
    assert_eq!(status, 201, "{user}");
    let login = json!({ "email": email, "password": "password123" });
    let (_, reply) = live.call(reqwest::Method::POST, "/v1/auth/login", &[], Some(login)).await;
    (user["id"].as_str().unwrap().into(), reply["access_token"].as_str().unwrap().into())
}

async fn bearer_ws(live: &Live, token: &str) -> Ws {
    let mut ws = live.ws(&[("authorization", &format!("Bearer {token}"))]).await;
    ws.until("connected").await;
    ws
}

/// The close code after the error frame that says why.
async fn withdrawn(ws: &mut Ws) -> Option<u16> {
    assert_eq!(ws.until("error").await["code"], "UNAUTHENTICATED");
    ws.closed().await
}

async fn removed_users_demoted_users_and_revoked_keys_lose_their_sockets_at_once(db: &TestDb) {
    // The periodic check is far away: only the revocation events can close these in time.
    let settings =
        RealtimeSettings { recheck_interval: Duration::from_secs(3600), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let (removed_id, removed_token) = member(&live, &owner, "removed@acme.test", "agent").await;
    let (demoted_id, demoted_token) = member(&live, &owner, "demoted@acme.test", "admin").await;
    let app = live.sdk_app(&owner).await;
    live.conversation(&app, "dev-1").await;

    let mut removed = bearer_ws(&live, &removed_token).await;
    let mut demoted = bearer_ws(&live, &demoted_token).await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.until("connected").await;
    let mut owner_ws = bearer_ws(&live, &owner).await;

    let path = format!("/v1/users/{removed_id}");
    let (status, _) = live.call(reqwest::Method::DELETE, &path, &[("authorization", &auth)], None).await;
    assert_eq!(status, 204);
    assert_eq!(withdrawn(&mut removed).await, Some(WITHDRAWN));

    let path = format!("/v1/users/{demoted_id}");
    let body = json!({ "role": "agent" });
    let (status, _) = live.call(reqwest::Method::PATCH, &path, &[("authorization", &auth)], Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(withdrawn(&mut demoted).await, Some(WITHDRAWN));

    let path = format!("/v1/apps/{}/keys", app.0);
    let (_, keys) = live.call(reqwest::Method::GET, &path, &[("authorization", &auth)], None).await;
    let key_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/keys/{key_id}");
    let (status, _) = live.call(reqwest::Method::DELETE, &path, &[("authorization", &auth)], None).await;
    assert!(status == 200 || status == 204, "revoke answered {status}");
    assert_eq!(withdrawn(&mut device).await, Some(WITHDRAWN));

    // Whoever still holds good credentials stays connected.
    owner_ws.send(json!({ "type": "ping" })).await;
    owner_ws.until("pong").await;
    live.stop().await;
}

async fn the_periodic_check_notices_what_no_event_announced(db: &TestDb) {
    let settings =
        RealtimeSettings { recheck_interval: Duration::from_millis(300), ..RealtimeSettings::default() };
    let live = Live::start(db, settings).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (agent_id, agent_token) = member(&live, &owner, "agent@acme.test", "agent").await;
    let mut agent = bearer_ws(&live, &agent_token).await;
    let mut owner_ws = bearer_ws(&live, &owner).await;
    owner_ws.quiet("error", Duration::from_millis(800)).await;

    // Straight through the store: no service, so no revocation event.
    let auth = format!("Bearer {owner}");
    let (_, me) = live.call(reqwest::Method::GET, "/v1/auth/me", &[("authorization", &auth)], None).await;
    let company: CompanyId = me["company"]["id"].as_str().unwrap().parse().unwrap();
    db.store().delete_user(company, agent_id.parse::<UserId>().unwrap()).await.unwrap();
    assert_eq!(withdrawn(&mut agent).await, Some(WITHDRAWN));
    owner_ws.send(json!({ "type": "ping" })).await;
    owner_ws.until("pong").await;
    live.stop().await;
}

async fn an_expired_token_closes_the_socket_unless_renewed_in_band(db: &TestDb) {
    // Long enough that a loaded machine still renews in time; the lapses are awaited, not slept for.
    let auth = tidings_auth::AuthSettings { access_ttl: chrono::Duration::seconds(10), ..auth_settings() };
    let live = Live::start_with(db, RealtimeSettings::default(), auth).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (_, other_user) = member(&live, &owner, "agent@acme.test", "agent").await;
    let mut lapsing = bearer_ws(&live, &owner).await;
    let mut renewing = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    let connected = renewing.until("connected").await;
    assert!(connected["expires_at"].is_string(), "{connected}");

    // Somebody else's token does not take over the connection.
    renewing.send(json!({ "type": "auth", "token": other_user })).await;
    assert_eq!(renewing.until("error").await["code"], "FORBIDDEN");

    // Token expiries are whole seconds: the renewed one must end later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let login = json!({ "email": "owner@acme.test", "password": "password123" });
    let (_, fresh) = live.call(reqwest::Method::POST, "/v1/auth/login", &[], Some(login)).await;
    renewing.send(json!({ "type": "auth", "token": fresh["access_token"] })).await;
    let renewed = renewing.until("authenticated").await;
    assert!(renewed["expires_at"].as_str() > connected["expires_at"].as_str(), "{renewed} {connected}");

    assert_eq!(lapsing.until("error").await["code"], "TOKEN_EXPIRED");
    assert_eq!(lapsing.closed().await, Some(4401));
    renewing.send(json!({ "type": "ping" })).await;
    renewing.until("pong").await;
    // The renewed token lapses in turn.
    assert_eq!(renewing.until("error").await["code"], "TOKEN_EXPIRED");
    assert_eq!(renewing.closed().await, Some(4401));
    live.stop().await;
}

async fn a_huge_frame_is_refused_at_its_header_before_authentication(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let mut raw = live.raw_ws(&[]).await;
    // A text frame declaring 64 MiB, of which only the start is ever sent.
    assert!(raw.write(&RawWs::header(0x81, 64 * 1024 * 1024, true)).await);
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..16 {
        if !raw.write(&chunk).await {
            break;
        }
    }
    let started = tokio::time::Instant::now();
    assert_eq!(raw.close_code().await, Some(1009));
    // Well before the 10 s given to send an `auth` frame: the header alone decided.
    assert!(started.elapsed() < WAIT / 2);
    let (status, _) = live.call(reqwest::Method::GET, "/health", &[], None).await;
    assert_eq!(status, 200);
    live.stop().await;
}

async fn presence_lists_who_is_online_a_page_at_a_time(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    let app = live.sdk_app(&owner).await;
    // Thirty devices come and go; three stay.
    for n in 0..30 {
        let mut ws = live.ws(&as_refs(&sdk_headers(&app, &format!("passer-{n}")))).await;
        ws.until("connected").await;
    }
    let mut staying = Vec::new();
    for n in 0..3 {
        let mut ws = live.ws(&as_refs(&sdk_headers(&app, &format!("stayer-{n}")))).await;
        ws.until("connected").await;
        staying.push(ws);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/presence?limit=2".to_owned();
    for _ in 0..10 {
        let (status, page) = live.call(reqwest::Method::GET, &path, &[("authorization", &auth)], None).await;
        assert_eq!(status, 200, "{page}");
        for entry in page["data"].as_array().unwrap() {
            assert_eq!(entry["status"], "online", "{entry}");
            seen.push(entry["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/presence?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (3, 3), "each online contact once, nobody who left: {seen:?}");
    let (status, _) =
        live.call(reqwest::Method::GET, "/v1/presence?cursor=bogus", &[("authorization", &auth)], None).await;
    assert_eq!(status, 400);
    live.stop().await;
}

/// A server for subscribe races: room for every frame, and no limit on the frames a client sends
/// (the races send far more than a client may).
fn racing_settings() -> RealtimeSettings {
    RealtimeSettings { queue_capacity: 4096, client_frames_per_second: 0, ..RealtimeSettings::default() }
}
