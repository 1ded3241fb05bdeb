//! The credentials a live connection is opened with, for every door: who, until when, whether
//! they still stand, and their renewal in band. Once the session is open it keeps the caller; the
//! door keeps only the expiry.

use chrono::{DateTime, Utc};
use tidings_auth::{AuthError, Authenticator};
use tidings_domain::Caller;

use crate::error::ApiError;

/// Who opened a connection, and until when their credentials hold (access tokens expire; API
/// keys are re-checked periodically instead).
#[derive(Clone, Debug)]
pub struct Credential {
    /// The authenticated caller.
    pub caller: Caller,
    /// When the access token expires; `None` for API keys.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a re-check found.
pub enum Check {
    /// The credentials stand.
    Valid,
    /// They were withdrawn or changed; the message says which.
    Withdrawn(&'static str),
}

impl Credential {
    /// A user's credential from an access token.
    pub async fn user(authenticator: &Authenticator, token: &str) -> Result<Credential, ApiError> {
        let (principal, expires_at) = authenticator.user_until(token).await?;
        Ok(Credential { caller: Caller::User(principal), expires_at: Some(expires_at) })
    }

    /// A fresh credential of `current`'s user from a new access token, to renew a connection in
    /// band. API-key callers have nothing to renew; another user's token is refused.
    pub async fn renewal(
        authenticator: &Authenticator,
        current: &Caller,
        token: &str,
    ) -> Result<Credential, ApiError> {
        let Caller::User(current) = current else {
            return Err(ApiError::validation("already authenticated"));
        };
        let fresh = Credential::user(authenticator, token).await?;
        let Caller::User(principal) = &fresh.caller else {
            return Err(ApiError::validation("already authenticated"));
        };
        if principal.user_id != current.user_id || principal.company_id != current.company_id {
            return Err(ApiError::new(
                crate::ErrorCode::Forbidden,
                "a connection keeps the user that opened it",
            ));
        }
        Ok(fresh)
    }
}

/// Checks a live session's caller's credentials again. A store failure proves nothing either
/// way: it is logged and the credentials count as standing until the next check.
pub async fn check(authenticator: &Authenticator, caller: &Caller) -> Check {
    match authenticator.still_valid(caller).await {
        Ok(()) => Check::Valid,
        Err(AuthError::Unauthenticated(why)) => Check::Withdrawn(why),
        Err(e) => {
            tracing::warn!(error = %tidings_domain::ErrorChain(&e), "could not re-check a live connection's credentials");
            Check::Valid
        }
    }
}
