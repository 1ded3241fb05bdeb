//! The repositories identity and access needs, as one trait object.

use crate::api_key::ApiKeyRepo;
use crate::app::AppRepo;
use crate::company::CompanyRepo;
use crate::refresh_token::RefreshTokenRepo;
use crate::user::UserRepo;

/// Every repository the identity services use; any store implementing all of them is one.
pub trait IdentityRepos: CompanyRepo + UserRepo + RefreshTokenRepo + AppRepo + ApiKeyRepo {}

impl<T: CompanyRepo + UserRepo + RefreshTokenRepo + AppRepo + ApiKeyRepo> IdentityRepos for T {}
