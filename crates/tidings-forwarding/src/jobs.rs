//! The cluster-safe job runner: periodic work (token refresh, reminders, retention) that runs once
//! per period across every node sharing the database. Each node ticks its runner; a job runs only
//! on the node whose lease on the job's row the store granted, and when that node dies mid-run the
//! lease expires and another node runs the job. No timer per node decides anything.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tidings_domain::{ErrorChain, JobRepo, JobRun};
use tokio::sync::watch;

/// A periodic piece of work.
#[async_trait]
pub trait Job: Send + Sync {
    /// Its name, unique in the cluster: the key of its row in the store.
    fn name(&self) -> &'static str;
    /// How long after a successful run's start it is due again.
    fn period(&self) -> Duration;
    /// Does the work once; the error is stored and logged, so it must never hold a secret.
    async fn run(&self) -> Result<(), String>;
}

/// Timers of a runner.
#[derive(Clone, Copy, Debug)]
pub struct JobSettings {
    /// How long the runner waits between two looks for due jobs.
    pub poll: Duration,
    /// How long a claimed job is held: longer than any run takes, or another node may start it too.
    pub lease: Duration,
    /// How long after a failed run the job is tried again.
    pub retry_after: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(5 * 60),
            retry_after: Duration::from_secs(60),
        }
    }
}

/// Runs registered jobs when the store grants this node their lease.
pub struct JobRunner {
    repo: Arc<dyn JobRepo>,
    owner: String,
    settings: JobSettings,
    jobs: Vec<Arc<dyn Job>>,
}

impl JobRunner {
    /// A runner over `repo` claiming jobs as `owner` (this node's name, shown to operators).
    pub fn new(repo: Arc<dyn JobRepo>, owner: String, settings: JobSettings) -> Self {
        Self { repo, owner, settings, jobs: Vec::new() }
    }

    /// Adds `job`, replacing one registered under the same name (two would share one row).
    #[must_use]
    pub fn register(mut self, job: Arc<dyn Job>) -> Self {
        self.jobs.retain(|known| known.name() != job.name());
        self.jobs.push(job);
        self
    }

    /// Tries every job once: runs those this node could claim and records how each ended; returns
    /// how many ran.
    pub async fn tick(&self) -> usize {
        let mut ran = 0;
        for job in &self.jobs {
            if self.try_run(job).await {
                ran += 1;
            }
        }
        ran
    }

    /// Ticks every `poll` until `stop` turns true; a run under way is finished before it stops.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            self.tick().await;
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll) => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
        }
    }

    async fn try_run(&self, job: &Arc<dyn Job>) -> bool {
        let name = job.name();
        let started = Utc::now();
        let run = match self.repo.claim_job(name, &self.owner, started, self.settings.lease).await {
            Ok(Some(run)) => run,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(job = name, error = %ErrorChain(&error), "could not claim a job");
                return false;
            }
        };
        // On a task of its own so that a panicking job is one failed run, not a dead runner.
        let running = Arc::clone(job);
        let outcome = tokio::spawn(async move { running.run().await })
            .await
            .unwrap_or_else(|_| Err("the job panicked".to_owned()));
        let ended = Utc::now();
        let (next_due, error) = match outcome {
            Ok(()) => (after(started, job.period()), None),
            Err(error) => {
                tracing::warn!(job = name, %error, retry_after = ?self.settings.retry_after, "a job failed");
                (after(ended, self.settings.retry_after), Some(error))
            }
        };
        self.finish(&run, ended, next_due, error).await;
        true
    }

    async fn finish(
        &self,
        run: &JobRun,
        ended: DateTime<Utc>,
        next_due: DateTime<Utc>,
        error: Option<String>,
    ) {
        match self.repo.finish_job(run, ended, next_due, error).await {
            Ok(true) => tracing::debug!(job = %run.name, %next_due, "a job ran"),
            Ok(false) => tracing::warn!(job = %run.name, "a job's lease ran out during its run"),
            Err(error) => {
                // The lease expires and the job runs again then: early, but never lost.
                tracing::warn!(job = %run.name, error = %ErrorChain(&error), "could not record a job's run");
            }
        }
    }
}

/// `t + wait`, saturating: a huge period means "not again", not a panic.
fn after(t: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| t.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_saturate_instead_of_overflowing() {
        let now = Utc::now();
        assert_eq!(after(now, Duration::from_secs(60)), now + chrono::Duration::seconds(60));
        assert_eq!(after(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
