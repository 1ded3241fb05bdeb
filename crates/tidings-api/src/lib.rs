//! Tidings HTTP API: the actix-web application that exposes the domain services over HTTP.
//!
//! Handlers are thin: they extract, call one service method and map the result. They read bodies,
//! paths and queries with [`extract::Json`], [`extract::Path`] and [`extract::Query`] (not actix's
//! own), which refuse NUL characters and name the field in their errors. Every error, ours or
//! actix's own, leaves as the JSON envelope of [`error::ApiError`].

pub mod app;
pub mod caller;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod hardening;
pub mod metrics;
pub mod openapi;
pub mod origin;
mod paging;
pub mod rate_limit;
pub mod realtime;
pub mod request_id;
mod routes;
pub mod session_cookie;
pub mod state;
pub mod views;
pub mod web;

pub use app::{app, metrics_app};
pub use error::{ApiError, ErrorCode};
pub use hardening::HttpSettings;
pub use rate_limit::RateLimitSettings;
pub use realtime::RealtimeSettings;
pub use routes::{ROUTES, Route};
pub use state::AppState;
