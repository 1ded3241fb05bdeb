//! Users: the people of a company who answer conversations, with their role.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, UserId};
use crate::named_enum::named_enum;

named_enum!(
    /// What a user may do. Ordered: an owner can do everything an admin can, an admin everything an
    /// agent can.
    Role {
        /// Answers conversations and reads the team.
        Agent = "agent",
        /// Manages the team, apps and keys.
        Admin = "admin",
        /// Created the company; cannot be demoted or removed by an admin.
        Owner = "owner",
    }
);

/// A user of a company, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// The company the user belongs to.
    pub company_id: CompanyId,
    /// Login e-mail, stored lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// bcrypt hash of the password; never serialized.
    pub password_hash: String,
    /// What the user may do.
    pub role: Role,
    /// Consecutive failed logins since the last success.
    pub failed_logins: i32,
    /// Logins are refused until this time.
    pub locked_until: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What is needed to create a user.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The company the user joins.
    pub company_id: CompanyId,
    /// Login e-mail; the store lower-cases it.
    pub email: String,
    /// Display name.
    pub name: String,
    /// bcrypt hash of the password.
    pub password_hash: String,
    /// Initial role.
    pub role: Role,
}

/// Persistence of users. Every lookup but the login one is scoped by company.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Stores a new user; [`Conflict`](crate::RepoErrorKind::Conflict) when the e-mail is taken.
    async fn create_user(&self, new: NewUser) -> RepoResult<User>;
    /// Loads a user of `company_id`; another company's user is `NotFound`.
    async fn get_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<User>;
    /// Finds a user by login e-mail across companies (e-mails are globally unique).
    async fn find_user_by_email(&self, email: &str) -> RepoResult<Option<User>>;
    /// Lists at most `limit` users of a company, oldest first, starting after the user `after`
    /// (ids sort by creation time).
    async fn list_users(
        &self,
        company_id: CompanyId,
        after: Option<UserId>,
        limit: i64,
    ) -> RepoResult<Vec<User>>;
    /// Changes the role of a user of `company_id`; returns the updated user. A
    /// [`Conflict`](crate::RepoErrorKind::Conflict), with nothing changed, when the company would be
    /// left without an owner.
    async fn set_user_role(&self, company_id: CompanyId, id: UserId, role: Role) -> RepoResult<User>;
    /// Deletes a user of `company_id` and everything that hangs off it (refresh tokens).
    /// A [`Conflict`](crate::RepoErrorKind::Conflict), with nothing deleted, when the company would be
    /// left without an owner.
    async fn delete_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<()>;
    /// Counts a failed login unless the user is locked at `now`; the failure that brings the count
    /// to `max_failures` locks the user until `lock_until` and starts a fresh count. The check, the
    /// count and the lock are one atomic step, so concurrent failures never count past the limit.
    async fn record_failed_login(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        max_failures: i32,
        lock_until: DateTime<Utc>,
    ) -> RepoResult<FailedLogin>;
    /// Records a successful login: forgets failed logins and an expired lock, atomically, unless the
    /// user is locked at `now`. `false` (locked, or no such user) means the login must be refused.
    async fn record_successful_login(&self, id: UserId, now: DateTime<Utc>) -> RepoResult<bool>;
    /// Replaces the password hash of a user of `company_id` and clears the lockout (failed logins
    /// and lock): whoever chose the new password proved they own the address. `NotFound` when the
    /// user is gone.
    async fn set_password(&self, company_id: CompanyId, id: UserId, password_hash: String) -> RepoResult<()>;
}

/// What [`UserRepo::record_failed_login`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailedLogin {
    /// Counted: the user has this many consecutive failures and is not locked.
    Counted(i32),
    /// Counted, and it reached the limit: the user is now locked.
    Locked,
    /// Not counted: the user was already locked (or does not exist).
    AlreadyLocked,
}
