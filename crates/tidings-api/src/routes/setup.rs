//! `/v1/setup`: what the setup page needs to know before it offers to create the first company.

use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::SetupView;

/// `GET /v1/setup`: `{"needed": true}` while no company exists. Needs no credentials: there is
/// nobody to have any yet, and the answer says no more than whether registration has happened.
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let needed = state.accounts.setup_needed().await?;
    Ok(HttpResponse::Ok().json(SetupView { needed }))
}
