//! Requests the HTTP parser cannot read, sent over a real socket. actix-http answers those itself,
//! before any application code runs, with a bodiless 400 (431 for too many headers) and a closed
//! connection: the envelope cannot be added there (see "Errors" in docs/api.md). What the parser lets
//! through, such as percent-encoded bytes that are not UTF-8, reaches the router and gets the envelope.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tidings_websocket::server::{self, ServerSettings};

backend_tests!(unreadable_requests_are_refused_by_the_parser, odd_but_parsable_paths_get_the_envelope);

/// A server on a free port over `db`; returns its address.
fn start(db: &TestDb) -> SocketAddr {
    let state = super::state(db);
    let settings = ServerSettings { workers: Some(1), ..Default::default() };
    let app = move || tidings_api::app(state.clone());
    let bound = server::bind(app, "127.0.0.1:0".parse().unwrap(), &settings).unwrap();
    tokio::spawn(bound.server);
    bound.addr
}

/// Sends `request` as raw bytes and reads until the server closes: (status, headers, body).
async fn raw(addr: SocketAddr, request: Vec<u8>) -> (u16, String, String) {
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.write_all(&request).unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).expect("the server closes the connection");
        String::from_utf8_lossy(&reply).into_owned()
    })
    .await
    .unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head: {reply:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn request(line: &[u8], headers: &[&[u8]]) -> Vec<u8> {
    let mut out = line.to_vec();
    out.extend_from_slice(b"\r\nhost: tidings.test\r\n");
    for header in headers {
        out.extend_from_slice(header);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out
}

async fn unreadable_requests_are_refused_by_the_parser(db: &TestDb) {
    let addr = start(db);
    let many: Vec<Vec<u8>> = (0..200).map(|i| format!("x-filler-{i}: 1").into_bytes()).collect();
    let many: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage request line", b"HELLO THERE\r\n\r\n".to_vec(), 400),
        ("raw non-UTF-8 byte in the path", request(b"GET /v1/users/\xff HTTP/1.1", &[]), 400),
        ("CR inside a header", request(b"GET /health HTTP/1.1", &[b"x-a: 1\rx-b: 2"]), 400),
        ("NUL inside a header", request(b"GET /health HTTP/1.1", &[b"x-device-id: dev\x001"]), 400),
        (
            "malformed content-length",
            request(b"POST /v1/auth/login HTTP/1.1", &[b"content-length: ten"]),
            400,
        ),
        ("too many headers", request(b"GET /health HTTP/1.1", &many), 431),
    ];
    for (what, bytes, status) in cases {
        let (got, head, _) = raw(addr, bytes).await;
        assert_eq!(got, status, "{what}: {head}");
        assert!(head.contains("connection: close"), "{what}: {head}");
    }
    // The server is unharmed.
    let (status, _, body) = raw(addr, request(b"GET /health HTTP/1.1", &[])).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
}

async fn odd_but_parsable_paths_get_the_envelope(db: &TestDb) {
    let addr = start(db);
    for (line, status, code) in [
        (&b"GET /v1/%FF%FE HTTP/1.1"[..], 404, "NOT_FOUND"),
        (b"GET /v1/%00 HTTP/1.1", 404, "NOT_FOUND"),
        (b"GET /health/%C3%28 HTTP/1.1", 404, "NOT_FOUND"),
    ] {
        let (got, head, body) = raw(addr, request(line, &[])).await;
        assert_eq!(got, status, "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["request_id"].is_string(), "{body}");
    }
}
