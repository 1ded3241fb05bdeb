//! Schema migrations, embedded in the binary so a server needs neither the diesel CLI nor the SQL
//! files at run time.

use diesel_async::AsyncMigrationHarness;
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
            let conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            tokio::task::spawn_blocking(move || apply(AsyncMigrationHarness::new(conn), POSTGRES)).await
        }
        DbPool::Sqlite(pool) => {
            let conn = pool.get().await.map_err(|e| StoreError::Connect(e.to_string()))?;
            tokio::task::spawn_blocking(move || apply(AsyncMigrationHarness::new(conn), SQLITE)).await
        }
    };
    outcome.map_err(|e| StoreError::Migration(e.to_string()))?
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
