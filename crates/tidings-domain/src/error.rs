//! The error every repository trait returns, independent of the database behind it.

use thiserror::Error;

/// What can go wrong when a repository reads or writes.
#[derive(Debug, Error)]
pub enum RepoError {
    /// The row does not exist, or belongs to another company (callers cannot tell the two apart).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated; the string names the rule, never the conflicting value.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot be reached or has no free connection right now.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for logs, not for clients.
    #[error("store error: {0}")]
    Internal(String),
}

/// Result of a repository call.
pub type RepoResult<T> = Result<T, RepoError>;
