//! Users table. Lookups by id are always filtered by company so another tenant's user is simply not
//! found.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{CompanyId, NewUser, RepoResult, User, UserId, UserRepo};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{UserRow, now};
use crate::schema::users;
use crate::store::Store;

#[async_trait]
impl UserRepo for Store {
    async fn create_user(&self, new: NewUser) -> RepoResult<User> {
        let row = UserRow {
            id: UserId::new().to_string(),
            company_id: new.company_id.to_string(),
            email: new.email.to_lowercase(),
            name: new.name,
            password_hash: new.password_hash,
            role: new.role.as_str().into(),
            failed_logins: 0,
            locked_until: None,
            created_at: now(),
        };
        with_conn!(self, |conn| {
            diesel::insert_into(users::table).values(&row).execute(conn).await.map_err(db_error)
        })?;
        row.try_into()
    }

    async fn get_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<User> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: UserRow = with_conn!(self, |conn| {
            users::table
                .filter(users::company_id.eq(&company_id))
                .filter(users::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn find_user_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.to_lowercase();
        let row: Option<UserRow> = with_conn!(self, |conn| {
            users::table.filter(users::email.eq(&email)).first(conn).await.optional().map_err(db_error)
        })?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_users(&self, company_id: CompanyId) -> RepoResult<Vec<User>> {
        let company_id = company_id.to_string();
        let rows: Vec<UserRow> = with_conn!(self, |conn| {
            users::table
                .filter(users::company_id.eq(&company_id))
                .order(users::id.asc())
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
