//! Tidings domain: entities, identifiers, validation rules and the repository traits the store implements.
//!
//! This crate does no I/O. Services depend on the traits declared here, so they can run over any store.

pub mod api_key;
pub mod app;
pub mod company;
pub mod error;
pub mod health;
pub mod identity;
pub mod ids;
pub mod refresh_token;
pub mod user;

pub use api_key::{ApiKey, ApiKeyRepo, KeyKind, NewApiKey};
pub use app::{App, AppRepo, NewApp};
pub use company::{Company, CompanyRepo, NewCompany};
pub use error::{RepoError, RepoResult};
pub use health::StoreHealth;
pub use identity::IdentityRepos;
pub use ids::{ApiKeyId, AppId, CompanyId, RefreshTokenId, UserId};
pub use refresh_token::{NewRefreshToken, RefreshToken, RefreshTokenRepo};
pub use user::{NewUser, Role, User, UserRepo};
