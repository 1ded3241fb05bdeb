//! Connection pools for both backends, chosen by the scheme of the database URL.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{Hook, HookError, HookResult, Metrics};
use diesel::{ConnectionError, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

use tidings_domain::{RepoError, RepoResult};

use crate::error::StoreError;

/// SQLite connection as diesel-async sees it: the sync driver run on tokio's blocking pool.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Which database engine a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, the production store.
    Postgres,
    /// SQLite, the embedded default.
    Sqlite,
}

/// Sizing of the connection pool.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: usize,
    /// How long a caller waits for a free connection before the store reports itself unavailable.
    pub wait_timeout: Duration,
    /// How long one PostgreSQL statement may run before the database cancels it (a transient
    /// error), so a runaway query cannot hold a connection and its locks. SQLite has its busy
    /// timeout (10 s) instead.
    pub statement_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// A pool of connections to one of the two backends.
#[derive(Clone)]
pub(crate) enum DbPool {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// Every SQLite connection gets these: concurrent readers with one writer (WAL), writers that wait
/// for the lock instead of failing at once, enforced foreign keys (off by default in SQLite), and
/// checkpoints left to the checkpointer up to a safety net (see [`crate::checkpoint`]).
fn sqlite_setup() -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
         PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
        crate::checkpoint::SELF_CHECKPOINT_PAGES
    )
}

/// A pooled PostgreSQL connection unused for this long is checked with a query before it is handed
/// out again: the database may have restarted or dropped it meanwhile.
const VERIFY_IDLE_AFTER: Duration = Duration::from_secs(5);

/// Checks `conn` with a query when it has been idle past [`VERIFY_IDLE_AFTER`]; the pool drops a
/// connection that fails and takes another. One used moments ago is handed out as it is: checking
/// every checkout cost a round trip each, two or three per request. Should one have died since,
/// its query fails as transient (retried by the client) and the pool then drops it as broken.
async fn verify_if_idle(conn: &mut AsyncPgConnection, idle: Duration) -> HookResult<PoolError> {
    if idle < VERIFY_IDLE_AFTER {
        return Ok(());
    }
    conn.batch_execute("SELECT 1").await.map_err(|e| HookError::Backend(PoolError::QueryError(e)))
}

impl DbPool {
    /// Builds a pool for `url`: `postgres://` or `postgresql://` for PostgreSQL, `sqlite://PATH` for
    /// SQLite. No connection is opened until the first use.
    pub(crate) fn new(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let setup = format!("SET statement_timeout = {}", options.statement_timeout.as_millis().max(1));
            let mut config = ManagerConfig::<AsyncPgConnection>::default();
            // Checked by `verify_if_idle` instead of a query at every checkout.
            config.recycling_method = RecyclingMethod::Fast;
            config.custom_setup = Box::new(move |url| {
                let (url, setup) = (url.to_owned(), setup.clone());
                async move {
                    let mut conn = AsyncPgConnection::establish(&url).await?;
                    conn.batch_execute(&setup).await.map_err(ConnectionError::CouldntSetupConfiguration)?;
                    Ok(conn)
                }
                .boxed()
            });
            let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
            let pool = Pool::builder(manager)
                .max_size(options.max_size)
                .wait_timeout(Some(options.wait_timeout))
                .create_timeout(Some(options.wait_timeout))
                .runtime(Runtime::Tokio1)
                .pre_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics: &Metrics| {
                    verify_if_idle(conn, metrics.last_used()).boxed()
                }))
                .build()
                .map_err(|e| StoreError::Config(e.to_string()))?;
            return Ok(DbPool::Postgres(pool));
        }
        let path = sqlite_path(url)?;
        let mut config = ManagerConfig::<SqliteConn>::default();
        // A connection to a file does not go stale: no test query (a trip to the blocking pool)
        // at every checkout.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(|path| {
            let path = path.to_owned();
            async move {
                let mut conn = SqliteConn::establish(&path).await?;
                conn.batch_execute(&sqlite_setup())
                    .await
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
        let pool = Pool::builder(manager)
            .max_size(options.max_size)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.wait_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(DbPool::Sqlite(pool))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            DbPool::Postgres(_) => Backend::Postgres,
            DbPool::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub(crate) fn stats(&self) -> tidings_domain::PoolStats {
        let status = match self {
            DbPool::Postgres(pool) => pool.status(),
            DbPool::Sqlite(pool) => pool.status(),
        };
        tidings_domain::PoolStats {
            max_size: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
        }
    }

    pub(crate) fn close(&self) {
        match self {
            DbPool::Postgres(pool) => pool.close(),
            DbPool::Sqlite(pool) => pool.close(),
        }
    }
}

/// The file path inside a `sqlite://` URL. In-memory databases are refused: every pooled
/// connection would see a different, empty database.
fn sqlite_path(url: &str) -> Result<String, StoreError> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or_else(|| {
        StoreError::Config("expected a URL starting with postgres://, postgresql:// or sqlite://".into())
    })?;
    if path.is_empty() || path.contains(":memory:") {
        return Err(StoreError::Config("sqlite URL needs a file path, e.g. sqlite://tidings.db".into()));
    }
    Ok(path.to_owned())
}

/// Runs `$body` with `$conn` bound to a connection of whichever backend the store uses (from the
/// pool, or the one a unit of work holds). The body is written once and compiled for both
/// connection types; it must evaluate to a
/// `Result<_, RepoError>`, and own what it uses (it runs on a task of its own, see [`detached`]).
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let source = $store.source().clone();
        $crate::pool::detached(async move {
            match source {
                $crate::store::Source::Pool($crate::pool::DbPool::Postgres(pool)) => {
                    let mut guard = $crate::pool::checkout(&pool).await?;
                    let $conn = &mut *guard;
                    $body
                }
                $crate::store::Source::Pool($crate::pool::DbPool::Sqlite(pool)) => {
                    let mut guard = $crate::pool::checkout(&pool).await?;
                    let $conn = &mut *guard;
                    $body
                }
                $crate::store::Source::Held(held) => {
                    let mut guard = held.conn.clone().lock_owned().await;
                    match guard.as_mut() {
                        Some($crate::transaction::HeldConn::Postgres(conn)) => {
                            let $conn = &mut **conn;
                            $body
                        }
                        Some($crate::transaction::HeldConn::Sqlite(conn)) => {
                            let $conn = &mut **conn;
                            $body
                        }
                        None => Err(tidings_domain::RepoError::internal("the unit of work has ended")),
                    }
                }
            }
        })
        .await
    }};
}
pub(crate) use with_conn;

/// Like [`with_conn`], but `$body` (a `Result<_, E>` with `E: From<diesel::result::Error>`)
/// runs atomically: in a transaction of its own on a pooled connection, or directly inside a
/// unit of work, whose transaction already makes it all-or-nothing (a savepoint would cost two
/// round trips per operation). A body that fails inside a unit of work spoils the unit: its
/// writes so far cannot be taken back alone, so the unit refuses to commit (see [`Held`]).
///
/// [`Held`]: crate::transaction::Held
macro_rules! atomic {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let source = $store.source().clone();
        $crate::pool::detached(async move {
            match source {
                $crate::store::Source::Pool($crate::pool::DbPool::Postgres(pool)) => {
                    let mut guard = $crate::pool::checkout(&pool).await?;
                    Ok(guard.transaction(async |$conn| $body).await)
                }
                $crate::store::Source::Pool($crate::pool::DbPool::Sqlite(pool)) => {
                    let mut guard = $crate::pool::checkout(&pool).await?;
                    Ok(guard.transaction(async |$conn| $body).await)
                }
                $crate::store::Source::Held(held) => {
                    let mut guard = held.conn.clone().lock_owned().await;
                    let done = match guard.as_mut() {
                        Some($crate::transaction::HeldConn::Postgres(conn)) => {
                            let $conn = &mut **conn;
                            (async { $body }).await
                        }
                        Some($crate::transaction::HeldConn::Sqlite(conn)) => {
                            let $conn = &mut **conn;
                            (async { $body }).await
                        }
                        None => {
                            return Err(tidings_domain::RepoError::internal("the unit of work has ended"));
                        }
                    };
                    if done.is_err() {
                        held.spoil();
                    }
                    Ok(done)
                }
            }
        })
        .await
    }};
}
pub(crate) use atomic;

/// Runs a store operation to completion on a task of its own, whatever happens to its caller.
///
/// A caller may stop waiting half-way: actix drops a request's futures when another extractor
/// rejects it or the client hangs up. Dropped mid-statement, the SQLite driver (diesel-async's
/// sync wrapper) blocks in place to finish its thread-pool job, which panics on actix's
/// single-threaded workers; and on both backends a transaction dropped half-way would keep its
/// locks until the pool happened to recycle the connection. Detached, the operation commits or
/// rolls back as a whole and gives its connection back clean.
pub(crate) async fn detached<T, F>(operation: F) -> RepoResult<T>
where
    F: Future<Output = RepoResult<T>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(operation).await.map_err(RepoError::internal)?
}

/// A connection from `pool`; how long it took is recorded in `tidings_db_pool_wait_seconds` (a
/// pool too small for the load shows there first).
pub(crate) async fn checkout<C>(
    pool: &Pool<C>,
) -> RepoResult<diesel_async::pooled_connection::deadpool::Object<C>>
where
    C: diesel_async::pooled_connection::PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>:
        deadpool::managed::Manager<Type = C, Error = diesel_async::pooled_connection::PoolError>,
{
    let started = std::time::Instant::now();
    let conn = pool.get().await.map_err(crate::error::pool_error)?;
    metrics::histogram!("tidings_db_pool_wait_seconds").record(started.elapsed().as_secs_f64());
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_yield_their_path() {
        assert_eq!(sqlite_path("sqlite://tidings.db").unwrap(), "tidings.db");
        assert_eq!(sqlite_path("sqlite:///var/lib/t.db").unwrap(), "/var/lib/t.db");
        assert!(sqlite_path("sqlite://:memory:").is_err());
        assert!(sqlite_path("mysql://x").is_err());
    }
}
