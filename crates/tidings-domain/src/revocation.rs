//! Telling live sessions that credentials were withdrawn.

use crate::ids::CompanyId;

/// Told when a company's credentials are withdrawn or narrowed (a user removed or given another
/// role, an API key revoked or rotated), so that live sessions opened with them check again at once
/// instead of at their next periodic check.
pub trait Revocations: Send + Sync {
    /// Credentials of `company_id` changed.
    fn withdrawn(&self, company_id: CompanyId);
}

/// Nobody to tell: for processes without live sessions.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRevocations;

impl Revocations for NoRevocations {
    fn withdrawn(&self, _company_id: CompanyId) {}
}
