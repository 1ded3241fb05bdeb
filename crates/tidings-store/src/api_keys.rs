//! API keys table. Keys are found by their public prefix; only a hash of the whole key is stored.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{ApiKey, ApiKeyId, ApiKeyRepo, AppId, CompanyId, NewApiKey, RepoError, RepoResult};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{ApiKeyRow, naive, now};
use crate::schema::api_keys as keys;
use crate::store::Store;

/// `last_used_at` is refreshed at most this often, so authenticating is not a write per request.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

#[async_trait]
impl ApiKeyRepo for Store {
    async fn create_api_key(&self, new: NewApiKey) -> RepoResult<ApiKey> {
        let row = ApiKeyRow {
            id: ApiKeyId::new().to_string(),
            company_id: new.company_id.to_string(),
            app_id: new.app_id.map(|a| a.to_string()),
            kind: new.kind.as_str().into(),
            prefix: new.prefix,
            key_hash: new.key_hash,
            expires_at: new.expires_at.map(naive),
            revoked_at: None,
            last_used_at: None,
            created_at: now(),
        };
        let row = with_conn!(self, |conn| {
            diesel::insert_into(keys::table).values(&row).execute(conn).await.map_err(db_error)?;
            Ok(row)
        })?;
        row.try_into()
    }

    async fn get_api_key(&self, company_id: CompanyId, id: ApiKeyId) -> RepoResult<ApiKey> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: ApiKeyRow = with_conn!(self, |conn| {
            keys::table
                .filter(keys::company_id.eq(&company_id))
                .filter(keys::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn list_api_keys(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        after: Option<ApiKeyId>,
        limit: i64,
    ) -> RepoResult<Vec<ApiKey>> {
        let (company_id, app_id) = (company_id.to_string(), app_id.to_string());
        // Every id sorts after the empty string, so no `after` starts at the beginning.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let rows: Vec<ApiKeyRow> = with_conn!(self, |conn| {
            keys::table
                .filter(keys::company_id.eq(&company_id))
                .filter(keys::app_id.eq(&app_id))
                .filter(keys::id.gt(&after))
                .order(keys::id.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn find_api_key_by_prefix(&self, prefix: &str) -> RepoResult<Option<ApiKey>> {
        let prefix = prefix.to_owned();
        let row: Option<ApiKeyRow> = with_conn!(self, |conn| {
            keys::table.filter(keys::prefix.eq(&prefix)).first(conn).await.optional().map_err(db_error)
        })?;
        row.map(TryInto::try_into).transpose()
    }

    async fn revoke_api_key(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> RepoResult<ApiKey> {
        let (company_text, id_text) = (company_id.to_string(), id.to_string());
        // Revoking twice keeps the first time and is not an error; an unknown key is, below.
        with_conn!(self, |conn| {
            diesel::update(
                keys::table
                    .filter(keys::company_id.eq(&company_text))
                    .filter(keys::id.eq(&id_text))
                    .filter(keys::revoked_at.is_null()),
            )
            .set(keys::revoked_at.eq(Some(naive(now))))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        self.get_api_key(company_id, id).await
    }

    async fn set_api_key_expiry(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<ApiKey> {
        let (company_text, id_text) = (company_id.to_string(), id.to_string());
        let updated = with_conn!(self, |conn| {
            diesel::update(
                keys::table.filter(keys::company_id.eq(&company_text)).filter(keys::id.eq(&id_text)),
            )
            .set(keys::expires_at.eq(Some(naive(expires_at))))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        if updated == 0 {
            return Err(RepoError::not_found());
        }
        self.get_api_key(company_id, id).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> RepoResult<()> {
        let id = id.to_string();
        let stale_before = naive(now - TOUCH_INTERVAL);
        with_conn!(self, |conn| {
            diesel::update(
                keys::table
                    .filter(keys::id.eq(&id))
                    .filter(keys::last_used_at.is_null().or(keys::last_used_at.lt(stale_before))),
            )
            .set(keys::last_used_at.eq(Some(naive(now))))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }
}
