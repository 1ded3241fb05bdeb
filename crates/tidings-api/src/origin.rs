//! The request's origin for the services: the client's address (through the trusted proxies), set
//! as the current [`Origin`] while the request is served, so that what the services record (the
//! audit log) knows where an action came from without any service speaking of HTTP.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use tidings_domain::Origin;

use crate::state::AppState;

/// Middleware body; wrap the app with `actix_web::middleware::from_fn(origin)`.
pub async fn origin<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let ip = req.app_data::<web::Data<AppState>>().and_then(|state| state.rate_limits.client_ip(&req));
    Origin { ip }.scope(next.call(req)).await
}
