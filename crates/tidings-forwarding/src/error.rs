//! Errors of the forwarding services. Messages are safe to show to callers.

use thiserror::Error;
use tidings_domain::RepoError;

/// What can go wrong in a forwarding service.
#[derive(Debug, Error)]
pub enum ForwardingError {
    /// No such item for this caller (including another company's).
    #[error("not found")]
    NotFound,
    /// This caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input breaks a rule (field, why).
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    /// The change conflicts with existing data.
    #[error("{0}")]
    Conflict(&'static str),
    /// A call that must prove who sent it did not (a webhook's signature).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A fault on our side (a secret that does not open, a stored value that does not read).
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(RepoError),
}

impl From<RepoError> for ForwardingError {
    fn from(err: RepoError) -> Self {
        if err.is_not_found() { ForwardingError::NotFound } else { ForwardingError::Store(err) }
    }
}

/// Result of a forwarding service call.
pub type ForwardingResult<T> = Result<T, ForwardingError>;
