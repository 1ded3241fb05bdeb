//! What FCM's answer to one send means: sent, a token that will never work again (to be removed
//! from its device), a refused access token, or a failure of the item.

use reqwest::StatusCode;
use serde_json::Value;

use crate::channel::DeliveryError;

/// How one send ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// FCM took it.
    Sent,
    /// The token is unregistered or not a token: why.
    DeadToken(String),
    /// FCM refused the access token (revoked before its time): why.
    Unauthenticated(String),
    /// Anything else, retried or not by its status.
    Failed(DeliveryError),
}

/// Reads an answer; `body` must already have the push token taken out (it ends up in errors).
pub(crate) fn classify(status: StatusCode, body: &str) -> Answer {
    if status.is_success() {
        return Answer::Sent;
    }
    let what = format!("{status}: {}", body.chars().take(500).collect::<String>());
    if status == StatusCode::UNAUTHORIZED {
        return Answer::Unauthenticated(what);
    }
    let error = serde_json::from_str::<Value>(body).ok().map(|v| v["error"].clone()).unwrap_or_default();
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let code = details.iter().find_map(|d| d["errorCode"].as_str()).unwrap_or_default();
    if status == StatusCode::NOT_FOUND || code == "UNREGISTERED" {
        return Answer::DeadToken(what);
    }
    // INVALID_ARGUMENT also covers a malformed message, which is no reason to drop a token: only
    // one that blames the token itself is.
    let invalid_argument = code == "INVALID_ARGUMENT" || error["status"] == "INVALID_ARGUMENT";
    let blames_token = details.iter().any(|d| {
        d["fieldViolations"].as_array().is_some_and(|v| v.iter().any(|f| f["field"] == "message.token"))
    }) || error["message"].as_str().is_some_and(|m| m.contains("registration token"));
    if invalid_argument && blames_token {
        return Answer::DeadToken(what);
    }
    Answer::Failed(DeliveryError::from_status(status, body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fcm_error(code: u16, status: &str, message: &str, details: Value) -> String {
        json!({ "error": { "code": code, "status": status, "message": message, "details": details } })
            .to_string()
    }

    #[test]
    fn dead_tokens_are_told_from_other_failures() {
        let unregistered = fcm_error(
            404,
            "NOT_FOUND",
            "Requested entity was not found.",
            json!([{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED" }]),
        );
        assert!(matches!(classify(StatusCode::NOT_FOUND, &unregistered), Answer::DeadToken(_)));
        assert!(matches!(classify(StatusCode::NOT_FOUND, ""), Answer::DeadToken(_)));
        let bad_token = fcm_error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            json!([{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT" }]),
        );
        assert!(matches!(classify(StatusCode::BAD_REQUEST, &bad_token), Answer::DeadToken(_)));
        let bad_field = fcm_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid value",
            json!([{ "@type": "type.googleapis.com/google.rpc.BadRequest",
                     "fieldViolations": [{ "field": "message.token", "description": "Invalid registration token" }] }]),
        );
        assert!(matches!(classify(StatusCode::BAD_REQUEST, &bad_field), Answer::DeadToken(_)));
        let bad_message = fcm_error(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received.",
            json!([{ "@type": "type.googleapis.com/google.rpc.BadRequest",
                     "fieldViolations": [{ "field": "message.data", "description": "bad" }] }]),
        );
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &bad_message),
            Answer::Failed(DeliveryError::Permanent(_))
        ));
        assert!(matches!(classify(StatusCode::UNAUTHORIZED, "{}"), Answer::Unauthenticated(_)));
        for busy in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            assert!(matches!(classify(busy, "{}"), Answer::Failed(DeliveryError::Transient(_))), "{busy}");
        }
        let mismatch = fcm_error(
            403,
            "PERMISSION_DENIED",
            "SenderId mismatch",
            json!([{ "errorCode": "SENDER_ID_MISMATCH" }]),
        );
        assert!(
            matches!(classify(StatusCode::FORBIDDEN, &mismatch), Answer::Failed(DeliveryError::Permanent(_))),
            "a token of another project may be ours after a configuration fix: kept"
        );
        assert_eq!(classify(StatusCode::OK, "{}"), Answer::Sent);
    }
}
