//! SQLite's write-ahead log, copied into the database file off the request path.
//!
//! In WAL mode a commit appends its pages to the log; a checkpoint copies them into the database
//! file and syncs both files. By default SQLite makes the commit that takes the log past 1,000
//! pages run the checkpoint itself, so one request in a few hundred paid for two fsyncs (3-4 ms
//! here, the whole p99 of an append: docs/benchmarks.md). Here the server runs
//! [`Store::run_checkpoints`] instead, and a connection checkpoints by itself only past
//! [`SELF_CHECKPOINT_PAGES`]: where nobody runs the checkpointer (a store embedded in tests or in
//! another program) the log still stays bounded.

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use tidings_domain::RepoResult;
use tokio::sync::watch;

use crate::error::db_error;
use crate::pool::{Backend, with_conn};
use crate::store::Store;

/// How often the checkpointer copies the log into the database file: often enough that the log
/// stays short under a heavy write load, and a turn with nothing to copy costs next to nothing.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Pages of log past which a committing connection checkpoints by itself (about 40 MB): a safety
/// net for stores whose owner runs no checkpointer, never reached while one runs.
pub(crate) const SELF_CHECKPOINT_PAGES: u32 = 10_000;

/// What one checkpoint did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, QueryableByName)]
pub struct Checkpoint {
    /// Whether a writer or reader kept the checkpoint from finishing (1) or not (0).
    #[diesel(sql_type = BigInt)]
    pub busy: i64,
    /// Pages in the log.
    #[diesel(sql_type = BigInt, column_name = log)]
    pub log_pages: i64,
    /// Pages of the log now in the database file.
    #[diesel(sql_type = BigInt, column_name = checkpointed)]
    pub checkpointed_pages: i64,
}

impl Store {
    /// Copies what SQLite's write-ahead log holds into the database file, without waiting on
    /// readers or writers (a passive checkpoint: pages a reader still needs wait for the next one).
    /// `None` on PostgreSQL, which has no such log to tend.
    pub async fn checkpoint(&self) -> RepoResult<Option<Checkpoint>> {
        if self.backend() != Backend::Sqlite {
            return Ok(None);
        }
        with_conn!(self, |conn| {
            let done: Checkpoint =
                sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn).await.map_err(db_error)?;
            Ok(Some(done))
        })
    }

    /// Checkpoints every [`CHECKPOINT_EVERY`] until `stop` turns true; on PostgreSQL returns at
    /// once. A failed checkpoint is logged and tried again at the next turn.
    pub async fn run_checkpoints(self, mut stop: watch::Receiver<bool>) {
        if self.backend() != Backend::Sqlite {
            return;
        }
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = every.tick() => false,
                _ = stop.wait_for(|stopping| *stopping) => true,
            };
            if stopping {
                return;
            }
            if let Err(error) = self.checkpoint().await {
                let error = tidings_domain::ErrorChain(&error);
                tracing::warn!(error = %error, "the write-ahead log could not be checkpointed");
            }
        }
    }
}
