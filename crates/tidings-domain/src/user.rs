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
    /// Stores a new user; `RepoError::Conflict` when the e-mail is taken.
    async fn create_user(&self, new: NewUser) -> RepoResult<User>;
    /// Loads a user of `company_id`; another company's user is `NotFound`.
    async fn get_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<User>;
    /// Finds a user by login e-mail across companies (e-mails are globally unique).
    async fn find_user_by_email(&self, email: &str) -> RepoResult<Option<User>>;
    /// Lists the users of a company, oldest first.
    async fn list_users(&self, company_id: CompanyId) -> RepoResult<Vec<User>>;
    /// Changes the role of a user of `company_id`; returns the updated user.
    async fn set_user_role(&self, company_id: CompanyId, id: UserId, role: Role) -> RepoResult<User>;
    /// Deletes a user of `company_id` and everything that hangs off it (refresh tokens).
    async fn delete_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<()>;
    /// Counts one more failed login, atomically; returns the new count.
    async fn record_failed_login(&self, id: UserId) -> RepoResult<i32>;
    /// Refuses logins until `until` and starts a fresh count of failures.
    async fn lock_user(&self, id: UserId, until: DateTime<Utc>) -> RepoResult<()>;
    /// Forgets failed logins and any lock, after a successful login.
    async fn clear_failed_logins(&self, id: UserId) -> RepoResult<()>;
}
