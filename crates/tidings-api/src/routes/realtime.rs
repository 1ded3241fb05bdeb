//! `POST /v1/realtime/publish`: a company's service (a bot, a backend) sends a custom live event to
//! its agents or to a conversation's followers.

use actix_web::{HttpResponse, web};
use tidings_messaging::PublishInput;

use crate::caller::ServiceCaller;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::PublishedView;

/// `POST /v1/realtime/publish`
pub async fn publish(
    state: web::Data<AppState>,
    service: ServiceCaller,
    input: Json<PublishInput>,
) -> Result<HttpResponse, ApiError> {
    let event = state.messaging.publisher.publish(&service.0, input.into_inner()).await?;
    let view = PublishedView::of(&event).ok_or_else(|| ApiError::internal("published a non-custom event"))?;
    Ok(HttpResponse::Accepted().json(view))
}
