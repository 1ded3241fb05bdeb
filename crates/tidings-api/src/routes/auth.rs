//! `/v1/auth`: register, login, refresh, logout, password reset, and who am I.

use actix_web::{HttpResponse, web};
use tidings_auth::{LoginInput, PasswordResetConfirmInput, PasswordResetInput, RefreshInput, RegisterInput};
use tidings_domain::Caller;

use crate::caller::AnyCaller;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{AcceptedView, MeView, SessionView, TokensView};

/// `POST /v1/auth/register`
pub async fn register(
    state: web::Data<AppState>,
    input: Json<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.register(input.into_inner()).await?;
    Ok(HttpResponse::Created().json(SessionView::from(session)))
}

/// `POST /v1/auth/login`
pub async fn login(state: web::Data<AppState>, input: Json<LoginInput>) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.login(input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(SessionView::from(session)))
}

/// `POST /v1/auth/refresh`
pub async fn refresh(
    state: web::Data<AppState>,
    input: Json<RefreshInput>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state.accounts.refresh(input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TokensView::from(tokens)))
}

/// `POST /v1/auth/logout`
pub async fn logout(state: web::Data<AppState>, input: Json<RefreshInput>) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(input.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/auth/password-reset`: 202 whether or not the account exists.
pub async fn request_password_reset(
    state: web::Data<AppState>,
    input: Json<PasswordResetInput>,
) -> Result<HttpResponse, ApiError> {
    state.password_resets.request(input.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(AcceptedView::accepted()))
}

/// `POST /v1/auth/password-reset/confirm`
pub async fn confirm_password_reset(
    state: web::Data<AppState>,
    input: Json<PasswordResetConfirmInput>,
) -> Result<HttpResponse, ApiError> {
    state.password_resets.confirm(input.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/auth/me`: who the credentials of this request authenticate.
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
