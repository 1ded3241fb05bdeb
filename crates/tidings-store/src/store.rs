//! The store handle: a cloneable pool over one backend, plus opening, migrating and closing it.

use async_trait::async_trait;
use diesel_async::SimpleAsyncConnection;
use tidings_domain::{ErrorChain, RepoResult, StoreHealth};

use crate::error::{StoreError, db_error};
use std::sync::Arc;

use crate::pool::{Backend, DbPool, PoolOptions, with_conn};
use crate::transaction::Held;

/// Handle on the database; cheap to clone, shared by every service. Inside a unit of work (see
/// [`Store::begin`]) it holds one connection in an open transaction instead of the pool.
#[derive(Clone)]
pub struct Store {
    source: Source,
}

/// Where a store's operations get their connection.
#[derive(Clone)]
pub(crate) enum Source {
    /// A connection from the pool per operation.
    Pool(DbPool),
    /// The connection of a unit of work.
    Held(Arc<Held>),
}

impl Store {
    /// Opens a pool for `url` (`postgres://…` or `sqlite://PATH`) and checks that the database
    /// answers, so a bad URL fails at start rather than at the first request.
    pub async fn connect(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        let store = Store { source: Source::Pool(DbPool::new(url, options)?) };
        store.ping().await.map_err(|e| StoreError::Connect(ErrorChain(&e).to_string()))?;
        Ok(store)
    }

    /// Opens a pool for `url` without opening a connection: each is opened at its first use, by
    /// the thread that uses it (whose runtime then drives it).
    pub fn open(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        Ok(Store { source: Source::Pool(DbPool::new(url, options)?) })
    }

    /// A store over a unit of work's connection.
    pub(crate) fn held(held: Arc<Held>) -> Self {
        Store { source: Source::Held(held) }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.source {
            Source::Pool(pool) => crate::migrate::run(pool).await,
            Source::Held(_) => Err(StoreError::Migration("not inside a unit of work".into())),
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match &self.source {
            Source::Pool(pool) => pool.backend(),
            Source::Held(held) => held.backend,
        }
    }

    /// Closes the pool: waiting callers fail, idle connections are dropped.
    pub fn close(&self) {
        if let Source::Pool(pool) = &self.source {
            pool.close();
        }
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }
}

#[async_trait]
impl StoreHealth for Store {
    async fn ping(&self) -> RepoResult<()> {
        with_conn!(self, |conn| conn.batch_execute("SELECT 1").await.map_err(db_error))
    }

    fn pool_stats(&self) -> Option<tidings_domain::PoolStats> {
        match &self.source {
            Source::Pool(pool) => Some(pool.stats()),
            Source::Held(_) => None,
        }
    }
}
