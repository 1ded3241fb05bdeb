//! Contacts table. Searches are case-insensitive substring matches on name, e-mail and phone.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{
    CompanyId, Contact, ContactFields, ContactId, ContactQuery, ContactRepo, Platform, RepoError, RepoResult,
};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{json, now, parse_id, utc};
use crate::schema::contacts;
use crate::store::Store;

#[derive(Queryable, Insertable)]
#[diesel(table_name = contacts)]
pub(crate) struct ContactRow {
    pub id: String,
    pub company_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub facebook_id: Option<String>,
    pub instagram_id: Option<String>,
    pub external_id: Option<String>,
    pub metadata: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<ContactRow> for Contact {
    type Error = RepoError;
    fn try_from(row: ContactRow) -> Result<Self, RepoError> {
        Ok(Contact {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            name: row.name,
            email: row.email,
            phone: row.phone,
            facebook_id: row.facebook_id,
            instagram_id: row.instagram_id,
            external_id: row.external_id,
            metadata: json(&row.metadata)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// The row of a new contact with `fields`.
pub(crate) fn new_contact_row(company_id: CompanyId, fields: ContactFields) -> ContactRow {
    let now = now();
    ContactRow {
        id: ContactId::new().to_string(),
        company_id: company_id.to_string(),
        name: fields.name,
        email: fields.email.map(|e| e.to_lowercase()),
        phone: fields.phone,
        facebook_id: fields.facebook_id,
        instagram_id: fields.instagram_id,
        external_id: fields.external_id,
        metadata: fields.metadata.unwrap_or_else(|| serde_json::json!({})).to_string(),
        created_at: now,
        updated_at: now,
    }
}

/// The columns an update sets; `None` fields are left out of the statement.
#[derive(AsChangeset)]
#[diesel(table_name = contacts)]
struct ContactChanges {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    facebook_id: Option<String>,
    instagram_id: Option<String>,
    external_id: Option<String>,
    metadata: Option<String>,
    updated_at: NaiveDateTime,
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[async_trait]
impl ContactRepo for Store {
    async fn create_contact(&self, company_id: CompanyId, fields: ContactFields) -> RepoResult<Contact> {
        let row = new_contact_row(company_id, fields);
        let row = with_conn!(self, |conn| {
            diesel::insert_into(contacts::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn get_contact(&self, company_id: CompanyId, id: ContactId) -> RepoResult<Contact> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: ContactRow = with_conn!(self, |conn| {
            contacts::table
                .filter(contacts::company_id.eq(&company_id))
                .filter(contacts::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn update_contact(
        &self,
        company_id: CompanyId,
        id: ContactId,
        fields: ContactFields,
    ) -> RepoResult<Contact> {
        let changes = ContactChanges {
            name: fields.name,
            email: fields.email.map(|e| e.to_lowercase()),
            phone: fields.phone,
            facebook_id: fields.facebook_id,
            instagram_id: fields.instagram_id,
            external_id: fields.external_id,
            metadata: fields.metadata.map(|m| m.to_string()),
            updated_at: now(),
        };
        let (company_text, id_text) = (company_id.to_string(), id.to_string());
        let updated = with_conn!(self, |conn| {
            diesel::update(
                contacts::table
                    .filter(contacts::company_id.eq(&company_text))
                    .filter(contacts::id.eq(&id_text)),
            )
            .set(&changes)
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        if updated == 0 {
            return Err(RepoError::not_found());
        }
        self.get_contact(company_id, id).await
    }

    async fn list_contacts(&self, company_id: CompanyId, query: ContactQuery) -> RepoResult<Vec<Contact>> {
        let company_id = company_id.to_string();
        let after = query.after.map(|a| a.to_string()).unwrap_or_default();
        let pattern = query.search.map(|s| format!("%{}%", escape_like(&s.to_lowercase())));
        let ids: Option<Vec<String>> = query.ids.map(|ids| ids.iter().map(ToString::to_string).collect());
        let rows: Vec<ContactRow> = with_conn!(self, |conn| {
            let mut q = contacts::table
                .filter(contacts::company_id.eq(&company_id))
                .filter(contacts::id.gt(&after))
                .order(contacts::id.asc())
                .limit(query.limit)
                .into_boxed();
            if let Some(ids) = &ids {
                q = q.filter(contacts::id.eq_any(ids));
            }
            if let Some(pattern) = &pattern {
                q = q.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("(LOWER(COALESCE(name, '')) LIKE ")
                        .bind::<diesel::sql_types::Text, _>(pattern)
                        .sql(" ESCAPE '\\' OR COALESCE(email, '') LIKE ")
                        .bind::<diesel::sql_types::Text, _>(pattern)
                        .sql(" ESCAPE '\\' OR COALESCE(phone, '') LIKE ")
                        .bind::<diesel::sql_types::Text, _>(pattern)
                        .sql(" ESCAPE '\\')"),
                );
            }
            q.load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn find_contact_by_identity(
        &self,
        company_id: CompanyId,
        external_id: Option<&str>,
        email: Option<&str>,
    ) -> RepoResult<Option<Contact>> {
        let company_id = company_id.to_string();
        let email = email.map(str::to_lowercase);
        let external_id = external_id.map(str::to_owned);
        let row: Option<ContactRow> = with_conn!(self, |conn| {
            let by_external = match &external_id {
                Some(ext) => contacts::table
                    .filter(contacts::company_id.eq(&company_id))
                    .filter(contacts::external_id.eq(ext))
                    .first::<ContactRow>(conn)
                    .await
                    .optional()
                    .map_err(db_error)?,
                None => None,
            };
            match (by_external, &email) {
                (Some(row), _) => Ok(Some(row)),
                (None, Some(email)) => contacts::table
                    .filter(contacts::company_id.eq(&company_id))
                    .filter(contacts::email.eq(email))
                    .order(contacts::id.asc())
                    .first(conn)
                    .await
                    .optional()
                    .map_err(db_error),
                (None, None) => Ok(None),
            }
        })?;
        row.map(TryInto::try_into).transpose()
    }

    async fn social_contact(
        &self,
        company_id: CompanyId,
        platform: Platform,
        social_id: &str,
    ) -> RepoResult<Contact> {
        let (facebook_id, instagram_id) = match platform {
            Platform::Facebook => (Some(social_id.to_owned()), None),
            Platform::Instagram => (None, Some(social_id.to_owned())),
            other => return Err(RepoError::internal(format!("{other} has no social ids"))),
        };
        let now = now();
        let row = ContactRow {
            id: ContactId::new().to_string(),
            company_id: company_id.to_string(),
            name: None,
            email: None,
            phone: None,
            facebook_id,
            instagram_id,
            external_id: None,
            metadata: "{}".into(),
            created_at: now,
            updated_at: now,
        };
        let found: ContactRow = with_conn!(self, |conn| {
            // A concurrent call may have stored it first: its row wins, ours is dropped.
            diesel::insert_into(contacts::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)?;
            let q = contacts::table.filter(contacts::company_id.eq(&row.company_id)).into_boxed();
            let q = match (&row.facebook_id, &row.instagram_id) {
                (Some(id), _) => q.filter(contacts::facebook_id.eq(id)),
                (_, id) => q.filter(contacts::instagram_id.eq(id.clone().unwrap_or_default())),
            };
            q.first(conn).await.map_err(db_error)
        })?;
        found.try_into()
    }
}
