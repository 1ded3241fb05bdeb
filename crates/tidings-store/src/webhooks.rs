//! Webhook endpoints and the log of their delivery attempts, always scoped by company.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{
    CompanyId, RepoError, RepoResult, WebhookAttempt, WebhookEndpoint, WebhookId, WebhookPatch, WebhookRepo,
};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{clipped, naive, now, parse_id, utc};
use crate::schema::{webhook_attempts as a, webhook_endpoints as w};
use crate::store::Store;

#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = w)]
struct EndpointRow {
    id: String,
    company_id: String,
    url: String,
    events: String,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
    disabled_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = RepoError;
    fn try_from(row: EndpointRow) -> Result<Self, RepoError> {
        Ok(WebhookEndpoint {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            url: row.url,
            events: serde_json::from_str(&row.events)
                .map_err(|e| RepoError::internal(format!("stored webhook events: {e}")))?,
            secret: row.secret,
            previous_secret: row.previous_secret,
            previous_until: row.previous_until.map(utc),
            failing_since: row.failing_since.map(utc),
            disabled_at: row.disabled_at.map(utc),
            disabled_reason: row.disabled_reason,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = a)]
struct AttemptRow {
    id: String,
    company_id: String,
    endpoint_id: String,
    outbox_id: String,
    event: String,
    delivery_id: String,
    status_code: Option<i32>,
    duration_ms: i64,
    error: Option<String>,
    attempted_at: NaiveDateTime,
}

impl TryFrom<AttemptRow> for WebhookAttempt {
    type Error = RepoError;
    fn try_from(row: AttemptRow) -> Result<Self, RepoError> {
        Ok(WebhookAttempt {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            endpoint_id: parse_id(&row.endpoint_id)?,
            outbox_id: parse_id(&row.outbox_id)?,
            event: row.event,
            delivery_id: row.delivery_id,
            status_code: row.status_code,
            duration_ms: row.duration_ms,
            error: row.error,
            attempted_at: utc(row.attempted_at),
        })
    }
}

impl Store {
    async fn endpoint_row(&self, company: String, id: String) -> RepoResult<EndpointRow> {
        with_conn!(self, |conn| {
            w::table.filter(w::company_id.eq(&company)).find(&id).first(conn).await.map_err(db_error)
        })
    }
}

#[async_trait]
impl WebhookRepo for Store {
    async fn create_webhook(&self, e: WebhookEndpoint) -> RepoResult<WebhookEndpoint> {
        let row = EndpointRow {
            id: e.id.to_string(),
            company_id: e.company_id.to_string(),
            url: e.url,
            events: serde_json::to_string(&e.events).map_err(RepoError::internal)?,
            secret: e.secret,
            previous_secret: e.previous_secret,
            previous_until: e.previous_until.map(naive),
            failing_since: None,
            disabled_at: e.disabled_at.map(naive),
            disabled_reason: e.disabled_reason,
            created_at: now(),
            updated_at: now(),
        };
        let stored = row.clone();
        with_conn!(self, |conn| {
            diesel::insert_into(w::table).values(&row).execute(conn).await.map_err(db_error)
        })?;
        stored.try_into()
    }

    async fn list_webhooks(&self, company_id: CompanyId) -> RepoResult<Vec<WebhookEndpoint>> {
        let company = company_id.to_string();
        let rows: Vec<EndpointRow> = with_conn!(self, |conn| {
            w::table.filter(w::company_id.eq(&company)).order(w::id).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn get_webhook(&self, company_id: CompanyId, id: WebhookId) -> RepoResult<WebhookEndpoint> {
        self.endpoint_row(company_id.to_string(), id.to_string()).await?.try_into()
    }

    async fn update_webhook(
        &self,
        company_id: CompanyId,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> RepoResult<WebhookEndpoint> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let events =
            patch.events.map(|e| serde_json::to_string(&e)).transpose().map_err(RepoError::internal)?;
        let row: EndpointRow = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                // A write first: it locks the row (and takes SQLite's write lock) before the read.
                let target = w::table.filter(w::company_id.eq(&company)).filter(w::id.eq(&id));
                if diesel::update(target).set(w::updated_at.eq(now())).execute(conn).await? == 0 {
                    return Err(diesel::result::Error::NotFound);
                }
                let current: EndpointRow = target.first(conn).await?;
                let mut next = current.clone();
                if let Some(url) = &patch.url {
                    next.url = url.clone();
                }
                if let Some(events) = &events {
                    next.events = events.clone();
                }
                match &patch.disabled {
                    Some(Some((at, reason))) => {
                        next.disabled_at = Some(naive(*at));
                        next.disabled_reason = Some(clipped(reason.clone()));
                    }
                    Some(None) => {
                        next.disabled_at = None;
                        next.disabled_reason = None;
                        next.failing_since = None;
                    }
                    None => {}
                }
                if let Some((secret, until)) = &patch.rotate {
                    next.previous_secret = Some(current.secret.clone());
                    next.previous_until = Some(naive(*until));
                    next.secret = secret.clone();
                }
                next.updated_at = now();
                diesel::update(w::table.find(&id))
                    .set((
                        w::url.eq(&next.url),
                        w::events.eq(&next.events),
                        w::secret.eq(&next.secret),
                        w::previous_secret.eq(&next.previous_secret),
                        w::previous_until.eq(next.previous_until),
                        w::failing_since.eq(next.failing_since),
                        w::disabled_at.eq(next.disabled_at),
                        w::disabled_reason.eq(&next.disabled_reason),
                        w::updated_at.eq(next.updated_at),
                    ))
                    .execute(conn)
                    .await?;
                Ok::<_, diesel::result::Error>(next)
            })
            .await
            .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn delete_webhook(&self, company_id: CompanyId, id: WebhookId) -> RepoResult<()> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let deleted = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                diesel::delete(a::table.filter(a::company_id.eq(&company)).filter(a::endpoint_id.eq(&id)))
                    .execute(conn)
                    .await?;
                diesel::delete(w::table.filter(w::company_id.eq(&company)).filter(w::id.eq(&id)))
                    .execute(conn)
                    .await
            })
            .await
            .map_err(db_error)
        })?;
        if deleted == 0 { Err(RepoError::not_found()) } else { Ok(()) }
    }

    async fn subscribed_webhooks(
        &self,
        company_id: CompanyId,
        event: &str,
    ) -> RepoResult<Vec<WebhookEndpoint>> {
        let company = company_id.to_string();
        let rows: Vec<EndpointRow> = with_conn!(self, |conn| {
            w::table
                .filter(w::company_id.eq(&company))
                .filter(w::disabled_at.is_null())
                .order(w::id)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        let endpoints: Vec<WebhookEndpoint> =
            rows.into_iter().map(TryInto::try_into).collect::<RepoResult<_>>()?;
        Ok(endpoints.into_iter().filter(|e| e.events.iter().any(|name| name == event)).collect())
    }

    async fn record_attempt(&self, attempt: WebhookAttempt) -> RepoResult<WebhookEndpoint> {
        let row = AttemptRow {
            id: attempt.id.to_string(),
            company_id: attempt.company_id.to_string(),
            endpoint_id: attempt.endpoint_id.to_string(),
            outbox_id: attempt.outbox_id.to_string(),
            event: attempt.event,
            delivery_id: attempt.delivery_id,
            status_code: attempt.status_code,
            duration_ms: attempt.duration_ms,
            error: attempt.error.map(clipped),
            attempted_at: naive(attempt.attempted_at),
        };
        let failed = row.error.is_some();
        let endpoint: EndpointRow = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                let target =
                    w::table.filter(w::company_id.eq(&row.company_id)).filter(w::id.eq(&row.endpoint_id));
                if failed {
                    diesel::update(target.filter(w::failing_since.is_null()))
                        .set(w::failing_since.eq(Some(row.attempted_at)))
                        .execute(conn)
                        .await?;
                } else {
                    diesel::update(target)
                        .set(w::failing_since.eq(None::<NaiveDateTime>))
                        .execute(conn)
                        .await?;
                }
                diesel::insert_into(a::table).values(&row).execute(conn).await?;
                target.first(conn).await
            })
            .await
            .map_err(db_error)
        })?;
        endpoint.try_into()
    }

    async fn list_attempts(
        &self,
        company_id: CompanyId,
        endpoint_id: WebhookId,
        limit: i64,
    ) -> RepoResult<Vec<WebhookAttempt>> {
        let (company, endpoint) = (company_id.to_string(), endpoint_id.to_string());
        let rows: Vec<AttemptRow> = with_conn!(self, |conn| {
            a::table
                .filter(a::company_id.eq(&company))
                .filter(a::endpoint_id.eq(&endpoint))
                .order((a::attempted_at.desc(), a::id.desc()))
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
