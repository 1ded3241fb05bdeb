//! Errors of the store: start-up failures ([`StoreError`]) and the mapping of driver errors onto the
//! domain's [`RepoError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
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

/// Maps a query error to the domain's error, keeping it as the source.
pub(crate) fn db_error(err: DieselError) -> RepoError {
    let (kind, constraint) = match &err {
        DieselError::NotFound => (RepoErrorKind::NotFound, None),
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            (RepoErrorKind::Conflict, Some(info.constraint_name().unwrap_or(info.message()).to_owned()))
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            (RepoErrorKind::NotFound, None)
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
            (RepoErrorKind::Unavailable, None)
        }
        _ => (RepoErrorKind::Internal, None),
    };
    let mapped = RepoError::new(kind).with_source(err);
    match constraint {
        Some(constraint) => mapped.with_constraint(constraint),
        None => mapped,
    }
}

/// Maps a failure to get a pooled connection to the domain's error, keeping it as the source.
pub(crate) fn pool_error(err: deadpool::managed::PoolError<ManagerError>) -> RepoError {
    RepoError::unavailable(err)
}
