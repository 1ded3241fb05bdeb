//! Prometheus metrics: the process's recorder (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus`), the middleware that counts and times every request by its route
//! template, and the gauges read when `/metrics` is scraped (live sessions, the outbox).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Buckets of request latencies, in seconds: from a cached read to the request deadline.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// Buckets of waits for a database connection, in seconds: from a free connection at hand to the
/// pool's checkout timeout.
const POOL_WAIT_BUCKETS: [f64; 10] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// The recorder of this process, installed on first use. When an embedding program installed its
/// own recorder first, metrics go there and this handle renders nothing.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("tidings_http_request_duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full("tidings_db_pool_wait_seconds".into()),
                        &POOL_WAIT_BUCKETS,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed before Tidings': /metrics stays empty");
            }
            metrics::gauge!("tidings_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

/// Counts every request by route template (`/v1/messages/{id}`, never the ids themselves), method
/// and status, and records its latency until the answer starts.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let outcome = next.call(req).await;
    let (route, status) = match &outcome {
        Ok(res) => (res.request().match_pattern(), res.status().as_u16()),
        Err(error) => (None, error.as_response_error().status_code().as_u16()),
    };
    let route = route.unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed().as_secs_f64();
    metrics::histogram!("tidings_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(elapsed);
    metrics::counter!("tidings_http_requests_total", "route" => route, "method" => method, "status" => status.to_string())
        .increment(1);
    outcome
}

/// `GET /metrics`: the Prometheus text format, with the gauges read now.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let handle = handle();
    metrics::gauge!("tidings_live_sessions").set(state.hub.session_count() as f64);
    if let Some(pool) = state.store_health.pool_stats() {
        metrics::gauge!("tidings_db_pool_max").set(pool.max_size as f64);
        metrics::gauge!("tidings_db_pool_connections", "state" => "in_use")
            .set(pool.open.saturating_sub(pool.idle) as f64);
        metrics::gauge!("tidings_db_pool_connections", "state" => "idle").set(pool.idle as f64);
        metrics::gauge!("tidings_db_pool_waiting").set(pool.waiting as f64);
    }
    match state.outbox.stats().await {
        Ok(stats) => {
            metrics::gauge!("tidings_outbox_pending").set(stats.pending as f64);
            metrics::gauge!("tidings_outbox_dead").set(stats.dead as f64);
            metrics::gauge!("tidings_outbox_oldest_pending_seconds").set(stats.oldest_pending_secs as f64);
        }
        Err(error) => tracing::warn!(%error, "metrics: outbox counts failed"),
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(handle.render())
}

/// The live connections open on this node, every door: what its limit is checked against.
#[derive(Debug, Default)]
pub struct LiveConnections(AtomicUsize);

impl LiveConnections {
    /// Counts a connection of `door` (`native` or `socket.io`), unless `limit` are open already.
    pub(crate) fn open(self: &Arc<Self>, door: &'static str, limit: usize) -> Option<LiveConnection> {
        self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).ok()?;
        metrics::gauge!("tidings_live_connections", "door" => door).increment(1.0);
        Some(LiveConnection { door, counted: self.clone() })
    }
}

/// One open live connection of a door, counted in `tidings_live_connections{door}` and against
/// the node's limit for as long as it lives (dropped with the connection's task, however it ends,
/// or with the refused upgrade).
pub(crate) struct LiveConnection {
    door: &'static str,
    counted: Arc<LiveConnections>,
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.counted.0.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("tidings_live_connections", "door" => self.door).decrement(1.0);
    }
}
