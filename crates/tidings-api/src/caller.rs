//! Authentication extractors: the one place where credentials are read from requests and roles are
//! enforced. A handler states what it needs in its signature (`Staff<Admin>`, `SdkClient`, ...).

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use tidings_auth::{ClientPrincipal, Principal, ServicePrincipal, parse_api_key};
use tidings_domain::{Caller, KeyKind, Role};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The least role a [`Staff`] extractor accepts.
pub trait MinRole {
    /// The role.
    const ROLE: Role;
}

/// Any user of the company.
pub struct Agent;
/// Admins and owners.
pub struct Admin;
/// Owners only.
pub struct Owner;

impl MinRole for Agent {
    const ROLE: Role = Role::Agent;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}
impl MinRole for Owner {
    const ROLE: Role = Role::Owner;
}

/// A user authenticated by `Authorization: Bearer <access token>` whose role is at least `R`.
pub struct Staff<R: MinRole = Agent> {
    /// Who is calling.
    pub principal: Principal,
    _role: PhantomData<R>,
}

/// An SDK device authenticated by `X-App-Id`, `X-Device-Id` and a client `X-Api-Key`.
pub struct SdkClient(pub ClientPrincipal);

/// A service authenticated by a server `X-Api-Key`.
pub struct ServiceCaller(pub ServicePrincipal);

/// Any of the three kinds of caller, chosen by the credentials the request carries.
pub struct AnyCaller(pub Caller);

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The token of an `Authorization: Bearer` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, AUTHORIZATION.as_str())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Valid-looking credentials of the wrong kind of caller for this endpoint.
fn wrong_kind(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
}

/// Whether `key` has the shape of a server key (whether it is valid is not checked).
fn is_server_key(key: &str) -> bool {
    parse_api_key(key.trim()).is_ok_and(|parsed| parsed.kind == KeyKind::Server)
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

/// The credentials of a request, read once.
struct Credentials {
    bearer: Option<String>,
    api_key: Option<String>,
    app_id: Option<String>,
    device_id: Option<String>,
    sdk_version: Option<String>,
    platform: Option<String>,
}

impl Credentials {
    fn of(req: &HttpRequest) -> Self {
        let h = req.headers();
        Self {
            bearer: bearer(h),
            api_key: header(h, "x-api-key"),
            app_id: header(h, "x-app-id"),
            device_id: header(h, "x-device-id"),
            sdk_version: header(h, "x-sdk-version"),
            platform: header(h, "x-platform"),
        }
    }
}

async fn staff(state: &AppState, token: Option<String>, min: Role) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(|| unauthenticated("missing `Authorization: Bearer <access token>`"))?;
    let principal = state.authenticator.user(&token).await?;
    if principal.role < min {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this action requires the {min} role or higher"),
        ));
    }
    Ok(principal)
}

async fn client(state: &AppState, c: Credentials) -> Result<ClientPrincipal, ApiError> {
    let (Some(app_id), Some(key)) = (c.app_id, c.api_key) else {
        return Err(unauthenticated("missing `X-App-Id` and `X-Api-Key` headers"));
    };
    let device_id = c.device_id.ok_or_else(|| unauthenticated("missing `X-Device-Id` header"))?;
    Ok(state
        .authenticator
        .client(&app_id, &device_id, &key, c.sdk_version.as_deref(), c.platform.as_deref())
        .await?)
}

async fn service(state: &AppState, key: Option<String>) -> Result<ServicePrincipal, ApiError> {
    let key = key.ok_or_else(|| unauthenticated("missing `X-Api-Key` header"))?;
    Ok(state.authenticator.service(&key).await?)
}

impl<R: MinRole + 'static> FromRequest for Staff<R> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (state, token) = (state(req), bearer(req.headers()));
        let api_key_only = token.is_none() && req.headers().contains_key("x-api-key");
        Box::pin(async move {
            if api_key_only {
                return Err(wrong_kind(
                    "this endpoint is for users: send `Authorization: Bearer <access token>`",
                ));
            }
            let principal = staff(&*state?, token, R::ROLE).await?;
            Ok(Staff { principal, _role: PhantomData })
        })
    }
}

impl FromRequest for SdkClient {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (state, credentials) = (state(req), Credentials::of(req));
        Box::pin(async move {
            if credentials.bearer.is_some() && credentials.api_key.is_none() {
                return Err(wrong_kind(
                    "this endpoint is for SDK clients: send `X-App-Id`, `X-Device-Id` and `X-Api-Key`",
                ));
            }
            // A server key here is a service calling an SDK endpoint: the wrong kind of caller (403,
            // like a bearer token), not a missing credential. As in `Staff`, the credentials' shape
            // decides, without a look-up.
            if credentials.api_key.as_deref().is_some_and(is_server_key) {
                return Err(wrong_kind(
                    "this endpoint is for SDK clients: a server key cannot be used here, send a client key",
                ));
            }
            Ok(SdkClient(client(&*state?, credentials).await?))
        })
    }
}

impl FromRequest for ServiceCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (state, key) = (state(req), header(req.headers(), "x-api-key"));
        Box::pin(async move { Ok(ServiceCaller(service(&*state?, key).await?)) })
    }
}

impl FromRequest for AnyCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (state, c) = (state(req), Credentials::of(req));
        Box::pin(async move {
            let state = state?;
            if c.bearer.is_some() {
                Ok(AnyCaller(Caller::User(staff(&state, c.bearer, Role::Agent).await?)))
            } else if c.app_id.is_some() || c.device_id.is_some() {
                Ok(AnyCaller(Caller::Client(client(&state, c).await?)))
            } else if c.api_key.is_some() {
                Ok(AnyCaller(Caller::Service(service(&state, c.api_key).await?)))
            } else {
                Err(unauthenticated("missing credentials: a bearer token or an API key"))
            }
        })
    }
}
