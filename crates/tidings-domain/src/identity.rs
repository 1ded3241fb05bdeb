//! The repositories identity and access needs, as one trait object.

use crate::api_key::ApiKeyRepo;
use crate::app::AppRepo;
use crate::company::CompanyRepo;
use crate::password_reset::PasswordResetRepo;
use crate::refresh_token::RefreshTokenRepo;
use crate::unit_of_work::UnitOfWork;
use crate::user::UserRepo;

/// Every repository the identity services use, and units of work over them; any store
/// implementing all of them is one.
pub trait IdentityRepos:
    CompanyRepo + UserRepo + RefreshTokenRepo + PasswordResetRepo + AppRepo + ApiKeyRepo + UnitOfWork
{
}

impl<T> IdentityRepos for T where
    T: CompanyRepo + UserRepo + RefreshTokenRepo + PasswordResetRepo + AppRepo + ApiKeyRepo + UnitOfWork
{
}
