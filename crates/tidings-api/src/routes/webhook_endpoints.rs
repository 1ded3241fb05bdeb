//! `/v1/webhooks`: owners and admins register endpoints for their company's events, rotate their
//! secrets, read the delivery log, redeliver and ping.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tidings_domain::{OutboxId, WebhookId};
use tidings_forwarding::{WebhookInput, WebhookPatchInput};

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{OutboxItemView, WebhookAttemptView, WebhookSecretView, WebhookView};

/// `POST /v1/webhooks`: 201 with the secret, shown this once.
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let created = state.webhooks.create(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(WebhookSecretView::from(created)))
}

/// `GET /v1/webhooks`
pub async fn list(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let endpoints = state.webhooks.list(&staff.principal).await?;
    let data: Vec<WebhookView> = endpoints.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data, "next_cursor": null })))
}

/// `GET /v1/webhooks/{id}`
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = state.webhooks.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// `PATCH /v1/webhooks/{id} {url?, events?, enabled?}`
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
    input: Json<WebhookPatchInput>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = state.webhooks.update(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// `DELETE /v1/webhooks/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    state.webhooks.delete(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/webhooks/{id}/rotate-secret`: the new secret, shown this once; the old one signs too
/// for 24 hours.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let rotated = state.webhooks.rotate_secret(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookSecretView::from(rotated)))
}

/// `?limit=`
#[derive(Deserialize)]
pub struct AttemptParams {
    limit: Option<i64>,
}

/// `GET /v1/webhooks/{id}/deliveries?limit=`: the newest attempts first.
pub async fn deliveries(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
    params: Query<AttemptParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(params.limit)?;
    let attempts = state.webhooks.attempts(&staff.principal, id.into_inner(), limit).await?;
    let data: Vec<WebhookAttemptView> = attempts.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data, "next_cursor": null })))
}

/// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: 202 with the new delivery.
pub async fn redeliver(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    path: Path<(WebhookId, OutboxId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let item = state.webhooks.redeliver(&staff.principal, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(OutboxItemView::from(item)))
}

/// `POST /v1/webhooks/{id}/test`: 202 with the queued `ping` delivery.
pub async fn test(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let item = state.webhooks.ping(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(OutboxItemView::from(item)))
}
