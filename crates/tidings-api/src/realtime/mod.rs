//! The live doors: `GET /v1/realtime`, the native WebSocket protocol, and `GET /v1/socket.io/`,
//! the Socket.IO door (see `docs/realtime.md`).

mod connection;
mod credential;
mod frame_rate;
mod protocol;
mod settings;
pub mod socketio;

use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::FutureExt;
use tidings_websocket::{AcceptError, Limits, WebSocket};
use tracing::Instrument;

pub use credential::Credential;
pub use settings::RealtimeSettings;

use crate::caller::{AnyCaller, bearer};
use crate::envelope::ErrorEnvelope;
use crate::error::{ApiError, ErrorCode};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The native live door: a WebSocket of JSON text frames (docs/realtime.md).
///
/// Credentials in the headers (as for HTTP) or in `?access_token=` are checked before the upgrade
/// (`401` when wrong); without any, the first frame must be `auth`. The request must be a WebSocket
/// upgrade (`Upgrade: websocket`, `Connection: Upgrade`, `Sec-WebSocket-Version: 13`,
/// `Sec-WebSocket-Key`).
#[utoipa::path(
    get, path = "/v1/realtime", tag = "realtime", operation_id = "realtime",
    params(("access_token" = Option<String>, Query, description = "A user's access token, for clients that \
        cannot set headers")),
    security((), ("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (docs/realtime.md)"),
        (status = 400, description = "`VALIDATION_ERROR`: not a WebSocket upgrade, or a malformed query", body = ErrorEnvelope),
        (status = 503, description = "`UNAVAILABLE`: this node holds as many live connections as it may \
            (`TIDINGS_WS_MAX_CONNECTIONS`); retry after `Retry-After`", body = ErrorEnvelope),
    ),
)]
pub async fn connect(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let credential = credentials(&req, &state).await?;
    let state = state.into_inner();
    accept(&req, &state.clone(), "native", move |socket| connection::run(state, credential, socket))
}

/// Accepts the WebSocket upgrade of a door: once the `101` is sent, `run` serves the socket in
/// the connection's task, counted per door while it lives, in a span that carries the request id
/// of its upgrade, so that a session's lines can be followed from the request that opened it.
fn accept<F: Future<Output = ()> + 'static>(
    req: &HttpRequest,
    state: &AppState,
    door: &'static str,
    run: impl FnOnce(WebSocket) -> F + 'static,
) -> Result<HttpResponse, ApiError> {
    let id = req.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    // Counted before the `101`, so that racing upgrades cannot pass the limit together; a refused
    // or failed upgrade drops the count with `served`.
    let counted = state.live_connections.open(door, state.realtime.max_connections).ok_or_else(|| {
        metrics::counter!("tidings_live_connections_refused_total", "door" => door).increment(1);
        ApiError::new(
            ErrorCode::Unavailable,
            "this node holds as many live connections as it may; retry shortly",
        )
        .with_retry_after(5)
    })?;
    let span = tracing::info_span!("live session", request_id = %id, door);
    let limits =
        Limits { max_message: state.realtime.max_frame_bytes, write_timeout: state.realtime.write_timeout };
    // Combinators rather than an `async` block, which would keep room for `run` and the socket
    // beside the session they become, for as long as the connection lives.
    let served = move |socket| run(socket).map(move |()| drop(counted)).instrument(span);
    tidings_websocket::accept(req, limits, served).map_err(|e| match e {
        AcceptError::Handshake(e) => ApiError::validation(e.to_string()),
        AcceptError::NotHandedOff => ApiError::internal(e),
    })
}

/// Logs why a live session ended (`None`: the client hung up).
fn log_closed(reason: Option<&tidings_websocket::CloseReason>) {
    let code = reason.map(|r| u16::from(r.code));
    tracing::debug!(code, why = reason.and_then(|r| r.description.as_deref()), "live session closed");
}

async fn credentials(req: &HttpRequest, state: &AppState) -> Result<Option<Credential>, ApiError> {
    let headers = req.headers();
    if let Some(token) = bearer(headers) {
        return Ok(Some(Credential::user(&state.authenticator, &token).await?));
    }
    if ["authorization", "x-api-key", "x-app-id", "x-device-id"].iter().any(|h| headers.contains_key(*h)) {
        let AnyCaller(caller) = AnyCaller::extract(req).await?;
        return Ok(Some(Credential { caller, expires_at: None }));
    }
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ApiError::validation("invalid query string"))?;
    match query.get("access_token") {
        Some(token) => Ok(Some(Credential::user(&state.authenticator, token).await?)),
        None => Ok(None),
    }
}
