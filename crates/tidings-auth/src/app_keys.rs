//! Apps and their API keys: creation, listing, rotation with an overlap, revocation.

use std::sync::Arc;

use chrono::Utc;
use garde::Validate;
use tidings_domain::{ApiKey, ApiKeyId, App, AppId, IdentityRepos, NewApiKey, NewApp, Revocations};

use crate::api_key::generate_api_key;
use crate::error::AuthError;
use crate::input::{AppInput, KeyInput};
use crate::settings::AuthSettings;
use tidings_domain::Principal;

/// A key just created: the stored record and the full key, which is never shown again.
#[derive(Clone, Debug)]
pub struct IssuedKey {
    /// The stored record (prefix, kind, expiry).
    pub record: ApiKey,
    /// The whole key.
    pub key: String,
}

/// Apps and keys of the caller's company.
#[derive(Clone)]
pub struct AppKeys {
    repos: Arc<dyn IdentityRepos>,
    settings: AuthSettings,
    revocations: Arc<dyn Revocations>,
}

impl AppKeys {
    /// Builds the service over `repos`; `revocations` hears of revoked and rotated keys.
    pub fn new(
        repos: Arc<dyn IdentityRepos>,
        settings: &AuthSettings,
        revocations: Arc<dyn Revocations>,
    ) -> Self {
        Self { repos, settings: settings.clone(), revocations }
    }

    /// Creates an app.
    pub async fn create_app(&self, actor: &Principal, input: AppInput) -> Result<App, AuthError> {
        input.validate()?;
        let new = NewApp { company_id: actor.company_id, name: input.name.trim().to_owned() };
        Ok(self.repos.create_app(new).await?)
    }

    /// The company's apps.
    pub async fn list_apps(&self, actor: &Principal) -> Result<Vec<App>, AuthError> {
        Ok(self.repos.list_apps(actor.company_id).await?)
    }

    /// Issues a key for an app of the company.
    pub async fn create_key(
        &self,
        actor: &Principal,
        app_id: AppId,
        input: KeyInput,
    ) -> Result<IssuedKey, AuthError> {
        input.validate()?;
        let app = self.repos.get_app(actor.company_id, app_id).await?;
        if input.expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(AuthError::Invalid("expires_at", "must be in the future"));
        }
        let generated = generate_api_key(input.kind);
        let record = self
            .repos
            .create_api_key(NewApiKey {
                company_id: actor.company_id,
                app_id: Some(app.id),
                kind: input.kind,
                prefix: generated.prefix,
                key_hash: generated.hash,
                expires_at: input.expires_at,
            })
            .await?;
        Ok(IssuedKey { record, key: generated.key })
    }

    /// The keys of an app (records only; keys are never shown again).
    pub async fn list_keys(&self, actor: &Principal, app_id: AppId) -> Result<Vec<ApiKey>, AuthError> {
        let app = self.repos.get_app(actor.company_id, app_id).await?;
        Ok(self.repos.list_api_keys(actor.company_id, app.id).await?)
    }

    /// Issues a successor for a key; the old key keeps working for the configured overlap so that
    /// deployed clients can switch without downtime.
    pub async fn rotate_key(&self, actor: &Principal, id: ApiKeyId) -> Result<IssuedKey, AuthError> {
        let old = self.repos.get_api_key(actor.company_id, id).await?;
        let now = Utc::now();
        if !old.is_active(now) {
            return Err(AuthError::Conflict("this key is revoked or expired; create a new one"));
        }
        let generated = generate_api_key(old.kind);
        let record = self
            .repos
            .create_api_key(NewApiKey {
                company_id: actor.company_id,
                app_id: old.app_id,
                kind: old.kind,
                prefix: generated.prefix,
                key_hash: generated.hash,
                expires_at: old.expires_at,
            })
            .await?;
        let overlap_end = now + self.settings.key_rotation_overlap;
        let old_end = old.expires_at.map_or(overlap_end, |t| t.min(overlap_end));
        self.repos.set_api_key_expiry(actor.company_id, old.id, old_end).await?;
        self.revocations.withdrawn(actor.company_id);
        Ok(IssuedKey { record, key: generated.key })
    }

    /// Revokes a key at once.
    pub async fn revoke_key(&self, actor: &Principal, id: ApiKeyId) -> Result<ApiKey, AuthError> {
        let key = self.repos.revoke_api_key(actor.company_id, id, Utc::now()).await?;
        self.revocations.withdrawn(actor.company_id);
        Ok(key)
    }
}
