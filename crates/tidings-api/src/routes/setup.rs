//! `/v1/setup`: what the setup page needs to know before it offers to create the first company.

use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::SetupView;

/// Whether the server still waits for its first company.
///
/// `{"needed": true}` while no company exists (the setup page `/setup` is offered), `false` after.
/// Needs no credentials: there is nobody to have any yet, and the answer says no more than whether
/// a company was registered.
#[utoipa::path(
    get, path = "/v1/setup", tag = "auth", operation_id = "setup_status",
    responses((status = 200, description = "Whether setup is needed", body = SetupView, example = json!({"needed": true}))),
)]
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let needed = state.accounts.setup_needed().await?;
    Ok(HttpResponse::Ok().json(SetupView { needed }))
}
