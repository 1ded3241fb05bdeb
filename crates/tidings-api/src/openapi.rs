//! The OpenAPI 3.1 document of the API, generated from the code: each handler describes its
//! operation with `#[utoipa::path]` (path, parameters, body, answers, credentials), the request and
//! response types derive their schemas, and [`ApiDoc`] lists the handlers.
//!
//! The errors every operation shares are added here rather than on each handler, from what the
//! operation is: a JSON body can be malformed (400), too large (413) or of another type (415);
//! parameters can be malformed (400) and a path name a missing resource (404); credentials can be
//! missing or wrong (401) or of a caller without the right (403); any request can be rate limited
//! (429, unless the limiter exempts it), time out or find the store unavailable (503), or fail
//! (500). A handler lists the answers particular to it (a `409`, a `404` without a path parameter);
//! what it lists is kept.
//!
//! Served at `GET /v1/openapi.json`, and shown by Swagger UI at `/docs`.

use std::sync::OnceLock;

use actix_web::http::Method;
use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::envelope::ErrorEnvelope;
use crate::routes;

/// The security scheme of users: `Authorization: Bearer <access token>`.
pub const BEARER: &str = "bearer";
/// The security schemes of SDK devices, all three together.
pub const SDK: [&str; 3] = ["app_id", "device_id", "client_key"];
/// The security scheme of a company's services: a server key in `X-Api-Key`.
pub const SERVER_KEY: &str = "server_key";

/// The document: the operations of every described route of [`routes::ROUTES`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tidings API",
        description = "Real-time customer conversations: agents, SDK devices and a company's services over \
one HTTP API. JSON in and out, `snake_case` fields, RFC 3339 times. Every error answers the envelope \
`{\"error\": {code, message, details, request_id}}`; every answer carries `X-Request-Id`. The live \
doors (`/v1/realtime`, `/v1/socket.io/`) are WebSockets, described in docs/realtime.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        routes::health::live,
        routes::health::ready,
        routes::auth::register,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::me,
        routes::auth::request_password_reset,
        routes::auth::confirm_password_reset,
        routes::setup::status,
        routes::users::list,
        routes::users::create,
        routes::users::get,
        routes::users::set_role,
        routes::users::remove,
        routes::apps::list,
        routes::apps::create,
        routes::apps::update,
        routes::apps::issue_identity_secret,
        routes::apps::list_keys,
        routes::apps::create_key,
        routes::apps::rotate_key,
        routes::apps::revoke_key,
        routes::contacts::list,
        routes::contacts::create,
        routes::contacts::get,
        routes::contacts::update,
        routes::conversations::list,
        routes::conversations::open,
        routes::conversations::get,
        routes::conversations::update,
        routes::conversations::events,
        routes::messages::list,
        routes::messages::send,
        routes::messages::delivered,
        routes::messages::read,
        routes::messages::get,
        routes::messages::edit,
        routes::messages::delete,
        routes::messages::search,
        routes::appointments::list,
        routes::appointments::create,
        routes::appointments::settings,
        routes::appointments::put_settings,
        routes::appointments::availability,
        routes::appointments::get,
        routes::appointments::update,
        routes::appointments::set_status,
        routes::appointments::cancel,
        routes::uploads::create,
        routes::uploads::get,
        routes::uploads::delete,
        routes::uploads::content,
        routes::sdk::identify,
        routes::sdk::device,
        routes::sdk::track,
        routes::integrations::get_meta,
        routes::integrations::put_meta,
        routes::integrations::get_calendar,
        routes::integrations::put_calendar,
        routes::integrations::delete_calendar,
        routes::webhooks::handshake,
        routes::webhooks::receive,
        routes::webhook_endpoints::list,
        routes::webhook_endpoints::create,
        routes::webhook_endpoints::get,
        routes::webhook_endpoints::update,
        routes::webhook_endpoints::delete,
        routes::webhook_endpoints::rotate_secret,
        routes::webhook_endpoints::deliveries,
        routes::webhook_endpoints::redeliver,
        routes::webhook_endpoints::test,
        routes::audit::list,
        routes::company::retention,
        routes::company::put_retention,
        routes::outbox::list,
        routes::outbox::delete,
        routes::outbox::retry,
        routes::presence::list,
        crate::realtime::connect,
        routes::realtime::publish,
        crate::realtime::socketio::connect,
        crate::realtime::socketio::connect_without_slash,
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&Credentials, &SharedErrors),
    tags(
        (name = "health", description = "Liveness and readiness probes."),
        (name = "auth", description = "Registration, login, tokens, password resets, and who a caller is."),
        (name = "users", description = "The team: owners, admins and agents."),
        (name = "apps", description = "SDK integrations and their API keys."),
        (name = "contacts", description = "The company's customers."),
        (name = "conversations", description = "The agents' inbox, the SDK's conversation, and each conversation's change feed."),
        (name = "messages", description = "Messages, receipts and search."),
        (name = "appointments", description = "Bookings, free slots and the company's calendar settings."),
        (name = "uploads", description = "Files for attachments, and their signed download links."),
        (name = "sdk", description = "What SDK devices report: who uses them, the device, analytics events."),
        (name = "integrations", description = "Facebook, Instagram and Google Calendar connections."),
        (name = "webhooks", description = "Endpoints for the company's events, and Meta's inbound webhooks."),
        (name = "audit", description = "The company's audit log: who did what, from where and when (owners)."),
        (name = "company", description = "The company's own settings: how long it keeps its data."),
        (name = "outbox", description = "Calls waiting to leave Tidings: forwards, deliveries, e-mails, push."),
        (name = "realtime", description = "Presence, custom live events, and the WebSocket doors (docs/realtime.md)."),
    ),
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = ApiDoc::openapi();
        document.info.version = env!("CARGO_PKG_VERSION").to_owned();
        document
    })
}

/// The document as JSON, serialized once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    // The document is plain data: serializing it cannot fail.
    JSON.get_or_init(|| serde_json::to_string(document()).unwrap_or_default())
}

/// The bytes of a file, in a body of its own (the schema of uploads and downloads).
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// Declares the three kinds of credentials (see `caller.rs`).
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, description)))
        };
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A user's access token (15 minutes) from `POST /v1/auth/login`, `register` or \
                         `refresh`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SDK[0],
            header("X-App-Id", "SDK devices: the app's id, with `X-Device-Id` and a client key."),
        );
        components.add_security_scheme(
            SDK[1],
            header(
                "X-Device-Id",
                "SDK devices: the SDK's id for the installation. Devices may add `X-Platform` (`ios`, \
                 `android`, `web` or `desktop`) and `X-SDK-Version`.",
            ),
        );
        components.add_security_scheme(
            SDK[2],
            header("X-Api-Key", "SDK devices: a client key of the app (`tdk_c_…`)."),
        );
        components.add_security_scheme(
            SERVER_KEY,
            header("X-Api-Key", "A company's services: a server key (`tdk_s_…`)."),
        );
    }
}

/// One error answer shared by many operations.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
    code: &'static str,
    message: &'static str,
    details: Option<Value>,
    retry_after: bool,
}

/// The shared error answers (see `docs/api.md`, Errors).
fn shared() -> [Shared; 9] {
    [
        Shared {
            status: "400",
            name: "BadRequest",
            description: "`VALIDATION_ERROR`: malformed JSON, a wrong field type, an unknown field, a broken rule, \
                          or a malformed path or query parameter; `details.fields` names each field",
            code: "VALIDATION_ERROR",
            message: "field `up_to_sequence`: expected an integer, got a string",
            details: Some(json!({"fields": {"up_to_sequence": ["expected an integer, got a string"]}})),
            retry_after: false,
        },
        Shared {
            status: "401",
            name: "Unauthenticated",
            description: "`UNAUTHENTICATED`: no credentials, or credentials that do not authenticate; \
                          `TOKEN_EXPIRED`: the access token has expired (refresh it)",
            code: "UNAUTHENTICATED",
            message: "missing `Authorization: Bearer <access token>`",
            details: None,
            retry_after: false,
        },
        Shared {
            status: "403",
            name: "Forbidden",
            description: "`FORBIDDEN`: the role does not allow it, or the credentials are of another kind of caller",
            code: "FORBIDDEN",
            message: "this action requires the admin role or higher",
            details: None,
            retry_after: false,
        },
        Shared {
            status: "404",
            name: "NotFound",
            description: "`NOT_FOUND`: no such resource, or one of another company (also an SDK device that \
                          was never registered, on a route that only reads)",
            code: "NOT_FOUND",
            message: "resource not found",
            details: None,
            retry_after: false,
        },
        Shared {
            status: "413",
            name: "PayloadTooLarge",
            description: "`PAYLOAD_TOO_LARGE`: the body is over 1 MiB (`details.limit`)",
            code: "PAYLOAD_TOO_LARGE",
            message: "request body exceeds 1048576 bytes",
            details: Some(json!({"limit": 1_048_576})),
            retry_after: false,
        },
        Shared {
            status: "415",
            name: "UnsupportedMediaType",
            description: "`UNSUPPORTED_MEDIA_TYPE`: the body is not `application/json`",
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "expected Content-Type: application/json",
            details: None,
            retry_after: false,
        },
        Shared {
            status: "429",
            name: "RateLimited",
            description: "`RATE_LIMITED`: too many requests from this address, or messages from this sender; \
                          wait `Retry-After` seconds",
            code: "RATE_LIMITED",
            message: "too many requests, retry later",
            details: None,
            retry_after: true,
        },
        Shared {
            status: "500",
            name: "Internal",
            description: "`INTERNAL`: a fault on our side; the server log has it under `request_id`",
            code: "INTERNAL",
            message: "internal error",
            details: None,
            retry_after: false,
        },
        Shared {
            status: "503",
            name: "Unavailable",
            description: "`UNAVAILABLE`: the store is unavailable or busy, or the request took too long; retry \
                          after `Retry-After` seconds",
            code: "UNAVAILABLE",
            message: "the store is busy, retry shortly",
            details: None,
            retry_after: true,
        },
    ]
}

/// Adds the shared error answers to every operation, from what the operation is (see the module's
/// documentation).
struct SharedErrors;

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for error in shared() {
            let mut body = json!({"code": error.code, "message": error.message});
            if let Some(details) = &error.details {
                body["details"] = details.clone();
            }
            body["request_id"] = json!("01a20ab0-4eef-727a-87aa-b85dccd743e6");
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorEnvelope::name())))
                .example(Some(json!({ "error": body })))
                .build();
            let mut response =
                ResponseBuilder::new().description(error.description).content("application/json", content);
            if error.retry_after {
                let seconds = HeaderBuilder::new()
                    .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer))
                    .description(Some("Seconds to wait before trying again"))
                    .build();
                response = response.header("Retry-After", seconds);
            }
            components.responses.insert(error.name.to_owned(), RefOr::T(response.build()));
        }
        let sdk = SDK.iter().fold(None::<SecurityRequirement>, |requirement, name| {
            Some(match requirement {
                None => SecurityRequirement::new(*name, Vec::<String>::new()),
                Some(requirement) => requirement.add(*name, Vec::<String>::new()),
            })
        });
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::POST, &mut item.post),
                (Method::PUT, &mut item.put),
                (Method::PATCH, &mut item.patch),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    let statuses = statuses(&method, path, operation, sdk.as_ref());
                    for error in shared().iter().filter(|error| statuses.contains(&error.status)) {
                        operation
                            .responses
                            .responses
                            .entry(error.status.to_owned())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(error.name)));
                    }
                }
            }
        }
    }
}

/// The shared error statuses an operation can answer.
fn statuses(
    method: &Method,
    path: &str,
    operation: &Operation,
    sdk: Option<&SecurityRequirement>,
) -> Vec<&'static str> {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let json_body =
        operation.request_body.as_ref().is_some_and(|body| body.content.contains_key("application/json"));
    let security = operation.security.as_deref().unwrap_or_default();
    let mut statuses = vec!["500", "503"];
    if json_body {
        statuses.extend(["400", "413", "415"]);
    }
    if !parameters.is_empty() {
        statuses.push("400");
    }
    if parameters.iter().any(|p| p.parameter_in == ParameterIn::Path) {
        statuses.push("404");
    }
    if !security.is_empty() {
        statuses.extend(["401", "403"]);
    }
    if sdk.is_some_and(|sdk| security.contains(sdk)) {
        statuses.push("404");
    }
    if !crate::rate_limit::exempt(method, path) {
        statuses.push("429");
    }
    statuses
}
