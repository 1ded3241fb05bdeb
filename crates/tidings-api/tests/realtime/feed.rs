//! The change feed through both doors and HTTP: a client that was away gets every change it missed
//! (messages, edits, deletions, receipts, status and assignee) once and in order, then live ones with
//! their positions; old clients resume by sequence; inboxes catch up on changed conversations.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, Ws, as_refs, sdk_headers};
use crate::socketio::{Sio, device_auth};

backend_tests!(
    a_client_that_was_away_gets_every_change_on_resume,
    socketio_join_after_a_position_replays_every_change,
    clients_that_resume_by_sequence_keep_working,
    the_feed_over_http_is_the_callers_only,
    an_inbox_that_was_away_catches_up_on_what_changed,
    racing_writers_reach_a_follower_gapless_and_once,
);

/// The changes a conversation gets while its device is away: (kind, position) in order; the
/// conversation already has the device's "one" (1) and the agent's "two" (2).
async fn changes_while_away(
    live: &Live,
    owner: &str,
    owner_id: &str,
    conv: &str,
) -> Vec<(&'static str, i64)> {
    let auth = format!("Bearer {owner}");
    let agent = [("authorization", auth.as_str())];
    live.agent_says(owner, conv, "three").await;
    let (_, page) = live.call(Method::GET, &format!("/v1/conversations/{conv}/messages"), &agent, None).await;
    let id = |n: usize| page["data"][n]["id"].as_str().unwrap().to_owned();
    let edit = json!({ "body": "two, edited" });
    let (code, _) = live.call(Method::PATCH, &format!("/v1/messages/{}", id(1)), &agent, Some(edit)).await;
    assert_eq!(code, 200);
    let (code, _) = live.call(Method::DELETE, &format!("/v1/messages/{}", id(0)), &agent, None).await;
    assert_eq!(code, 200, "an owner moderates");
    let read = json!({ "up_to_sequence": 3 });
    let path = format!("/v1/conversations/{conv}/messages/read");
    let (code, reply) = live.call(Method::POST, &path, &agent, Some(read)).await;
    assert_eq!((code, reply["updated"].as_i64()), (200, Some(1)), "{reply}");
    let assign = json!({ "assignee_id": owner_id, "status": "pending" });
    let (code, _) =
        live.call(Method::PATCH, &format!("/v1/conversations/{conv}"), &agent, Some(assign)).await;
    assert_eq!(code, 200);
    vec![
        ("message.new", 3),
        ("message.updated", 4),
        ("message.updated", 5),
        ("message.status", 6),
        ("conversation.updated", 7),
    ]
}

/// Frames of a conversation that carry a position, until `until` of them came or a frame of type
/// `stop` arrives (which is returned too).
async fn positioned(ws: &mut Ws, conv: &str, stop: &str) -> (Vec<Value>, Value) {
    let mut seen = Vec::new();
    loop {
        let frame = ws.json().await;
        if frame["type"] == stop {
            return (seen, frame);
        }
        let about = frame["conversation_id"] == conv || frame["conversation"]["id"] == conv;
        if about && frame.get("position").is_some() {
            seen.push(frame);
        }
    }
}

fn kinds(frames: &[Value]) -> Vec<(String, i64)> {
    frames.iter().map(|f| (f["type"].as_str().unwrap().to_owned(), f["position"].as_i64().unwrap())).collect()
}

fn expected(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, p)| ((*k).to_owned(), *p)).collect()
}

async fn a_client_that_was_away_gets_every_change_on_resume(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, owner_id) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    let subscribed = device.until("subscribed").await;
    assert_eq!(
        (subscribed["last_sequence"].as_i64(), subscribed["last_position"].as_i64()),
        (Some(0), Some(0))
    );
    live.device_says(&app, "dev-1", &conv, "one").await;
    live.agent_says(&owner, &conv, "two").await;
    let first = device.until("message.new").await;
    let second = device.until("message.new").await;
    assert_eq!((first["position"].as_i64(), second["position"].as_i64()), (Some(1), Some(2)));
    drop(device);

    let missed = changes_while_away(&live, &owner, &owner_id, &conv).await;
    let mut back = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_position": 2 })).await;
    let (replayed, resumed) = positioned(&mut back, &conv, "resumed").await;
    assert_eq!(kinds(&replayed), expected(&missed), "every change, once, in order");
    assert_eq!(replayed[1]["message"]["body"], "two, edited");
    assert_eq!(replayed[2]["message"]["body"], "", "a deleted message's text is not replayed");
    assert!(replayed[2]["message"]["deleted_at"].is_string());
    assert_eq!(
        (replayed[3]["status"].as_str(), replayed[3]["direction"].as_str()),
        (Some("read"), Some("inbound"))
    );
    assert_eq!(replayed[4]["conversation"]["assignee_id"], owner_id.as_str());
    assert_eq!((resumed["position"].as_i64(), resumed["replayed_to"].as_i64()), (Some(7), Some(3)));

    // Then live, continuing the same positions, without a duplicate.
    live.agent_says(&owner, &conv, "four").await;
    let (before, new) = positioned(&mut back, &conv, "message.new").await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!((new["position"].as_i64(), new["sequence"].as_i64()), (Some(8), Some(4)));
    back.quiet("message.new", Duration::from_millis(300)).await;
    // A resume from a position beyond the feed replays nothing rather than failing.
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_position": 999 })).await;
    assert_eq!(back.until("resumed").await["position"], 8);
    // One of the two, not both.
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_position": 1, "after_sequence": 1 }))
        .await;
    assert_eq!(back.until("error").await["code"], "BAD_FRAME");
    live.stop().await;
}

async fn socketio_join_after_a_position_replays_every_change(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, owner_id) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    live.device_says(&app, "dev-1", &conv, "one").await;
    live.agent_says(&owner, &conv, "two").await;
    let missed = changes_while_away(&live, &owner, &owner_id, &conv).await;

    let mut device = Sio::open(&live).await;
    device.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    device.until("/client", "conversation:joined").await;
    let join = json!({ "conversation_id": conv, "after_position": 2 });
    let id = device.emit("/client", "conversation:join", join).await;
    let mut replayed = Vec::new();
    let ack = loop {
        match device.packet().await {
            crate::socketio::Packet::Ack(ns, got, data) if ns == "/client" && got == id => break data,
            crate::socketio::Packet::Event(ns, name, data)
                if ns == "/client" && data.get("position").is_some() =>
            {
                replayed.push((name, data["position"].as_i64().unwrap()));
            }
            crate::socketio::Packet::Closed(code) => panic!("closed ({code:?})"),
            _ => {}
        }
    };
    let names = |kind: &str| kind.replace('.', ":");
    let want: Vec<(String, i64)> = missed.iter().map(|(k, p)| (names(k), *p)).collect();
    assert_eq!(replayed, want, "every change, once, in order, named as Socket.IO events");
    assert_eq!((ack["last_position"].as_i64(), ack["last_sequence"].as_i64()), (Some(7), Some(3)), "{ack}");
    live.agent_says(&owner, &conv, "four").await;
    assert_eq!(device.until("/client", "message:new").await["position"], 8);
    device.quiet("message:new", Duration::from_millis(300)).await;
    live.stop().await;
}

async fn clients_that_resume_by_sequence_keep_working(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, owner_id) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    live.device_says(&app, "dev-1", &conv, "one").await;
    live.agent_says(&owner, &conv, "two").await;
    changes_while_away(&live, &owner, &owner_id, &conv).await;

    // The client has messages up to 2: it gets the messages after it, once, and the changes made
    // since that message was stored.
    let mut back = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_sequence": 2 })).await;
    let (replayed, resumed) = positioned(&mut back, &conv, "resumed").await;
    let new: Vec<i64> = replayed
        .iter()
        .filter(|f| f["type"] == "message.new")
        .map(|f| f["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(new, [3], "{replayed:?}");
    assert_eq!(kinds(&replayed).len(), 5);
    assert_eq!(resumed["replayed_to"], 3);
    // From the start: every message once.
    back.send(json!({ "type": "resume", "conversation_id": conv, "after_sequence": 0 })).await;
    let (replayed, _) = positioned(&mut back, &conv, "resumed").await;
    assert_eq!(replayed.len(), 7);
    assert_eq!(replayed.iter().filter(|f| f["type"] == "message.new").count(), 3);
    live.stop().await;
}

async fn the_feed_over_http_is_the_callers_only(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, owner_id) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    live.device_says(&app, "dev-1", &conv, "one").await;
    live.agent_says(&owner, &conv, "two").await;
    let missed = changes_while_away(&live, &owner, &owner_id, &conv).await;
    let auth = format!("Bearer {owner}");
    let agent = [("authorization", auth.as_str())];

    let events = format!("/v1/conversations/{conv}/events");
    let (code, page) = live.call(Method::GET, &format!("{events}?after=2"), &agent, None).await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(kinds(page["data"].as_array().unwrap()), expected(&missed));
    assert_eq!((page["last_position"].as_i64(), page["has_more"].as_bool()), (Some(7), Some(false)));
    // Paged: the next page starts after the last position of this one.
    let (_, first) = live.call(Method::GET, &format!("{events}?limit=4"), &agent, None).await;
    assert_eq!((first["data"].as_array().unwrap().len(), first["has_more"].as_bool()), (4, Some(true)));
    let (_, rest) = live.call(Method::GET, &format!("{events}?after=4&limit=4"), &agent, None).await;
    assert_eq!(rest["data"][0]["position"], 5);
    // The device reads its own conversation's feed.
    let device = sdk_headers(&app, "dev-1");
    let (code, mine) = live.call(Method::GET, &events, &as_refs(&device), None).await;
    assert_eq!((code, mine["data"].as_array().map(Vec::len)), (200, Some(7)));

    // Nobody else does: another device of the app, another company, bad input.
    live.conversation(&app, "dev-2").await;
    let stranger = sdk_headers(&app, "dev-2");
    let (code, _) = live.call(Method::GET, &events, &as_refs(&stranger), None).await;
    assert_eq!(code, 404, "another contact's conversation");
    let (globex, _) = live.register("Globex", "owner@globex.test").await;
    let other = format!("Bearer {globex}");
    let (code, reply) = live.call(Method::GET, &events, &[("authorization", &other)], None).await;
    assert_eq!(code, 404, "{reply}");
    let (code, reply) = live.call(Method::GET, &format!("{events}?after=-1"), &agent, None).await;
    assert_eq!((code, reply["error"]["code"].as_str()), (400, Some("VALIDATION_ERROR")), "{reply}");
    let (code, _) = live.call(Method::GET, &format!("{events}?after=x"), &agent, None).await;
    assert_eq!(code, 400);
    live.stop().await;
}

async fn an_inbox_that_was_away_catches_up_on_what_changed(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let quiet = live.conversation(&app, "dev-0").await;
    let busy = live.conversation(&app, "dev-1").await;
    live.device_says(&app, "dev-1", &busy, "hello").await;
    let (globex, _) = live.register("Globex", "owner@globex.test").await;
    let globex_app = live.sdk_app(&globex).await;
    let theirs = live.conversation(&globex_app, "dev-9").await;
    let auth = format!("Bearer {owner}");
    let agent = [("authorization", auth.as_str())];

    // The inbox loads, then goes away; meanwhile one conversation gets a receipt and a new one
    // starts; the other company's conversation changes too.
    let (_, inbox) = live.call(Method::GET, "/v1/conversations", &agent, None).await;
    let cursor = inbox["sync_cursor"].as_str().unwrap().to_owned();
    let read = json!({ "up_to_sequence": 1 });
    let path = format!("/v1/conversations/{busy}/messages/read");
    assert_eq!(live.call(Method::POST, &path, &agent, Some(read)).await.0, 200);
    let fresh = live.conversation(&app, "dev-2").await;
    live.device_says(&app, "dev-2", &fresh, "new here").await;
    live.device_says(&globex_app, "dev-9", &theirs, "elsewhere").await;

    let (code, changed) =
        live.call(Method::GET, &format!("/v1/conversations?changed_after={cursor}"), &agent, None).await;
    assert_eq!(code, 200, "{changed}");
    let ids: Vec<&str> =
        changed["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&busy.as_str()) && ids.contains(&fresh.as_str()), "{changed}");
    assert!(!ids.contains(&theirs.as_str()), "never another company's");
    let busy_now = changed["data"].as_array().unwrap().iter().find(|c| c["id"] == busy.as_str()).unwrap();
    assert_eq!(
        (busy_now["agent_read_sequence"].as_i64(), busy_now["unread_count"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(changed["has_more"], false);
    // Oldest change first: the quiet conversation, if listed (it changed within the settle window of
    // the inbox's cursor), comes before the later changes.
    let position = |id: &str| ids.iter().position(|i| *i == id);
    assert!(position(&busy) < position(&fresh));
    if let Some(q) = position(&quiet) {
        assert!(q < position(&busy).unwrap());
    }

    // Paged one at a time, the catch-up walks the same conversations, each once.
    let mut walked = Vec::new();
    let mut next = cursor.clone();
    loop {
        let url = format!("/v1/conversations?changed_after={next}&limit=1");
        let (_, page) = live.call(Method::GET, &url, &agent, None).await;
        walked.extend(page["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        next = page["next_cursor"].as_str().unwrap().to_owned();
        if page["has_more"] == false {
            break;
        }
        assert!(walked.len() <= ids.len(), "the walk ends");
    }
    assert_eq!(walked, ids);

    // The same over the live doors.
    let mut ws = live.ws(&[("authorization", &auth)]).await;
    ws.send(json!({ "type": "sync", "changed_after": cursor })).await;
    let answer = ws.until("conversations.changed").await;
    let live_ids: Vec<&str> =
        answer["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(live_ids, ids);
    assert!(answer["next_cursor"].is_string());
    ws.send(json!({ "type": "sync", "changed_after": "garbage" })).await;
    assert_eq!(ws.until("error").await["code"], "VALIDATION_ERROR");
    let mut sio = Sio::open(&live).await;
    sio.connect("/admin", json!({ "token": owner })).await.unwrap();
    let id = sio.emit("/admin", "conversations:sync", json!({ "changed_after": cursor })).await;
    let (ack, _) = sio.ack_collecting("/admin", id, "").await;
    let sio_ids: Vec<&str> =
        ack["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(sio_ids, ids);

    // Devices do not catch up on the inbox, and filters do not combine with a catch-up.
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.send(json!({ "type": "sync" })).await;
    assert_eq!(device.until("error").await["code"], "FORBIDDEN");
    let url = format!("/v1/conversations?changed_after={cursor}&status=open");
    let (code, reply) = live.call(Method::GET, &url, &agent, None).await;
    assert_eq!((code, reply["error"]["code"].as_str()), (400, Some("VALIDATION_ERROR")));
    let (code, _) =
        live.call(Method::GET, "/v1/conversations?changed_after=bm90LWEtY3Vyc29y", &agent, None).await;
    assert_eq!(code, 400);
    live.stop().await;
}

async fn racing_writers_reach_a_follower_gapless_and_once(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.send(json!({ "type": "subscribe", "conversation_id": conv })).await;
    device.until("subscribed").await;

    // Agents write and mark read while the device writes, all at once: the events are published in
    // whatever order the requests finish, and the follower still sees positions 1, 2, 3, ... once.
    let live = std::sync::Arc::new(live);
    let mut writers = Vec::new();
    for w in 0..4 {
        let (live, owner, app, conv) = (live.clone(), owner.clone(), app.clone(), conv.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..10 {
                match w {
                    0 | 1 => {
                        live.agent_says(&owner, &conv, &format!("agent {w}-{i}")).await;
                    }
                    2 => {
                        live.device_says(&app, "dev-1", &conv, &format!("device {i}")).await;
                    }
                    _ => {
                        let auth = format!("Bearer {owner}");
                        let status = if i % 2 == 0 { "pending" } else { "open" };
                        let path = format!("/v1/conversations/{conv}");
                        let body = json!({ "status": status });
                        live.call(Method::PATCH, &path, &[("authorization", &auth)], Some(body)).await;
                    }
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let auth = format!("Bearer {owner}");
    let (_, conversation) =
        live.call(Method::GET, &format!("/v1/conversations/{conv}"), &[("authorization", &auth)], None).await;
    let last = conversation["last_position"].as_i64().unwrap();
    assert_eq!(last, 40, "30 messages and 10 status changes");
    let mut positions = Vec::new();
    while positions.last() != Some(&last) {
        let frame = device.json().await;
        if let Some(p) = frame["position"].as_i64() {
            positions.push(p);
        }
    }
    assert_eq!(positions, (1..=last).collect::<Vec<_>>());
    device.quiet("message.new", Duration::from_millis(300)).await;
    std::sync::Arc::into_inner(live).unwrap().stop().await;
}
