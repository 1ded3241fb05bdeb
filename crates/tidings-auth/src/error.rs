//! Errors of identity and access. Messages are safe to show to callers: they never contain a
//! secret, and they never tell an unknown e-mail from a wrong password.

use thiserror::Error;
use tidings_domain::RepoError;

/// What can go wrong in identity and access.
#[derive(Debug, Error)]
pub enum AuthError {
    /// Input breaks validation rules (per field).
    #[error("invalid input: {0}")]
    Validation(#[from] garde::Report),
    /// One field is invalid for a reason garde cannot express.
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, &'static str),
    /// Unknown e-mail, wrong password or locked account: deliberately indistinguishable.
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// The refresh token is unknown, spent, revoked or expired.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The password reset token is unknown, used or expired.
    #[error("invalid, expired or already used password reset token")]
    InvalidResetToken,
    /// The access token is malformed, forged, or signed with another key or algorithm.
    #[error("invalid token")]
    InvalidToken,
    /// The access token has expired.
    #[error("token expired")]
    TokenExpired,
    /// An API key that is not of our format.
    #[error("malformed API key")]
    InvalidKeyFormat,
    /// Other credentials that do not authenticate; the message says which.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Conflicts with existing data.
    #[error("{0}")]
    Conflict(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] RepoError),
    /// Hashing or signing failed (a fault, not a caller error).
    #[error("hashing failed: {0}")]
    Hashing(String),
}
