//! `POST /v1/realtime/publish`: a company's service (a bot, a backend) sends a custom live event to
//! its agents or to a conversation's followers.

use actix_web::{HttpResponse, web};
use tidings_messaging::PublishInput;

use crate::caller::ServiceCaller;
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::PublishedView;

/// Pushes a company's own event to live clients (a server key): to the company's agents, or to a
/// conversation's followers and the agents.
///
/// Delivered live only, under its own name (`custom` on the native door, `custom:<event>` on
/// Socket.IO); at most 50 events a second per company by default. `data` is any JSON up to 16 KiB.
#[utoipa::path(
    post, path = "/v1/realtime/publish", tag = "realtime", operation_id = "publish_event",
    request_body(content = PublishInput, example = json!({"room": "company", "event": "order.shipped", "data": {"order": 42}})),
    security(("server_key" = [])),
    responses(
        (status = 202, description = "The event, on its way", body = PublishedView),
        (status = 404, description = "`NOT_FOUND`: no such conversation in the key's company", body = ErrorEnvelope),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 1 MiB, or `data` over 16 KiB", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`: too many requests from this address, or events from this \
                                      company (50 a second by default); wait `Retry-After` seconds",
         body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn publish(
    state: web::Data<AppState>,
    service: ServiceCaller,
    input: Json<PublishInput>,
) -> Result<HttpResponse, ApiError> {
    let event = state.messaging.publisher.publish(&service.0, input.into_inner()).await?;
    let view = PublishedView::of(&event).ok_or_else(|| ApiError::internal("published a non-custom event"))?;
    Ok(HttpResponse::Accepted().json(view))
}
