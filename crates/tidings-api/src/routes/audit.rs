//! `/v1/audit`: owners read their company's audit log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{AuditAction, AuditId, AuditQuery};

use crate::caller::{Owner, Staff};
use crate::error::ApiError;
use crate::extract::Query;
use crate::paging;
use crate::state::AppState;
use crate::views::{AuditEntryView, List};

/// `?action=&cursor=&limit=`
#[derive(Deserialize)]
pub struct AuditParams {
    action: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/audit`: newest first.
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
