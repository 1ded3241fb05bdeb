//! A company's Meta integration as owners and admins manage it (`GET/PUT /v1/integrations/meta`):
//! ids in clear, secrets sealed with the server's encryption key and never shown again in full. The
//! same service hands the secrets to the Meta channel, the webhook check and the token refresh.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tidings_auth::Cipher;
use tidings_domain::{
    Audit, AuditAction, AuditEvent, CompanyId, Integration, IntegrationKind, IntegrationLookup,
    IntegrationRepo, LookupKey, Principal, Role,
};

use crate::error::{ForwardingError, ForwardingResult};
use crate::meta::MetaCredentials;

/// Longest secret or id accepted.
const MAX_FIELD: usize = 1024;

/// The secrets of a Meta integration, sealed together.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct MetaSecrets {
    /// Page access token (Facebook Messenger).
    pub page_access_token: Option<String>,
    /// Instagram access token.
    pub instagram_access_token: Option<String>,
    /// The Meta app's secret: signs webhooks, and refreshes tokens.
    pub app_secret: Option<String>,
    /// The token Meta echoes in the webhook handshake.
    pub verify_token: Option<String>,
}

/// The settings of a Meta integration that are not secret (stored as its config).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct MetaConfig {
    /// Facebook page id.
    pub page_id: Option<String>,
    /// Instagram business account id.
    pub instagram_account_id: Option<String>,
    /// The Meta app's id (needed to refresh tokens).
    pub app_id: Option<String>,
    /// When the page token expires, as Meta last said (refreshed before it does).
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the tokens were last refreshed.
    pub token_refreshed_at: Option<DateTime<Utc>>,
}

/// A change to the Meta integration: a field left out keeps its value, an empty string clears it.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaInput {
    /// Facebook page id.
    #[schema(example = "1001")]
    pub page_id: Option<String>,
    /// Instagram business account id.
    pub instagram_account_id: Option<String>,
    /// The Meta app's id.
    pub app_id: Option<String>,
    /// Page access token.
    pub page_access_token: Option<String>,
    /// Instagram access token.
    pub instagram_access_token: Option<String>,
    /// The Meta app's secret.
    pub app_secret: Option<String>,
    /// The webhook verify token.
    pub verify_token: Option<String>,
}

/// The Meta integration as the API shows it: secrets only as a hint of their last characters.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaSettings {
    /// The ids and token times.
    pub config: MetaConfig,
    /// Hint of the page access token (`…abcd`), if set.
    pub page_access_token: Option<String>,
    /// Hint of the Instagram access token, if set.
    pub instagram_access_token: Option<String>,
    /// Hint of the app secret, if set.
    pub app_secret: Option<String>,
    /// Hint of the verify token, if set.
    pub verify_token: Option<String>,
    /// Last change, `None` when never configured.
    pub updated_at: Option<DateTime<Utc>>,
}

/// An integration's secrets opened, with the rest of it.
pub struct Opened {
    /// The stored integration.
    pub integration: Integration,
    /// Its config.
    pub config: MetaConfig,
    /// Its secrets in clear.
    pub secrets: MetaSecrets,
}

/// Managing and reading companies' Meta integrations.
#[derive(Clone)]
pub struct Integrations {
    repo: Arc<dyn IntegrationRepo>,
    cipher: Cipher,
    audit: Audit,
}

impl Integrations {
    /// Builds the service over `repo`, sealing with `cipher`.
    pub fn new(repo: Arc<dyn IntegrationRepo>, cipher: Cipher) -> Self {
        Self { repo, cipher, audit: Audit::default() }
    }

    /// Records changes of the Meta integration in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// The admin's company's Meta integration (empty when never configured).
    pub async fn get_meta(&self, admin: &Principal) -> ForwardingResult<MetaSettings> {
        admin_only(admin)?;
        Ok(match self.open(admin.company_id).await? {
            Some(opened) => settings(&opened),
            None => settings(&Opened::empty(admin.company_id)),
        })
    }

    /// Changes the admin's company's Meta integration; a page or Instagram account already connected
    /// to another company is a conflict.
    pub async fn put_meta(&self, admin: &Principal, input: MetaInput) -> ForwardingResult<MetaSettings> {
        admin_only(admin)?;
        input.validate()?;
        let current = self.open(admin.company_id).await?.unwrap_or_else(|| Opened::empty(admin.company_id));
        let (mut config, mut secrets) = (current.config, current.secrets);
        apply(&mut config.page_id, input.page_id);
        apply(&mut config.instagram_account_id, input.instagram_account_id);
        apply(&mut config.app_id, input.app_id);
        let new_token = input.page_access_token.is_some();
        // Which secrets were replaced (never their values).
        let secrets_changed: Vec<&str> = [
            input.page_access_token.as_ref().map(|_| "page_access_token"),
            input.instagram_access_token.as_ref().map(|_| "instagram_access_token"),
            input.app_secret.as_ref().map(|_| "app_secret"),
            input.verify_token.as_ref().map(|_| "verify_token"),
        ]
        .into_iter()
        .flatten()
        .collect();
        apply(&mut secrets.page_access_token, input.page_access_token);
        apply(&mut secrets.instagram_access_token, input.instagram_access_token);
        apply(&mut secrets.app_secret, input.app_secret);
        apply(&mut secrets.verify_token, input.verify_token);
        if new_token {
            // A token given by hand starts a new life; its expiry is learnt at the next refresh.
            config.token_expires_at = None;
            config.token_refreshed_at = None;
        }
        let stored = self.store(admin.company_id, &config, &secrets).await.map_err(|e| match e {
            ForwardingError::Store(e) if e.is_conflict() => {
                ForwardingError::Conflict("this page or Instagram account is connected to another company")
            }
            other => other,
        })?;
        let event = AuditEvent::new(admin.company_id, AuditAction::IntegrationChanged, admin)
            .target("integration", "meta")
            .detail(serde_json::json!({
                "page_id": stored.config.page_id,
                "instagram_account_id": stored.config.instagram_account_id,
                "secrets_changed": secrets_changed,
            }));
        self.audit.record(event).await;
        Ok(settings(&stored))
    }

    /// Seals and stores a company's Meta integration.
    pub(crate) async fn store(
        &self,
        company_id: CompanyId,
        config: &MetaConfig,
        secrets: &MetaSecrets,
    ) -> ForwardingResult<Opened> {
        let plain = serde_json::to_vec(secrets).map_err(|e| ForwardingError::Internal(e.to_string()))?;
        let sealed = self
            .cipher
            .seal(&plain, &context(company_id))
            .map_err(|e| ForwardingError::Internal(e.to_string()))?;
        let integration = Integration {
            company_id,
            kind: IntegrationKind::Meta,
            config: serde_json::to_value(config).map_err(|e| ForwardingError::Internal(e.to_string()))?,
            secrets: Some(sealed),
            key_id: Some(self.cipher.key_id().to_owned()),
            lookup: IntegrationLookup {
                page_id: config.page_id.clone(),
                instagram_account_id: config.instagram_account_id.clone(),
                verify_token_digest: secrets.verify_token.as_deref().map(digest),
            },
            updated_at: Utc::now(),
        };
        let integration = self.repo.put_integration(integration).await?;
        Ok(Opened { integration, config: config.clone(), secrets: secrets.clone() })
    }

    /// A company's Meta integration with its secrets opened.
    pub async fn open(&self, company_id: CompanyId) -> ForwardingResult<Option<Opened>> {
        match self.repo.get_integration(company_id, IntegrationKind::Meta).await? {
            Some(integration) => self.opened(integration).map(Some),
            None => Ok(None),
        }
    }

    /// The integrations holding a page id, Instagram account id or verify token, opened.
    pub async fn find(&self, key: LookupKey<'_>) -> ForwardingResult<Vec<Opened>> {
        let found = self.repo.find_integrations(IntegrationKind::Meta, key).await?;
        found.into_iter().map(|i| self.opened(i)).collect()
    }

    /// Every company's Meta integration, opened (for the token refresh).
    pub async fn all(&self) -> ForwardingResult<Vec<Opened>> {
        let found = self.repo.list_integrations(IntegrationKind::Meta).await?;
        found.into_iter().map(|i| self.opened(i)).collect()
    }

    fn opened(&self, integration: Integration) -> ForwardingResult<Opened> {
        let config: MetaConfig = serde_json::from_value(integration.config.clone())
            .map_err(|e| ForwardingError::Internal(format!("stored Meta config: {e}")))?;
        let secrets = match &integration.secrets {
            Some(sealed) => {
                let plain = self
                    .cipher
                    .open(sealed, &context(integration.company_id))
                    .map_err(|e| ForwardingError::Internal(e.to_string()))?;
                serde_json::from_slice(&plain)
                    .map_err(|e| ForwardingError::Internal(format!("stored Meta secrets: {e}")))?
            }
            None => MetaSecrets::default(),
        };
        Ok(Opened { integration, config, secrets })
    }
}

#[async_trait]
impl MetaCredentials for Integrations {
    async fn access_token(&self, company_id: CompanyId, platform: &str) -> Result<Option<String>, String> {
        let opened = self.open(company_id).await.map_err(|e| e.to_string())?;
        Ok(opened.and_then(|o| match platform {
            "instagram" => o.secrets.instagram_access_token.or(o.secrets.page_access_token),
            _ => o.secrets.page_access_token,
        }))
    }
}

impl Opened {
    fn empty(company_id: CompanyId) -> Self {
        Opened {
            integration: Integration {
                company_id,
                kind: IntegrationKind::Meta,
                config: serde_json::json!({}),
                secrets: None,
                key_id: None,
                lookup: IntegrationLookup::default(),
                updated_at: Utc::now(),
            },
            config: MetaConfig::default(),
            secrets: MetaSecrets::default(),
        }
    }
}

impl MetaInput {
    fn validate(&self) -> ForwardingResult<()> {
        let fields = [
            ("page_id", &self.page_id, true),
            ("instagram_account_id", &self.instagram_account_id, true),
            ("app_id", &self.app_id, true),
            ("page_access_token", &self.page_access_token, false),
            ("instagram_access_token", &self.instagram_access_token, false),
            ("app_secret", &self.app_secret, false),
            ("verify_token", &self.verify_token, false),
        ];
        for (name, value, numeric) in fields {
            let Some(value) = value else { continue };
            if value.chars().count() > MAX_FIELD || value.chars().any(char::is_control) {
                return Err(ForwardingError::Invalid(
                    name,
                    format!("at most {MAX_FIELD} printable characters"),
                ));
            }
            if numeric && !value.chars().all(|c| c.is_ascii_digit()) {
                return Err(ForwardingError::Invalid(name, "Meta ids are digits".into()));
            }
        }
        if self.verify_token.as_deref().is_some_and(|t| !t.is_empty() && t.len() < 16) {
            return Err(ForwardingError::Invalid("verify_token", "at least 16 characters".into()));
        }
        Ok(())
    }
}

/// Only owners and admins manage a company's integrations.
pub(crate) fn admin_only(principal: &Principal) -> ForwardingResult<()> {
    if principal.role >= Role::Admin {
        Ok(())
    } else {
        Err(ForwardingError::Forbidden("only owners and admins manage integrations"))
    }
}

/// Sets, keeps (absent) or clears (empty) one field.
pub(crate) fn apply(field: &mut Option<String>, input: Option<String>) {
    match input {
        None => {}
        Some(value) if value.trim().is_empty() => *field = None,
        Some(value) => *field = Some(value.trim().to_owned()),
    }
}

/// The hint of a secret shown instead of it: its last four characters, only when it is long enough
/// that they give nothing away.
pub(crate) fn hint(secret: &Option<String>) -> Option<String> {
    secret.as_ref().map(|s| {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() >= 16 {
            format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
        } else {
            "…".into()
        }
    })
}

fn settings(opened: &Opened) -> MetaSettings {
    MetaSettings {
        config: opened.config.clone(),
        page_access_token: hint(&opened.secrets.page_access_token),
        instagram_access_token: hint(&opened.secrets.instagram_access_token),
        app_secret: hint(&opened.secrets.app_secret),
        verify_token: hint(&opened.secrets.verify_token),
        updated_at: opened.integration.secrets.as_ref().map(|_| opened.integration.updated_at),
    }
}

/// What a company's sealed secrets are bound to: copied onto another company's row they do not open.
fn context(company_id: CompanyId) -> String {
    format!("integration:meta:{company_id}")
}

/// The stored digest of a verify token.
pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
