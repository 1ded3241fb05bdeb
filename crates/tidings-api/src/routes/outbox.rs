//! `/v1/outbox`: owners and admins see their company's outbound calls, retry dead ones, remove them.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{OutboxId, OutboxKind, OutboxStatus};
use utoipa::IntoParams;

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{List, OutboxItemView};

/// `?status=&kind=&cursor=&limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only this status.
    status: Option<OutboxStatus>,
    /// Only this kind: `meta.forward`, `webhook.delivery`, `push.notification`, `email` or
    /// `calendar.sync`.
    kind: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Lists the company's outbound calls, newest first (owners and admins).
#[utoipa::path(
    get, path = "/v1/outbox", tag = "outbox", operation_id = "list_outbox",
    params(OutboxParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of items", body = List<OutboxItemView>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    params: Query<OutboxParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let kind = params.kind.as_deref().map(str::parse::<OutboxKind>).transpose().map_err(|_| {
        ApiError::validation("kind must be meta.forward, webhook.delivery, push.notification or email")
    })?;
    let after = params.cursor.as_deref().map(paging::parse_id_cursor).transpose()?;
    let limit = paging::limit(params.limit)?;
    let items = state.outbox.list(&staff.principal, params.status, kind, after, limit).await?;
    let next = paging::next_cursor(&items, limit, |i| paging::id_cursor(i.id));
    Ok(HttpResponse::Ok().json(List::<OutboxItemView>::of(items, next)))
}

/// Makes an item due now again, its attempts counted from zero (owners and admins); a delivered item
/// answers `404`.
#[utoipa::path(
    post, path = "/v1/outbox/{id}/retry", tag = "outbox", operation_id = "retry_outbox_item",
    params(("id" = OutboxId, Path, description = "The item")),
    security(("bearer" = [])),
    responses((status = 200, description = "The item", body = OutboxItemView)),
)]
pub async fn retry(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<OutboxId>,
) -> Result<HttpResponse, ApiError> {
    let item = state.outbox.retry(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(OutboxItemView::from(item)))
}

/// Removes an item (owners and admins).
#[utoipa::path(
    delete, path = "/v1/outbox/{id}", tag = "outbox", operation_id = "delete_outbox_item",
    params(("id" = OutboxId, Path, description = "The item")),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed")),
)]
pub async fn delete(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<OutboxId>,
) -> Result<HttpResponse, ApiError> {
    state.outbox.delete(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
