//! `/v1/integrations/...`: owners and admins connect their Facebook page and Instagram account, and
//! the Google Calendar their confirmed appointments go to.

use actix_web::{HttpResponse, web};
use tidings_forwarding::{CalendarInput, MetaInput};

use crate::caller::{Admin, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{CalendarIntegrationView, MetaIntegrationView};

/// Reads the Meta integration (owners and admins): ids in full, secrets only as a hint of their last
/// characters.
#[utoipa::path(
    get, path = "/v1/integrations/meta", tag = "integrations", operation_id = "get_meta_integration",
    security(("bearer" = [])),
    responses((status = 200, description = "The settings (all `null` before the first `PUT`)", body = MetaIntegrationView)),
)]
pub async fn get_meta(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let settings = state.integrations.get_meta(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(MetaIntegrationView::from(settings)))
}

/// Connects the company's Facebook page and Instagram account (owners and admins): a field left out
/// keeps its value, an empty string clears it.
///
/// Ids are digits; secrets up to 1,024 printable characters; the verify token at least 16.
#[utoipa::path(
    put, path = "/v1/integrations/meta", tag = "integrations", operation_id = "put_meta_integration",
    request_body(content = MetaInput, example = json!({
        "page_id": "1001", "app_id": "1234", "page_access_token": "EAAB…",
        "app_secret": "meta-app-secret-0123456789abcdef", "verify_token": "verify-token-0123456789"
    })),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = MetaIntegrationView),
        (status = 409, description = "`CONFLICT`: the page or account is connected to another company", body = ErrorEnvelope),
    ),
)]
pub async fn put_meta(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<MetaInput>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.integrations.put_meta(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MetaIntegrationView::from(settings)))
}

/// Reads the Google Calendar connection (owners and admins): ids in full, secrets only as a hint.
#[utoipa::path(
    get, path = "/v1/integrations/google-calendar", tag = "integrations", operation_id = "get_calendar_integration",
    security(("bearer" = [])),
    responses((status = 200, description = "The connection", body = CalendarIntegrationView)),
)]
pub async fn get_calendar(state: web::Data<AppState>, staff: Staff<Admin>) -> Result<HttpResponse, ApiError> {
    let calendar = state.calendars.get(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(CalendarIntegrationView::from(calendar)))
}

/// Connects the Google Calendar confirmed appointments are written to (owners and admins): a field
/// left out keeps its value, an empty string clears it; `calendar_id` defaults to `primary`.
#[utoipa::path(
    put, path = "/v1/integrations/google-calendar", tag = "integrations", operation_id = "put_calendar_integration",
    request_body(content = CalendarInput, example = json!({
        "calendar_id": "desk@acme.test", "client_id": "1234-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-…", "refresh_token": "1//0g…"
    })),
    security(("bearer" = [])),
    responses((status = 200, description = "The connection", body = CalendarIntegrationView)),
)]
pub async fn put_calendar(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<CalendarInput>,
) -> Result<HttpResponse, ApiError> {
    let calendar = state.calendars.put(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(CalendarIntegrationView::from(calendar)))
}

/// Disconnects the Google Calendar: nothing more is written to it (owners and admins).
#[utoipa::path(
    delete, path = "/v1/integrations/google-calendar", tag = "integrations", operation_id = "delete_calendar_integration",
    security(("bearer" = [])),
    responses((status = 204, description = "Disconnected")),
)]
pub async fn delete_calendar(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
) -> Result<HttpResponse, ApiError> {
    state.calendars.delete(&staff.principal).await?;
    Ok(HttpResponse::NoContent().finish())
}
