//! `/v1/outbox`: owners and admins see their company's outbound calls, retry dead ones, remove them.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{OutboxId, OutboxKind, OutboxStatus};

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{List, OutboxItemView};

/// `?status=&kind=&cursor=&limit=`
#[derive(Deserialize)]
pub struct OutboxParams {
    status: Option<OutboxStatus>,
    kind: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/outbox`: newest first.
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

/// `POST /v1/outbox/{id}/retry`: due now again, attempts counted from zero.
pub async fn retry(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<OutboxId>,
) -> Result<HttpResponse, ApiError> {
    let item = state.outbox.retry(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(OutboxItemView::from(item)))
}

/// `DELETE /v1/outbox/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<OutboxId>,
) -> Result<HttpResponse, ApiError> {
    state.outbox.delete(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
