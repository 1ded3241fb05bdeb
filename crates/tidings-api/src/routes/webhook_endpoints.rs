//! `/v1/webhooks`: owners and admins register endpoints for their company's events, rotate their
//! secrets, read the delivery log, redeliver and ping.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tidings_domain::{OutboxId, WebhookId};
use tidings_forwarding::{WebhookInput, WebhookPatchInput};
use utoipa::IntoParams;

use crate::caller::{Admin, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{List, OutboxItemView, WebhookAttemptView, WebhookSecretView, WebhookView};

/// Registers an endpoint for the company's events (owners and admins); its signing secret is shown
/// this once.
///
/// `url` must be `https://` to a public host. A company has at most 20 endpoints.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body(content = WebhookInput, example = json!({
        "url": "https://example.com/hooks/tidings", "events": ["message.created", "conversation.updated"]
    })),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The endpoint, with its secret", body = WebhookSecretView),
        (status = 409, description = "`CONFLICT`: the company has 20 endpoints already", body = ErrorEnvelope),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let created = state.webhooks.create(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(WebhookSecretView::from(created)))
}

/// Lists the company's endpoints (owners and admins).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    security(("bearer" = [])),
    responses((status = 200, description = "Every endpoint (`next_cursor` is always `null`)", body = List<WebhookView>)),
)]
pub async fn list(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let endpoints = state.webhooks.list(&staff.principal).await?;
    let data: Vec<WebhookView> = endpoints.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data, "next_cursor": null })))
}

/// Reads an endpoint (owners and admins).
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = WebhookId, Path, description = "The endpoint")),
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoint", body = WebhookView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = state.webhooks.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// Changes an endpoint's URL, events, or whether it is enabled (owners and admins); `enabled: true`
/// also forgets past failures.
#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(("id" = WebhookId, Path, description = "The endpoint")),
    request_body(content = WebhookPatchInput, example = json!({"enabled": true})),
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoint", body = WebhookView)),
)]
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
    input: Json<WebhookPatchInput>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = state.webhooks.update(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// Deletes an endpoint; deliveries still queued for it are skipped (owners and admins).
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = WebhookId, Path, description = "The endpoint")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted")),
)]
pub async fn delete(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    state.webhooks.delete(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotates an endpoint's signing secret (owners and admins): the new one is shown this once, the old
/// one keeps signing beside it for 24 hours.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = WebhookId, Path, description = "The endpoint")),
    security(("bearer" = [])),
    responses((status = 200, description = "The endpoint, with its new secret", body = WebhookSecretView)),
)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let rotated = state.webhooks.rotate_secret(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookSecretView::from(rotated)))
}

/// `?limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptParams {
    /// How many attempts: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Reads an endpoint's delivery log, newest attempt first (owners and admins).
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = WebhookId, Path, description = "The endpoint"), AttemptParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The newest attempts (`next_cursor` is always `null`)", body = List<WebhookAttemptView>)),
)]
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

/// Sends a delivery's event again, as a new delivery (owners and admins).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(
        ("id" = WebhookId, Path, description = "The endpoint"),
        ("delivery_id" = OutboxId, Path, description = "The delivery (`delivery_id` of an attempt)"),
    ),
    security(("bearer" = [])),
    responses((status = 202, description = "The new delivery, queued", body = OutboxItemView)),
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    path: Path<(WebhookId, OutboxId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let item = state.webhooks.redeliver(&staff.principal, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(OutboxItemView::from(item)))
}

/// Queues a `ping` event to an endpoint (owners and admins).
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/test", tag = "webhooks", operation_id = "test_webhook",
    params(("id" = WebhookId, Path, description = "The endpoint")),
    security(("bearer" = [])),
    responses((status = 202, description = "The `ping` delivery, queued", body = OutboxItemView)),
)]
pub async fn test(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let item = state.webhooks.ping(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(OutboxItemView::from(item)))
}
