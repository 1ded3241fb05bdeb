//! Users table. Lookups by id are always filtered by company so another tenant's user is simply not
//! found.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{CompanyId, NewUser, RepoError, RepoResult, Role, User, UserId, UserRepo};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{UserRow, naive, now};
use crate::schema::users;
use crate::store::Store;

/// The row for a new user: fresh id, lower-cased e-mail, no failures.
pub(crate) fn new_user_row(new: NewUser) -> UserRow {
    UserRow {
        id: UserId::new().to_string(),
        company_id: new.company_id.to_string(),
        email: new.email.to_lowercase(),
        name: new.name,
        password_hash: new.password_hash,
        role: new.role.as_str().into(),
        failed_logins: 0,
        locked_until: None,
        created_at: now(),
    }
}

#[async_trait]
impl UserRepo for Store {
    async fn create_user(&self, new: NewUser) -> RepoResult<User> {
        let row = new_user_row(new);
        let row = with_conn!(self, |conn| {
            diesel::insert_into(users::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
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

    async fn set_user_role(&self, company_id: CompanyId, id: UserId, role: Role) -> RepoResult<User> {
        let (company_id_text, id_text) = (company_id.to_string(), id.to_string());
        let updated = with_conn!(self, |conn| {
            diesel::update(
                users::table.filter(users::company_id.eq(&company_id_text)).filter(users::id.eq(&id_text)),
            )
            .set(users::role.eq(role.as_str()))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        if updated == 0 {
            return Err(RepoError::NotFound);
        }
        self.get_user(company_id, id).await
    }

    async fn delete_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<()> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let deleted = with_conn!(self, |conn| {
            diesel::delete(users::table.filter(users::company_id.eq(&company_id)).filter(users::id.eq(&id)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        if deleted == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn record_failed_login(&self, id: UserId) -> RepoResult<i32> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set(users::failed_logins.eq(users::failed_logins + 1))
                .returning(users::failed_logins)
                .get_result(conn)
                .await
                .map_err(db_error)
        })
    }

    async fn lock_user(&self, id: UserId, until: DateTime<Utc>) -> RepoResult<()> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set((users::locked_until.eq(Some(naive(until))), users::failed_logins.eq(0)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    async fn clear_failed_logins(&self, id: UserId) -> RepoResult<()> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set((users::locked_until.eq(None::<chrono::NaiveDateTime>), users::failed_logins.eq(0)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }
}
