//! Units of work: a connection held in an open transaction, behind a [`Store`] like any other, so
//! that every repository operation runs inside it unchanged (the idea of Lemmy's `DbPool<'_>`).
//! Committing makes all its writes visible at once; dropping it uncommitted rolls them all back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use diesel::connection::AnsiTransactionManager as SyncAnsi;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncConnection, AsyncPgConnection, TransactionManager};
use tidings_domain::{RepoError, RepoResult, Transaction, UnitOfWork};
use tokio::sync::Mutex;

use crate::error::db_error;
use crate::pool::{Backend, DbPool, SqliteConn, detached};
use crate::store::{Source, Store};

/// A pooled connection with a transaction open on it.
#[allow(clippy::large_enum_variant, reason = "one per unit of work, kept behind an Arc")]
pub(crate) enum HeldConn {
    Postgres(Object<AsyncPgConnection>),
    Sqlite(Object<SqliteConn>),
}

/// The connection of a unit of work; `None` once committed or rolled back.
pub(crate) struct Held {
    pub(crate) backend: Backend,
    pub(crate) conn: Arc<Mutex<Option<HeldConn>>>,
    /// An operation failed half-way inside the unit (see [`crate::pool::atomic`]): committing
    /// would keep its first writes without the rest.
    spoiled: AtomicBool,
}

impl Held {
    /// Marks the unit as unfit to commit.
    pub(crate) fn spoil(&self) {
        self.spoiled.store(true, Ordering::Relaxed);
    }
}

impl Store {
    /// Starts a unit of work: a store whose every operation runs in one transaction until
    /// [`Store::commit`]. On SQLite the transaction takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so that reads followed by writes never fail on a concurrent writer.
    pub async fn begin(&self) -> RepoResult<Store> {
        let Source::Pool(pool) = self.source() else {
            return Err(RepoError::internal("units of work do not nest"));
        };
        let (pool, backend) = (pool.clone(), pool.backend());
        let conn = detached(async move {
            match pool {
                DbPool::Postgres(pool) => {
                    let mut conn = crate::pool::checkout(&pool).await?;
                    AnsiTransactionManager::begin_transaction(&mut *conn).await.map_err(db_error)?;
                    Ok(HeldConn::Postgres(conn))
                }
                DbPool::Sqlite(pool) => {
                    let mut conn = crate::pool::checkout(&pool).await?;
                    conn.spawn_blocking(|c| SyncAnsi::begin_transaction_sql(c, "BEGIN IMMEDIATE"))
                        .await
                        .map_err(db_error)?;
                    Ok(HeldConn::Sqlite(conn))
                }
            }
        })
        .await?;
        let held = Held { backend, conn: Arc::new(Mutex::new(Some(conn))), spoiled: AtomicBool::new(false) };
        Ok(Store::held(Arc::new(held)))
    }

    /// Commits a unit of work started by [`Store::begin`]; its connection goes back to the pool.
    pub async fn commit(&self) -> RepoResult<()> {
        let Source::Held(held) = self.source() else {
            return Err(RepoError::internal("no unit of work to commit"));
        };
        if held.spoiled.load(Ordering::Relaxed) {
            // Dropped, it rolls back.
            return Err(RepoError::internal(
                "an operation failed inside this unit of work; it cannot commit",
            ));
        }
        let conn = held.conn.clone();
        detached(async move {
            let taken = conn.lock().await.take();
            match taken {
                Some(HeldConn::Postgres(mut conn)) => {
                    AnsiTransactionManager::commit_transaction(&mut *conn).await.map_err(db_error)
                }
                Some(HeldConn::Sqlite(mut conn)) => {
                    <SqliteConn as AsyncConnection>::TransactionManager::commit_transaction(&mut *conn)
                        .await
                        .map_err(db_error)
                }
                None => Err(RepoError::internal("the unit of work has already ended")),
            }
        })
        .await
    }
}

impl Drop for Held {
    /// An uncommitted unit of work rolls back as soon as nobody holds it, on a task of its own.
    fn drop(&mut self) {
        let conn = self.conn.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            let taken = conn.lock().await.take();
            let rolled_back = match taken {
                Some(HeldConn::Postgres(mut conn)) => {
                    AnsiTransactionManager::rollback_transaction(&mut *conn).await
                }
                Some(HeldConn::Sqlite(mut conn)) => {
                    <SqliteConn as AsyncConnection>::TransactionManager::rollback_transaction(&mut *conn)
                        .await
                }
                None => Ok(()),
            };
            // A connection whose rollback failed is broken; the pool discards it on its next use.
            if let Err(e) = rolled_back {
                tracing::warn!(error = %e, "rolling back an abandoned unit of work failed");
            }
        });
    }
}

#[async_trait]
impl UnitOfWork for Store {
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>> {
        Ok(Box::new(Store::begin(self).await?))
    }
}

#[async_trait]
impl Transaction for Store {
    async fn commit(self: Box<Self>) -> RepoResult<()> {
        Store::commit(&self).await
    }
}
