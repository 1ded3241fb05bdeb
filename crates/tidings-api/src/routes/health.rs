//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use tidings_domain::ErrorChain;
use tidings_messaging::realtime::BusState;

use crate::envelope::ErrorEnvelope;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::views::{BusCheck, Check, ChecksView, HealthView, NotReadyDetails, ReadinessView};

/// How long readiness waits for the store before calling it unavailable.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: answers for as long as the process serves requests.
#[utoipa::path(
    get, path = "/health", tag = "health", operation_id = "live",
    responses((status = 200, description = "Alive", body = HealthView)),
)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "ok" })
}

/// Readiness: ready when the store answers a query within 2 seconds.
///
/// A bus cut off from the other nodes is reported as `degraded` but keeps the node ready: it still
/// serves its own clients, and taking every node out of the load balancer during a Redis outage
/// would serve nobody.
#[utoipa::path(
    get, path = "/health/ready", tag = "health", operation_id = "ready",
    responses(
        (status = 200, description = "Ready: the checks, the outbox's counts and the store's pool", body = ReadinessView),
        (status = 503, description = "`UNAVAILABLE`: the store does not answer; `details.checks` names the failed check",
         body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let bus = match state.bus.state() {
        BusState::Local => BusCheck::Local,
        BusState::Connected => BusCheck::Ok,
        BusState::Degraded => BusCheck::Degraded,
    };
    match tokio::time::timeout(STORE_CHECK_TIMEOUT, state.store_health.ping()).await {
        Ok(Ok(())) => {
            let outbox = match tokio::time::timeout(STORE_CHECK_TIMEOUT, state.outbox.stats()).await {
                Ok(Ok(stats)) => Some(stats.into()),
                Ok(Err(err)) => {
                    tracing::warn!(error = %ErrorChain(&err), "readiness: outbox counts failed");
                    None
                }
                Err(_) => None,
            };
            let checks = ChecksView { store: Check::Ok, bus };
            let pool = state.store_health.pool_stats().map(Into::into);
            Ok(HttpResponse::Ok().json(ReadinessView { status: "ready", checks, outbox, pool }))
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %ErrorChain(&err), "readiness: store check failed");
            Err(not_ready(bus))
        }
        Err(_) => {
            tracing::warn!("readiness: store check timed out");
            Err(not_ready(bus))
        }
    }
}

fn not_ready(bus: BusCheck) -> ApiError {
    ApiError::new(ErrorCode::Unavailable, "not ready: the store does not answer")
        .with_details(
            // A plain struct of strings: serializing it cannot fail.
            serde_json::to_value(NotReadyDetails { checks: ChecksView { store: Check::Unavailable, bus } })
                .unwrap_or_default(),
        )
        .with_retry_after(1)
}
