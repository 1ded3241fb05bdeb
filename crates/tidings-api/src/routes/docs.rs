//! The OpenAPI document and Swagger UI, its viewer, whose assets are built into the binary (no
//! CDN): `GET /v1/openapi.json`, `GET /docs`.

use std::sync::{Arc, OnceLock};

use actix_web::HttpResponse;
use actix_web::http::header;
use utoipa_swagger_ui::Config;

use crate::error::{ApiError, ErrorCode};
use crate::extract::Path;
use crate::hardening::DOCS_CONTENT_SECURITY_POLICY;

/// `GET /v1/openapi.json`: the OpenAPI 3.1 document.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(crate::openapi::json())
}

/// `GET /docs`: to `/docs/`, where the viewer's relative links resolve.
pub async fn viewer_root() -> HttpResponse {
    // Relative, so that it holds behind a proxy that mounts the API under a prefix.
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "docs/")).finish()
}

/// `GET /docs/{file}`: Swagger UI's page and assets, showing `/v1/openapi.json`.
pub async fn viewer(file: Path<String>) -> Result<HttpResponse, ApiError> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        // Relative to `/docs/`; no validator badge (it would call an outside service).
        Arc::new(Config::new(["../v1/openapi.json"]).validator_url("none"))
    });
    match utoipa_swagger_ui::serve(&file, config.clone()) {
        Ok(Some(asset)) => Ok(HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(asset.bytes.into_owned())),
        Ok(None) => Err(ApiError::new(ErrorCode::NotFound, "no such file")),
        Err(err) => Err(ApiError::internal(err)),
    }
}
