//! `/v1/company/...`: the company's own settings.

use actix_web::{HttpResponse, web};
use tidings_messaging::RetentionSettings;

use crate::caller::{Admin, Owner, Staff};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::RetentionView;

/// `GET /v1/company/retention` (owners and admins)
pub async fn retention(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.retention.settings(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(RetentionView::from(settings)))
}

/// `PUT /v1/company/retention` (owners): removing data is theirs to decide.
pub async fn put_retention(
    state: web::Data<AppState>,
    staff: Staff<Owner>,
    input: Json<RetentionSettings>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.retention.put_settings(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(RetentionView::from(settings)))
}
