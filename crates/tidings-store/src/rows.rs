//! Row types as the tables hold them, and their conversion to domain entities. Kept apart from the
//! queries so that each repository module reads as queries only.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use tidings_domain::{ApiKey, App, Company, RefreshToken, RepoError, User};

use crate::schema::{api_keys, apps, companies, refresh_tokens, users};

/// Current time at the precision both backends keep (microseconds), as stored.
pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Parses a stored id; a malformed one means the table was written by something else.
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, RepoError> {
    raw.parse().map_err(|_| RepoError::internal(format!("malformed value in store: {raw}")))
}

/// Stored form of a time.
pub(crate) fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

/// Long error texts are cut: they are kept for people to read, not to grow rows without bound.
pub(crate) fn clipped(error: String) -> String {
    const MAX: usize = 2000;
    match error.char_indices().nth(MAX) {
        Some((at, _)) => error[..at].to_owned(),
        None => error,
    }
}

pub(crate) fn json(raw: &str) -> Result<serde_json::Value, RepoError> {
    serde_json::from_str(raw).map_err(|e| RepoError::internal(format!("stored JSON: {e}")))
}

#[derive(Queryable, QueryableByName, Insertable)]
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
            settings: json(&row.settings)?,
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
            role: row.role.parse().map_err(RepoError::internal)?,
            failed_logins: row.failed_logins,
            locked_until: row.locked_until.map(utc),
            created_at: utc(row.created_at),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct RefreshTokenRow {
    pub id: String,
    pub company_id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub replaced_by: Option<String>,
    pub created_at: NaiveDateTime,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = RepoError;
    fn try_from(row: RefreshTokenRow) -> Result<Self, RepoError> {
        Ok(RefreshToken {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            user_id: parse_id(&row.user_id)?,
            family_id: parse_id(&row.family_id)?,
            token_hash: row.token_hash,
            expires_at: utc(row.expires_at),
            revoked_at: row.revoked_at.map(utc),
            replaced_by: row.replaced_by.as_deref().map(parse_id).transpose()?,
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = apps)]
pub(crate) struct AppRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub settings: String,
    pub created_at: NaiveDateTime,
    pub identity_secret_enc: Option<String>,
    pub identity_verification: String,
}

impl TryFrom<AppRow> for App {
    type Error = RepoError;
    fn try_from(row: AppRow) -> Result<Self, RepoError> {
        Ok(App {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            name: row.name,
            settings: json(&row.settings)?,
            created_at: utc(row.created_at),
            has_identity_secret: row.identity_secret_enc.is_some(),
            identity_verification: parse_id(&row.identity_verification)?,
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = api_keys)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub company_id: String,
    pub app_id: Option<String>,
    pub kind: String,
    pub prefix: String,
    pub key_hash: String,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = RepoError;
    fn try_from(row: ApiKeyRow) -> Result<Self, RepoError> {
        Ok(ApiKey {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            app_id: row.app_id.as_deref().map(parse_id).transpose()?,
            kind: parse_id(&row.kind)?,
            prefix: row.prefix,
            key_hash: row.key_hash,
            expires_at: row.expires_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
            last_used_at: row.last_used_at.map(utc),
            created_at: utc(row.created_at),
        })
    }
}
