//! SDK-only endpoints: identify the device's user, report the device, track events.

use actix_web::{HttpResponse, web};
use tidings_messaging::{DeviceInput, IdentifyInput, TrackInput};

use crate::caller::SdkClient;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{ContactView, DeviceView, EventView};

/// Says who uses the device.
///
/// A signed identify (`external_id` with `user_hash`, the HMAC-SHA256 of `external_id` under the
/// app's identity secret) joins the contact that has that `external_id`; without `external_id`,
/// `name` and `email` only describe the device's own contact.
#[utoipa::path(
    post, path = "/v1/identify", tag = "sdk", operation_id = "identify",
    request_body(content = IdentifyInput, example = json!({"external_id": "crm-7", "user_hash": "5f2b…", "name": "Ada"})),
    security(("app_id" = [], "device_id" = [], "client_key" = [])),
    responses((status = 200, description = "The device's contact", body = ContactView)),
)]
pub async fn identify(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<IdentifyInput>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.sdk.identify(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ContactView::from(contact)))
}

/// Records the device's platform and push token.
#[utoipa::path(
    put, path = "/v1/device", tag = "sdk", operation_id = "put_device",
    request_body(content = DeviceInput, example = json!({"platform": "ios", "push_token": "fcm-token…"})),
    security(("app_id" = [], "device_id" = [], "client_key" = [])),
    responses((status = 200, description = "The device", body = DeviceView)),
)]
pub async fn device(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<DeviceInput>,
) -> Result<HttpResponse, ApiError> {
    let device = state.messaging.sdk.update_device(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(DeviceView::from(device)))
}

/// Appends an analytics event of the device.
#[utoipa::path(
    post, path = "/v1/events/track", tag = "sdk", operation_id = "track_event",
    request_body(content = TrackInput, example = json!({"name": "screen_view", "properties": {"screen": "checkout"}})),
    security(("app_id" = [], "device_id" = [], "client_key" = [])),
    responses((status = 201, description = "The event", body = EventView)),
)]
pub async fn track(
    state: web::Data<AppState>,
    client: SdkClient,
    input: Json<TrackInput>,
) -> Result<HttpResponse, ApiError> {
    let event = state.messaging.sdk.track(&client.0, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(EventView::from(event)))
}
