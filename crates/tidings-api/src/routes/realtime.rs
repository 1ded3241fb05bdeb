//! `POST /v1/realtime/publish`: a company's service (a bot, a backend) sends a custom live event to
//! its agents or to a conversation's followers.

use actix_web::{HttpResponse, web};
use tidings_messaging::PublishInput;

use crate::caller::ServiceCaller;
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
    responses((status = 202, description = "The event, on its way", body = PublishedView)),
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
