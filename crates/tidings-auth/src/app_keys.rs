//! Apps and their API keys: creation, listing, rotation with an overlap, revocation.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use chrono::Utc;
use garde::Validate;
use rand::RngCore;
use serde_json::json;
use tidings_domain::{
    ApiKey, ApiKeyId, App, AppId, Audit, AuditAction, AuditEvent, CompanyId, IdentityRepos, IdentityVerdict,
    IdentityVerification, IdentityVerifier, NewApiKey, NewApp, RepoError, RepoResult, Revocations,
};

use crate::api_key::generate_api_key;
use crate::cipher::Cipher;
use crate::error::AuthError;
use crate::input::{AppInput, AppPatchInput, KeyInput};
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
    cipher: Cipher,
    audit: Audit,
}

/// An identity secret just issued: the app, and the secret, which is never shown again.
#[derive(Clone, Debug)]
pub struct IssuedIdentitySecret {
    /// The app, now with an identity secret.
    pub app: App,
    /// The secret the company's backend signs user ids with.
    pub secret: String,
}

impl AppKeys {
    /// Builds the service over `repos`; `revocations` hears of revoked and rotated keys.
    pub fn new(
        repos: Arc<dyn IdentityRepos>,
        settings: &AuthSettings,
        revocations: Arc<dyn Revocations>,
    ) -> Self {
        let cipher = settings.cipher();
        Self { repos, settings: settings.clone(), revocations, cipher, audit: Audit::default() }
    }

    /// Records key creations, rotations and revocations, and identity secrets issued, in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// Changes an app's settings. Requiring identity verification needs an identity secret first.
    pub async fn update_app(
        &self,
        actor: &Principal,
        id: AppId,
        input: AppPatchInput,
    ) -> Result<App, AuthError> {
        input.validate()?;
        let app = self.repos.get_app(actor.company_id, id).await?;
        let Some(mode) = input.identity_verification else { return Ok(app) };
        if mode == IdentityVerification::Required && !app.has_identity_secret {
            return Err(AuthError::Conflict("issue an identity secret before requiring verification"));
        }
        Ok(self.repos.set_identity_verification(actor.company_id, id, mode).await?)
    }

    /// Issues a new identity secret for an app, replacing the previous one at once. It is stored
    /// encrypted and shown only in this answer.
    pub async fn issue_identity_secret(
        &self,
        actor: &Principal,
        id: AppId,
    ) -> Result<IssuedIdentitySecret, AuthError> {
        self.repos.get_app(actor.company_id, id).await?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let sealed = self.cipher.seal(secret.as_bytes(), &id.to_string())?;
        let app = self.repos.set_identity_secret(actor.company_id, id, sealed).await?;
        let event =
            AuditEvent::new(actor.company_id, AuditAction::IdentitySecretIssued, actor).target("app", id);
        self.audit.record(event).await;
        Ok(IssuedIdentitySecret { app, secret })
    }

    /// Creates an app.
    pub async fn create_app(&self, actor: &Principal, input: AppInput) -> Result<App, AuthError> {
        input.validate()?;
        let new = NewApp { company_id: actor.company_id, name: input.name.trim().to_owned() };
        Ok(self.repos.create_app(new).await?)
    }

    /// A page of at most `limit` of the company's apps, oldest first, after the app `after`.
    pub async fn list_apps(
        &self,
        actor: &Principal,
        after: Option<AppId>,
        limit: i64,
    ) -> Result<Vec<App>, AuthError> {
        Ok(self.repos.list_apps(actor.company_id, after, limit).await?)
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
        self.audit.record(key_event(actor, AuditAction::KeyCreated, &record)).await;
        Ok(IssuedKey { record, key: generated.key })
    }

    /// A page of at most `limit` keys of an app, oldest first, after the key `after` (records only;
    /// keys are never shown again).
    pub async fn list_keys(
        &self,
        actor: &Principal,
        app_id: AppId,
        after: Option<ApiKeyId>,
        limit: i64,
    ) -> Result<Vec<ApiKey>, AuthError> {
        // Loaded first so that another company's app, or none, is NOT_FOUND rather than an empty page.
        let app = self.repos.get_app(actor.company_id, app_id).await?;
        Ok(self.repos.list_api_keys(actor.company_id, app.id, after, limit).await?)
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
        // The successor and the end of the old key's life commit together: never two keys without
        // an end, never a shortened key without its successor.
        let unit = self.repos.begin().await?;
        let record = unit
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
        unit.set_api_key_expiry(actor.company_id, old.id, old_end).await?;
        unit.commit().await?;
        self.revocations.withdrawn(actor.company_id);
        let event = key_event(actor, AuditAction::KeyRotated, &old)
            .detail(json!({ "kind": old.kind, "app_id": old.app_id, "successor_id": record.id, "old_expires_at": old_end }));
        self.audit.record(event).await;
        Ok(IssuedKey { record, key: generated.key })
    }

    /// Revokes a key at once.
    pub async fn revoke_key(&self, actor: &Principal, id: ApiKeyId) -> Result<ApiKey, AuthError> {
        let key = self.repos.revoke_api_key(actor.company_id, id, Utc::now()).await?;
        self.revocations.withdrawn(actor.company_id);
        self.audit.record(key_event(actor, AuditAction::KeyRevoked, &key)).await;
        Ok(key)
    }
}

/// An audit event about `key` (never the key itself: its id, kind and app).
fn key_event(actor: &Principal, action: AuditAction, key: &ApiKey) -> AuditEvent {
    AuditEvent::new(actor.company_id, action, actor)
        .target("api_key", key.id)
        .detail(json!({ "kind": key.kind, "app_id": key.app_id, "prefix": key.prefix }))
}

#[async_trait]
impl IdentityVerifier for AppKeys {
    async fn verify(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        external_id: Option<&str>,
        user_hash: Option<&str>,
    ) -> RepoResult<IdentityVerdict> {
        let app = self.repos.get_app(company_id, app_id).await?;
        let required = app.identity_verification == IdentityVerification::Required;
        let (Some(external_id), Some(user_hash)) = (external_id, user_hash) else {
            return Ok(IdentityVerdict { required, verified: false });
        };
        let Some(sealed) = self.repos.identity_secret(company_id, app_id).await? else {
            return Ok(IdentityVerdict { required, verified: false });
        };
        let secret = self
            .cipher
            .open(&sealed, &app_id.to_string())
            .map_err(|e| RepoError::internal(format!("identity secret of app {app_id}: {e}")))?;
        let Ok(presented) = hex::decode(user_hash.trim()) else {
            return Ok(IdentityVerdict { required, verified: false });
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
        // Constant-time comparison inside `verify`.
        let verified = hmac::verify(&key, external_id.as_bytes(), &presented).is_ok();
        Ok(IdentityVerdict { required, verified })
    }
}
