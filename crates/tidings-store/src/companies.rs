//! Companies table.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{Company, CompanyId, CompanyRepo, NewCompany, RepoResult};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{CompanyRow, now};
use crate::schema::companies;
use crate::store::Store;

#[async_trait]
impl CompanyRepo for Store {
    async fn create_company(&self, new: NewCompany) -> RepoResult<Company> {
        let row = CompanyRow {
            id: CompanyId::new().to_string(),
            name: new.name,
            settings: "{}".into(),
            created_at: now(),
        };
        with_conn!(self, |conn| {
            diesel::insert_into(companies::table).values(&row).execute(conn).await.map_err(db_error)
        })?;
        row.try_into()
    }

    async fn get_company(&self, id: CompanyId) -> RepoResult<Company> {
        let id = id.to_string();
        let row: CompanyRow =
            with_conn!(self, |conn| companies::table.find(&id).first(conn).await.map_err(db_error))?;
        row.try_into()
    }
}
