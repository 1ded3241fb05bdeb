//! `/v1/integrations/meta`: owners and admins connect their Facebook page and Instagram account.

use actix_web::{HttpResponse, web};
use tidings_forwarding::MetaInput;

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::MetaIntegrationView;

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
