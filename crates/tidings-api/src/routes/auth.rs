//! `/v1/auth`: register, login, refresh, logout, and who am I.

use actix_web::{HttpResponse, web};
use serde_json::json;
use tidings_auth::{LoginInput, RefreshInput, RegisterInput, Session};

use tidings_domain::Caller;

use crate::caller::AnyCaller;
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::views::{TokensView, UserView};

fn session_body(session: Session) -> serde_json::Value {
    let tokens = TokensView::from(session.tokens);
    json!({
        "user": UserView::from(session.user),
        "company": session.company,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type,
        "expires_in": tokens.expires_in,
    })
}

/// `POST /v1/auth/register`
pub async fn register(
    state: web::Data<AppState>,
    input: Json<RegisterInput>,
) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.register(input.into_inner()).await?;
    Ok(HttpResponse::Created().json(session_body(session)))
}

/// `POST /v1/auth/login`
pub async fn login(state: web::Data<AppState>, input: Json<LoginInput>) -> Result<HttpResponse, ApiError> {
    let session = state.accounts.login(input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(session_body(session)))
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

/// `GET /v1/auth/me`: who the credentials of this request authenticate.
pub async fn me(state: web::Data<AppState>, AnyCaller(caller): AnyCaller) -> Result<HttpResponse, ApiError> {
    let body = match caller {
        Caller::User(principal) => {
            let (user, company) = state.accounts.me(&principal).await?;
            json!({ "kind": "user", "user": UserView::from(user), "company": company })
        }
        Caller::Client(c) => json!({
            "kind": "client",
            "company_id": c.company_id,
            "app_id": c.app_id,
            "device_id": c.device_id,
            "sdk_version": c.sdk_version,
        }),
        Caller::Service(s) => json!({ "kind": "service", "company_id": s.company_id, "app_id": s.app_id }),
    };
    Ok(HttpResponse::Ok().json(body))
}
