//! `/v1/auth`: register, login, refresh, logout, password reset, and who am I.

use actix_web::{HttpResponse, web};
use tidings_auth::{LoginInput, PasswordResetConfirmInput, PasswordResetInput, RefreshInput, RegisterInput};
use tidings_domain::Caller;

use crate::caller::AnyCaller;
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{AcceptedView, MeView, SessionView, TokensView};

/// Creates a company and its owner, and logs the owner in.
///
/// Passwords are 10 to 128 characters; e-mails are unique across Tidings and stored lower-cased.
#[utoipa::path(
    post, path = "/v1/auth/register", tag = "auth", operation_id = "register",
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
    input: Json<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.register(input.into_inner()).await?;
    Ok(HttpResponse::Created().json(SessionView::from(session)))
}

/// Logs a user in.
///
/// A wrong password, an unknown e-mail and a locked account (5 failures in a row lock it for 15
/// minutes) all answer the same `401`.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body(content = LoginInput, example = json!({"email": "ada@acme.test", "password": "correct horse battery"})),
    responses(
        (status = 200, description = "The user, the company and a token pair", body = SessionView),
        (status = 401, description = "`UNAUTHENTICATED`: invalid e-mail or password", body = ErrorEnvelope),
    ),
)]
pub async fn login(state: web::Data<AppState>, input: Json<LoginInput>) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.login(input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(SessionView::from(session)))
}

/// Spends a refresh token for a new token pair.
///
/// A refresh token that was already spent revokes every token of its login (the family).
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh",
    request_body(content = RefreshInput, example = json!({"refresh_token": "tdr_…"})),
    responses(
        (status = 200, description = "A new token pair", body = TokensView),
        (status = 401, description = "`UNAUTHENTICATED`: invalid, expired or spent refresh token", body = ErrorEnvelope),
    ),
)]
pub async fn refresh(
    state: web::Data<AppState>,
    input: Json<RefreshInput>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state.accounts.refresh(input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TokensView::from(tokens)))
}

/// Logs out: revokes the refresh token's family (unknown tokens are accepted silently).
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body(content = RefreshInput, example = json!({"refresh_token": "tdr_…"})),
    responses((status = 204, description = "Logged out")),
)]
pub async fn logout(state: web::Data<AppState>, input: Json<RefreshInput>) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(input.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
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
