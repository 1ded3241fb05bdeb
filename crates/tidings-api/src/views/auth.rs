//! Accounts: users, companies, tokens, and who a caller is.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_auth::{Session, TokenPair};
use tidings_domain::{AppId, ClientPrincipal, Company, CompanyId, Role, ServicePrincipal, User, UserId};
use utoipa::ToSchema;

/// A user, without password hash or lockout state.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Identifier.
    pub id: UserId,
    /// The user's company.
    pub company_id: CompanyId,
    /// Login e-mail, lower-cased.
    #[schema(example = "ada@acme.test")]
    pub email: String,
    /// Display name.
    pub name: String,
    /// `owner`, `admin` or `agent`.
    pub role: Role,
    /// Creation time.
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

/// A company (tenant).
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyView {
    /// Identifier.
    pub id: CompanyId,
    /// Display name.
    pub name: String,
    /// Free-form settings (a JSON object).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Company> for CompanyView {
    fn from(c: Company) -> Self {
        Self { id: c.id, name: c.name, settings: c.settings, created_at: c.created_at }
    }
}

/// A token pair, as returned by `POST /v1/auth/refresh`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensView {
    /// Access token (JWT) for `Authorization: Bearer`.
    #[schema(example = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9…")]
    pub access_token: String,
    /// Single-use refresh token for `POST /v1/auth/refresh`; absent in cookie mode, where the
    /// cookie carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tdr_…")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    #[schema(schema_with = bearer)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

impl From<TokenPair> for TokensView {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: Some(t.refresh_token),
            token_type: "Bearer",
            expires_in: t.expires_in,
        }
    }
}

/// A logged-in user, as returned by register and login: the user, the company and a token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The user.
    pub user: UserView,
    /// The user's company.
    pub company: CompanyView,
    /// Access token (JWT) for `Authorization: Bearer`.
    #[schema(example = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9…")]
    pub access_token: String,
    /// Single-use refresh token for `POST /v1/auth/refresh`; absent in cookie mode, where the
    /// cookie carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tdr_…")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    #[schema(schema_with = bearer)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// The schema of `token_type`.
fn bearer() -> utoipa::openapi::schema::ObjectBuilder {
    super::word("Bearer")
}

impl From<Session> for SessionView {
    fn from(s: Session) -> Self {
        let tokens = TokensView::from(s.tokens);
        Self {
            user: s.user.into(),
            company: s.company.into(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: tokens.token_type,
            expires_in: tokens.expires_in,
        }
    }
}

/// `GET /v1/auth/me`: who the credentials authenticate, told apart by `kind`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeView {
    /// A user, by access token.
    User {
        /// The user.
        user: UserView,
        /// The user's company.
        company: CompanyView,
    },
    /// An SDK device, by client key.
    Client {
        /// The app's company.
        company_id: CompanyId,
        /// The app (`X-App-Id`).
        app_id: AppId,
        /// The device as the SDK names it (`X-Device-Id`).
        device_id: String,
        /// `X-SDK-Version`, or `null`.
        sdk_version: Option<String>,
    },
    /// A company's service, by server key.
    Service {
        /// The key's company.
        company_id: CompanyId,
        /// The app the key was issued under.
        app_id: Option<AppId>,
    },
}

impl MeView {
    /// A user with their company.
    pub fn user(user: User, company: Company) -> Self {
        MeView::User { user: user.into(), company: company.into() }
    }
}

impl From<ClientPrincipal> for MeView {
    fn from(c: ClientPrincipal) -> Self {
        MeView::Client {
            company_id: c.company_id,
            app_id: c.app_id,
            device_id: c.device_id,
            sdk_version: c.sdk_version,
        }
    }
}

impl From<ServicePrincipal> for MeView {
    fn from(s: ServicePrincipal) -> Self {
        MeView::Service { company_id: s.company_id, app_id: s.app_id }
    }
}

/// `POST /v1/auth/password-reset`: `{"status": "accepted"}`, whether or not the account exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedView {
    /// Always `accepted`.
    #[schema(schema_with = accepted)]
    pub status: &'static str,
}

/// The schema of [`AcceptedView::status`].
fn accepted() -> utoipa::openapi::schema::ObjectBuilder {
    super::word("accepted")
}

impl AcceptedView {
    /// The one answer.
    pub fn accepted() -> Self {
        Self { status: "accepted" }
    }
}

/// `GET /v1/setup`: whether the server still waits for its first company.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupView {
    /// True while no company exists: the setup page is open.
    pub needed: bool,
}
