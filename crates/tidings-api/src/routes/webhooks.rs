//! `/v1/webhooks/meta`: Meta's subscription handshake and its signed deliveries. No credentials but
//! the verify token and the signature: the service finds the company from the page or account ids.

use actix_web::{HttpRequest, HttpResponse, web};
use tidings_forwarding::Handshake;

use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use crate::views::{MetaDelivery, ReceivedView};

/// Meta's subscription handshake: echoes the challenge when the verify token is a company's.
#[utoipa::path(
    get, path = "/v1/webhooks/meta", tag = "webhooks", operation_id = "meta_webhook_handshake",
    params(Handshake),
    responses(
        (status = 200, description = "The challenge, as plain text", content_type = "text/plain", body = String,
         example = "1158201444"),
        (status = 403, description = "`FORBIDDEN`: the verify token matches no company", body = ErrorEnvelope),
    ),
)]
pub async fn handshake(
    state: web::Data<AppState>,
    query: Query<Handshake>,
) -> Result<HttpResponse, ApiError> {
    let challenge = state.meta_webhooks.handshake(query.into_inner()).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(challenge))
}

/// Receives Meta's deliveries (Messenger and Instagram), signed with the app secret.
///
/// Answers once the events are stored. Each entry's page or account names a company, and the
/// signature must check against that company's app secret; otherwise nothing is kept.
#[utoipa::path(
    post, path = "/v1/webhooks/meta", tag = "webhooks", operation_id = "meta_webhook_receive",
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC-SHA256 of the raw body>`")),
    request_body(content = MetaDelivery, content_type = "application/json", example = json!({
        "object": "page", "entry": [{"id": "1001", "time": 1764601200000_u64, "messaging": [{
            "sender": {"id": "psid-7"}, "recipient": {"id": "1001"}, "timestamp": 1764601200000_u64,
            "message": {"mid": "m_abc", "text": "Is my order shipped?"}
        }]}]
    })),
    responses(
        (status = 200, description = "How many events were received", body = ReceivedView),
        (status = 400, description = "`VALIDATION_ERROR`: the body is not a Meta delivery", body = ErrorEnvelope),
        (status = 401, description = "`UNAUTHENTICATED`: a missing or wrong signature, an unknown page, or an \
                                      entry of another company", body = ErrorEnvelope),
    ),
)]
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = request.headers().get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let received = state.meta_webhooks.receive(&body, signature).await?;
    Ok(HttpResponse::Ok().json(ReceivedView { received }))
}
