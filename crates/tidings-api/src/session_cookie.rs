//! Cookie mode of `/v1/auth`, for the web inbox: a page that asks for it with the
//! `X-Tidings-Session: cookie` header gets its refresh token in an httpOnly cookie instead of the
//! body, so that no script of the page (nor anything injected into it) can read or keep it. The
//! access token stays in the page's memory.
//!
//! The cookie is read only by `refresh` and `logout`, and only when the request carries the same
//! header: a cross-site form cannot set a header, and a cross-origin script that tries needs a
//! preflight, which the CORS policy refuses for it. `SameSite=Strict` and `Path=/v1/auth` keep the
//! browser from sending it anywhere else.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use crate::error::ApiError;

/// The request header that asks for cookie mode.
pub const SESSION_HEADER: &str = "x-tidings-session";

/// Name of the cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "tidings_refresh";

/// The only path the browser sends the cookie to.
const COOKIE_PATH: &str = "/v1/auth";

/// Whether the request asked for cookie mode.
pub fn requested(req: &HttpRequest) -> bool {
    req.headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cookie"))
}

/// The refresh token of the request's cookie, in cookie mode only (the CSRF guard).
pub fn refresh_token(req: &HttpRequest) -> Option<String> {
    if !requested(req) {
        return None;
    }
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == REFRESH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Whether the cookie must be `Secure`: the public URL is https, or this request came over https.
fn secure(req: &HttpRequest, public_https: bool) -> bool {
    public_https || req.connection_info().scheme() == "https"
}

/// `Set-Cookie` that stores `token` for `max_age_secs`.
pub fn store(
    req: &HttpRequest,
    public_https: bool,
    token: &str,
    max_age_secs: i64,
) -> Result<HeaderValue, ApiError> {
    // Refresh tokens are `tdr_` and base64url: nothing in them needs quoting in a cookie.
    let internal = || ApiError::internal("a refresh token that cannot go in a cookie");
    if !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(internal());
    }
    let secure = if secure(req, public_https) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{REFRESH_COOKIE}={token}; Path={COOKIE_PATH}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|_| internal())
}

/// `Set-Cookie` that removes the cookie.
pub fn clear(req: &HttpRequest, public_https: bool) -> HeaderValue {
    let value = if secure(req, public_https) {
        "tidings_refresh=; Path=/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
    } else {
        "tidings_refresh=; Path=/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict"
    };
    HeaderValue::from_static(value)
}
