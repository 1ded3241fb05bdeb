//! Appointments table: the no-overlap rule is the database's (an exclusion constraint on
//! PostgreSQL, triggers on SQLite), so racing writers cannot both take a slot.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{
    Appointment, AppointmentId, AppointmentQuery, AppointmentRepo, AppointmentStatus, CompanyId, RepoError,
    RepoResult,
};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{naive, now, parse_id, utc};
use crate::schema::appointments as a;
use crate::store::Store;

#[derive(Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = a, treat_none_as_null = true)]
struct AppointmentRow {
    id: String,
    company_id: String,
    contact_id: Option<String>,
    conversation_id: Option<String>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    duration_min: i32,
    status: String,
    personal_sealed: Option<String>,
    email_index: Option<String>,
    key_id: Option<String>,
    remind_at: Option<NaiveDateTime>,
    inquiry: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Appointment> for AppointmentRow {
    fn from(x: &Appointment) -> Self {
        AppointmentRow {
            id: x.id.to_string(),
            company_id: x.company_id.to_string(),
            contact_id: x.contact_id.map(|c| c.to_string()),
            conversation_id: x.conversation_id.map(|c| c.to_string()),
            starts_at: naive(x.starts_at),
            ends_at: naive(x.ends_at()),
            duration_min: x.duration_min,
            status: x.status.as_str().into(),
            personal_sealed: x.personal_sealed.clone(),
            email_index: x.email_index.clone(),
            key_id: x.key_id.clone(),
            remind_at: x.remind_at.map(naive),
            inquiry: x.inquiry.clone(),
            created_by: x.created_by.clone(),
            created_at: naive(x.created_at),
            updated_at: now(),
        }
    }
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = RepoError;
    fn try_from(row: AppointmentRow) -> Result<Self, RepoError> {
        Ok(Appointment {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            contact_id: row.contact_id.as_deref().map(parse_id).transpose()?,
            conversation_id: row.conversation_id.as_deref().map(parse_id).transpose()?,
            starts_at: utc(row.starts_at),
            duration_min: row.duration_min,
            status: parse_id(&row.status)?,
            personal_sealed: row.personal_sealed,
            email_index: row.email_index,
            key_id: row.key_id,
            remind_at: row.remind_at.map(utc),
            inquiry: row.inquiry,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

const ACTIVE: [&str; 2] = ["pending", "confirmed"];

#[async_trait]
impl AppointmentRepo for Store {
    async fn create_appointment(&self, appointment: Appointment) -> RepoResult<Appointment> {
        let row = AppointmentRow::from(&appointment);
        let stored = row.clone();
        with_conn!(self, |conn| diesel::insert_into(a::table)
            .values(&row)
            .execute(conn)
            .await
            .map_err(db_error))?;
        stored.try_into()
    }

    async fn get_appointment(&self, company_id: CompanyId, id: AppointmentId) -> RepoResult<Appointment> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let row: AppointmentRow = with_conn!(self, |conn| {
            a::table
                .filter(a::company_id.eq(&company))
                .filter(a::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn update_appointment(
        &self,
        appointment: Appointment,
        expected: AppointmentStatus,
    ) -> RepoResult<Appointment> {
        let row = AppointmentRow::from(&appointment);
        let (company, id) = (row.company_id.clone(), row.id.clone());
        let stored: AppointmentRow = with_conn!(self, |conn| {
            diesel::update(
                a::table
                    .filter(a::company_id.eq(&company))
                    .filter(a::id.eq(&id))
                    .filter(a::status.eq(expected.as_str())),
            )
            .set(&row)
            .get_result(conn)
            .await
            .map_err(db_error)
        })?;
        stored.try_into()
    }

    async fn list_appointments(
        &self,
        company_id: CompanyId,
        query: AppointmentQuery,
    ) -> RepoResult<(Vec<Appointment>, i64)> {
        let company = company_id.to_string();
        let (rows, total): (Vec<AppointmentRow>, i64) = with_conn!(self, |conn| {
            let filtered = || {
                let mut q = a::table.filter(a::company_id.eq(&company)).into_boxed();
                if let Some(status) = query.status {
                    q = q.filter(a::status.eq(status.as_str()));
                }
                if let Some(from) = query.from {
                    q = q.filter(a::starts_at.ge(naive(from)));
                }
                if let Some(to) = query.to {
                    q = q.filter(a::starts_at.lt(naive(to)));
                }
                if let Some(contact) = query.contact_id {
                    q = q.filter(a::contact_id.eq(contact.to_string()));
                }
                if let Some(indexes) = &query.email_indexes {
                    q = q.filter(a::email_index.eq_any(indexes.clone()));
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn).await.map_err(db_error)?;
            let mut page = filtered().order((a::starts_at, a::id)).limit(query.limit);
            if let Some((at, id)) = query.after {
                let (at, id) = (naive(at), id.to_string());
                page = page.filter(a::starts_at.gt(at).or(a::starts_at.eq(at).and(a::id.gt(id))));
            }
            let rows = page.load(conn).await.map_err(db_error)?;
            Ok((rows, total))
        })?;
        Ok((rows.into_iter().map(TryInto::try_into).collect::<RepoResult<_>>()?, total))
    }

    async fn active_between(
        &self,
        company_id: CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> RepoResult<Vec<Appointment>> {
        let (company, from, to) = (company_id.to_string(), naive(from), naive(to));
        let rows: Vec<AppointmentRow> = with_conn!(self, |conn| {
            a::table
                .filter(a::company_id.eq(&company))
                .filter(a::status.eq_any(ACTIVE))
                .filter(a::starts_at.lt(to))
                .filter(a::ends_at.gt(from))
                .order((a::starts_at, a::id))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn due_reminders(&self, now: DateTime<Utc>, limit: i64) -> RepoResult<Vec<Appointment>> {
        let now = naive(now);
        let rows: Vec<AppointmentRow> = with_conn!(self, |conn| {
            a::table
                .filter(a::remind_at.le(now))
                .filter(a::status.eq_any(ACTIVE))
                .order((a::remind_at, a::id))
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn sealed_under_other_keys(
        &self,
        current_key_id: &str,
        after: Option<AppointmentId>,
        limit: i64,
    ) -> RepoResult<Vec<Appointment>> {
        let current = current_key_id.to_owned();
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let rows: Vec<AppointmentRow> = with_conn!(self, |conn| {
            a::table
                .filter(a::personal_sealed.is_not_null())
                .filter(a::key_id.ne(&current))
                .filter(a::id.gt(&after))
                .order(a::id)
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn reseal_appointment(&self, resealed: &Appointment, old_key_id: &str) -> RepoResult<bool> {
        let (company, id, old) =
            (resealed.company_id.to_string(), resealed.id.to_string(), old_key_id.to_owned());
        let values = (
            a::personal_sealed.eq(resealed.personal_sealed.clone()),
            a::key_id.eq(resealed.key_id.clone()),
            a::email_index.eq(resealed.email_index.clone()),
        );
        let changed = with_conn!(self, |conn| {
            diesel::update(
                a::table.filter(a::company_id.eq(&company)).filter(a::id.eq(&id)).filter(a::key_id.eq(&old)),
            )
            .set(values)
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(changed == 1)
    }

    async fn clear_reminder(
        &self,
        company_id: CompanyId,
        id: AppointmentId,
        remind_at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let (company, id, remind_at) = (company_id.to_string(), id.to_string(), naive(remind_at));
        let cleared = with_conn!(self, |conn| {
            diesel::update(
                a::table
                    .filter(a::company_id.eq(&company))
                    .filter(a::id.eq(&id))
                    .filter(a::remind_at.eq(remind_at)),
            )
            .set(a::remind_at.eq(None::<NaiveDateTime>))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(cleared == 1)
    }
}
