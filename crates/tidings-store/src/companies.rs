//! Companies table.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::AsyncConnection;
use diesel_async::RunQueryDsl;
use tidings_domain::{Company, CompanyId, CompanyRepo, NewCompany, NewUser, RepoError, RepoResult, User};

use crate::error::db_error;
use crate::pool::{Backend, with_conn};
use crate::rows::{CompanyRow, now};
use crate::schema::{companies, users};
use crate::store::Store;
use crate::users::new_user_row;

#[async_trait]
impl CompanyRepo for Store {
    async fn create_company(&self, new: NewCompany) -> RepoResult<Company> {
        let row = CompanyRow {
            id: CompanyId::new().to_string(),
            name: new.name,
            settings: "{}".into(),
            created_at: now(),
        };
        let row = with_conn!(self, |conn| {
            diesel::insert_into(companies::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn create_company_with_owner(
        &self,
        new: NewCompany,
        owner: NewUser,
    ) -> RepoResult<(Company, User)> {
        let company_id = CompanyId::new();
        let company = CompanyRow {
            id: company_id.to_string(),
            name: new.name,
            settings: "{}".into(),
            created_at: now(),
        };
        let user = new_user_row(NewUser { company_id, ..owner });
        let (company, user) = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                diesel::insert_into(companies::table).values(&company).execute(conn).await?;
                diesel::insert_into(users::table).values(&user).execute(conn).await
            })
            .await
            .map_err(db_error)?;
            Ok((company, user))
        })?;
        Ok((company.try_into()?, user.try_into()?))
    }

    async fn get_company(&self, id: CompanyId) -> RepoResult<Company> {
        let id = id.to_string();
        let row: CompanyRow =
            with_conn!(self, |conn| companies::table.find(&id).first(conn).await.map_err(db_error))?;
        row.try_into()
    }

    async fn companies_with_setting(&self, key: &str) -> RepoResult<Vec<Company>> {
        let sql = match self.backend() {
            Backend::Postgres => "SELECT * FROM companies WHERE settings::jsonb ? $1 ORDER BY id",
            Backend::Sqlite => {
                "SELECT * FROM companies WHERE json_type(settings, '$.' || ?) IS NOT NULL ORDER BY id"
            }
        };
        let key = key.to_owned();
        let rows: Vec<CompanyRow> = with_conn!(self, |conn| {
            diesel::sql_query(sql).bind::<Text, _>(&key).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn any_company(&self) -> RepoResult<bool> {
        // One indexed row at most, however many tenants there are.
        let first: Option<String> = with_conn!(self, |conn| {
            companies::table.select(companies::id).first(conn).await.optional().map_err(db_error)
        })?;
        Ok(first.is_some())
    }

    async fn put_company_setting(
        &self,
        id: CompanyId,
        key: &str,
        value: serde_json::Value,
    ) -> RepoResult<Company> {
        // One UPDATE setting one key, so that writers of different keys never undo each other.
        let sql = match self.backend() {
            Backend::Postgres => {
                "UPDATE companies SET settings = jsonb_set(settings::jsonb, ARRAY[$1], $2::jsonb)::text \
                 WHERE id = $3"
            }
            Backend::Sqlite => {
                "UPDATE companies SET settings = json_set(settings, '$.' || ?, json(?)) WHERE id = ?"
            }
        };
        let (key, value, company) = (key.to_owned(), value.to_string(), id.to_string());
        let updated = with_conn!(self, |conn| {
            diesel::sql_query(sql)
                .bind::<Text, _>(&key)
                .bind::<Text, _>(&value)
                .bind::<Text, _>(&company)
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        if updated == 0 {
            return Err(RepoError::not_found());
        }
        self.get_company(id).await
    }
}
