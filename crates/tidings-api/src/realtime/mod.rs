//! The live doors: `GET /v1/realtime`, the native WebSocket protocol, and `GET /v1/socket.io/`,
//! the Socket.IO door (see `docs/realtime.md`).

mod connection;
mod credential;
mod frame_limit;
mod frame_rate;
mod protocol;
mod settings;
pub mod socketio;

use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use tracing::Instrument;

pub use credential::Credential;
pub use settings::RealtimeSettings;

use crate::caller::{AnyCaller, bearer};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
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
    ),
)]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let credential = credentials(&req, &state).await?;
    let (response, session, stream) = upgrade(&req, body, &state).await?;
    let run = connection::run(state.into_inner(), credential, session, stream);
    spawn_session(&req, "native", run);
    Ok(response)
}

/// Runs a door's live session on a task of its own, counted per door while it lives, in a span
/// that carries the request id of its upgrade, so that a session's lines can be followed from the
/// request that opened it.
fn spawn_session(req: &HttpRequest, door: &'static str, run: impl Future<Output = ()> + 'static) {
    let id = req.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let span = tracing::info_span!("live session", request_id = %id, door);
    let counted = crate::metrics::LiveConnection::open(door);
    actix_web::rt::spawn(
        async move {
            let _counted = counted;
            run.await;
        }
        .instrument(span),
    );
}

/// The WebSocket upgrade of every door, with the frame limit enforced as bytes arrive.
async fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(HttpResponse, actix_ws::Session, actix_ws::AggregatedMessageStream), ApiError> {
    let max = state.realtime.max_frame_bytes;
    let mut guarded = frame_limit::limit(body.into_inner(), max);
    let body = web::Payload::from_request(req, &mut guarded).await.map_err(ApiError::internal)?;
    let (response, session, stream) =
        actix_ws::handle(req, body).map_err(|e| ApiError::validation(e.to_string()))?;
    let stream = stream.max_frame_size(max).aggregate_continuations().max_continuation_size(max);
    Ok((response, session, stream))
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
