//! `/v1/integrations/...`: owners and admins connect their Facebook page and Instagram account, and
//! the Google Calendar their confirmed appointments go to.

use actix_web::{HttpResponse, web};
use tidings_forwarding::{CalendarInput, MetaInput};

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{CalendarIntegrationView, MetaIntegrationView};

/// `GET /v1/integrations/meta`: ids in full, secrets only as a hint of their last characters.
pub async fn get_meta(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let settings = state.integrations.get_meta(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(MetaIntegrationView::from(settings)))
}

/// `PUT /v1/integrations/meta`: a field left out keeps its value, an empty string clears it.
pub async fn put_meta(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<MetaInput>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.integrations.put_meta(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MetaIntegrationView::from(settings)))
}

/// `GET /v1/integrations/google-calendar`: the calendar and client ids, secrets only as a hint.
pub async fn get_calendar(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let calendar = state.calendars.get(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(CalendarIntegrationView::from(calendar)))
}

/// `PUT /v1/integrations/google-calendar`: a field left out keeps its value, an empty string clears it.
pub async fn put_calendar(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<CalendarInput>,
) -> Result<HttpResponse, ApiError> {
    let calendar = state.calendars.put(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(CalendarIntegrationView::from(calendar)))
}

/// `DELETE /v1/integrations/google-calendar`: nothing more is written to the calendar.
pub async fn delete_calendar(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
) -> Result<HttpResponse, ApiError> {
    state.calendars.delete(&staff.principal).await?;
    Ok(HttpResponse::NoContent().finish())
}
