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

/// Upgrades a WebSocket request of Engine.IO 4; credentials come later, per namespace, in the
/// CONNECT packets. Polling and plain HTTP requests get Engine.IO's 400 so that clients configured
/// for polling fail at once.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let upgrade =
        req.headers().get("upgrade").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if let Err(refused) = handshake::check(req.query_string(), upgrade) {
        let mut res = HttpResponse::BadRequest().content_type("application/json").body(refused.body());
        res.extensions_mut().insert(OwnFormat);
        return Ok(res);
    }
    let (response, session, stream) = super::upgrade(&req, body, &state).await?;
    let run = connection::run(state.into_inner(), session, stream);
    super::spawn_session(&req, "socket.io", run);
    Ok(response)
}
