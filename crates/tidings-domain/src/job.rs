//! Periodic jobs shared by every node of a cluster: each job is one row whose lease, taken in the
//! store, lets one node run it per period, and whose expiry hands it to another node when the one
//! running it dies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;

/// A job claimed by one owner, who holds it until the lease expires and finishes it with `lease`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
    /// The job's name.
    pub name: String,
    /// Who claimed it (a node's name, for operators).
    pub owner: String,
    /// The claim's token: only the claim that holds it may finish the run.
    pub lease: String,
    /// When the job last finished, if ever.
    pub last_run_at: Option<DateTime<Utc>>,
}

/// A job as stored, for operators and health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    /// The job's name.
    pub name: String,
    /// When it may run next.
    pub due_at: DateTime<Utc>,
    /// Who holds it, while leased.
    pub lease_owner: Option<String>,
    /// Until when it is held; a lease in the past is one whose owner died or overran.
    pub leased_until: Option<DateTime<Utc>>,
    /// When it last finished, if ever.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Why its last run failed; `None` after a success.
    pub last_error: Option<String>,
}

/// Persistence of the jobs' schedules and leases.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Claims `name` for `owner` until `now + lease` when it is due and no live lease holds it; a
    /// job never seen before is created due at once. Concurrent claimers never both get it.
    async fn claim_job(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
    ) -> RepoResult<Option<JobRun>>;
    /// Records a run that ended at `now` (with its error, if it failed), makes the job due at
    /// `next_due` and releases it; `false`, changing nothing, when the lease was lost to another claim.
    async fn finish_job(
        &self,
        run: &JobRun,
        now: DateTime<Utc>,
        next_due: DateTime<Utc>,
        error: Option<String>,
    ) -> RepoResult<bool>;
    /// Every job, by name.
    async fn list_jobs(&self) -> RepoResult<Vec<JobState>>;
}
