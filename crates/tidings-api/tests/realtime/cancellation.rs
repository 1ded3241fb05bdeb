//! Requests abandoned half-way, against a real server: actix's workers run single-threaded
//! runtimes and drop a request's futures when another extractor rejects it or the client hangs
//! up, which a store call must survive (no panic, an envelope for every rejected request).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::live::{Live, sdk_headers};

backend_tests!(malformed_and_abandoned_requests_never_panic_a_worker);

/// Panics seen on the server's worker threads, counted by a process-wide hook.
fn worker_panics() -> &'static AtomicUsize {
    static PANICS: OnceLock<&'static AtomicUsize> = OnceLock::new();
    PANICS.get_or_init(|| {
        let counter: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name().is_some_and(|name| name.contains("actix")) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
        counter
    })
}

/// Sends a raw HTTP/1.1 request and returns the status and the JSON body.
async fn raw(live: &Live, head: &str, body: &[u8]) -> (u16, Value) {
    let addr = live.base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut reply))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&reply);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Sends the head of a request whose body never arrives in full, then hangs up.
async fn hang_up(live: &Live, head: &str, partial: &[u8]) {
    let addr = live.base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}\r\nHost: {addr}\r\n\r\n");
    let _ = tcp.write_all(request.as_bytes()).await;
    let _ = tcp.write_all(partial).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    drop(tcp);
}

async fn malformed_and_abandoned_requests_never_panic_a_worker(db: &TestDb) {
    let panics = worker_panics();
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    let before = panics.load(Ordering::SeqCst);

    let bearer = format!("Authorization: Bearer {owner}");
    let sdk: String =
        sdk_headers(&app, "dev-1").iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\r\n");
    let json = "Content-Type: application/json";
    let huge = vec![b'x'; 2 * 1024 * 1024];
    // (request head, body, expected status): each rejected while the caller's credentials are still
    // being checked against the store.
    let cases: Vec<(String, &[u8], u16)> = vec![
        (
            format!(
                "POST /v1/conversations/{conv}/messages HTTP/1.1\r\n{bearer}\r\n{json}\r\nContent-Length: 9"
            ),
            b"{\"body\": ",
            400,
        ),
        (
            format!(
                "POST /v1/conversations/{conv}/messages HTTP/1.1\r\n{bearer}\r\n{json}\r\nContent-Length: 11"
            ),
            b"{\"body\": 5}",
            400,
        ),
        (
            format!(
                "POST /v1/conversations/{conv}/messages HTTP/1.1\r\n{bearer}\r\nContent-Type: text/plain\r\nContent-Length: 2"
            ),
            b"hi",
            415,
        ),
        (
            format!(
                "POST /v1/conversations/{conv}/messages HTTP/1.1\r\n{bearer}\r\n{json}\r\nContent-Length: {}",
                huge.len()
            ),
            &huge,
            413,
        ),
        (
            format!(
                "POST /v1/conversations/not-an-id/messages HTTP/1.1\r\n{bearer}\r\n{json}\r\nContent-Length: 13"
            ),
            b"{\"body\":\"x\"}",
            400,
        ),
        (format!("GET /v1/conversations?limit=lots HTTP/1.1\r\n{bearer}"), b"", 400),
        (
            format!(
                "POST /v1/conversations/{conv}/messages HTTP/1.1\r\n{sdk}\r\n{json}\r\nContent-Length: 3"
            ),
            b"[1,",
            400,
        ),
        (
            format!("POST /v1/identify HTTP/1.1\r\n{sdk}\r\n{json}\r\nContent-Length: 12"),
            b"{\"email\": 7}",
            400,
        ),
        (
            format!("PATCH /v1/conversations/{conv} HTTP/1.1\r\n{bearer}\r\n{json}\r\nContent-Length: 2"),
            b"[]",
            400,
        ),
    ];
    for round in 0..15 {
        for (head, body, status) in &cases {
            let (got, reply) = raw(&live, head, body).await;
            assert_eq!(got, *status, "round {round}: {head}: {reply}");
            assert!(reply["error"]["code"].is_string(), "round {round}: {head}: no envelope: {reply}");
            assert!(reply["error"]["request_id"].is_string(), "round {round}: {head}: {reply}");
        }
        for (head, _, _) in cases.iter().take(3) {
            let head = head.replace("Content-Length: ", "Content-Length: 100");
            hang_up(&live, &head, b"{\"bo").await;
        }
        hang_up(&live, &format!("GET /v1/conversations/{conv}/messages HTTP/1.1\r\n{bearer}"), b"").await;
    }

    // The server still serves, and nobody's worker panicked.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sequence = live.agent_says(&owner, &conv, "still here").await;
    assert_eq!(sequence, 1);
    let (status, _) = live.call(reqwest::Method::GET, "/health/ready", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(panics.load(Ordering::SeqCst), before, "a worker panicked; see the log above");
    live.stop().await;
}
