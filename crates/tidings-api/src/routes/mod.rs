//! Handlers, one module per resource, and the route table.
//!
//! The table is the one list of routes: [`configure`] registers it with actix and [`ROUTES`] lists
//! it for the OpenAPI document's coverage test (actix cannot list its routes). Each line is a path
//! template, as the document writes it, and its methods with their handlers; a path's methods share
//! one resource, so that another method answers `405`. Paths are tried in order: a fixed path goes
//! before a template that would also match it (`/appointments/settings` before `/appointments/{id}`).
//!
//! A new route takes three steps: its line here, `#[utoipa::path(...)]` on its handler (method and
//! path as here, parameters, body, answers, `security`), and the handler in the `paths(...)` of
//! [`crate::openapi::ApiDoc`]. The `openapi` tests of the `envelope` test binary fail until the
//! table and the document agree.

pub(crate) mod appointments;
pub(crate) mod apps;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod company;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod docs;
pub(crate) mod health;
pub(crate) mod integrations;
pub(crate) mod messages;
pub(crate) mod outbox;
pub(crate) mod presence;
pub(crate) mod realtime;
pub(crate) mod sdk;
pub(crate) mod setup;
pub(crate) mod uploads;
pub(crate) mod users;
pub(crate) mod webhook_endpoints;
pub(crate) mod webhooks;

use actix_web::web;

/// One route of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`; `ANY` for a route that takes every method.
    pub method: &'static str,
    /// The path template, as the OpenAPI document writes it (`/v1/users/{id}`).
    pub path: &'static str,
    /// False for the routes that serve the document and its viewer, and the web pages, which it
    /// leaves out.
    pub described: bool,
}

/// Writes [`configure`] and [`ROUTES`] from one table. `undescribed` marks the lines the OpenAPI
/// document leaves out.
macro_rules! table {
    ($($($undescribed:ident)? $path:literal { $($method:ident => $handler:path),+ $(,)? })*) => {
        table!(@lines $([table!(@described $($undescribed)?)] $path { $($method => $handler),+ })*);
    };
    (@lines $([$described:expr] $path:literal { $($method:ident => $handler:path),+ })*) => {
        /// Registers every route of the table.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(cfg.service(web::resource($path)$(.route(table!(@method $method).to($handler)))+);)*
        }

        /// Every route of the table, a method and a path each, in the table's order.
        pub const ROUTES: &[Route] = &[
            $($(Route { method: stringify!($method), path: $path, described: $described },)+)*
        ];
    };
    (@method GET) => { web::get() };
    (@method POST) => { web::post() };
    (@method PUT) => { web::put() };
    (@method PATCH) => { web::patch() };
    (@method DELETE) => { web::delete() };
    (@method ANY) => { web::route() };
    (@described) => { true };
    (@described undescribed) => { false };
}

table! {
    "/health" { GET => health::live }
    "/health/ready" { GET => health::ready }

    "/v1/auth/register" { POST => auth::register }
    "/v1/auth/login" { POST => auth::login }
    "/v1/auth/refresh" { POST => auth::refresh }
    "/v1/auth/logout" { POST => auth::logout }
    "/v1/auth/me" { GET => auth::me }
    "/v1/setup" { GET => setup::status }
    "/v1/auth/password-reset" { POST => auth::request_password_reset }
    "/v1/auth/password-reset/confirm" { POST => auth::confirm_password_reset }

    "/v1/users" { GET => users::list, POST => users::create }
    "/v1/users/{id}" { GET => users::get, PATCH => users::set_role, DELETE => users::remove }

    "/v1/apps" { GET => apps::list, POST => apps::create }
    "/v1/apps/{id}" { PATCH => apps::update }
    "/v1/apps/{id}/identity_secret" { POST => apps::issue_identity_secret }
    "/v1/apps/{id}/keys" { GET => apps::list_keys, POST => apps::create_key }
    "/v1/keys/{id}/rotate" { POST => apps::rotate_key }
    "/v1/keys/{id}" { DELETE => apps::revoke_key }

    "/v1/contacts" { GET => contacts::list, POST => contacts::create }
    "/v1/contacts/{id}" { GET => contacts::get, PATCH => contacts::update }

    "/v1/conversations" { GET => conversations::list, POST => conversations::open }
    "/v1/conversations/{id}" { GET => conversations::get, PATCH => conversations::update }
    "/v1/conversations/{id}/events" { GET => conversations::events }
    "/v1/conversations/{id}/messages" { GET => messages::list, POST => messages::send }
    "/v1/conversations/{id}/messages/delivered" { POST => messages::delivered }
    "/v1/conversations/{id}/messages/read" { POST => messages::read }
    "/v1/messages/{id}" { GET => messages::get, PATCH => messages::edit, DELETE => messages::delete }
    "/v1/search/messages" { GET => messages::search }

    "/v1/appointments" { GET => appointments::list, POST => appointments::create }
    "/v1/appointments/settings" { GET => appointments::settings, PUT => appointments::put_settings }
    "/v1/appointments/availability" { GET => appointments::availability }
    "/v1/appointments/{id}" {
        GET => appointments::get,
        PUT => appointments::update,
        PATCH => appointments::set_status,
        DELETE => appointments::cancel,
    }

    "/v1/uploads" { POST => uploads::create }
    "/v1/uploads/{id}" { GET => uploads::get, DELETE => uploads::delete }
    "/v1/uploads/{id}/content" { GET => uploads::content }

    "/v1/identify" { POST => sdk::identify }
    "/v1/device" { PUT => sdk::device }
    "/v1/events/track" { POST => sdk::track }

    "/v1/integrations/meta" { GET => integrations::get_meta, PUT => integrations::put_meta }
    "/v1/integrations/google-calendar" {
        GET => integrations::get_calendar,
        PUT => integrations::put_calendar,
        DELETE => integrations::delete_calendar,
    }

    "/v1/webhooks/meta" { GET => webhooks::handshake, POST => webhooks::receive }
    "/v1/webhooks" { GET => webhook_endpoints::list, POST => webhook_endpoints::create }
    "/v1/webhooks/{id}" {
        GET => webhook_endpoints::get,
        PATCH => webhook_endpoints::update,
        DELETE => webhook_endpoints::delete,
    }
    "/v1/webhooks/{id}/rotate-secret" { POST => webhook_endpoints::rotate_secret }
    "/v1/webhooks/{id}/deliveries" { GET => webhook_endpoints::deliveries }
    "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver" { POST => webhook_endpoints::redeliver }
    "/v1/webhooks/{id}/test" { POST => webhook_endpoints::test }

    "/v1/audit" { GET => audit::list }
    "/v1/company/retention" { GET => company::retention, PUT => company::put_retention }
    "/v1/outbox" { GET => outbox::list }
    "/v1/outbox/{id}" { DELETE => outbox::delete }
    "/v1/outbox/{id}/retry" { POST => outbox::retry }

    "/v1/presence" { GET => presence::list }
    "/v1/realtime" { GET => crate::realtime::connect }
    "/v1/realtime/publish" { POST => realtime::publish }
    // Any method: polling requests (GET and POST) get Engine.IO's 400.
    "/v1/socket.io/" { ANY => crate::realtime::socketio::connect }
    "/v1/socket.io" { ANY => crate::realtime::socketio::connect_without_slash }

    undescribed "/" { GET => crate::web::inbox }
    undescribed "/setup" { GET => crate::web::setup }
    undescribed "/reset-password" { GET => crate::web::reset_password }
    undescribed "/assets/{name}" { GET => crate::web::asset }
    undescribed "/v1/openapi.json" { GET => docs::openapi_json }
    undescribed "/docs" { GET => docs::viewer_root }
    undescribed "/docs/{file:.*}" { GET => docs::viewer }
}
