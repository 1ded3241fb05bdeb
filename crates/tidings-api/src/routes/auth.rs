//! `/v1/auth`: register, login, refresh, logout, password reset, and who am I.
//!
//! Register, login, refresh and logout also speak cookie mode (see [`crate::session_cookie`]).

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use tidings_auth::{LoginInput, PasswordResetConfirmInput, PasswordResetInput, RefreshInput, RegisterInput};
use tidings_domain::Caller;

use crate::caller::AnyCaller;
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

/// `POST /v1/auth/register`
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

/// `POST /v1/auth/login`
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

/// `POST /v1/auth/refresh`
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

/// `POST /v1/auth/logout`; in cookie mode the cookie is removed too.
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
