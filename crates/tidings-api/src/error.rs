//! The API's one error type, and the mapping of every lower layer's errors onto it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use tidings_auth::AuthError;
use tidings_domain::{ErrorChain, RepoError, RepoErrorKind};
use tidings_forwarding::ForwardingError;
use tidings_messaging::MessagingError;

use crate::envelope::ErrorBody;

/// Machine-readable error codes of the envelope (see `docs/api.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 400: the request is malformed or breaks a validation rule.
    ValidationError,
    /// 401: no credentials, or credentials that do not authenticate.
    Unauthenticated,
    /// 401: the access token has expired; refresh it.
    TokenExpired,
    /// 403: authenticated, but the role does not allow this.
    Forbidden,
    /// 404: no such resource, or one that belongs to another company.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the change conflicts with existing data.
    Conflict,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 503: a dependency (the store) is not available.
    Unavailable,
    /// 500: a fault on our side; details are in the server log under the request id.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationError => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answered to the client as the JSON envelope.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    details: Option<Value>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with a code and a message safe to show to the client.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after_secs: None }
    }

    /// Adds structured details (for example the fields that failed validation).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds a `Retry-After` header, in seconds.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// 400 with a message.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// 404 with the generic message used for missing and foreign rows alike.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "resource not found")
    }

    /// 500; `cause` goes to the log under the request id, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message shown to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
            request_id: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = self.body();
        let mut response = HttpResponse::build(self.status_code()).json(body.envelope());
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // The request-id middleware re-renders the envelope from this, adding the request id.
        response.extensions_mut().insert(body);
        response
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        // Only the kind reaches the client; the constraint and the driver's error go to the log.
        match err.kind() {
            RepoErrorKind::NotFound => ApiError::not_found(),
            RepoErrorKind::Conflict | RepoErrorKind::Exclusion => {
                ApiError::new(ErrorCode::Conflict, "conflicts with existing data")
            }
            RepoErrorKind::Transient => {
                tracing::warn!(error = %ErrorChain(&err), "store busy");
                ApiError::new(ErrorCode::Unavailable, "the store is busy, retry shortly").with_retry_after(1)
            }
            RepoErrorKind::Unavailable => {
                tracing::warn!(error = %ErrorChain(&err), "store unavailable");
                ApiError::new(ErrorCode::Unavailable, "the store is unavailable, retry shortly")
                    .with_retry_after(1)
            }
            RepoErrorKind::Internal => ApiError::internal(ErrorChain(&err)),
        }
    }
}

/// 400 naming each field and the rules it breaks.
fn validation_report(report: garde::Report) -> ApiError {
    let mut fields = serde_json::Map::new();
    for (path, error) in report.iter() {
        let entry = fields.entry(path.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(messages) = entry {
            messages.push(Value::String(error.message().to_string()));
        }
    }
    ApiError::validation("the request breaks validation rules")
        .with_details(serde_json::json!({ "fields": fields }))
}

impl From<MessagingError> for ApiError {
    fn from(err: MessagingError) -> Self {
        match err {
            MessagingError::Validation(report) => validation_report(report),
            MessagingError::Invalid(field, message) => ApiError::validation(format!("{field}: {message}"))
                .with_details(serde_json::json!({ "fields": { field: [message] } })),
            MessagingError::NotFound => ApiError::not_found(),
            MessagingError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            MessagingError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            MessagingError::ConflictWith { message, details } => {
                ApiError::new(ErrorCode::Conflict, message).with_details(details)
            }
            MessagingError::TooLarge(message) => ApiError::new(ErrorCode::PayloadTooLarge, message),
            MessagingError::Unsupported(message) => ApiError::new(ErrorCode::UnsupportedMediaType, message),
            MessagingError::RateLimited { retry_after_secs } => {
                ApiError::new(ErrorCode::RateLimited, "too many requests, retry later")
                    .with_retry_after(retry_after_secs)
            }
            MessagingError::Store(e) => e.into(),
        }
    }
}

impl From<ForwardingError> for ApiError {
    fn from(err: ForwardingError) -> Self {
        match err {
            ForwardingError::NotFound => ApiError::not_found(),
            ForwardingError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            ForwardingError::Invalid(field, message) => ApiError::validation(format!("{field}: {message}"))
                .with_details(serde_json::json!({ "fields": { field: [message] } })),
            ForwardingError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            ForwardingError::Unauthenticated(message) => ApiError::new(ErrorCode::Unauthenticated, message),
            ForwardingError::Internal(cause) => ApiError::internal(cause),
            ForwardingError::Store(e) => e.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Validation(report) => validation_report(report),
            AuthError::Invalid(field, message) => ApiError::validation(format!("{field}: {message}"))
                .with_details(serde_json::json!({ "fields": { field: [message] } })),
            AuthError::InvalidCredentials => {
                ApiError::new(ErrorCode::Unauthenticated, "invalid e-mail or password")
            }
            AuthError::InvalidRefreshToken => {
                ApiError::new(ErrorCode::Unauthenticated, "invalid or expired refresh token; log in again")
            }
            AuthError::InvalidResetToken => {
                let message = "invalid, expired or already used password reset token";
                ApiError::validation(message)
                    .with_details(serde_json::json!({ "fields": { "token": [message] } }))
            }
            AuthError::TokenExpired => ApiError::new(ErrorCode::TokenExpired, "the access token has expired"),
            AuthError::InvalidToken | AuthError::InvalidKeyFormat => {
                ApiError::new(ErrorCode::Unauthenticated, "invalid credentials")
            }
            AuthError::Unauthenticated(message) => ApiError::new(ErrorCode::Unauthenticated, message),
            AuthError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            AuthError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            AuthError::Store(e) => e.into(),
            AuthError::Hashing(cause) => ApiError::internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Status, code, message and `Retry-After` of the answer to a store error.
    fn answer(err: RepoError) -> (StatusCode, ErrorCode, String, Option<u64>) {
        let api = ApiError::from(err);
        (api.status_code(), api.code(), api.message().to_owned(), api.retry_after_secs)
    }

    #[test]
    fn conflicts_and_exclusions_are_409_without_the_constraint() {
        for err in [
            RepoError::conflict("users_email_key")
                .with_source("duplicate key value violates unique constraint"),
            RepoError::exclusion("appointments_no_overlap").with_source("conflicting key value"),
        ] {
            let (status, code, message, retry_after) = answer(err);
            assert_eq!((status, code, retry_after), (StatusCode::CONFLICT, ErrorCode::Conflict, None));
            assert_eq!(message, "conflicts with existing data");
        }
    }

    #[test]
    fn transient_and_unavailable_are_503_with_retry_after() {
        let (status, code, message, retry_after) = answer(RepoError::transient("deadlock detected"));
        assert_eq!(
            (status, code, retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, Some(1))
        );
        assert_eq!(message, "the store is busy, retry shortly");
        let (status, code, message, retry_after) = answer(RepoError::unavailable("Pool has been closed"));
        assert_eq!(
            (status, code, retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, Some(1))
        );
        assert_eq!(message, "the store is unavailable, retry shortly");
        let response = ApiError::from(RepoError::transient("database is locked")).error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }

    #[test]
    fn internal_is_500_with_the_generic_message_only() {
        let err = RepoError::internal("malformed value in store: carrier-pigeon");
        let api = ApiError::from(err);
        assert_eq!((api.status_code(), api.code()), (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal));
        assert_eq!(api.message(), "internal error");
        assert_eq!(api.details, None);
        assert_eq!(api.retry_after_secs, None);
        assert_eq!(ApiError::from(RepoError::not_found()).code(), ErrorCode::NotFound);
    }
}
