//! The application: routes, extractor settings and middleware, assembled once for the server and for
//! tests alike.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, HttpResponse, web};

use crate::error::ApiError;
use crate::request_id::request_context;
use crate::state::AppState;
use crate::{extract, hardening, metrics, origin, rate_limit, routes};

/// Builds the actix application over `state`.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let cors = hardening::cors(&state.http);
    let metrics_with_api = state.http.metrics_with_api;
    metrics::handle();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(extract::json_config())
        .app_data(extract::payload_config())
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        .wrap(from_fn(origin::origin))
        .wrap(from_fn(hardening::deadline))
        .wrap(from_fn(rate_limit::rate_limit))
        .wrap(cors)
        .wrap(from_fn(hardening::unlisted_origins))
        .wrap(from_fn(request_context))
        .wrap(from_fn(metrics::record))
        .wrap(from_fn(hardening::security_headers))
        .configure(routes::configure)
        .configure(|cfg| {
            if metrics_with_api {
                cfg.route("/metrics", web::get().to(metrics::scrape));
            }
        })
        .default_service(web::to(no_such_route))
}

/// The application of a listener of its own for `/metrics`, so that it can stay on a private
/// address (`TIDINGS_METRICS_BIND`).
pub fn metrics_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    metrics::handle();
    App::new()
        .app_data(web::Data::new(state))
        .wrap(from_fn(request_context))
        .route("/metrics", web::get().to(metrics::scrape))
        .default_service(web::to(no_such_route))
}

/// Every path no route takes.
async fn no_such_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(crate::ErrorCode::NotFound, "no such route"))
}
