//! `/v1/company/...`: the company's own settings.

use actix_web::{HttpResponse, web};
use tidings_messaging::RetentionSettings;

use crate::caller::{Admin, Owner, Staff};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::RetentionView;

/// How long the company keeps its messages (owners and admins).
#[utoipa::path(
    get, path = "/v1/company/retention", tag = "company", operation_id = "get_retention",
    security(("bearer" = [])),
    responses((status = 200, description = "The retention settings", body = RetentionView)),
)]
pub async fn retention(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.retention.settings(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(RetentionView::from(settings)))
}

/// Sets how long the company keeps its messages (owners: removing data is theirs to decide);
/// `null` keeps them all.
#[utoipa::path(
    put, path = "/v1/company/retention", tag = "company", operation_id = "put_retention",
    request_body(content = RetentionSettings, example = json!({ "message_days": 90 })),
    security(("bearer" = [])),
    responses((status = 200, description = "The retention settings", body = RetentionView)),
)]
pub async fn put_retention(
    state: web::Data<AppState>,
    staff: Staff<Owner>,
    input: Json<RetentionSettings>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.retention.put_settings(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(RetentionView::from(settings)))
}
