//! Errors of the store: start-up failures ([`StoreError`]) and the mapping of driver errors onto the
//! domain's [`RepoError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError as ManagerError;
use thiserror::Error;
use tidings_domain::RepoError;

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

/// Maps a query error to the domain's error.
pub(crate) fn db_error(err: DieselError) -> RepoError {
    match err {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepoError::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => RepoError::NotFound,
        // SQLite's triggers that keep references inside one company (PostgreSQL's composite foreign
        // keys report a foreign-key violation): another company's row is as good as missing.
        DieselError::DatabaseError(_, info) if info.message().starts_with("tenant_violation") => {
            RepoError::NotFound
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            RepoError::Unavailable(info.message().to_owned())
        }
        other => RepoError::Internal(other.to_string()),
    }
}

/// Maps a failure to get a pooled connection to the domain's error.
pub(crate) fn pool_error(err: deadpool::managed::PoolError<ManagerError>) -> RepoError {
    RepoError::Unavailable(err.to_string())
}
