//! The web inbox and setup pages, served by the API itself so that a fresh server is usable from a
//! browser with nothing else installed. The files under `web/` are plain HTML, CSS and ES modules
//! with no build step, embedded in the binary: nothing is fetched from elsewhere at run time.
//!
//! The pages carry a strict Content Security Policy (their own scripts and styles only, nothing
//! inline, connections to this origin only). Assets are revalidated on every use (`no-cache` with an
//! `ETag`): a new server version is picked up at once, and an unchanged file costs a `304`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;

/// The policy of the HTML pages. `connect-src 'self'` covers the realtime WebSocket of the same origin.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: u64,
}

/// FNV-1a, at compile time: a validator for `ETag`, not a security measure.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../web/", $name)),
            etag: fnv1a(include_bytes!(concat!("../web/", $name))),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything under `/assets/`.
static ASSETS: &[Asset] = &[
    asset!("assets/app.css", "text/css; charset=utf-8"),
    asset!("assets/api.js", JS),
    asset!("assets/dom.js", JS),
    asset!("assets/session.js", JS),
    asset!("assets/realtime.js", JS),
    asset!("assets/login.js", JS),
    asset!("assets/notify.js", JS),
    asset!("assets/list.js", JS),
    asset!("assets/thread.js", JS),
    asset!("assets/settings.js", JS),
    asset!("assets/pages.js", JS),
    asset!("assets/appointments.js", JS),
    asset!("assets/webhooks.js", JS),
    asset!("assets/dead_letters.js", JS),
    asset!("assets/integrations.js", JS),
    asset!("assets/inbox.js", JS),
    asset!("assets/setup.js", JS),
    asset!("assets/reset.js", JS),
];

static INBOX_PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");
static SETUP_PAGE: Asset = asset!("setup.html", "text/html; charset=utf-8");
static RESET_PAGE: Asset = asset!("reset.html", "text/html; charset=utf-8");

/// `GET /`: the inbox (and its login), or the setup page while no company exists.
pub async fn inbox(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    // When the store cannot say, the page is served anyway: it shows the store's error itself.
    if state.accounts.setup_needed().await.unwrap_or(false) {
        return see_other("/setup");
    }
    serve(&req, &INBOX_PAGE, Some(PAGE_CSP))
}

/// `GET /setup`: creates the first company, app and key; once a company exists, the inbox.
pub async fn setup(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.accounts.setup_needed().await.unwrap_or(true) {
        return see_other("/");
    }
    serve(&req, &SETUP_PAGE, Some(PAGE_CSP))
}

/// `GET /reset-password`: the page of password reset and invitation links (`?token=tdp_…`), which
/// also asks for a new link.
pub async fn reset_password(req: HttpRequest) -> HttpResponse {
    serve(&req, &RESET_PAGE, Some(PAGE_CSP))
}

/// `GET /assets/{name}`
pub async fn asset(req: HttpRequest, name: Path<String>) -> Result<HttpResponse, ApiError> {
    let path = format!("assets/{}", name.into_inner());
    match ASSETS.iter().find(|a| a.name == path) {
        Some(asset) => Ok(serve(&req, asset, None)),
        None => Err(ApiError::not_found()),
    }
}

fn see_other(location: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn serve(req: &HttpRequest, asset: &Asset, csp: Option<&'static str>) -> HttpResponse {
    let etag = format!("\"{:016x}\"", asset.etag);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        res.insert_header((header::ETAG, value));
    }
    if let Some(csp) = csp {
        res.insert_header((header::CONTENT_SECURITY_POLICY, csp));
    }
    if fresh {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, asset.content_type)).body(asset.body)
}
