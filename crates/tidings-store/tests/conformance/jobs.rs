//! Jobs: created and claimed on first sight, one claimer at a time while a lease holds, not due again
//! before the time a finished run set, taken over when a lease expires (the dead owner's late finish
//! changing nothing), and exactly one winner among concurrent claimers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tidings_domain::{JobRepo, JobState};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::sync::Barrier;

backend_tests!(
    the_first_claim_creates_and_claims_the_job,
    a_second_claimer_gets_nothing_while_the_lease_holds,
    a_finished_job_waits_for_its_next_due_time,
    an_expired_lease_passes_to_another_owner_and_the_late_finish_changes_nothing,
    concurrent_claimers_get_the_job_once,
);

const JOB: &str = "meta.token_refresh";
const LEASE: Duration = Duration::from_secs(30);

/// Now at the precision the store keeps, so stored times compare equal to expected ones.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

async fn state(db: &TestDb, name: &str) -> JobState {
    let jobs = db.store().list_jobs().await.unwrap();
    jobs.into_iter().find(|j| j.name == name).unwrap_or_else(|| panic!("no job {name}"))
}

async fn the_first_claim_creates_and_claims_the_job(db: &TestDb) {
    let s = db.store();
    assert!(s.list_jobs().await.unwrap().is_empty());
    let now = now();
    let run = s.claim_job(JOB, "node-a", now, LEASE).await.unwrap().expect("due on first sight");
    assert_eq!((run.name.as_str(), run.owner.as_str(), run.last_run_at), (JOB, "node-a", None));
    assert!(!run.lease.is_empty());
    let stored = state(db, JOB).await;
    assert_eq!(
        stored,
        JobState {
            name: JOB.into(),
            due_at: now,
            lease_owner: Some("node-a".into()),
            leased_until: Some(now + secs(30)),
            last_run_at: None,
            last_error: None,
        }
    );
    let other = s.claim_job("retention", "node-a", now, LEASE).await.unwrap();
    assert!(other.is_some_and(|r| r.lease != run.lease), "jobs are leased one by one, each its own token");
    assert_eq!(db.count_rows("jobs").await, 2);
}

async fn a_second_claimer_gets_nothing_while_the_lease_holds(db: &TestDb) {
    let s = db.store();
    let now = now();
    s.claim_job(JOB, "node-a", now, LEASE).await.unwrap().unwrap();
    assert_eq!(s.claim_job(JOB, "node-b", now, LEASE).await.unwrap(), None);
    assert_eq!(s.claim_job(JOB, "node-a", now + secs(29), LEASE).await.unwrap(), None, "not even its owner");
    assert_eq!(s.claim_job(JOB, "node-b", now + secs(30), LEASE).await.unwrap(), None, "held to its end");
    assert_eq!(state(db, JOB).await.lease_owner.as_deref(), Some("node-a"));
    assert_eq!(db.count_rows("jobs").await, 1, "a claim never adds a second row");
}

async fn a_finished_job_waits_for_its_next_due_time(db: &TestDb) {
    let s = db.store();
    let now = now();
    let run = s.claim_job(JOB, "node-a", now, LEASE).await.unwrap().unwrap();
    let (ended, next_due) = (now + secs(2), now + secs(3600));
    let failure = "refresh failed: 500 ".repeat(200);
    assert!(s.finish_job(&run, ended, next_due, Some(failure)).await.unwrap());
    let stored = state(db, JOB).await;
    assert_eq!(
        (stored.due_at, stored.lease_owner, stored.leased_until, stored.last_run_at),
        (next_due, None, None, Some(ended))
    );
    let error = stored.last_error.unwrap();
    assert!(error.starts_with("refresh failed: 500"));
    assert_eq!(error.chars().count(), 2000, "long errors are cut");

    assert_eq!(s.claim_job(JOB, "node-b", now + secs(3599), LEASE).await.unwrap(), None, "not before");
    let again = s.claim_job(JOB, "node-b", next_due, LEASE).await.unwrap().expect("due at next_due");
    assert_eq!((again.owner.as_str(), again.last_run_at), ("node-b", Some(ended)));
    assert!(s.finish_job(&again, next_due, next_due + secs(3600), None).await.unwrap());
    assert_eq!(state(db, JOB).await.last_error, None, "a success clears the last error");
    assert!(!s.finish_job(&again, next_due, next_due, None).await.unwrap(), "a run finishes once");
}

async fn an_expired_lease_passes_to_another_owner_and_the_late_finish_changes_nothing(db: &TestDb) {
    let s = db.store();
    let now = now();
    let dead = s.claim_job(JOB, "node-a", now, LEASE).await.unwrap().unwrap();
    // node-a died mid-run; once its lease has expired, node-b takes the job over.
    let later = now + secs(31);
    let taken = s.claim_job(JOB, "node-b", later, LEASE).await.unwrap().expect("the lease expired");
    assert_ne!(taken.lease, dead.lease);
    let held = state(db, JOB).await;
    assert_eq!((held.lease_owner.as_deref(), held.leased_until), (Some("node-b"), Some(later + secs(30))));

    let late = s.finish_job(&dead, later + secs(1), later + secs(3600), Some("late".into())).await.unwrap();
    assert!(!late, "the lost lease finishes nothing");
    assert_eq!(state(db, JOB).await, held, "and changes nothing");

    assert!(s.finish_job(&taken, later + secs(2), later + secs(3600), None).await.unwrap());
    let done = state(db, JOB).await;
    assert_eq!(
        (done.due_at, done.last_run_at, done.lease_owner),
        (later + secs(3600), Some(later + secs(2)), None)
    );
}

async fn concurrent_claimers_get_the_job_once(db: &TestDb) {
    let store = db.store().clone();
    let now = now();
    // First the race to create the row, then the race over a row that exists and is due again.
    for round in 0..2 {
        let start = Arc::new(Barrier::new(8));
        let claimers: Vec<_> = (0..8)
            .map(|n| {
                let (store, start) = (store.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    store.claim_job(JOB, &format!("node-{n}"), now, LEASE).await.unwrap()
                })
            })
            .collect();
        let mut won = Vec::new();
        for claimer in claimers {
            won.extend(claimer.await.unwrap());
        }
        assert_eq!(won.len(), 1, "round {round}: exactly one claimer wins: {won:?}");
        assert_eq!(state(db, JOB).await.lease_owner, Some(won[0].owner.clone()));
        assert!(store.finish_job(&won[0], now, now, None).await.unwrap());
    }
    assert_eq!(db.count_rows("jobs").await, 1);
}
