//! `/v1/appointments`: agents manage the company's calendar; SDK devices book, see, move and
//! cancel their own contact's appointments and read the free slots.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tidings_domain::{AppointmentId, AppointmentSettings, AppointmentStatus, ContactId};
use tidings_messaging::{AppointmentFilter, AppointmentUpdateInput, AvailabilityInput, NewAppointmentInput};

use crate::caller::{Admin, AnyCaller, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{AppointmentListView, AppointmentSettingsView, AppointmentView, AvailabilityView};

/// `?status=&from=&to=&contact=&email=&cursor=&limit=`
#[derive(Deserialize)]
pub struct ListParams {
    status: Option<AppointmentStatus>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    contact: Option<ContactId>,
    email: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `POST /v1/appointments`: 201 with the appointment; 409 naming the clash when the time is taken.
pub async fn create(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    input: Json<NewAppointmentInput>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.book(&caller, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(AppointmentView::from(booking)))
}

/// `GET /v1/appointments`: by start time, with a total count.
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

/// `GET /v1/appointments/{id}`
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<AppointmentId>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// `PUT /v1/appointments/{id}`: move it or edit its details.
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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    status: AppointmentStatus,
}

/// `PATCH /v1/appointments/{id}` (agents): a status change.
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

/// `DELETE /v1/appointments/{id}`: cancels it (the record stays, cancelled).
pub async fn cancel(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<AppointmentId>,
) -> Result<HttpResponse, ApiError> {
    let booking = state.messaging.appointments.cancel(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentView::from(booking)))
}

/// `?date=YYYY-MM-DD&duration=` (minutes, default 30).
#[derive(Deserialize)]
pub struct AvailabilityParams {
    date: NaiveDate,
    duration: Option<i32>,
}

/// `GET /v1/appointments/availability`: the free slots of a day.
pub async fn availability(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    params: Query<AvailabilityParams>,
) -> Result<HttpResponse, ApiError> {
    let input = AvailabilityInput { date: params.date, duration: params.duration.unwrap_or(30) };
    let free = state.messaging.appointments.availability(&caller, input).await?;
    Ok(HttpResponse::Ok().json(AvailabilityView::of(input.date, input.duration, free)))
}

/// `GET /v1/appointments/settings`
pub async fn settings(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.appointments.settings(&staff.principal).await?;
    Ok(HttpResponse::Ok().json(AppointmentSettingsView::from(settings)))
}

/// `PUT /v1/appointments/settings` (owners and admins): fields left out take their defaults.
pub async fn put_settings(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<AppointmentSettings>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.messaging.appointments.put_settings(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppointmentSettingsView::from(settings)))
}
