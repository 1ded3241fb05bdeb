//! How the HTTP surface defends itself: security headers a browser honours on every answer, CORS
//! for the origins an operator names (none by default), and a deadline per request.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Settings of the HTTP surface.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Origins whose pages may call the API from a browser (`https://app.example.com`); none
    /// by default, so only same-origin pages can.
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security` (when the server is reached over https).
    pub hsts: bool,
    /// Longest a request may take until its answer starts (uploads and live connections excepted).
    pub request_timeout: Duration,
    /// Serve `/metrics` with the API; off when it has a listener of its own ([`crate::metrics_app`]).
    pub metrics_with_api: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            hsts: false,
            request_timeout: Duration::from_secs(30),
            metrics_with_api: true,
        }
    }
}

/// How long browsers may cache a CORS preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 3600;

/// Request headers a browser page may send cross-origin: credentials, the SDK's, and ours.
const ALLOWED_HEADERS: [&str; 7] =
    ["authorization", "content-type", "x-app-id", "x-device-id", "x-api-key", "x-request-id", "x-file-name"];

/// The CORS policy: the configured origins may call every route with the API's headers and read
/// the headers clients need; any other origin gets no CORS headers (its preflight is refused).
pub fn cors(settings: &HttpSettings) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(["x-request-id", "retry-after", "content-range", "content-disposition"])
        .max_age(PREFLIGHT_MAX_AGE);
    for origin in &settings.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Serves requests from origins not listed as if they named none, preflights excepted: such a
/// request goes through without CORS headers, so the browser keeps its answer from the page. This
/// is how CORS is meant to work: same-origin pages and browsers' WebSocket handshakes send an
/// `Origin` too, and must not be refused for it; a cross-origin call the API could be fooled by
/// (JSON, credentials) needs a preflight, which is refused.
pub async fn unlisted_origins(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !preflight && let Some(origin) = req.headers().get(header::ORIGIN) {
        let listed = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.http.cors_origins.iter().any(|o| o.as_bytes() == origin.as_bytes()));
        if !listed {
            req.headers_mut().remove(header::ORIGIN);
        }
    }
    next.call(req).await
}

/// Adds the security headers to every answer that does not set its own: no sniffing, no framing,
/// no referrer, nothing loaded by a JSON answer opened as a page, and HSTS when configured. Errors
/// rendered later by actix get them too.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let hsts = req.app_data::<web::Data<AppState>>().is_some_and(|state| state.http.hsts);
    match next.call(req).await {
        Ok(mut res) => {
            protect(res.headers_mut(), hsts);
            Ok(res)
        }
        Err(error) => {
            let mut res = error.error_response();
            protect(res.headers_mut(), hsts);
            Err(InternalError::from_response(error.to_string(), res).into())
        }
    }
}

/// The policy of Swagger UI's page and assets (`/docs/`): scripts, styles, fonts and images from the
/// server only (Swagger UI sets some styles inline, and draws icons from `data:` URIs), requests to
/// the server only (the document, "try it out"), and still no framing.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn protect(headers: &mut header::HeaderMap, hsts: bool) {
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, header::HeaderValue::from_static(value));
        }
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// Answers `503` to a request whose answer has not started within the configured time. Uploads
/// (a large file on a slow link) and live connections (which hold their request) have none. What
/// the store was doing completes anyway: its work does not belong to the request's task.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let timeout = req.app_data::<web::Data<AppState>>().map(|state| state.http.request_timeout);
    // A WebSocket upgrade (both doors) answers at once and then lives on in a task of its own.
    let exempt = req.headers().contains_key(header::UPGRADE)
        || (req.method() == Method::POST && req.path() == "/v1/uploads");
    match timeout {
        Some(timeout) if !exempt => match tokio::time::timeout(timeout, next.call(req)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                Err(ApiError::new(ErrorCode::Unavailable, "the request took too long; try again").into())
            }
        },
        _ => next.call(req).await,
    }
}
