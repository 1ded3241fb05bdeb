//! `/v1/auth`: register, login, refresh, logout, password reset, and who am I.
//!
//! Register, login, refresh and logout also speak cookie mode (see [`crate::session_cookie`]).

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use tidings_auth::{LoginInput, PasswordResetConfirmInput, PasswordResetInput, RefreshInput, RegisterInput};
use tidings_domain::Caller;

use crate::caller::AnyCaller;
use crate::envelope::ErrorEnvelope;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::session_cookie;
use crate::state::AppState;
use crate::views::{AcceptedView, MeView, SessionView, TokensView};

/// The body of refresh and logout in cookie mode: the token may come from the cookie instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CookieModeInput {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Creates a company and its owner, and logs the owner in.
///
/// Passwords are 10 to 128 characters; e-mails are unique across Tidings and stored lower-cased.
/// In cookie mode the refresh token is set as a cookie instead of being in the body.
#[utoipa::path(
    post, path = "/v1/auth/register", tag = "auth", operation_id = "register",
    params(("x-tidings-session" = Option<String>, Header, description = "`cookie`: cookie mode, the refresh token travels in the httpOnly `tidings_refresh` cookie (path `/v1/auth`) instead of the body")),
    request_body(content = RegisterInput, example = json!({
        "company_name": "Acme", "name": "Ada Lovelace", "email": "ada@acme.test", "password": "correct horse battery"
    })),
    responses(
        (status = 201, description = "The owner, the company and a token pair", body = SessionView),
        (status = 409, description = "`CONFLICT`: the e-mail is already registered (nothing is created)", body = ErrorEnvelope),
    ),
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: Json<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.register(input.into_inner()).await?;
    let mut view = SessionView::from(session);
    let mut res = HttpResponse::Created();
    into_cookie(&state, &req, &mut res, &mut view.refresh_token)?;
    Ok(res.json(view))
}

/// Logs a user in.
///
/// A wrong password, an unknown e-mail and a locked account (5 failures in a row lock it for 15
/// minutes) all answer the same `401`. In cookie mode the refresh token is set as a cookie instead of
/// being in the body.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    params(("x-tidings-session" = Option<String>, Header, description = "`cookie`: cookie mode, the refresh token travels in the httpOnly `tidings_refresh` cookie (path `/v1/auth`) instead of the body")),
    request_body(content = LoginInput, example = json!({"email": "ada@acme.test", "password": "correct horse battery"})),
    responses(
        (status = 200, description = "The user, the company and a token pair", body = SessionView),
        (status = 401, description = "`UNAUTHENTICATED`: invalid e-mail or password", body = ErrorEnvelope),
    ),
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: Json<LoginInput>,
) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.login(input.into_inner()).await?;
    let mut view = SessionView::from(session);
    let mut res = HttpResponse::Ok();
    into_cookie(&state, &req, &mut res, &mut view.refresh_token)?;
    Ok(res.json(view))
}

/// Spends a refresh token for a new token pair.
///
/// A refresh token that was already spent revokes every token of its login (the family). In cookie
/// mode the body may be `{}`: the cookie's token is spent, and the new one set in its place.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh",
    params(("x-tidings-session" = Option<String>, Header, description = "`cookie`: cookie mode, the refresh token travels in the httpOnly `tidings_refresh` cookie (path `/v1/auth`) instead of the body")),
    request_body(content = RefreshInput, example = json!({"refresh_token": "tdr_…"})),
    responses(
        (status = 200, description = "A new token pair", body = TokensView),
        (status = 401, description = "`UNAUTHENTICATED`: invalid, expired or spent refresh token, or none in cookie mode", body = ErrorEnvelope),
    ),
)]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let Some(input) = refresh_input(&req, payload).await? else {
        return Err(ApiError::new(ErrorCode::Unauthenticated, "no session: log in").into());
    };
    let tokens = state.accounts.refresh(input).await.map_err(ApiError::from)?;
    let mut view = TokensView::from(tokens);
    let mut res = HttpResponse::Ok();
    into_cookie(&state, &req, &mut res, &mut view.refresh_token)?;
    Ok(res.json(view))
}

/// Logs out: revokes the refresh token's family (unknown tokens are accepted silently).
///
/// In cookie mode the body may be `{}` (the cookie's token is used) and the cookie is removed.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    params(("x-tidings-session" = Option<String>, Header, description = "`cookie`: cookie mode, the refresh token travels in the httpOnly `tidings_refresh` cookie (path `/v1/auth`) instead of the body")),
    request_body(content = RefreshInput, example = json!({"refresh_token": "tdr_…"})),
    responses((status = 204, description = "Logged out")),
)]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    if let Some(input) = refresh_input(&req, payload).await? {
        state.accounts.logout(input).await.map_err(ApiError::from)?;
    }
    let mut res = HttpResponse::NoContent();
    if session_cookie::requested(&req) {
        res.insert_header((header::SET_COOKIE, session_cookie::clear(&req, state.http.hsts)));
    }
    Ok(res.finish())
}

/// The refresh token of the request: the body's, or in cookie mode the cookie's when the body
/// (`{}`) has none. Outside cookie mode the body is read exactly as before cookie mode existed.
async fn refresh_input(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Option<RefreshInput>, actix_web::Error> {
    let mut payload = payload.into_inner();
    if !session_cookie::requested(req) {
        return Ok(Some(Json::<RefreshInput>::from_request(req, &mut payload).await?.into_inner()));
    }
    let body = Json::<CookieModeInput>::from_request(req, &mut payload).await?.into_inner();
    Ok(body
        .refresh_token
        .or_else(|| session_cookie::refresh_token(req))
        .map(|refresh_token| RefreshInput { refresh_token }))
}

/// In cookie mode, moves a new refresh token from the answer's body into its cookie.
fn into_cookie(
    state: &AppState,
    req: &HttpRequest,
    res: &mut HttpResponseBuilder,
    refresh_token: &mut Option<String>,
) -> Result<(), ApiError> {
    if session_cookie::requested(req)
        && let Some(token) = refresh_token.take()
    {
        let max_age = state.accounts.refresh_ttl().num_seconds();
        res.insert_header((
            header::SET_COOKIE,
            session_cookie::store(req, state.http.hsts, &token, max_age)?,
        ));
    }
    Ok(())
}

/// Asks for a password reset link by e-mail.
///
/// Answers the same whether or not an account has the address, so that nobody learns which
/// addresses are registered.
#[utoipa::path(
    post, path = "/v1/auth/password-reset", tag = "auth", operation_id = "request_password_reset",
    request_body(content = PasswordResetInput, example = json!({"email": "ada@acme.test"})),
    responses((status = 202, description = "Accepted; a link goes out when the account exists", body = AcceptedView)),
)]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    input: Json<PasswordResetInput>,
) -> Result<HttpResponse, ApiError> {
    state.password_resets.request(input.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(AcceptedView::accepted()))
}

/// Sets a new password with the token of a reset or invitation link.
///
/// A link works once and for its lifetime; using it ends every session of the user. An unknown,
/// expired or used token answers `400` with `details.fields.token`.
#[utoipa::path(
    post, path = "/v1/auth/password-reset/confirm", tag = "auth", operation_id = "confirm_password_reset",
    request_body(content = PasswordResetConfirmInput, example = json!({"token": "tdp_…", "password": "a brand new one"})),
    responses((status = 204, description = "The password is set")),
)]
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    input: Json<PasswordResetConfirmInput>,
) -> Result<HttpResponse, ApiError> {
    state.password_resets.confirm(input.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Says who the credentials of the request authenticate: a user, an SDK device or a service.
#[utoipa::path(
    get, path = "/v1/auth/me", tag = "auth", operation_id = "me",
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The caller, told apart by `kind`", body = MeView)),
)]
pub async fn me(state: web::Data<AppState>, AnyCaller(caller): AnyCaller) -> Result<HttpResponse, ApiError> {
    // Only a user has more to show than the credentials already say.
    let body = match caller {
        Caller::User(principal) => {
            let (user, company) = state.accounts.me(&principal).await?;
            MeView::user(user, company)
        }
        Caller::Client(client) => MeView::from(client),
        Caller::Service(service) => MeView::from(service),
    };
    Ok(HttpResponse::Ok().json(body))
}
