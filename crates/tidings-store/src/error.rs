//! Errors of the store: start-up failures ([`StoreError`]) and the classification of driver and pool
//! errors into the domain's [`RepoError`] kinds.
//!
//! diesel names the common SQLSTATEs and SQLite result codes ([`DatabaseErrorKind`]); others it reports
//! as `Unknown` with the database's message only, so a few kinds are recognised by message:
//!
//! - not found: no row; a foreign key to a missing row (23503; SQLite's foreign key failure);
//! - conflict: a unique or primary key violation (23505), a restrict violation (23001);
//! - exclusion: 23P01, or a message `exclusion_violation: <constraint>`, which is how an SQLite
//!   trigger states the same rule: `RAISE(ABORT, 'exclusion_violation: <constraint>')`;
//! - transient: 40001 serialization failure, 40P01 `deadlock detected`, SQLite's `database is locked`
//!   (busy past `busy_timeout`) and `database table is locked`; no free pooled connection in time;
//! - unavailable: a lost connection, 57P01 (the server ended the session), a closed pool, a
//!   connection that cannot be opened;
//! - internal: everything else (check and not-null violations are bugs: input is validated first).
//!
//! PostgreSQL translates its messages when `lc_messages` is not English; a deadlock or a shutdown is
//! then classified as internal (a 500 instead of a 503), nothing worse.

use deadpool::managed::{PoolError, TimeoutType};
use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError as ManagerError;
use thiserror::Error;
use tidings_domain::{RepoError, RepoErrorKind};

/// Why a store could not be opened or migrated.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL or pool settings are unusable.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed; the database is left at the last one that succeeded.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Prefix of the message an exclusion rule enforced by a trigger aborts with, followed by the rule's
/// name: SQLite has no `EXCLUDE` constraint, so its schema raises `exclusion_violation: <name>`.
const EXCLUSION_PREFIX: &str = "exclusion_violation: ";

/// Prefix of the message SQLite's tenant triggers abort with, followed by the table: a reference to
/// another company's row.
const TENANT_PREFIX: &str = "tenant_violation: ";

/// Prefix of SQLite's message for a unique or primary key violation, followed by the columns.
const SQLITE_UNIQUE_PREFIX: &str = "UNIQUE constraint failed: ";

/// Messages of failures that a retry is likely to get past, which diesel reports as `Unknown`:
/// PostgreSQL's deadlock (40P01), SQLite's busy (`SQLITE_BUSY`, also past `busy_timeout`) and
/// locked (`SQLITE_LOCKED`, a shared-cache table lock).
const TRANSIENT_MESSAGES: &[&str] = &[
    "deadlock detected",
    "database is locked",
    "database table is locked",
    // PostgreSQL's statement timeout: the load or a lock that held it up may pass.
    "canceling statement due to statement timeout",
];

/// Messages of a lost PostgreSQL connection. Without SQLSTATE these come from tokio-postgres (whose
/// messages are fixed); 57P01 is the server ending the session (restart, failover).
const CONNECTION_LOST_MESSAGES: &[&str] = &[
    "connection closed",
    "error communicating with the server",
    "timeout waiting for server",
    "error connecting to server",
    "terminating connection due to administrator command",
];

/// Classifies a query error, keeping it as the source.
pub(crate) fn db_error(err: DieselError) -> RepoError {
    let (kind, constraint) = classify(&err);
    let classified = RepoError::new(kind).with_source(err);
    match constraint {
        Some(constraint) => classified.with_constraint(constraint),
        None => classified,
    }
}

/// The kind of a query error, and the constraint it names.
fn classify(err: &DieselError) -> (RepoErrorKind, Option<String>) {
    match err {
        DieselError::NotFound => (RepoErrorKind::NotFound, None),
        DieselError::DatabaseError(kind, info) => classify_database(*kind, info.as_ref()),
        // A failed COMMIT whose rollback failed too: what matters is why the commit failed (a
        // serialization failure surfaces at commit).
        DieselError::RollbackErrorOnCommit { commit_error, .. } => classify(commit_error),
        // Everything else is ours: a query that cannot be built, a row that does not deserialize,
        // a transaction misused.
        _ => (RepoErrorKind::Internal, None),
    }
}

/// The kind of an error the database reported, and the constraint it names.
fn classify_database(
    kind: DatabaseErrorKind,
    info: &(dyn DatabaseErrorInformation + Send + Sync),
) -> (RepoErrorKind, Option<String>) {
    let message = info.message();
    let constraint =
        || info.constraint_name().or_else(|| message.strip_prefix(SQLITE_UNIQUE_PREFIX)).map(str::to_owned);
    match kind {
        DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::RestrictViolation => {
            (RepoErrorKind::Conflict, constraint())
        }
        // A reference to a row that does not exist: to the caller, that row is not found.
        DatabaseErrorKind::ForeignKeyViolation => (RepoErrorKind::NotFound, constraint()),
        DatabaseErrorKind::ExclusionViolation => (RepoErrorKind::Exclusion, constraint()),
        DatabaseErrorKind::SerializationFailure => (RepoErrorKind::Transient, None),
        DatabaseErrorKind::ClosedConnection => (RepoErrorKind::Unavailable, None),
        _ => classify_message(message),
    }
}

/// Classifies what diesel could not name by the database's message.
fn classify_message(message: &str) -> (RepoErrorKind, Option<String>) {
    if let Some(constraint) = message.strip_prefix(EXCLUSION_PREFIX) {
        (RepoErrorKind::Exclusion, Some(constraint.trim().to_owned()))
    } else if let Some(table) = message.strip_prefix(TENANT_PREFIX) {
        // SQLite's triggers that keep references inside one company (PostgreSQL's composite foreign
        // keys report a foreign-key violation): another company's row is as good as missing.
        (RepoErrorKind::NotFound, Some(table.trim().to_owned()))
    } else if TRANSIENT_MESSAGES.iter().any(|m| message.starts_with(m)) {
        (RepoErrorKind::Transient, None)
    } else if CONNECTION_LOST_MESSAGES.iter().any(|m| message.starts_with(m)) {
        (RepoErrorKind::Unavailable, None)
    } else {
        (RepoErrorKind::Internal, None)
    }
}

/// Classifies a failure to get a pooled connection, keeping it as the source.
pub(crate) fn pool_error(err: PoolError<ManagerError>) -> RepoError {
    let kind = match &err {
        // Every connection is in use: the load will pass.
        PoolError::Timeout(TimeoutType::Wait) => RepoErrorKind::Transient,
        // Opening or checking a connection failed or took too long: the database does not answer.
        PoolError::Timeout(_) | PoolError::Backend(_) | PoolError::PostCreateHook(_) | PoolError::Closed => {
            RepoErrorKind::Unavailable
        }
        PoolError::NoRuntimeSpecified => RepoErrorKind::Internal,
    };
    RepoError::new(kind).with_source(err)
}

#[cfg(test)]
mod tests;
