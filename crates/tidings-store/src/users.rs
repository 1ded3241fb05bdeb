//! Users table. Lookups by id are always filtered by company so another tenant's user is simply not
//! found.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Timestamp};
use diesel_async::RunQueryDsl;
use tidings_domain::{CompanyId, FailedLogin, NewUser, RepoError, RepoResult, Role, User, UserId, UserRepo};

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

    async fn record_failed_login(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        max_failures: i32,
        lock_until: DateTime<Utc>,
    ) -> RepoResult<FailedLogin> {
        let (id, now, lock_until) = (id.to_string(), naive(now), naive(lock_until));
        // Reaching the limit sets the lock and starts a fresh count; an expired lock is cleared.
        let reaches_limit = (users::failed_logins + 1).ge(max_failures);
        let count = case_when(reaches_limit, 0.into_sql::<Integer>()).otherwise(users::failed_logins + 1);
        let lock = case_when(reaches_limit, Some(lock_until).into_sql::<Nullable<Timestamp>>())
            .otherwise(None::<NaiveDateTime>.into_sql::<Nullable<Timestamp>>());
        // One conditional update: on PostgreSQL it holds the user's row lock, and a concurrent one
        // waiting for it re-checks the condition against the committed row; on SQLite the write lock
        // serializes them. A failure judged after the lock-setting one therefore finds the user
        // locked and is not counted: never more than `max_failures` failures are judged before the
        // lock.
        let counted: Option<(i32, Option<NaiveDateTime>)> = with_conn!(self, |conn| {
            diesel::update(
                users::table.find(&id).filter(users::locked_until.is_null().or(users::locked_until.le(now))),
            )
            .set((users::failed_logins.eq(count), users::locked_until.eq(lock)))
            .returning((users::failed_logins, users::locked_until))
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)
        })?;
        Ok(match counted {
            None => FailedLogin::AlreadyLocked,
            Some((_, Some(_))) => FailedLogin::Locked,
            Some((count, None)) => FailedLogin::Counted(count),
        })
    }

    async fn record_successful_login(&self, id: UserId, now: DateTime<Utc>) -> RepoResult<bool> {
        let (id, now) = (id.to_string(), naive(now));
        // One conditional update: it waits for a failure being counted concurrently, and refuses
        // once that failure has locked the user.
        let cleared = with_conn!(self, |conn| {
            diesel::update(
                users::table.find(&id).filter(users::locked_until.is_null().or(users::locked_until.le(now))),
            )
            .set((users::locked_until.eq(None::<NaiveDateTime>), users::failed_logins.eq(0)))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(cleared == 1)
    }
}
