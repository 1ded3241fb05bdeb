//! Jobs table: a row per periodic job, created on first sight and leased by one conditional UPDATE
//! whose affected rows decide who runs it; finished only under the lease still held.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{JobRepo, JobRun, JobState, RepoError, RepoResult};
use uuid::Uuid;

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{clipped, naive, utc};
use crate::schema::jobs as j;
use crate::store::Store;

#[derive(Queryable, Selectable)]
#[diesel(table_name = j)]
struct JobRow {
    name: String,
    due_at: NaiveDateTime,
    lease_owner: Option<String>,
    leased_until: Option<NaiveDateTime>,
    last_run_at: Option<NaiveDateTime>,
    last_error: Option<String>,
}

impl From<JobRow> for JobState {
    fn from(row: JobRow) -> Self {
        JobState {
            name: row.name,
            due_at: utc(row.due_at),
            lease_owner: row.lease_owner,
            leased_until: row.leased_until.map(utc),
            last_run_at: row.last_run_at.map(utc),
            last_error: row.last_error,
        }
    }
}

/// A time at the precision both backends keep, so that SQLite (which would keep nanoseconds) and
/// PostgreSQL compare and return the same values.
fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    naive(t).trunc_subsecs(6)
}

#[async_trait]
impl JobRepo for Store {
    async fn claim_job(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> RepoResult<Option<JobRun>> {
        let until = chrono::Duration::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .ok_or_else(|| RepoError::internal("job lease out of range"))?;
        let (now, until) = (stored(now), stored(until));
        let token = Uuid::now_v7().to_string();
        let (job, holder, bound) = (name.to_owned(), owner.to_owned(), token.clone());
        let claimed: Vec<Option<NaiveDateTime>> = with_conn!(self, |conn| {
            diesel::insert_into(j::table)
                .values((j::name.eq(&job), j::due_at.eq(now), j::updated_at.eq(now)))
                .on_conflict(j::name)
                .do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)?;
            // The WHERE is re-checked against the row as the winner left it (PostgreSQL waits on its
            // row lock; SQLite has one writer), so exactly one claimer updates it.
            diesel::update(
                j::table
                    .filter(j::name.eq(&job))
                    .filter(j::due_at.le(now))
                    .filter(j::leased_until.is_null().or(j::leased_until.lt(now))),
            )
            .set((
                j::lease_owner.eq(&holder),
                j::leased_until.eq(until),
                j::lease_token.eq(&bound),
                j::updated_at.eq(now),
            ))
            .returning(j::last_run_at)
            .get_results(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(claimed.into_iter().next().map(|last_run_at| JobRun {
            name: name.to_owned(),
            owner: owner.to_owned(),
            lease: token,
            last_run_at: last_run_at.map(utc),
        }))
    }

    async fn finish_job(
        &self,
        run: &JobRun,
        now: DateTime<Utc>,
        next_due: DateTime<Utc>,
        error: Option<String>,
    ) -> RepoResult<bool> {
        let (job, lease) = (run.name.clone(), run.lease.clone());
        let (now, next_due, error) = (stored(now), stored(next_due), error.map(clipped));
        let updated = with_conn!(self, |conn| {
            diesel::update(j::table.filter(j::name.eq(&job)).filter(j::lease_token.eq(&lease)))
                .set((
                    j::last_run_at.eq(now),
                    j::due_at.eq(next_due),
                    j::last_error.eq(&error),
                    j::lease_owner.eq(None::<String>),
                    j::leased_until.eq(None::<NaiveDateTime>),
                    j::lease_token.eq(None::<String>),
                    j::updated_at.eq(now),
                ))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(updated == 1)
    }

    async fn list_jobs(&self) -> RepoResult<Vec<JobState>> {
        let rows: Vec<JobRow> = with_conn!(self, |conn| {
            j::table.order(j::name).select(JobRow::as_select()).load(conn).await.map_err(db_error)
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
