//! Limits per client address: sign-in and the other account routes, and everything else, each a
//! number of requests per minute per IP, counted in this process or across the cluster (see
//! [`tidings_messaging::rate::Limiter`]). The address is the connection's peer, or what
//! `X-Forwarded-For` says when the peer is a trusted proxy. Sends are limited per sender by the
//! message service.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use ipnet::IpNet;
use tidings_domain::SharedLimiter;
use tidings_messaging::rate::Limiter;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Requests per minute per client address, by route group; 0 lifts a limit.
#[derive(Clone, Debug, Default)]
pub struct RateLimitSettings {
    /// Sign-up, sign-in, token refresh, password resets and invitations (`POST /v1/auth/…`).
    pub auth_per_minute: u32,
    /// Every other request (health checks, `/metrics`, download links and preflights excepted;
    /// opening a live connection counts).
    pub per_minute: u32,
    /// Messages each sender (agent or customer) may send per 15 minutes, through any door.
    pub sends_per_15_minutes: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimitSettings {
    /// The server's defaults: 10 account requests and 100 others per minute per address, 300
    /// messages per 15 minutes per sender.
    pub fn standard() -> Self {
        Self { auth_per_minute: 10, per_minute: 100, sends_per_15_minutes: 300, trusted_proxies: Vec::new() }
    }
}

/// The limiters of one application.
#[derive(Clone)]
pub struct RateLimits {
    auth: Option<Limiter>,
    general: Option<Limiter>,
    trusted_proxies: Arc<[IpNet]>,
}

impl RateLimits {
    /// Limiters for `settings`, counted across the cluster when `shared` is given.
    pub fn new(settings: &RateLimitSettings, shared: Option<Arc<dyn SharedLimiter>>) -> Self {
        let limiter = |name, per_minute| {
            Limiter::new(name, per_minute, Duration::from_secs(60)).map(|l| l.shared(shared.clone()))
        };
        Self {
            auth: limiter("auth", settings.auth_per_minute),
            general: limiter("general", settings.per_minute),
            trusted_proxies: settings.trusted_proxies.clone().into(),
        }
    }

    /// The client's address: the peer, or the last address in `X-Forwarded-For` that is not one of
    /// the trusted proxies when the peer is one.
    pub fn client_ip(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded = req.headers().get_all(header::X_FORWARDED_FOR).filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        Some(hops.into_iter().rev().find(|hop| !trusted(hop)).unwrap_or(peer))
    }

    /// The limiter a request counts against, if any.
    fn limiter(&self, req: &ServiceRequest) -> Option<&Limiter> {
        let path = req.path();
        if exempt(req.method(), path) {
            return None;
        }
        if req.method() == Method::POST && path.starts_with("/v1/auth/") {
            self.auth.as_ref()
        } else {
            self.general.as_ref()
        }
    }
}

/// Whether requests of `method` to `path` (or to a route's path template) count against no limit.
pub fn exempt(method: &Method, path: &str) -> bool {
    // The web pages' files are embedded in the binary and cost nothing to serve; a page load
    // fetches a dozen of them, which would eat an agent's budget for API calls.
    path.starts_with("/health")
        || path == "/metrics"
        || (method == Method::GET && path.starts_with("/assets/"))
        || (method == Method::GET && path.starts_with("/v1/uploads/") && path.ends_with("/content"))
        || method == Method::OPTIONS
}

/// Answers `429 RATE_LIMITED` with `Retry-After` to a client over its limit.
pub async fn rate_limit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = state
        && let Some(limiter) = state.rate_limits.limiter(&req)
        && let Some(ip) = state.rate_limits.client_ip(&req)
        && let Err(wait) = limiter.check(&ip.to_string()).await
    {
        metrics::counter!("tidings_rate_limited_total", "group" => limiter.name()).increment(1);
        let error = ApiError::new(ErrorCode::RateLimited, "too many requests, retry later")
            .with_retry_after(wait.as_secs().max(1));
        return Ok(req.error_response(error).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
