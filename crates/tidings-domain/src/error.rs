//! The error every repository trait returns, independent of the database behind it.
//!
//! A [`RepoError`] says what kind of failure it is, so that callers can decide without reading
//! messages: workers retry [`RepoErrorKind::Transient`] ones, the API answers 409 to conflicts and
//! 503 to transient and unavailable ones. The driver's own error is kept as the
//! [`source`](std::error::Error::source), for the log only.

use std::error::Error as StdError;
use std::fmt;

use thiserror::Error;

/// A boxed error of any layer below the repository traits (a driver's, a pool's).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What kind of failure a [`RepoError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoErrorKind {
    /// The row does not exist, or belongs to another company (callers cannot tell the two apart).
    NotFound,
    /// A rule about existing rows was broken: a uniqueness constraint, or a business rule the store
    /// enforces (the constraint names which). Retrying the same change fails again.
    Conflict,
    /// The row overlaps an existing one under an exclusion rule (PostgreSQL `EXCLUDE`, or an SQLite
    /// trigger that aborts with `exclusion_violation: <constraint>`).
    Exclusion,
    /// The store could not do it this time but likely will on a retry: a serialization failure, a
    /// deadlock, a busy SQLite database, no free pooled connection in time.
    Transient,
    /// The store cannot be reached: no connection can be opened, the pool is closed, or the
    /// connection was lost.
    Unavailable,
    /// Anything else: a fault on our side or malformed stored data. Retrying will not help.
    Internal,
}

impl RepoErrorKind {
    /// Short description, used as the error's message.
    fn describe(self) -> &'static str {
        match self {
            RepoErrorKind::NotFound => "not found",
            RepoErrorKind::Conflict => "conflict",
            RepoErrorKind::Exclusion => "exclusion violation",
            RepoErrorKind::Transient => "transient store failure",
            RepoErrorKind::Unavailable => "store unavailable",
            RepoErrorKind::Internal => "store error",
        }
    }
}

/// What went wrong when a repository read or wrote: a [kind](RepoErrorKind), the constraint
/// involved when the store knows it, and the underlying error.
///
/// The message names the kind and the constraint only; the underlying error is the
/// [`source`](std::error::Error::source) (see [`ErrorChain`] to log the whole chain). Neither is
/// meant for clients.
#[derive(Debug, Error)]
#[error("{}", describe(*.kind, .constraint.as_deref()))]
pub struct RepoError {
    kind: RepoErrorKind,
    constraint: Option<String>,
    #[source]
    source: Option<BoxError>,
}

/// The message of an error of `kind` involving `constraint`.
fn describe(kind: RepoErrorKind, constraint: Option<&str>) -> String {
    match constraint {
        Some(constraint) => format!("{} ({constraint})", kind.describe()),
        None => kind.describe().to_owned(),
    }
}

impl RepoError {
    /// An error of `kind`, without constraint or source.
    pub fn new(kind: RepoErrorKind) -> Self {
        Self { kind, constraint: None, source: None }
    }

    /// The row does not exist (or is another company's).
    pub fn not_found() -> Self {
        Self::new(RepoErrorKind::NotFound)
    }

    /// A rule about existing rows was broken; `constraint` names the rule, never the values.
    pub fn conflict(constraint: impl Into<String>) -> Self {
        Self::new(RepoErrorKind::Conflict).with_constraint(constraint)
    }

    /// The row overlaps an existing one under the exclusion rule `constraint`.
    pub fn exclusion(constraint: impl Into<String>) -> Self {
        Self::new(RepoErrorKind::Exclusion).with_constraint(constraint)
    }

    /// A failure a retry will likely get past, caused by `source`.
    pub fn transient(source: impl Into<BoxError>) -> Self {
        Self::new(RepoErrorKind::Transient).with_source(source)
    }

    /// The store cannot be reached, because of `source`.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::new(RepoErrorKind::Unavailable).with_source(source)
    }

    /// A fault, described by `source` (an error, or a message for the log).
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(RepoErrorKind::Internal).with_source(source)
    }

    /// Names the constraint (or rule) involved.
    pub fn with_constraint(mut self, constraint: impl Into<String>) -> Self {
        self.constraint = Some(constraint.into());
        self
    }

    /// Keeps the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> RepoErrorKind {
        self.kind
    }

    /// The constraint or rule involved, when the store named one. Its spelling depends on the
    /// backend (a PostgreSQL constraint name, SQLite's `table.column` list), except for rules and
    /// exclusion constraints the store names itself.
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    /// Whether the row does not exist (or is another company's).
    pub fn is_not_found(&self) -> bool {
        self.kind == RepoErrorKind::NotFound
    }

    /// Whether a uniqueness constraint or a store-enforced rule was broken.
    pub fn is_conflict(&self) -> bool {
        self.kind == RepoErrorKind::Conflict
    }

    /// Whether an exclusion rule (no overlap) was broken.
    pub fn is_exclusion(&self) -> bool {
        self.kind == RepoErrorKind::Exclusion
    }

    /// Whether the same call is likely to succeed if retried shortly.
    pub fn is_transient(&self) -> bool {
        self.kind == RepoErrorKind::Transient
    }

    /// Whether the store cannot be reached at the moment.
    pub fn is_unavailable(&self) -> bool {
        self.kind == RepoErrorKind::Unavailable
    }

    /// Whether this is a fault that no retry will fix.
    pub fn is_internal(&self) -> bool {
        self.kind == RepoErrorKind::Internal
    }
}

/// Result of a repository call.
pub type RepoResult<T> = Result<T, RepoError>;

/// Displays an error followed by its sources, `outer: inner: innermost`, for log lines. A source
/// whose message its parent already contains is skipped, since many errors repeat their cause.
pub struct ErrorChain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut previous = self.0.to_string();
        f.write_str(&previous)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            let message = source.to_string();
            if !previous.contains(&message) {
                write!(f, ": {message}")?;
            }
            previous = message;
            next = source.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_answers_its_predicate_only() {
        let cases = [
            (RepoError::not_found(), RepoErrorKind::NotFound),
            (RepoError::conflict("users_email_key"), RepoErrorKind::Conflict),
            (RepoError::exclusion("slots_no_overlap"), RepoErrorKind::Exclusion),
            (RepoError::transient("deadlock detected"), RepoErrorKind::Transient),
            (RepoError::unavailable("connection refused"), RepoErrorKind::Unavailable),
            (RepoError::internal("bad row"), RepoErrorKind::Internal),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind);
            let answers = [
                err.is_not_found(),
                err.is_conflict(),
                err.is_exclusion(),
                err.is_transient(),
                err.is_unavailable(),
                err.is_internal(),
            ];
            assert_eq!(answers.iter().filter(|yes| **yes).count(), 1, "{err:?}");
        }
    }

    #[test]
    fn the_message_names_kind_and_constraint_and_the_source_is_kept() {
        let err = RepoError::conflict("users_email_key").with_source("duplicate key value");
        assert_eq!(err.to_string(), "conflict (users_email_key)");
        assert_eq!(err.constraint(), Some("users_email_key"));
        assert_eq!(err.source().unwrap().to_string(), "duplicate key value");

        let err = RepoError::internal("malformed value in store: pigeon");
        assert_eq!(err.to_string(), "store error");
        assert_eq!(err.constraint(), None);
        assert_eq!(ErrorChain(&err).to_string(), "store error: malformed value in store: pigeon");
    }

    #[test]
    fn the_chain_skips_sources_their_parent_already_shows() {
        #[derive(Debug, Error)]
        #[error("pool: {0}")]
        struct Repeats(#[source] std::io::Error);
        let err = RepoError::unavailable(Repeats(std::io::Error::other("refused")));
        assert_eq!(ErrorChain(&err).to_string(), "store unavailable: pool: refused");
    }
}
