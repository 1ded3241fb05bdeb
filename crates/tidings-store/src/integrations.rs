//! Integrations table: one row per company and service, replaced whole on every change; secrets
//! arrive sealed and leave sealed.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use tidings_domain::{
    CompanyId, Integration, IntegrationKind, IntegrationLookup, IntegrationRepo, LookupKey, RepoError,
    RepoResult,
};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{json, now, parse_id, utc};
use crate::schema::integrations as i;
use crate::store::Store;

#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = i)]
struct IntegrationRow {
    company_id: String,
    kind: String,
    config: String,
    secrets: Option<String>,
    key_id: Option<String>,
    page_id: Option<String>,
    instagram_account_id: Option<String>,
    verify_token_digest: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<IntegrationRow> for Integration {
    type Error = RepoError;
    fn try_from(row: IntegrationRow) -> Result<Self, RepoError> {
        Ok(Integration {
            company_id: parse_id(&row.company_id)?,
            kind: parse_id(&row.kind)?,
            config: json(&row.config)?,
            secrets: row.secrets,
            key_id: row.key_id,
            lookup: IntegrationLookup {
                page_id: row.page_id,
                instagram_account_id: row.instagram_account_id,
                verify_token_digest: row.verify_token_digest,
            },
            updated_at: utc(row.updated_at),
        })
    }
}

#[async_trait]
impl IntegrationRepo for Store {
    async fn put_integration(&self, integration: Integration) -> RepoResult<Integration> {
        let now = now();
        let row = IntegrationRow {
            company_id: integration.company_id.to_string(),
            kind: integration.kind.as_str().into(),
            config: integration.config.to_string(),
            secrets: integration.secrets,
            key_id: integration.key_id,
            page_id: integration.lookup.page_id,
            instagram_account_id: integration.lookup.instagram_account_id,
            verify_token_digest: integration.lookup.verify_token_digest,
            created_at: now,
            updated_at: now,
        };
        let stored: IntegrationRow = with_conn!(self, |conn| {
            diesel::insert_into(i::table)
                .values(&row)
                .on_conflict((i::company_id, i::kind))
                .do_update()
                .set((
                    i::config.eq(excluded(i::config)),
                    i::secrets.eq(excluded(i::secrets)),
                    i::key_id.eq(excluded(i::key_id)),
                    i::page_id.eq(excluded(i::page_id)),
                    i::instagram_account_id.eq(excluded(i::instagram_account_id)),
                    i::verify_token_digest.eq(excluded(i::verify_token_digest)),
                    i::updated_at.eq(excluded(i::updated_at)),
                ))
                .returning(i::all_columns)
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        stored.try_into()
    }

    async fn get_integration(
        &self,
        company_id: CompanyId,
        kind: IntegrationKind,
    ) -> RepoResult<Option<Integration>> {
        let (company, kind) = (company_id.to_string(), kind.as_str());
        let row: Option<IntegrationRow> = with_conn!(self, |conn| {
            i::table.find((&company, kind)).first(conn).await.optional().map_err(db_error)
        })?;
        row.map(TryInto::try_into).transpose()
    }

    async fn find_integrations(
        &self,
        kind: IntegrationKind,
        key: LookupKey<'_>,
    ) -> RepoResult<Vec<Integration>> {
        let kind = kind.as_str();
        let (column, value) = match key {
            LookupKey::PageId(v) => (0, v.to_owned()),
            LookupKey::InstagramAccountId(v) => (1, v.to_owned()),
            LookupKey::VerifyTokenDigest(v) => (2, v.to_owned()),
        };
        let rows: Vec<IntegrationRow> = with_conn!(self, |conn| {
            let q = i::table.filter(i::kind.eq(kind)).into_boxed();
            let q = match column {
                0 => q.filter(i::page_id.eq(&value)),
                1 => q.filter(i::instagram_account_id.eq(&value)),
                _ => q.filter(i::verify_token_digest.eq(&value)),
            };
            q.order(i::company_id).limit(16).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn list_integrations(&self, kind: IntegrationKind) -> RepoResult<Vec<Integration>> {
        let kind = kind.as_str();
        let rows: Vec<IntegrationRow> = with_conn!(self, |conn| {
            i::table.filter(i::kind.eq(kind)).order(i::company_id).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
