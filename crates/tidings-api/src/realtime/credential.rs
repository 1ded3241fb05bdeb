//! The credentials a live connection was opened with, for every door: when they expire, whether
//! they still stand, and their renewal in band.

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

    /// Checks the credentials again. A store failure proves nothing either way: it is logged and
    /// the credentials count as standing until the next check.
    pub async fn check(&self, authenticator: &Authenticator) -> Check {
        match authenticator.still_valid(&self.caller).await {
            Ok(()) => Check::Valid,
            Err(AuthError::Unauthenticated(why)) => Check::Withdrawn(why),
            Err(e) => {
                tracing::warn!(error = %tidings_domain::ErrorChain(&e), "could not re-check a live connection's credentials");
                Check::Valid
            }
        }
    }

    /// Renews a user's credential with a fresh access token of the same user; answers the new
    /// expiry. API-key credentials have nothing to renew.
    pub async fn renew(
        &mut self,
        authenticator: &Authenticator,
        token: &str,
    ) -> Result<DateTime<Utc>, ApiError> {
        let Caller::User(current) = &self.caller else {
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
        let expires_at = fresh.expires_at.unwrap_or_else(Utc::now);
        *self = fresh;
        Ok(expires_at)
    }
}
