//! `GET /v1/realtime`: the native WebSocket protocol (see `docs/realtime.md`).

mod connection;
mod protocol;
mod settings;

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use tidings_domain::Caller;

pub use settings::RealtimeSettings;

use crate::caller::AnyCaller;
use crate::error::ApiError;
use crate::state::AppState;

/// Upgrades to a WebSocket. Credentials in the headers (as for HTTP) or in `?access_token=` are
/// checked before the upgrade (401 when wrong); without any, the first frame must be `auth`.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = credentials(&req, &state).await?;
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::validation(e.to_string()))?;
    let stream = stream
        .max_frame_size(state.realtime.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(state.realtime.max_frame_bytes);
    actix_web::rt::spawn(connection::run(state.into_inner(), caller, session, stream));
    Ok(response)
}

async fn credentials(req: &HttpRequest, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let headers = req.headers();
    if ["authorization", "x-api-key", "x-app-id", "x-device-id"].iter().any(|h| headers.contains_key(*h)) {
        let AnyCaller(caller) = AnyCaller::extract(req).await?;
        return Ok(Some(caller));
    }
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ApiError::validation("invalid query string"))?;
    match query.get("access_token") {
        Some(token) => Ok(Some(Caller::User(state.authenticator.user(token).await?))),
        None => Ok(None),
    }
}
