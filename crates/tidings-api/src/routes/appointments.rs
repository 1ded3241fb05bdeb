//! `/v1/appointments`: agents manage the company's calendar; SDK devices book, see, move and
//! cancel their own contact's appointments and read the free slots.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tidings_domain::{AppointmentId, AppointmentSettings, AppointmentStatus, ContactId};
use tidings_messaging::{AppointmentFilter, AppointmentUpdateInput, AvailabilityInput, NewAppointmentInput};
use utoipa::{IntoParams, ToSchema};

use crate::caller::{Admin, AnyCaller, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{AppointmentListView, AppointmentSettingsView, AppointmentView, AvailabilityView};

/// `?status=&from=&to=&contact=&email=&cursor=&limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this status.
    status: Option<AppointmentStatus>,
    /// Starting at or after this time.
    from: Option<DateTime<Utc>>,
    /// Starting before this time.
    to: Option<DateTime<Utc>>,
    /// Only this contact's.
    contact: Option<ContactId>,
    /// Only those booked with this e-mail address (any case, spaces around it ignored).
    email: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// A clash: 409 with the appointments in the way (agents see their ids, customers only their times).
const CLASH: &str = "`CONFLICT`: the time overlaps another appointment (`details.clashes_with`)";

/// Books an appointment (agents for any contact of the company, SDK devices for their own contact).
///
/// `starts_at` must be in the future, inside business hours and on the slot grid; two active
/// appointments of a company never overlap. A booking starts `pending`, or `confirmed` when an agent
/// says so.
#[utoipa::path(
    post, path = "/v1/appointments", tag = "appointments", operation_id = "create_appointment",
    request_body(content = NewAppointmentInput, example = json!({
        "starts_at": "2030-01-07T08:00:00Z", "duration": 30, "name": "Ada Lovelace",
        "email": "ada@example.com", "inquiry": "Poodle, full groom"
    })),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 201, description = "The appointment", body = AppointmentView),
        (status = 409, description = CLASH, body = ErrorEnvelope, example = json!({"error": {
            "code": "CONFLICT", "message": "the time overlaps another appointment",
            "details": {"clashes_with": [{"starts_at": "2030-01-07T08:00:00Z", "ends_at": "2030-01-07T08:30:00Z"}]},
            "request_id": "01a20ab0-4eef-727a-87aa-b85dccd743e6"
        }})),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    input: Json<NewAppointmentInput>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.book(&caller, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(AppointmentView::from(booking)))
}

/// Lists appointments by start time, with how many match in all (SDK devices: their contact's).
#[utoipa::path(
    get, path = "/v1/appointments", tag = "appointments", operation_id = "list_appointments",
    params(ListParams),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "A page of appointments", body = AppointmentListView)),
)]
pub async fn list(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    params: Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let limit = paging::limit(params.limit)?;
    let filter = AppointmentFilter {
        status: params.status,
        from: params.from,
        to: params.to,
        contact_id: params.contact,
        email: params.email,
        after: params.cursor.as_deref().map(paging::parse_time_id_cursor).transpose()?,
        limit,
    };
    let (page, total) = state.messaging.appointments.list(&caller, filter).await?;
    let next_cursor = paging::next_cursor(&page, limit, |last| {
        paging::time_id_cursor(last.appointment.starts_at, last.appointment.id)
    });
    let data = page.into_iter().map(AppointmentView::from).collect();
    Ok(HttpResponse::Ok().json(AppointmentListView { data, next_cursor, total }))
}

/// Reads an appointment.
#[utoipa::path(
    get, path = "/v1/appointments/{id}", tag = "appointments", operation_id = "get_appointment",
    params(("id" = AppointmentId, Path, description = "The appointment")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The appointment", body = AppointmentView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<AppointmentId>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// Moves an appointment or edits its details; fields left out stay as they are.
///
/// Only `pending` and `confirmed` appointments can change.
#[utoipa::path(
    put, path = "/v1/appointments/{id}", tag = "appointments", operation_id = "update_appointment",
    params(("id" = AppointmentId, Path, description = "The appointment")),
    request_body(content = AppointmentUpdateInput, example = json!({"starts_at": "2030-01-07T09:00:00Z"})),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView),
        (status = 409, description = "`CONFLICT`: the new time overlaps another appointment, the appointment \
                                      cannot change any more, or it changed meanwhile", body = ErrorEnvelope),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<AppointmentId>,
    input: Json<AppointmentUpdateInput>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.update(&caller, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// `PATCH /v1/appointments/{id}` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// The new status.
    status: AppointmentStatus,
}

/// Changes an appointment's status (agents).
///
/// `pending` → `confirmed` → `completed` | `no_show`; `pending` or `confirmed` → `cancelled`.
#[utoipa::path(
    patch, path = "/v1/appointments/{id}", tag = "appointments", operation_id = "set_appointment_status",
    params(("id" = AppointmentId, Path, description = "The appointment")),
    request_body(content = StatusInput, example = json!({"status": "confirmed"})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView),
        (status = 409, description = "`CONFLICT`: a move the status does not allow (`details.from`, `to`, \
                                      `allowed`), or the appointment changed meanwhile", body = ErrorEnvelope),
    ),
)]
pub async fn set_status(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<AppointmentId>,
    input: Json<StatusInput>,
) -> Result<HttpResponse, ApiError> {
    let booking = state
        .messaging
        .appointments
        .set_status(&staff.principal, id.into_inner(), input.into_inner().status)
        .await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// Cancels an appointment (the record stays, `cancelled`).
#[utoipa::path(
    delete, path = "/v1/appointments/{id}", tag = "appointments", operation_id = "cancel_appointment",
    params(("id" = AppointmentId, Path, description = "The appointment")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 200, description = "The appointment, cancelled", body = AppointmentView),
        (status = 409, description = "`CONFLICT`: the appointment cannot be cancelled any more, or it changed \
                                      meanwhile", body = ErrorEnvelope),
    ),
)]
pub async fn cancel(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<AppointmentId>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.cancel(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// `?date=YYYY-MM-DD&duration=` (minutes, default 30).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityParams {
    /// The day, in the company's time zone.
    date: NaiveDate,
    /// The length wanted in minutes: 15, 30 (the default), 45 or 60.
    #[param(minimum = 15, maximum = 60, multiple_of = 15)]
    duration: Option<i32>,
}

/// Lists a day's free starts, for a booking widget: business hours minus active appointments,
/// future starts only. It says when, never who.
#[utoipa::path(
    get, path = "/v1/appointments/availability", tag = "appointments", operation_id = "appointment_availability",
    params(AvailabilityParams),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The day's free slots", body = AvailabilityView)),
)]
pub async fn availability(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    params: Query<AvailabilityParams>,
) -> Result<HttpResponse, ApiError> {
    let input = AvailabilityInput { date: params.date, duration: params.duration.unwrap_or(30) };
    let free = state.messaging.appointments.availability(&caller, input).await?;
    Ok(HttpResponse::Ok().json(AvailabilityView::of(input.date, input.duration, free)))
}

/// Reads the company's appointment settings.
#[utoipa::path(
    get, path = "/v1/appointments/settings", tag = "appointments", operation_id = "get_appointment_settings",
    security(("bearer" = [])),
    responses((status = 200, description = "The settings", body = AppointmentSettingsView)),
)]
pub async fn settings(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.appointments.settings(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(AppointmentSettingsView::from(settings)))
}

/// Replaces the company's appointment settings (owners and admins); fields left out take their
/// defaults. Bookings already made stay where they are.
#[utoipa::path(
    put, path = "/v1/appointments/settings", tag = "appointments", operation_id = "put_appointment_settings",
    request_body(content = AppointmentSettings, example = json!({
        "time_zone": "Europe/Berlin", "slot_step_min": 30,
        "business_hours": {"mon": {"open": "09:00", "close": "17:00"}, "wed": {"open": "12:00", "close": "20:00"}},
        "notification_email": "desk@acme.test"
    })),
    security(("bearer" = [])),
    responses((status = 200, description = "The settings", body = AppointmentSettingsView)),
)]
pub async fn put_settings(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<AppointmentSettings>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.appointments.put_settings(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentSettingsView::from(settings)))
}
