//! The job runner against a real store: two nodes ticking together run a job once per period, a job
//! runs again once its period has passed, a failed run is retried after `retry_after` and not before,
//! a node that died holding a job is taken over when its lease expires, a panic is one failed run,
//! and the run loop stops when told.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tidings_domain::{JobRepo, JobState};
use tidings_forwarding::{Job, JobRunner, JobSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::sync::watch;

backend_tests!(
    two_nodes_ticking_together_run_a_job_once_per_period,
    a_job_runs_again_once_its_period_has_passed,
    a_failed_run_is_retried_after_retry_after_and_not_before,
    a_job_held_by_a_dead_node_is_taken_over_when_its_lease_expires,
    a_panicking_job_is_a_failed_run_and_the_others_still_run,
    the_run_loop_runs_jobs_and_stops_when_told,
);

const HOUR: Duration = Duration::from_secs(3600);

/// Counts its runs; the first `failures` of them fail.
struct Counting {
    name: &'static str,
    period: Duration,
    failures: usize,
    runs: Arc<AtomicUsize>,
}

impl Counting {
    fn new(name: &'static str, period: Duration, failures: usize) -> Arc<Self> {
        Arc::new(Self { name, period, failures, runs: Arc::default() })
    }

    /// Another node's instance of the same job, counting into the same total.
    fn twin(&self) -> Arc<Self> {
        Arc::new(Self { runs: self.runs.clone(), ..*self })
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Job for Counting {
    fn name(&self) -> &'static str {
        self.name
    }

    fn period(&self) -> Duration {
        self.period
    }

    async fn run(&self) -> Result<(), String> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        if run < self.failures { Err(format!("refresh failed (run {run})")) } else { Ok(()) }
    }
}

struct Panicking;

#[async_trait]
impl Job for Panicking {
    fn name(&self) -> &'static str {
        "panicking"
    }

    fn period(&self) -> Duration {
        HOUR
    }

    async fn run(&self) -> Result<(), String> {
        panic!("a bug in a job")
    }
}

fn settings(retry_after: Duration) -> JobSettings {
    JobSettings { poll: Duration::from_millis(10), lease: Duration::from_secs(30), retry_after }
}

fn runner(db: &TestDb, owner: &str, retry_after: Duration, job: Arc<dyn Job>) -> JobRunner {
    JobRunner::new(Arc::new(db.store().clone()), owner.into(), settings(retry_after)).register(job)
}

async fn state(db: &TestDb, name: &str) -> JobState {
    let jobs = db.store().list_jobs().await.unwrap();
    jobs.into_iter().find(|j| j.name == name).unwrap_or_else(|| panic!("no job {name}"))
}

async fn two_nodes_ticking_together_run_a_job_once_per_period(db: &TestDb) {
    let job = Counting::new("meta.token_refresh", HOUR, 0);
    let nodes = [("node-a", job.clone()), ("node-b", job.twin())].map(|(owner, job)| {
        let runner = runner(db, owner, HOUR, job);
        tokio::spawn(async move {
            let mut ran = 0;
            for _ in 0..25 {
                ran += runner.tick().await;
            }
            ran
        })
    });
    let mut ran = 0;
    for node in nodes {
        ran += node.await.unwrap();
    }
    assert_eq!((job.runs(), ran), (1, 1), "once across both nodes");
    let stored = state(db, "meta.token_refresh").await;
    let (last_run, due) = (stored.last_run_at.unwrap(), stored.due_at);
    assert_eq!((stored.leased_until, stored.last_error.as_deref()), (None, None));
    assert!(due - last_run > chrono::Duration::minutes(59), "due an hour after the run: {stored:?}");
}

async fn a_job_runs_again_once_its_period_has_passed(db: &TestDb) {
    let job = Counting::new("reminders", Duration::from_secs(1), 0);
    let runner = runner(db, "node-a", HOUR, job.clone());
    assert_eq!(runner.tick().await, 1);
    assert_eq!(runner.tick().await, 0, "not again within its period");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(runner.tick().await, 1, "its period has passed");
    assert_eq!(job.runs(), 2);
}

async fn a_failed_run_is_retried_after_retry_after_and_not_before(db: &TestDb) {
    let job = Counting::new("meta.token_refresh", HOUR, 1);
    let retry_after = Duration::from_secs(1);
    let runner = runner(db, "node-a", retry_after, job.clone());
    assert_eq!(runner.tick().await, 1);
    let failed = state(db, "meta.token_refresh").await;
    assert_eq!(failed.last_error.as_deref(), Some("refresh failed (run 0)"));
    assert_eq!(failed.due_at - failed.last_run_at.unwrap(), chrono::Duration::seconds(1), "{failed:?}");

    assert_eq!(runner.tick().await, 0, "not before retry_after");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(runner.tick().await, 1, "retried after retry_after");
    assert_eq!(job.runs(), 2);
    let succeeded = state(db, "meta.token_refresh").await;
    assert_eq!(succeeded.last_error, None);
    assert!(succeeded.due_at > Utc::now() + chrono::Duration::minutes(59), "{succeeded:?}");
    assert_eq!(runner.tick().await, 0, "then once per period again");
}

async fn a_job_held_by_a_dead_node_is_taken_over_when_its_lease_expires(db: &TestDb) {
    let job = Counting::new("retention", HOUR, 0);
    let runner = runner(db, "node-b", HOUR, job.clone());
    let lease = Duration::from_millis(500);
    let dead = db.store().claim_job("retention", "node-a", Utc::now(), lease).await.unwrap().unwrap();
    assert_eq!(runner.tick().await, 0, "held by node-a while its lease lasts");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(runner.tick().await, 1, "node-a's lease expired: node-b runs the job");
    assert_eq!(job.runs(), 1);
    let done = state(db, "retention").await;
    assert_eq!((done.lease_owner, done.last_error), (None, None));
    assert!(done.last_run_at.is_some());
    let late = db.store().finish_job(&dead, Utc::now(), Utc::now(), None).await.unwrap();
    assert!(!late, "node-a, back from the dead, records nothing");
    assert_eq!(state(db, "retention").await.due_at, done.due_at);
}

async fn a_panicking_job_is_a_failed_run_and_the_others_still_run(db: &TestDb) {
    let job = Counting::new("reminders", HOUR, 0);
    let runner = runner(db, "node-a", HOUR, Arc::new(Panicking)).register(job.clone());
    assert_eq!(runner.tick().await, 2);
    assert_eq!(job.runs(), 1);
    assert_eq!(state(db, "panicking").await.last_error.as_deref(), Some("the job panicked"));
    assert_eq!(runner.tick().await, 0, "both wait: the panic for retry_after");
}

async fn the_run_loop_runs_jobs_and_stops_when_told(db: &TestDb) {
    let job = Counting::new("meta.token_refresh", HOUR, 0);
    let (stop, stopping) = watch::channel(false);
    let running = tokio::spawn(runner(db, "node-a", HOUR, job.clone()).run(stopping));
    for _ in 0..500 {
        if job.runs() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(job.runs(), 1, "the loop ticked");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("stopped in time").unwrap();
    assert_eq!(job.runs(), 1, "once per period");
}
