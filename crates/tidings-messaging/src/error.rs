//! Errors of the messaging services. Messages are safe to show to callers.

use thiserror::Error;
use tidings_domain::RepoError;

/// What can go wrong in a messaging service.
#[derive(Debug, Error)]
pub enum MessagingError {
    /// Input breaks validation rules (per field).
    #[error("invalid input: {0}")]
    Validation(#[from] garde::Report),
    /// One field is invalid for a reason garde cannot express.
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    /// No such resource for this caller (including another company's).
    #[error("not found")]
    NotFound,
    /// This caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The change conflicts with the resource's state.
    #[error("{0}")]
    Conflict(&'static str),
    /// The change conflicts with other data, which `details` names.
    #[error("{message}")]
    ConflictWith {
        /// What is wrong.
        message: &'static str,
        /// What it conflicts with.
        details: serde_json::Value,
    },
    /// The input is of a kind the service does not take (a file type off the allow-list).
    #[error("{0}")]
    Unsupported(String),
    /// The input is larger than the service accepts.
    #[error("{0}")]
    TooLarge(&'static str),
    /// The caller is over its rate; it may try again after this many seconds.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited {
        /// When to retry.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(RepoError),
}

impl From<RepoError> for MessagingError {
    fn from(err: RepoError) -> Self {
        if err.is_not_found() { MessagingError::NotFound } else { MessagingError::Store(err) }
    }
}

/// Result of a messaging service call.
pub type MessagingResult<T> = Result<T, MessagingError>;
