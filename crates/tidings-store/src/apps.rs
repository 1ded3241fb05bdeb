//! Apps table.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{App, AppId, AppRepo, CompanyId, IdentityVerification, NewApp, RepoResult};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{AppRow, now};
use crate::schema::apps;
use crate::store::Store;

#[async_trait]
impl AppRepo for Store {
    async fn create_app(&self, new: NewApp) -> RepoResult<App> {
        let row = AppRow {
            id: AppId::new().to_string(),
            company_id: new.company_id.to_string(),
            name: new.name,
            settings: "{}".into(),
            created_at: now(),
            identity_secret_enc: None,
            identity_verification: IdentityVerification::Optional.as_str().into(),
        };
        let row = with_conn!(self, |conn| {
            diesel::insert_into(apps::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn get_app(&self, company_id: CompanyId, id: AppId) -> RepoResult<App> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: AppRow = with_conn!(self, |conn| {
            apps::table
                .filter(apps::company_id.eq(&company_id))
                .filter(apps::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn list_apps(
        &self,
        company_id: CompanyId,
        after: Option<AppId>,
        limit: i64,
    ) -> RepoResult<Vec<App>> {
        let company_id = company_id.to_string();
        // Every id sorts after the empty string, so no `after` starts at the beginning.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let rows: Vec<AppRow> = with_conn!(self, |conn| {
            apps::table
                .filter(apps::company_id.eq(&company_id))
                .filter(apps::id.gt(&after))
                .order(apps::id.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn set_identity_secret(&self, company_id: CompanyId, id: AppId, sealed: String) -> RepoResult<App> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: AppRow = with_conn!(self, |conn| {
            diesel::update(apps::table.filter(apps::company_id.eq(&company_id)).filter(apps::id.eq(&id)))
                .set(apps::identity_secret_enc.eq(Some(&sealed)))
                .returning(apps::all_columns)
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn identity_secret(&self, company_id: CompanyId, id: AppId) -> RepoResult<Option<String>> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        with_conn!(self, |conn| {
            apps::table
                .filter(apps::company_id.eq(&company_id))
                .filter(apps::id.eq(&id))
                .select(apps::identity_secret_enc)
                .first(conn)
                .await
                .map_err(db_error)
        })
    }

    async fn set_identity_verification(
        &self,
        company_id: CompanyId,
        id: AppId,
        mode: IdentityVerification,
    ) -> RepoResult<App> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: AppRow = with_conn!(self, |conn| {
            diesel::update(apps::table.filter(apps::company_id.eq(&company_id)).filter(apps::id.eq(&id)))
                .set(apps::identity_verification.eq(mode.as_str()))
                .returning(apps::all_columns)
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }
}
