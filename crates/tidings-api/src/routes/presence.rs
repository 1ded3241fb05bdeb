//! `GET /v1/presence`: who of the company is online (on this node), with last-seen times.

use actix_web::{HttpResponse, web};

use crate::caller::Staff;
use crate::state::AppState;
use crate::views::List;

/// `GET /v1/presence`
pub async fn list(state: web::Data<AppState>, staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(List::complete(state.hub.presence(staff.principal.company_id)))
}
