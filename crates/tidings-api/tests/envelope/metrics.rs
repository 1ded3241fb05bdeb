//! `/metrics` in the Prometheus text format: it parses, counts requests by route template (never by
//! id), and its counters move as traffic flows.

use actix_web::test::{self, TestRequest};
use tidings_api::RateLimitSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{settings, state};

backend_tests!(metrics_parse_and_move_with_traffic);

/// A scrape, parsed whole by a strict parser of the Prometheus text format: metric name to
/// (labels, value) of each sample (histograms: their sample count).
type Scraped = Vec<(String, Vec<(String, String)>, f64)>;

async fn scrape<S, B>(svc: &S) -> Scraped
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    use openmetrics_parser::PrometheusValue;
    let res = test::call_service(svc, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let exposition =
        openmetrics_parser::prometheus::parse_prometheus(&text).expect("the Prometheus text format");
    let mut samples = Vec::new();
    for (name, family) in &exposition.families {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().unwrap();
            let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let value = match &sample.value {
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Gauge(g) | PrometheusValue::Unknown(g) => g.as_f64(),
                PrometheusValue::Histogram(h) => h.count.map_or(0.0, |c| c as f64),
                PrometheusValue::Summary(_) => 0.0,
            };
            samples.push((name.clone(), labels, value));
        }
    }
    samples
}

/// The value of `metric` with `labels` (0 when absent).
fn value(samples: &Scraped, metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(name, have, _)| {
            name == metric && labels.iter().all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
        })
        .map(|(_, _, value)| value)
        .sum()
}

fn has(samples: &Scraped, metric: &str) -> bool {
    samples.iter().any(|(name, _, _)| name == metric)
}

async fn metrics_parse_and_move_with_traffic(db: &TestDb) {
    let limits = RateLimitSettings { per_minute: 1, ..RateLimitSettings::default() };
    let svc =
        test::init_service(tidings_api::app(state(db, settings()).with_rate_limits(&limits, None))).await;
    let before = scrape(&svc).await;
    let health = [("route", "/health"), ("method", "GET"), ("status", "200")];
    let by_id = [("route", "/v1/messages/{id}"), ("method", "GET"), ("status", "401")];
    for _ in 0..3 {
        test::call_service(&svc, TestRequest::get().uri("/health").to_request()).await;
    }
    let peer = "203.0.113.70:4000".parse().unwrap();
    for _ in 0..2 {
        let req = TestRequest::get().uri(&format!("/v1/messages/{}", uuid::Uuid::now_v7())).peer_addr(peer);
        test::call_service(&svc, req.to_request()).await;
    }
    let after = scrape(&svc).await;
    assert!(
        value(&after, "tidings_http_requests_total", &health)
            >= value(&before, "tidings_http_requests_total", &health) + 3.0
    );
    assert!(
        value(&after, "tidings_http_requests_total", &by_id)
            >= value(&before, "tidings_http_requests_total", &by_id) + 1.0,
        "counted by template"
    );
    let routes = after.iter().flat_map(|(_, labels, _)| labels).filter(|(k, _)| k == "route");
    assert!(routes.clone().all(|(_, route)| !route.starts_with("/v1/messages/0")), "no ids in labels");
    let limited = [("group", "general")];
    assert!(
        value(&after, "tidings_rate_limited_total", &limited)
            >= value(&before, "tidings_rate_limited_total", &limited) + 1.0
    );
    let latency = [("route", "/health"), ("method", "GET")];
    assert!(value(&after, "tidings_http_request_duration_seconds", &latency) >= 3.0, "latency histogram");
    assert!(
        value(&after, "tidings_db_pool_wait_seconds", &[])
            > value(&before, "tidings_db_pool_wait_seconds", &[]),
        "store calls record their wait for a connection"
    );
    assert_eq!(value(&after, "tidings_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    for gauge in [
        "tidings_live_sessions",
        "tidings_outbox_pending",
        "tidings_outbox_dead",
        "tidings_outbox_oldest_pending_seconds",
        "tidings_db_pool_max",
        "tidings_db_pool_connections",
        "tidings_db_pool_waiting",
    ] {
        assert!(has(&after, gauge), "{gauge}");
    }
}
