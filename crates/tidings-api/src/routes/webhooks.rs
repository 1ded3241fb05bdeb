//! `/v1/webhooks/meta`: Meta's subscription handshake and its signed deliveries. No credentials but
//! the verify token and the signature: the service finds the company from the page or account ids.

use actix_web::{HttpRequest, HttpResponse, web};
use tidings_forwarding::Handshake;

use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;

/// `GET /v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=&hub.challenge=`: the challenge as
/// plain text when the token is a company's.
pub async fn handshake(
    state: web::Data<AppState>,
    query: Query<Handshake>,
) -> Result<HttpResponse, ApiError> {
    let challenge = state.meta_webhooks.handshake(query.into_inner()).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(challenge))
}

/// `POST /v1/webhooks/meta`: 200 once the events are stored; 401 when `X-Hub-Signature-256` does
/// not check against the app secret of every page or account named.
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = request.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let received = state.meta_webhooks.receive(&body, signature).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "received": received })))
}
