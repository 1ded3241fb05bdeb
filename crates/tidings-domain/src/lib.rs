//! Tidings domain: entities, identifiers, validation rules and the repository traits the store implements.
//!
//! This crate does no I/O. Services depend on the traits declared here, so they can run over any store.

pub mod company;
pub mod error;
pub mod health;
pub mod ids;
pub mod user;

pub use company::{Company, CompanyRepo, NewCompany};
pub use error::{RepoError, RepoResult};
pub use health::StoreHealth;
pub use ids::{CompanyId, UserId};
pub use user::{NewUser, Role, User, UserRepo};
