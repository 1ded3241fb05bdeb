//! SDK-only endpoints: identify the device's user, report the device, track events.

use actix_web::{HttpResponse, web};
use tidings_messaging::{DeviceInput, IdentifyInput, TrackInput};

use crate::caller::SdkClient;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{ContactView, DeviceView, EventView};

/// `POST /v1/identify`
pub async fn identify(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<IdentifyInput>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.sdk.identify(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ContactView::from(contact)))
}

/// `PUT /v1/device`
pub async fn device(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<DeviceInput>,
) -> Result<HttpResponse, ApiError> {
    let device = state.messaging.sdk.update_device(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(DeviceView::from(device)))
}

/// `POST /v1/events/track`
pub async fn track(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<TrackInput>,
) -> Result<HttpResponse, ApiError> {
    let event = state.messaging.sdk.track(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(EventView::from(event)))
}
