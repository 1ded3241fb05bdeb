//! Per-request context: a request id (the caller's `X-Request-Id` when it is sane, else a new one),
//! a tracing span carrying it, one log line per request, and the final error envelope.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use tracing::Instrument;
use uuid::Uuid;

use crate::envelope;

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available to handlers through request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Middleware body; wrap the app with `actix_web::middleware::from_fn(request_context)`.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable(v))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // Only method and path are logged: query strings and headers may carry credentials.
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let outcome = next.call(req).instrument(span.clone()).await;
    let (status, outcome) = match outcome {
        Ok(res) => {
            let (req, res) = res.map_into_boxed_body().into_parts();
            let res = finish(res, &id);
            (res.status(), Ok(ServiceResponse::new(req, res)))
        }
        // Errors from inner middleware are rendered by actix after us: hand it the finished response.
        Err(err) => {
            let res = finish(err.error_response(), &id);
            (res.status(), Err(InternalError::from_response(err.to_string(), res).into()))
        }
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status = status.as_u16(), elapsed_ms, "request finished"));
    outcome
}

/// Envelope for errors, and the request id header on every response.
fn finish(res: HttpResponse, id: &str) -> HttpResponse {
    let mut res = envelope::finalize(res, id);
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    res
}

/// A caller's id is kept only when it is short, visible ASCII, so it cannot forge log lines.
fn is_acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::is_acceptable;

    #[test]
    fn only_short_visible_ids_are_kept() {
        assert!(is_acceptable("abc-123"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("a b"));
        assert!(!is_acceptable("line\nbreak"));
        assert!(!is_acceptable(&"x".repeat(129)));
    }
}
