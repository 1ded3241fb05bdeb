//! Turning presented credentials into a caller: access tokens for users, API keys for SDK devices
//! and services.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tidings_domain::{ApiKey, AppId, ErrorChain, IdentityRepos, KeyKind, Platform};

use crate::access_token::AccessTokens;
use crate::api_key::{parse_api_key, verify_api_key};
use crate::error::AuthError;
use crate::recent_users::{RecentUsers, recent_users};
use crate::settings::AuthSettings;
use tidings_domain::{ApiKeyId, Caller, ClientPrincipal, CompanyId, Principal, ServicePrincipal};

/// Checks credentials against the store.
#[derive(Clone)]
pub struct Authenticator {
    repos: Arc<dyn IdentityRepos>,
    tokens: AccessTokens,
    recent: RecentUsers,
}

impl Authenticator {
    /// Builds the authenticator over `repos`.
    pub fn new(repos: Arc<dyn IdentityRepos>, settings: &AuthSettings) -> Self {
        let tokens = AccessTokens::new(&settings.jwt_secret, settings.access_ttl);
        Self { tokens, repos, recent: recent_users() }
    }

    /// The users this authenticator has recently loaded; whoever changes users makes it forget.
    pub fn recent_users(&self) -> RecentUsers {
        self.recent.clone()
    }

    /// A user from an access token. The user is loaded (or was, less than a second ago) so that a
    /// deleted user is refused and a role change applies at once, not when the token expires.
    pub async fn user(&self, access_token: &str) -> Result<Principal, AuthError> {
        Ok(self.user_until(access_token).await?.0)
    }

    /// A user from an access token, with the moment the token expires (live sessions close then
    /// unless the client presents a fresh token).
    pub async fn user_until(&self, access_token: &str) -> Result<(Principal, DateTime<Utc>), AuthError> {
        let claims = self.tokens.verify(access_token)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(AuthError::InvalidToken)?;
        let (company_id, user_id) = (claims.company_id, claims.sub);
        let lookup = match self.recent.get(company_id, &user_id) {
            Ok(role) => return Ok((Principal { user_id, company_id, role }, expires_at)),
            Err(lookup) => lookup,
        };
        match self.repos.get_user(company_id, user_id).await {
            Ok(user) => {
                self.recent.remember(lookup, user.company_id, user.id, user.role);
                Ok((Principal { user_id: user.id, company_id: user.company_id, role: user.role }, expires_at))
            }
            Err(e) if e.is_not_found() => Err(AuthError::Unauthenticated("this user no longer exists")),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that the credentials behind an authenticated caller still stand as they were: the
    /// user exists with the same role, the API key is neither revoked nor expired. Live sessions
    /// call it periodically and when told of a revocation. `Unauthenticated` says what changed; any
    /// other error is the store's and proves nothing either way.
    pub async fn still_valid(&self, caller: &Caller) -> Result<(), AuthError> {
        match caller {
            Caller::User(principal) => {
                match self.repos.get_user(principal.company_id, principal.user_id).await {
                    Ok(user) if user.role == principal.role => Ok(()),
                    Ok(_) => Err(AuthError::Unauthenticated("this user's role has changed")),
                    Err(e) if e.is_not_found() => {
                        Err(AuthError::Unauthenticated("this user no longer exists"))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Caller::Client(client) => self.key_still_valid(client.company_id, client.key_id).await,
            Caller::Service(service) => self.key_still_valid(service.company_id, service.key_id).await,
        }
    }

    async fn key_still_valid(&self, company_id: CompanyId, key_id: ApiKeyId) -> Result<(), AuthError> {
        let key = match self.repos.get_api_key(company_id, key_id).await {
            Ok(key) => key,
            Err(e) if e.is_not_found() => {
                return Err(AuthError::Unauthenticated("this API key no longer exists"));
            }
            Err(e) => return Err(e.into()),
        };
        if key.revoked_at.is_some() {
            return Err(AuthError::Unauthenticated("this API key has been revoked"));
        }
        if !key.is_active(Utc::now()) {
            return Err(AuthError::Unauthenticated("this API key has expired"));
        }
        Ok(())
    }

    /// An SDK device from `X-App-Id`, `X-Device-Id`, `X-Api-Key` and `X-SDK-Version`.
    pub async fn client(
        &self,
        app_id: &str,
        device_id: &str,
        api_key: &str,
        sdk_version: Option<&str>,
        platform: Option<&str>,
    ) -> Result<ClientPrincipal, AuthError> {
        let app_id: AppId = app_id
            .trim()
            .parse()
            .map_err(|_| AuthError::Unauthenticated("X-App-Id is not a valid app id"))?;
        let device_id = device_id.trim();
        if device_id.is_empty() || device_id.len() > 128 || !device_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AuthError::Unauthenticated("X-Device-Id must be 1 to 128 visible ASCII characters"));
        }
        let platform = match platform.map(|p| p.trim().to_ascii_lowercase()) {
            None => None,
            Some(p) => match p.parse::<Platform>() {
                Ok(p) if p.is_device() => Some(p),
                _ => return Err(AuthError::Invalid("X-Platform", "must be ios, android, web or desktop")),
            },
        };
        let key = self.api_key(api_key, KeyKind::Client).await?;
        if key.app_id != Some(app_id) {
            return Err(AuthError::Unauthenticated("this API key does not belong to this app"));
        }
        Ok(ClientPrincipal {
            company_id: key.company_id,
            app_id,
            device_id: device_id.to_owned(),
            sdk_version: sdk_version.map(|v| v.chars().take(64).collect()),
            platform,
            key_id: key.id,
        })
    }

    /// A service from a server key.
    pub async fn service(&self, api_key: &str) -> Result<ServicePrincipal, AuthError> {
        let key = self.api_key(api_key, KeyKind::Server).await?;
        Ok(ServicePrincipal { company_id: key.company_id, app_id: key.app_id, key_id: key.id })
    }

    async fn api_key(&self, presented: &str, kind: KeyKind) -> Result<ApiKey, AuthError> {
        const INVALID: AuthError = AuthError::Unauthenticated("invalid API key");
        let parsed = parse_api_key(presented.trim()).map_err(|_| INVALID)?;
        if parsed.kind != kind {
            return Err(match kind {
                KeyKind::Client => AuthError::Unauthenticated("a client key is required"),
                KeyKind::Server => AuthError::Unauthenticated("a server key is required"),
            });
        }
        let Some(key) = self.repos.find_api_key_by_prefix(&parsed.prefix).await? else { return Err(INVALID) };
        if !verify_api_key(presented.trim(), &key.key_hash) {
            return Err(INVALID);
        }
        let now = Utc::now();
        if key.revoked_at.is_some() {
            return Err(AuthError::Unauthenticated("this API key has been revoked"));
        }
        if !key.is_active(now) {
            return Err(AuthError::Unauthenticated("this API key has expired"));
        }
        // Recording use is bookkeeping: a failure must not refuse a valid key.
        if let Err(e) = self.repos.touch_api_key(key.id, now).await {
            tracing::warn!(key_id = %key.id, error = %ErrorChain(&e), "could not record API key use");
        }
        Ok(key)
    }
}
