//! The hand-off of an upgraded connection from the HTTP server to the door, spoken byte by byte:
//! bytes the client sends right behind its upgrade request, answers to requests pipelined before
//! it, upgrade requests the doors must not take.

use std::ops::Not;
use std::time::Duration;

use serde_json::{Value, json};
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::live::{Live, RawWs, WAIT};

backend_tests!(
    frames_sent_with_the_upgrade_request_are_not_lost,
    answers_pipelined_before_an_upgrade_leave_first,
    upgrade_requests_no_door_takes_get_their_answer_and_a_closed_connection,
    a_session_runs_in_a_task_of_its_own_until_it_closes,
    a_node_refuses_live_connections_beyond_its_limit_on_every_door,
);

const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13";

async fn connect(live: &Live) -> (TcpStream, String) {
    let addr = live.base.trim_start_matches("http://").to_owned();
    (TcpStream::connect(&addr).await.unwrap(), addr)
}

/// Reads one HTTP response head (and a body of `Content-Length` bytes): (head, body).
async fn response(tcp: &mut TcpStream) -> (String, String) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    tcp.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// Reads one unmasked server text frame as JSON.
async fn text_frame(tcp: &mut TcpStream) -> Value {
    tokio::time::timeout(WAIT, async {
        let first = tcp.read_u8().await.unwrap();
        assert_eq!(first, 0x81, "a final text frame");
        let len = match tcp.read_u8().await.unwrap() {
            126 => u64::from(tcp.read_u16().await.unwrap()),
            127 => tcp.read_u64().await.unwrap(),
            n => u64::from(n),
        };
        let mut payload = vec![0; len as usize];
        tcp.read_exact(&mut payload).await.unwrap();
        serde_json::from_slice(&payload).unwrap()
    })
    .await
    .expect("a frame")
}

async fn frames_sent_with_the_upgrade_request_are_not_lost(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (mut tcp, addr) = connect(&live).await;
    // The request, the auth frame and a ping in one write: the server reads the frames along with
    // the request head, before the door has the socket.
    let mut bytes = format!("GET /v1/realtime HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\n\r\n").into_bytes();
    let auth = json!({ "type": "auth", "token": owner }).to_string();
    bytes.extend(RawWs::header(0x81, auth.len() as u64, true));
    bytes.extend(auth.as_bytes());
    let ping = json!({ "type": "ping" }).to_string();
    bytes.extend(RawWs::header(0x81, ping.len() as u64, true));
    bytes.extend(ping.as_bytes());
    tcp.write_all(&bytes).await.unwrap();
    let (head, _) = response(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(text_frame(&mut tcp).await["type"], "connected");
    assert_eq!(text_frame(&mut tcp).await["type"], "pong");
    live.stop().await;
}

async fn answers_pipelined_before_an_upgrade_leave_first(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (mut tcp, addr) = connect(&live).await;
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         GET /v1/realtime?access_token={owner} HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (first, body) = response(&mut tcp).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(body.contains("ok"), "{body}");
    let (second, _) = response(&mut tcp).await;
    assert!(second.starts_with("HTTP/1.1 101"), "{second}");
    assert_eq!(text_frame(&mut tcp).await["type"], "connected");
    live.stop().await;
}

async fn upgrade_requests_no_door_takes_get_their_answer_and_a_closed_connection(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    // (request line and extra headers, expected status, expected error code)
    let cases = [
        // Not a door: the route answers as it would without the upgrade.
        (format!("GET /health HTTP/1.1\r\n{UPGRADE}"), 200, None),
        (format!("GET /v1/conversations HTTP/1.1\r\nAuthorization: Bearer {owner}\r\n{UPGRADE}"), 200, None),
        // A door, but wrong credentials: refused before the upgrade, in the envelope.
        (format!("GET /v1/realtime?access_token=nope HTTP/1.1\r\n{UPGRADE}"), 401, Some("UNAUTHENTICATED")),
    ];
    for (request, status, code) in cases {
        let (mut tcp, addr) = connect(&live).await;
        let bytes = format!("{request}\r\nHost: {addr}\r\n\r\n");
        tcp.write_all(bytes.as_bytes()).await.unwrap();
        let (head, body) = response(&mut tcp).await;
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{request}: {head}");
        if let Some(code) = code {
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["error"]["code"], code, "{request}: {body}");
        }
        // The connection ends after the answer.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut rest)).await;
        assert!(matches!(read, Ok(Ok(0))), "{request}: the connection stayed open or sent more: {rest:?}");
    }

    // A door's upgrade with a body: the body is read as the first frames, and refused as such.
    let (mut tcp, addr) = connect(&live).await;
    let request = format!(
        "GET /v1/realtime?access_token={owner} HTTP/1.1\r\nHost: {addr}\r\n{UPGRADE}\r\nContent-Length: 2\r\n\r\nhi"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let (head, _) = response(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(text_frame(&mut tcp).await["type"], "connected");
    let mut close = [0u8; 4];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut close)).await.unwrap().unwrap();
    assert_eq!(close[0], 0x88, "a close frame: {close:?}");
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1002, "a protocol error");
    live.stop().await;
}

async fn a_session_runs_in_a_task_of_its_own_until_it_closes(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    assert!(live.sessions.is_empty());
    // Refused upgrades start no session.
    assert_eq!(live.try_ws(&[("authorization", "Bearer nope")]).await.err(), Some(401));
    assert!(live.sessions.is_empty());
    let mut first = live.ws(&[("authorization", &auth)]).await;
    let mut second = live.ws(&[("authorization", &auth)]).await;
    first.until("connected").await;
    second.until("connected").await;
    assert_eq!(live.sessions.len(), 2, "each accepted upgrade runs apart from its HTTP connection");
    first.close_with(1000).await;
    assert!(live.sessions.ended(Duration::from_millis(1)).await.not(), "one is still open");
    assert_eq!(until_count(&live, 1).await, 1, "the closed one ended");
    second.close_with(1000).await;
    assert!(live.sessions.ended(WAIT).await, "every session ends when its client leaves");
    // The count goes on after a wait: later sessions are counted too.
    let mut third = live.ws(&[("authorization", &auth)]).await;
    third.until("connected").await;
    assert_eq!(live.sessions.len(), 1);
    live.stop().await;
}

async fn a_node_refuses_live_connections_beyond_its_limit_on_every_door(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings { max_connections: 2, ..RealtimeSettings::default() }).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let auth = format!("Bearer {owner}");
    // Two upgrades at once: the limit holds for racing upgrades too.
    let headers = [("authorization", auth.as_str())];
    let (first, second, third) =
        tokio::join!(live.try_ws(&headers), live.try_ws(&headers), live.try_ws(&headers));
    let mut open: Vec<_> = [first, second, third].into_iter().filter_map(Result::ok).collect();
    assert_eq!(open.len(), 2, "two of three racing upgrades were accepted");
    for ws in &mut open {
        ws.until("connected").await;
    }
    // Refused in the envelope, with a time to retry, on either door, before any WebSocket.
    let requests = [
        format!("GET /v1/realtime?access_token={owner} HTTP/1.1"),
        "GET /v1/socket.io/?EIO=4&transport=websocket HTTP/1.1".to_owned(),
    ];
    for request in requests {
        let (mut tcp, addr) = connect(&live).await;
        tcp.write_all(format!("{request}\r\nHost: {addr}\r\n{UPGRADE}\r\n\r\n").as_bytes()).await.unwrap();
        let (head, body) = response(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 503"), "{request}: {head}");
        assert!(head.to_ascii_lowercase().contains("retry-after: 5"), "{head}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "UNAVAILABLE", "{body}");
    }
    // A connection that ends gives its place back.
    let mut leaving = open.pop().unwrap();
    leaving.close_with(1000).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut again = loop {
        match live.try_ws(&[("authorization", &auth)]).await {
            Ok(ws) => break ws,
            Err(status) => assert_eq!(status, 503),
        }
        assert!(tokio::time::Instant::now() < deadline, "the place was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    again.until("connected").await;
    assert_eq!(live.try_ws(&[("authorization", &auth)]).await.err(), Some(503), "full again");
    live.stop().await;
}

/// Waits until `live` runs `n` sessions (or the test's patience ends); returns how many run.
async fn until_count(live: &Live, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + WAIT;
    while live.sessions.len() != n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    live.sessions.len()
}
