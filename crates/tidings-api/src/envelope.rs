//! The error envelope `{"error": {code, message, details, request_id}}` and its rendering for every
//! error response, including those actix produces itself (unknown route, wrong method, ...).

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ErrorCode;

/// The inside of the envelope.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable message.
    #[schema(example = "the request breaks validation rules")]
    pub message: String,
    /// Structured details, when there are any: `fields` maps each field (or parameter) to what is
    /// wrong with it; other errors say what they need to (`limit`, `clashes_with`, `checks`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, example = json!({"fields": {"email": ["not a valid email address"]}}))]
    pub details: Option<Value>,
    /// The id of the request (`X-Request-Id`), for finding it in the server log.
    #[schema(value_type = String, example = "01a20ab0-4eef-727a-87aa-b85dccd743e6")]
    pub request_id: Option<String>,
}

/// The body of every error answer (the schema of [`ErrorBody::envelope`]).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorBody,
}

impl ErrorBody {
    /// The whole envelope as JSON.
    pub fn envelope(&self) -> Value {
        serde_json::json!({ "error": self })
    }

    /// What to answer for an error status that no handler described (actix's own errors).
    fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                (ErrorCode::MethodNotAllowed, "method not allowed on this route")
            }
            StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (ErrorCode::UnsupportedMediaType, "unsupported content type")
            }
            StatusCode::UNAUTHORIZED => (ErrorCode::Unauthenticated, "authentication required"),
            StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "forbidden"),
            StatusCode::CONFLICT => (ErrorCode::Conflict, "conflict"),
            StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::Unavailable, "service unavailable"),
            s if s.is_client_error() => (ErrorCode::ValidationError, "bad request"),
            _ => (ErrorCode::Internal, "internal error"),
        };
        Self { code, message: message.into(), details: None, request_id: None }
    }
}

/// Marks an error response written in another protocol's own format (Engine.IO's handshake
/// errors, which Socket.IO clients read): it keeps its body.
#[derive(Clone, Copy, Debug)]
pub struct OwnFormat;

/// Gives an error response the envelope with `request_id` filled in; other responses pass as they are.
pub fn finalize(res: HttpResponse<BoxBody>, request_id: &str) -> HttpResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || res.extensions().contains::<OwnFormat>() {
        return res;
    }
    let described = res.extensions().get::<ErrorBody>().cloned();
    let mut body = described.unwrap_or_else(|| ErrorBody::for_status(status));
    body.request_id = Some(request_id.to_owned());
    let json = body.envelope().to_string();
    let mut res = res.set_body(json.boxed());
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.extensions_mut().insert(body);
    res
}
