//! Row types as the tables hold them, and their conversion to domain entities. Kept apart from the
//! queries so that each repository module reads as queries only.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use tidings_domain::{Company, RepoError, User};

use crate::schema::{companies, users};

/// Current time at the precision both backends keep (microseconds), as stored.
pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Parses a stored id; a malformed one means the table was written by something else.
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, RepoError> {
    raw.parse().map_err(|_| RepoError::Internal(format!("malformed id in store: {raw}")))
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = companies)]
pub(crate) struct CompanyRow {
    pub id: String,
    pub name: String,
    pub settings: String,
    pub created_at: NaiveDateTime,
}

impl TryFrom<CompanyRow> for Company {
    type Error = RepoError;
    fn try_from(row: CompanyRow) -> Result<Self, RepoError> {
        Ok(Company {
            id: parse_id(&row.id)?,
            name: row.name,
            settings: serde_json::from_str(&row.settings)
                .map_err(|e| RepoError::Internal(format!("company settings: {e}")))?,
            created_at: utc(row.created_at),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub company_id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(row: UserRow) -> Result<Self, RepoError> {
        Ok(User {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            email: row.email,
            name: row.name,
            password_hash: row.password_hash,
            role: row.role.parse().map_err(RepoError::Internal)?,
            failed_logins: row.failed_logins,
            locked_until: row.locked_until.map(utc),
            created_at: utc(row.created_at),
        })
    }
}
