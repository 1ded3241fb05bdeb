//! `/v1/audit`: owners read their company's audit log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{AuditAction, AuditId, AuditQuery};
use utoipa::IntoParams;

use crate::caller::{Owner, Staff};
use crate::error::ApiError;
use crate::extract::Query;
use crate::paging;
use crate::state::AppState;
use crate::views::{AuditEntryView, List};

/// `?action=&cursor=&limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries of this action, e.g. `login.failed`.
    action: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Lists the company's audit log, newest first (owners).
#[utoipa::path(
    get, path = "/v1/audit", tag = "audit", operation_id = "list_audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of entries", body = List<AuditEntryView>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff<Owner>,
    params: Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let action = params
        .action
        .as_deref()
        .map(str::parse::<AuditAction>)
        .transpose()
        .map_err(|_| ApiError::validation("action is not an audited action (see the API reference)"))?;
    let before = params.cursor.as_deref().map(paging::parse_id_cursor::<AuditId>).transpose()?;
    let limit = paging::limit(params.limit)?;
    let records = state.audit_log.list(&staff.principal, AuditQuery { action, before, limit }).await?;
    let next = paging::next_cursor(&records, limit, |r| paging::id_cursor(r.entry.id));
    Ok(HttpResponse::Ok().json(List::<AuditEntryView>::of(records, next)))
}
