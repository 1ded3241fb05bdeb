//! The audit log table: rows are appended, read newest first per company, and expired by age.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{AuditActor, AuditEntry, AuditQuery, AuditRepo, CompanyId, RepoError, RepoResult};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{json, naive, parse_id, utc};
use crate::schema::audit_log as a;
use crate::store::Store;

#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = a)]
struct AuditRow {
    id: String,
    company_id: String,
    action: String,
    actor_kind: String,
    actor_id: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    detail: String,
    ip_sealed: Option<String>,
    occurred_at: NaiveDateTime,
}

impl From<AuditEntry> for AuditRow {
    fn from(entry: AuditEntry) -> Self {
        let (target_kind, target_id) = entry.target.unzip();
        AuditRow {
            id: entry.id.to_string(),
            company_id: entry.company_id.to_string(),
            action: entry.action.as_str().to_owned(),
            actor_kind: entry.actor.kind().to_owned(),
            actor_id: entry.actor.id(),
            target_kind,
            target_id,
            detail: entry.detail.to_string(),
            ip_sealed: entry.ip_sealed,
            occurred_at: naive(entry.occurred_at),
        }
    }
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = RepoError;
    fn try_from(row: AuditRow) -> Result<Self, RepoError> {
        let actor = match row.actor_kind.as_str() {
            "user" => AuditActor::User(parse_id(&row.actor_id)?),
            "api_key" => AuditActor::Key(parse_id(&row.actor_id)?),
            other => return Err(RepoError::internal(format!("unknown audit actor kind `{other}`"))),
        };
        Ok(AuditEntry {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            action: parse_id(&row.action)?,
            actor,
            target: row.target_kind.zip(row.target_id),
            detail: json(&row.detail)?,
            ip_sealed: row.ip_sealed,
            occurred_at: utc(row.occurred_at),
        })
    }
}

#[async_trait]
impl AuditRepo for Store {
    async fn record_audit(&self, entry: AuditEntry) -> RepoResult<()> {
        let row = AuditRow::from(entry);
        with_conn!(self, |conn| {
            diesel::insert_into(a::table).values(&row).execute(conn).await.map_err(db_error)
        })?;
        Ok(())
    }

    async fn list_audit(&self, company_id: CompanyId, query: AuditQuery) -> RepoResult<Vec<AuditEntry>> {
        let company = company_id.to_string();
        let action = query.action.map(|action| action.as_str().to_owned());
        let before = query.before.map(|id| id.to_string());
        let rows: Vec<AuditRow> = with_conn!(self, |conn| {
            let mut select = a::table.filter(a::company_id.eq(&company)).into_boxed();
            if let Some(action) = &action {
                select = select.filter(a::action.eq(action));
            }
            if let Some(before) = &before {
                select = select.filter(a::id.lt(before));
            }
            select.order(a::id.desc()).limit(query.limit).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn expire_audit(&self, before: DateTime<Utc>, limit: i64) -> RepoResult<u64> {
        let before = naive(before);
        let deleted = with_conn!(self, |conn| {
            let oldest: Vec<String> = a::table
                .select(a::id)
                .filter(a::occurred_at.lt(before))
                .order(a::occurred_at.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)?;
            diesel::delete(a::table.filter(a::id.eq_any(&oldest))).execute(conn).await.map_err(db_error)
        })?;
        Ok(deleted as u64)
    }
}
