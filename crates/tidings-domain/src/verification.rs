//! Identity verification: whether an SDK's claim to be a known user was signed by the company.

use async_trait::async_trait;

use crate::error::RepoResult;
use crate::ids::{AppId, CompanyId};

/// What an app requires of an identify, and whether this one proved itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdentityVerdict {
    /// The app requires every identify to be signed.
    pub required: bool,
    /// The claimed `external_id` carries a valid signature (`user_hash`).
    pub verified: bool,
}

/// Checks the signature a company's backend puts on the user ids its SDK users claim: `user_hash`
/// is the hex HMAC-SHA256 of the `external_id` under the app's identity secret.
#[async_trait]
pub trait IdentityVerifier: Send + Sync {
    /// The verdict for one identify of a device of `app_id`.
    async fn verify(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        external_id: Option<&str>,
        user_hash: Option<&str>,
    ) -> RepoResult<IdentityVerdict>;
}

/// A verifier for processes that issue no identity secrets: nothing is ever verified.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoIdentityVerification;

#[async_trait]
impl IdentityVerifier for NoIdentityVerification {
    async fn verify(
        &self,
        _company_id: CompanyId,
        _app_id: AppId,
        _external_id: Option<&str>,
        _user_hash: Option<&str>,
    ) -> RepoResult<IdentityVerdict> {
        Ok(IdentityVerdict::default())
    }
}
