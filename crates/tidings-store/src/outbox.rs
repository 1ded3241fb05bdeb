//! Outbox table: enqueue once per idempotency key, claim due rows under a lease (PostgreSQL skips rows
//! another worker holds; SQLite has one writer at a time), settle only under the lease still held.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use tidings_domain::{
    Claimed, CompanyId, NewOutboxItem, OutboxId, OutboxItem, OutboxKind, OutboxRepo, OutboxStats,
    OutboxStatus, RepoError, RepoResult, Settlement,
};

use crate::error::db_error;
use crate::pool::{Backend, with_conn};
use crate::rows::{clipped, json, naive, now, parse_id, utc};
use crate::schema::outbox as o;
use crate::store::Store;

#[derive(Clone, Queryable, QueryableByName, Insertable)]
#[diesel(table_name = o)]
pub(crate) struct OutboxRow {
    pub id: String,
    pub company_id: String,
    pub kind: String,
    pub idempotency_key: String,
    pub payload: String,
    pub message_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    pub leased_until: Option<NaiveDateTime>,
    pub lease_token: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub order_key: Option<String>,
}

impl TryFrom<OutboxRow> for OutboxItem {
    type Error = RepoError;
    fn try_from(row: OutboxRow) -> Result<Self, RepoError> {
        Ok(OutboxItem {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            kind: parse_id(&row.kind)?,
            idempotency_key: row.idempotency_key,
            payload: json(&row.payload)?,
            message_id: row.message_id.as_deref().map(parse_id).transpose()?,
            order_key: row.order_key,
            status: parse_id(&row.status)?,
            attempts: row.attempts,
            due_at: utc(row.due_at),
            leased_until: row.leased_until.map(utc),
            last_error: row.last_error,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

const COLUMNS: &str = "id, company_id, kind, idempotency_key, payload, message_id, status, attempts, due_at, \
    leased_until, lease_token, last_error, created_at, updated_at, order_key";

/// Leases the oldest due rows in one statement. PostgreSQL skips rows other claimers are locking, so
/// concurrent workers share the work; SQLite's single writer makes the statement exclusive. A row
/// waits while an earlier row of its order key is pending (even one in backoff): the key's rows go
/// out one after another, in the order they were enqueued.
fn claim_sql(backend: Backend) -> String {
    let (lock, p) = match backend {
        Backend::Postgres => (" FOR UPDATE SKIP LOCKED", ["$1", "$2", "$3", "$4"]),
        Backend::Sqlite => ("", ["?1", "?2", "?3", "?4"]),
    };
    let [leased_until, token, now, limit] = p;
    format!(
        "UPDATE outbox SET attempts = attempts + 1, leased_until = {leased_until}, lease_token = {token}, \
         updated_at = {now} WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'pending' \
         AND o.due_at <= {now} AND (o.leased_until IS NULL OR o.leased_until < {now}) \
         AND (o.order_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_key = o.order_key \
         AND e.status = 'pending' AND (e.created_at < o.created_at OR (e.created_at = o.created_at AND e.id < o.id)))) \
         ORDER BY o.due_at, o.id LIMIT {limit}{lock}) \
         RETURNING {COLUMNS}"
    )
}

#[async_trait]
impl OutboxRepo for Store {
    async fn enqueue(&self, new: NewOutboxItem) -> RepoResult<OutboxItem> {
        let now = now();
        let row = OutboxRow {
            id: OutboxId::new().to_string(),
            company_id: new.company_id.to_string(),
            kind: new.kind.as_str().to_owned(),
            idempotency_key: new.idempotency_key,
            payload: new.payload.to_string(),
            message_id: new.message_id.map(|m| m.to_string()),
            status: OutboxStatus::Pending.as_str().to_owned(),
            attempts: 0,
            due_at: new.due_at.map_or(now, naive),
            leased_until: None,
            lease_token: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            order_key: new.order_key,
        };
        let stored = with_conn!(self, |conn| {
            let inserted = diesel::insert_into(o::table)
                .values(&row)
                .on_conflict((o::company_id, o::idempotency_key))
                .do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)?;
            if inserted == 1 {
                return Ok(row);
            }
            o::table
                .filter(o::company_id.eq(&row.company_id))
                .filter(o::idempotency_key.eq(&row.idempotency_key))
                .first::<OutboxRow>(conn)
                .await
                .map_err(db_error)
        })?;
        stored.try_into()
    }

    async fn claim(&self, now: DateTime<Utc>, lease: Duration, limit: i64) -> RepoResult<Vec<Claimed>> {
        let lease = chrono::Duration::from_std(lease).map_err(RepoError::internal)?;
        let (now, until) = (naive(now), naive(now + lease));
        let token = OutboxId::new().to_string();
        let sql = claim_sql(self.backend());
        let bound = token.clone();
        let rows: Vec<OutboxRow> = with_conn!(self, |conn| {
            diesel::sql_query(&sql)
                .bind::<Timestamp, _>(until)
                .bind::<Text, _>(&bound)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            claimed.push(Claimed { item: row.try_into()?, lease: token.clone() });
        }
        claimed.sort_by_key(|c| (c.item.due_at, c.item.id));
        Ok(claimed)
    }

    async fn settle(&self, id: OutboxId, lease: &str, outcome: Settlement) -> RepoResult<bool> {
        let (id, lease, now) = (id.to_string(), lease.to_owned(), now());
        let (status, due_at, error) = match outcome {
            Settlement::Delivered => (OutboxStatus::Delivered, None, None),
            Settlement::Retry { at, error } => (OutboxStatus::Pending, Some(naive(at)), Some(clipped(error))),
            Settlement::Dead { error } => (OutboxStatus::Dead, None, Some(clipped(error))),
            Settlement::Skipped { reason } => (OutboxStatus::Skipped, None, Some(clipped(reason))),
        };
        let updated = with_conn!(self, |conn| {
            let target = o::table.filter(o::id.eq(&id)).filter(o::lease_token.eq(&lease));
            let cleared = (
                o::status.eq(status.as_str()),
                o::leased_until.eq(None::<NaiveDateTime>),
                o::lease_token.eq(None::<String>),
                o::last_error.eq(&error),
                o::updated_at.eq(now),
            );
            match due_at {
                Some(due_at) => {
                    diesel::update(target).set((cleared, o::due_at.eq(due_at))).execute(conn).await
                }
                None => diesel::update(target).set(cleared).execute(conn).await,
            }
            .map_err(db_error)
        })?;
        Ok(updated == 1)
    }

    async fn list_outbox(
        &self,
        company_id: CompanyId,
        status: Option<OutboxStatus>,
        kind: Option<OutboxKind>,
        after: Option<OutboxId>,
        limit: i64,
    ) -> RepoResult<Vec<OutboxItem>> {
        let company = company_id.to_string();
        let after = after.map(|a| a.to_string());
        let rows: Vec<OutboxRow> = with_conn!(self, |conn| {
            let mut q =
                o::table.filter(o::company_id.eq(&company)).order(o::id.desc()).limit(limit).into_boxed();
            if let Some(status) = status {
                q = q.filter(o::status.eq(status.as_str()));
            }
            if let Some(kind) = kind {
                q = q.filter(o::kind.eq(kind.as_str()));
            }
            if let Some(after) = &after {
                q = q.filter(o::id.lt(after));
            }
            q.load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<OutboxItem> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let row: OutboxRow = with_conn!(self, |conn| {
            o::table
                .filter(o::company_id.eq(&company))
                .filter(o::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn retry_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<OutboxItem> {
        let (company, id, now) = (company_id.to_string(), id.to_string(), now());
        let row: OutboxRow = with_conn!(self, |conn| {
            diesel::update(
                o::table
                    .filter(o::company_id.eq(&company))
                    .filter(o::id.eq(&id))
                    .filter(o::status.ne(OutboxStatus::Delivered.as_str())),
            )
            .set((
                o::status.eq(OutboxStatus::Pending.as_str()),
                o::attempts.eq(0),
                o::due_at.eq(now),
                o::leased_until.eq(None::<NaiveDateTime>),
                o::lease_token.eq(None::<String>),
                o::updated_at.eq(now),
            ))
            .get_result(conn)
            .await
            .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn delete_outbox(&self, company_id: CompanyId, id: OutboxId) -> RepoResult<()> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let deleted = with_conn!(self, |conn| {
            diesel::delete(o::table.filter(o::company_id.eq(&company)).filter(o::id.eq(&id)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        if deleted == 0 { Err(RepoError::not_found()) } else { Ok(()) }
    }

    async fn outbox_stats(&self, now: DateTime<Utc>) -> RepoResult<OutboxStats> {
        let rows: Vec<(String, i64, Option<NaiveDateTime>)> = with_conn!(self, |conn| {
            o::table
                .group_by(o::status)
                .select((o::status, diesel::dsl::count_star(), diesel::dsl::min(o::created_at)))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        let mut stats = OutboxStats::default();
        for (status, count, oldest) in rows {
            match parse_id::<OutboxStatus>(&status)? {
                OutboxStatus::Pending => {
                    stats.pending = count;
                    stats.oldest_pending_secs = oldest.map_or(0, |t| (now - utc(t)).num_seconds().max(0));
                }
                OutboxStatus::Dead => stats.dead = count,
                OutboxStatus::Delivered | OutboxStatus::Skipped => {}
            }
        }
        Ok(stats)
    }
}
