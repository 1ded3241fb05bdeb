//! Refresh tokens table: rotation spends the old token and stores the new one in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{NewRefreshToken, RefreshToken, RefreshTokenId, RefreshTokenRepo, RepoResult, UserId};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{RefreshTokenRow, naive, now};
use crate::schema::refresh_tokens as rt;
use crate::store::Store;

fn new_row(new: NewRefreshToken) -> RefreshTokenRow {
    RefreshTokenRow {
        id: RefreshTokenId::new().to_string(),
        company_id: new.company_id.to_string(),
        user_id: new.user_id.to_string(),
        family_id: new.family_id.to_string(),
        token_hash: new.token_hash,
        expires_at: naive(new.expires_at),
        revoked_at: None,
        replaced_by: None,
        created_at: now(),
    }
}

#[async_trait]
impl RefreshTokenRepo for Store {
    async fn insert_refresh_token(&self, new: NewRefreshToken) -> RepoResult<RefreshTokenId> {
        let row = new_row(new);
        let id = row.id.clone();
        with_conn!(self, |conn| {
            diesel::insert_into(rt::table).values(&row).execute(conn).await.map_err(db_error)
        })?;
        crate::rows::parse_id(&id)
    }

    async fn find_refresh_token(&self, token_hash: &str) -> RepoResult<Option<RefreshToken>> {
        let token_hash = token_hash.to_owned();
        let row: Option<RefreshTokenRow> = with_conn!(self, |conn| {
            rt::table.filter(rt::token_hash.eq(&token_hash)).first(conn).await.optional().map_err(db_error)
        })?;
        row.map(TryInto::try_into).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old: RefreshTokenId,
        new: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<RefreshTokenId>> {
        let row = new_row(new);
        let old = old.to_string();
        let now = naive(now);
        // The spend is a conditional update and comes first: it is the write that takes the lock, so
        // a concurrent rotation of the same token waits, then finds it spent and stores nothing.
        let new_id = row.id.clone();
        let rotated = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                let spent = diesel::update(
                    rt::table
                        .filter(rt::id.eq(&old))
                        .filter(rt::revoked_at.is_null())
                        .filter(rt::replaced_by.is_null()),
                )
                .set((rt::revoked_at.eq(Some(now)), rt::replaced_by.eq(Some(&row.id))))
                .execute(conn)
                .await?;
                if spent == 0 {
                    return Ok(false);
                }
                diesel::insert_into(rt::table).values(&row).execute(conn).await?;
                Ok::<_, diesel::result::Error>(true)
            })
            .await
            .map_err(db_error)
        })?;
        if rotated { crate::rows::parse_id(&new_id).map(Some) } else { Ok(None) }
    }

    async fn revoke_refresh_family(&self, family_id: RefreshTokenId, now: DateTime<Utc>) -> RepoResult<()> {
        let family_id = family_id.to_string();
        let now = naive(now);
        with_conn!(self, |conn| {
            diesel::update(rt::table.filter(rt::family_id.eq(&family_id)).filter(rt::revoked_at.is_null()))
                .set(rt::revoked_at.eq(Some(now)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    async fn revoke_user_refresh_tokens(&self, user_id: UserId, now: DateTime<Utc>) -> RepoResult<()> {
        let user_id = user_id.to_string();
        let now = naive(now);
        with_conn!(self, |conn| {
            diesel::update(rt::table.filter(rt::user_id.eq(&user_id)).filter(rt::revoked_at.is_null()))
                .set(rt::revoked_at.eq(Some(now)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }
}
