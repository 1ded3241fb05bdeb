//! The store handle: a cloneable pool over one backend, plus opening, migrating and closing it.

use async_trait::async_trait;
use diesel_async::SimpleAsyncConnection;
use tidings_domain::{ErrorChain, RepoResult, StoreHealth};

use crate::error::{StoreError, db_error};
use crate::pool::{Backend, DbPool, PoolOptions, with_conn};

/// Handle on the database; cheap to clone, shared by every service.
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
}

impl Store {
    /// Opens a pool for `url` (`postgres://…` or `sqlite://PATH`) and checks that the database
    /// answers, so a bad URL fails at start rather than at the first request.
    pub async fn connect(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        let store = Store { pool: DbPool::new(url, options)? };
        store.ping().await.map_err(|e| StoreError::Connect(ErrorChain(&e).to_string()))?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrate::run(&self.pool).await
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Closes the pool: waiting callers fail, idle connections are dropped.
    pub fn close(&self) {
        self.pool.close();
    }

    pub(crate) fn pool(&self) -> &DbPool {
        &self.pool
    }
}

#[async_trait]
impl StoreHealth for Store {
    async fn ping(&self) -> RepoResult<()> {
        with_conn!(self, |conn| conn.batch_execute("SELECT 1").await.map_err(db_error))
    }
}
