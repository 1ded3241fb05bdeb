//! `GET /v1/socket.io/`: the Socket.IO door (Engine.IO v4, WebSocket transport only), for apps
//! written against `socket.io-client` 4. The protocol layer is `tidings-socketio`; this module maps
//! the namespaces `/client` and `/admin` and their events onto the live session (see
//! `docs/realtime.md`).

mod connection;
mod events;

use actix_web::{HttpRequest, HttpResponse, web};
use tidings_socketio::handshake;

use crate::envelope::OwnFormat;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::EngineIoError;

/// The Socket.IO door: Engine.IO 4 over a WebSocket, for `socket.io-client` 4 (docs/realtime.md).
///
/// Credentials come later, per namespace, in the CONNECT packets (`/client`: `{app_id, device_id,
/// api_key}`; `/admin`: `{token}`). Polling and plain HTTP requests, of any method, get Engine.IO's
/// own `400` so that clients configured for polling fail at once.
#[utoipa::path(
    get, path = "/v1/socket.io/", tag = "realtime", operation_id = "socket_io",
    params(
        ("EIO" = Option<String>, Query, description = "`4`"),
        ("transport" = Option<String>, Query, description = "`websocket`"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (docs/realtime.md)"),
        (status = 400, description = "Engine.IO's error: not a WebSocket upgrade of Engine.IO 4", body = EngineIoError),
        (status = 503, description = "`UNAVAILABLE`: this node holds as many live connections as it may \
            (`TIDINGS_WS_MAX_CONNECTIONS`); retry after `Retry-After`", body = crate::envelope::ErrorEnvelope),
    ),
)]
pub async fn connect(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let upgrade =
        req.headers().get("upgrade").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if let Err(refused) = handshake::check(req.query_string(), upgrade) {
        let mut res = HttpResponse::BadRequest().content_type("application/json").body(refused.body());
        res.extensions_mut().insert(OwnFormat);
        return Ok(res);
    }
    let state = state.into_inner();
    super::accept(&req, &state.clone(), "socket.io", move |socket| connection::run(state, socket))
}

/// The Socket.IO door without the trailing slash (a client's `path: "/v1/socket.io"`).
#[utoipa::path(
    get, path = "/v1/socket.io", tag = "realtime", operation_id = "socket_io_without_slash",
    params(
        ("EIO" = Option<String>, Query, description = "`4`"),
        ("transport" = Option<String>, Query, description = "`websocket`"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol (docs/realtime.md)"),
        (status = 400, description = "Engine.IO's error: not a WebSocket upgrade of Engine.IO 4", body = EngineIoError),
    ),
)]
pub async fn connect_without_slash(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    connect(req, state).await
}
