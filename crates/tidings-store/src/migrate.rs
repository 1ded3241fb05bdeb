//! Schema migrations, embedded in the binary so a server needs neither the diesel CLI nor the SQL
//! files at run time.

use diesel_async::{AsyncMigrationHarness, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::StoreError;
use crate::pool::DbPool;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies every pending migration of the pool's backend.
pub(crate) async fn run(pool: &DbPool) -> Result<(), StoreError> {
    // The harness drives async connections with `block_in_place`, which only works off the async
    // workers: a blocking task makes this safe on any runtime flavour.
    let outcome = match pool {
        DbPool::Postgres(pool) => {
            let mut conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            // A migration may rebuild an index of a large table: no statement timeout for it. The
            // connection leaves the pool, so none comes back without its timeout.
            conn.batch_execute("SET statement_timeout = 0")
                .await
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            let conn = deadpool::managed::Object::take(conn);
            tokio::task::spawn_blocking(move || apply(AsyncMigrationHarness::new(conn), POSTGRES)).await
        }
        DbPool::Sqlite(pool) => {
            let conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            tokio::task::spawn_blocking(move || apply(AsyncMigrationHarness::new(conn), SQLITE)).await
        }
    };
    outcome.map_err(|e| StoreError::Migration(e.to_string()))?
}

/// One move of the migration harness, for tests that walk the migrations down and up again.
#[cfg(feature = "test-util")]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// Runs the down.sql of every applied migration, newest first.
    RevertAll,
    /// Runs the down.sql of the newest applied migration.
    RevertLast,
    /// Runs the up.sql of the oldest pending migration.
    RunNext,
}

/// Takes `step` on the pool's backend; the versions it ran, in the order it ran them.
#[cfg(feature = "test-util")]
pub(crate) async fn step(pool: &DbPool, step: Step) -> Result<Vec<String>, StoreError> {
    // Off the async workers for the same reason as in `run`.
    let outcome = match pool {
        DbPool::Postgres(pool) => {
            let conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            tokio::task::spawn_blocking(move || take(AsyncMigrationHarness::new(conn), POSTGRES, step)).await
        }
        DbPool::Sqlite(pool) => {
            let conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            tokio::task::spawn_blocking(move || take(AsyncMigrationHarness::new(conn), SQLITE, step)).await
        }
    };
    outcome.map_err(|e| StoreError::Migration(e.to_string()))?
}

#[cfg(feature = "test-util")]
fn take<H, DB>(mut harness: H, migrations: EmbeddedMigrations, step: Step) -> Result<Vec<String>, StoreError>
where
    H: MigrationHarness<DB>,
    DB: diesel::backend::Backend,
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let versions = match step {
        Step::RevertAll => harness.revert_all_migrations(migrations),
        Step::RevertLast => harness.revert_last_migration(migrations).map(|v| vec![v]),
        Step::RunNext => harness.run_next_migration(migrations).map(|v| vec![v]),
    };
    let versions = versions.map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(versions.iter().map(ToString::to_string).collect())
}

fn apply<H, DB>(mut harness: H, migrations: EmbeddedMigrations) -> Result<(), StoreError>
where
    H: MigrationHarness<DB>,
    DB: diesel::backend::Backend,
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let applied =
        harness.run_pending_migrations(migrations).map_err(|e| StoreError::Migration(e.to_string()))?;
    for version in applied {
        tracing::info!(%version, "applied migration");
    }
    Ok(())
}
