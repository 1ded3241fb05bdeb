//! Configuration of actix's extractors, so that bad JSON, wrong content types, oversized bodies and
//! malformed path or query parameters answer with the envelope.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;
use serde_json::json;

use crate::error::{ApiError, ErrorCode};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// JSON bodies: 1 MiB, `application/json` only.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(BODY_LIMIT).error_handler(|err, _req| json_error(err).into())
}

/// Raw bodies (`Bytes`, `String`): 1 MiB.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}

/// Path parameters, such as a malformed id.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(err).into())
}

/// Query strings.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {limit} bytes"))
                .with_details(json!({ "limit": limit }))
        }
        JsonPayloadError::ContentType => {
            ApiError::new(ErrorCode::UnsupportedMediaType, "expected Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::validation(format!("invalid request body: {e}"))
        }
        JsonPayloadError::Deserialize(e) => ApiError::validation(format!("malformed JSON: {e}")),
        other => ApiError::validation(format!("unreadable request body: {other}")),
    }
}

fn path_error(err: PathError) -> ApiError {
    let PathError::Deserialize(e) = err else { return ApiError::validation("invalid path parameter") };
    ApiError::validation(format!("invalid path parameter: {e}"))
}

fn query_error(err: QueryPayloadError) -> ApiError {
    let QueryPayloadError::Deserialize(e) = err else { return ApiError::validation("invalid query string") };
    ApiError::validation(format!("invalid query string: {e}"))
}
