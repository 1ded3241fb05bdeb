//! Events table: append-only.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{CompanyId, Event, EventId, EventRepo, NewEvent, RepoError, RepoResult};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{json, naive, now, parse_id, utc};
use crate::schema::events;
use crate::store::Store;

#[derive(Queryable, Insertable)]
#[diesel(table_name = events)]
pub(crate) struct EventRow {
    pub id: String,
    pub company_id: String,
    pub app_id: Option<String>,
    pub device_id: Option<String>,
    pub contact_id: Option<String>,
    pub name: String,
    pub properties: String,
    pub occurred_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
}

impl TryFrom<EventRow> for Event {
    type Error = RepoError;
    fn try_from(row: EventRow) -> Result<Self, RepoError> {
        Ok(Event {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            app_id: row.app_id.as_deref().map(parse_id).transpose()?,
            device_id: row.device_id,
            contact_id: row.contact_id.as_deref().map(parse_id).transpose()?,
            name: row.name,
            properties: json(&row.properties)?,
            occurred_at: utc(row.occurred_at),
            received_at: utc(row.received_at),
        })
    }
}

#[async_trait]
impl EventRepo for Store {
    async fn record_event(&self, new: NewEvent) -> RepoResult<Event> {
        let row = EventRow {
            id: EventId::new().to_string(),
            company_id: new.company_id.to_string(),
            app_id: new.app_id.map(|a| a.to_string()),
            device_id: new.device_id,
            contact_id: new.contact_id.map(|c| c.to_string()),
            name: new.name,
            properties: new.properties.to_string(),
            occurred_at: naive(new.occurred_at),
            received_at: now(),
        };
        let row = with_conn!(self, |conn| {
            diesel::insert_into(events::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn recent_events(&self, company_id: CompanyId, limit: i64) -> RepoResult<Vec<Event>> {
        let company_id = company_id.to_string();
        let rows: Vec<EventRow> = with_conn!(self, |conn| {
            events::table
                .filter(events::company_id.eq(&company_id))
                .order(events::id.desc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
