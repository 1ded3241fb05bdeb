//! Traces leave over OTLP when a collector is configured: each request's span, with its request id,
//! reaches the collector (here a stand-in) by the time the server has stopped.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::server::{Server, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_reach_the_otlp_collector_with_their_request_id() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[("TIDINGS_OTLP_ENDPOINT", &collector.uri())]);
    let request_id = "trace-probe-5b1d9c0e";
    let answer = reqwest::Client::new()
        .get(server.url("/health/ready"))
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(server.terminate().success(), "the server stops cleanly with an exporter");

    let exports = collector.received_requests().await.unwrap();
    assert!(!exports.is_empty(), "spans were exported before the process ended");
    for export in &exports {
        assert_eq!(export.headers.get("content-type").unwrap(), "application/x-protobuf");
    }
    let contains = |needle: &[u8]| exports.iter().any(|e| e.body.windows(needle.len()).any(|w| w == needle));
    assert!(contains(request_id.as_bytes()), "the request's span carries its request id");
    assert!(contains(b"tidings"), "the service is named");
    assert!(contains(b"/health/ready"), "the span names the path");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_nothing_but_the_traces() {
    let dir = TempDir::new();
    // Nothing listens on port 9 of this machine.
    let mut server = Server::start(&dir.0, &[("TIDINGS_OTLP_ENDPOINT", "http://127.0.0.1:9")]);
    let answer = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(server.terminate().success());
}
