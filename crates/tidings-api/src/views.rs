//! JSON shapes of the entities the API returns, where they differ from the domain types (secrets
//! left out, fields renamed for clients).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_auth::{IssuedIdentitySecret, IssuedKey, TokenPair};
use tidings_domain::{ApiKey, ApiKeyId, AppId, CompanyId, IdentityVerification, KeyKind, Role, User, UserId};

/// A user without credentials or lockout state.
#[derive(Serialize)]
pub struct UserView {
    pub id: UserId,
    pub company_id: CompanyId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            company_id: u.company_id,
            email: u.email,
            name: u.name,
            role: u.role,
            created_at: u.created_at,
        }
    }
}

/// Tokens as returned by login, register and refresh.
#[derive(Serialize)]
pub struct TokensView {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl From<TokenPair> for TokensView {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
        }
    }
}

/// A key just issued: the one response that contains the whole key.
#[derive(Serialize)]
pub struct IssuedKeyView {
    pub id: ApiKeyId,
    pub key: String,
    pub prefix: String,
    pub kind: KeyKind,
    pub app_id: Option<AppId>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<IssuedKey> for IssuedKeyView {
    fn from(k: IssuedKey) -> Self {
        let r: ApiKey = k.record;
        Self {
            id: r.id,
            key: k.key,
            prefix: r.prefix,
            kind: r.kind,
            app_id: r.app_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

/// An identity secret just issued: the one response that contains it.
#[derive(Serialize)]
pub struct IdentitySecretView {
    pub app_id: AppId,
    pub identity_secret: String,
    pub identity_verification: IdentityVerification,
}

impl From<IssuedIdentitySecret> for IdentitySecretView {
    fn from(issued: IssuedIdentitySecret) -> Self {
        Self {
            app_id: issued.app.id,
            identity_secret: issued.secret,
            identity_verification: issued.app.identity_verification,
        }
    }
}

/// A list response.
#[derive(Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
