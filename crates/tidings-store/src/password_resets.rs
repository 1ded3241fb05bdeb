//! Password resets table: a token is spent by one conditional UPDATE (unused and unexpired), so that
//! of concurrent uses exactly one wins; the same transaction voids the user's other unused tokens.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{
    NewPasswordReset, PasswordReset, PasswordResetId, PasswordResetRepo, RepoError, RepoResult,
};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{naive, now, parse_id, utc};
use crate::schema::password_resets as pr;
use crate::store::Store;

#[derive(Queryable, Insertable)]
#[diesel(table_name = pr)]
struct PasswordResetRow {
    id: String,
    company_id: String,
    user_id: String,
    token_hash: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl TryFrom<PasswordResetRow> for PasswordReset {
    type Error = RepoError;
    fn try_from(row: PasswordResetRow) -> Result<Self, RepoError> {
        Ok(PasswordReset {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            user_id: parse_id(&row.user_id)?,
            expires_at: utc(row.expires_at),
            used_at: row.used_at.map(utc),
            created_at: utc(row.created_at),
        })
    }
}

/// A time at the precision both backends keep, so that they compare it alike.
fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    naive(t).trunc_subsecs(6)
}

#[async_trait]
impl PasswordResetRepo for Store {
    async fn insert_password_reset(&self, new: NewPasswordReset) -> RepoResult<PasswordReset> {
        let row = PasswordResetRow {
            id: PasswordResetId::new().to_string(),
            company_id: new.company_id.to_string(),
            user_id: new.user_id.to_string(),
            token_hash: new.token_hash,
            expires_at: stored(new.expires_at),
            used_at: None,
            created_at: now(),
        };
        let row = with_conn!(self, |conn| {
            diesel::insert_into(pr::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn find_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>> {
        let (token_hash, now) = (token_hash.to_owned(), stored(now));
        let found: Option<PasswordResetRow> = with_conn!(self, |conn| {
            pr::table
                .filter(pr::token_hash.eq(&token_hash))
                .filter(pr::used_at.is_null())
                .filter(pr::expires_at.gt(now))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        found.map(TryInto::try_into).transpose()
    }

    async fn spend_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>> {
        let (token_hash, now) = (token_hash.to_owned(), stored(now));
        let spent: Option<PasswordResetRow> = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                // The WHERE is re-checked against the row as a concurrent winner left it (PostgreSQL
                // waits on its row lock; SQLite has one writer), so only one use finds it unused.
                let spent: Option<PasswordResetRow> = diesel::update(
                    pr::table
                        .filter(pr::token_hash.eq(&token_hash))
                        .filter(pr::used_at.is_null())
                        .filter(pr::expires_at.gt(now)),
                )
                .set(pr::used_at.eq(Some(now)))
                .returning(pr::all_columns)
                .get_result(conn)
                .await
                .optional()?;
                if let Some(row) = &spent {
                    diesel::update(
                        pr::table.filter(pr::user_id.eq(&row.user_id)).filter(pr::used_at.is_null()),
                    )
                    .set(pr::used_at.eq(Some(now)))
                    .execute(conn)
                    .await?;
                }
                Ok::<_, diesel::result::Error>(spent)
            })
            .await
            .map_err(db_error)
        })?;
        spent.map(TryInto::try_into).transpose()
    }
}
