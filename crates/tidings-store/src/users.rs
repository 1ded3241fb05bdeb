//! Users table. Lookups by id are always filtered by company so another tenant's user is simply not
//! found.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{CompanyId, FailedLogin, NewUser, RepoError, RepoResult, Role, User, UserId, UserRepo};

use crate::error::db_error;
use crate::pool::{Backend, with_conn};
use crate::rows::{UserRow, naive, now};
use crate::schema::users;
use crate::store::Store;

/// The rule a role change or removal breaks when it would leave a company without an owner; the
/// constraint its conflict names.
const LAST_OWNER_RULE: &str = "company_keeps_an_owner";

/// Locks the company row on PostgreSQL, as the first statement of a team change. `NO KEY` so that
/// inserts referencing the company (whose foreign-key checks take `KEY SHARE`) are not held up.
const PG_LOCK_COMPANY: &str = "SELECT id FROM companies WHERE id = $1 FOR NO KEY UPDATE";

/// A change to a company's team that may take away an owner.
#[derive(Clone, Copy)]
enum TeamChange {
    SetRole(Role),
    Remove,
}

/// Why a team change's transaction rolled back.
enum TeamChangeError {
    Db(diesel::result::Error),
    NotFound,
    NoOwnerLeft,
}

impl From<diesel::result::Error> for TeamChangeError {
    fn from(err: diesel::result::Error) -> Self {
        TeamChangeError::Db(err)
    }
}

impl From<TeamChangeError> for RepoError {
    fn from(err: TeamChangeError) -> Self {
        match err {
            TeamChangeError::Db(e) => db_error(e),
            TeamChangeError::NotFound => RepoError::not_found(),
            TeamChangeError::NoOwnerLeft => RepoError::conflict(LAST_OWNER_RULE),
        }
    }
}

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

    async fn list_users(
        &self,
        company_id: CompanyId,
        after: Option<UserId>,
        limit: i64,
    ) -> RepoResult<Vec<User>> {
        let company_id = company_id.to_string();
        // Every id sorts after the empty string, so no `after` starts at the beginning.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let rows: Vec<UserRow> = with_conn!(self, |conn| {
            users::table
                .filter(users::company_id.eq(&company_id))
                .filter(users::id.gt(&after))
                .order(users::id.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn set_user_role(&self, company_id: CompanyId, id: UserId, role: Role) -> RepoResult<User> {
        self.change_team(company_id, id, TeamChange::SetRole(role)).await?;
        self.get_user(company_id, id).await
    }

    async fn delete_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<()> {
        self.change_team(company_id, id, TeamChange::Remove).await
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

    async fn set_password(&self, company_id: CompanyId, id: UserId, password_hash: String) -> RepoResult<()> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let changed = with_conn!(self, |conn| {
            diesel::update(users::table.filter(users::company_id.eq(&company_id)).filter(users::id.eq(&id)))
                .set((
                    users::password_hash.eq(&password_hash),
                    users::failed_logins.eq(0),
                    users::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        if changed == 0 { Err(RepoError::not_found()) } else { Ok(()) }
    }
}

impl Store {
    /// Changes a user's role or removes the user, in one transaction that rolls back when no owner
    /// would be left: two owners demoting or removing each other at once must not both succeed.
    async fn change_team(&self, company_id: CompanyId, id: UserId, change: TeamChange) -> RepoResult<()> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        // Team changes of one company are serialized so that the owner count below sees every change
        // committed before this one and none still in flight. On PostgreSQL the company row lock
        // does it; on SQLite the change is the transaction's first statement and a write, so it
        // takes the database's write lock (a read first would fail with "database is locked").
        let lock_company = match self.backend() {
            Backend::Postgres => Some(PG_LOCK_COMPANY),
            Backend::Sqlite => None,
        };
        with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                if let Some(sql) = lock_company {
                    diesel::sql_query(sql).bind::<Text, _>(&company_id).execute(conn).await?;
                }
                let target = users::table.filter(users::company_id.eq(&company_id)).filter(users::id.eq(&id));
                let changed = match change {
                    TeamChange::SetRole(role) => {
                        diesel::update(target).set(users::role.eq(role.as_str())).execute(conn).await?
                    }
                    TeamChange::Remove => diesel::delete(target).execute(conn).await?,
                };
                if changed == 0 {
                    return Err(TeamChangeError::NotFound);
                }
                let owners: i64 = users::table
                    .filter(users::company_id.eq(&company_id))
                    .filter(users::role.eq(Role::Owner.as_str()))
                    .count()
                    .get_result(conn)
                    .await?;
                if owners == 0 {
                    return Err(TeamChangeError::NoOwnerLeft);
                }
                Ok(())
            })
            .await
            .map_err(RepoError::from)
        })
    }
}
