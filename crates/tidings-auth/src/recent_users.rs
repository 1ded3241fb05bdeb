//! Users looked up in the last second, so that a busy agent's requests do not each load the same
//! row. Forgotten at once when their company's users change on this node (a user removed or
//! given another role); on other nodes the second bounds how long a change takes to apply.

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{CompanyId, Recent, Revocations, Role, UserId};

/// How long a looked-up user is believed without asking the store again.
pub const RECENT: Duration = Duration::from_secs(1);

/// The roles of users recently found in the store, shared by the authenticator and whoever
/// changes users.
pub type RecentUsers = Recent<UserId, Role>;

/// A memory of users believed for [`RECENT`].
pub fn recent_users() -> RecentUsers {
    Recent::new(RECENT)
}

/// Withdrawn credentials: forgets the company's users here, then tells `next` (live sessions).
pub struct Forgetting {
    users: RecentUsers,
    next: Arc<dyn Revocations>,
}

impl Forgetting {
    /// Forgets in `users` before telling `next`.
    pub fn new(users: RecentUsers, next: Arc<dyn Revocations>) -> Self {
        Self { users, next }
    }
}

impl Revocations for Forgetting {
    fn withdrawn(&self, company_id: CompanyId) {
        self.users.forget(company_id);
        self.next.withdrawn(company_id);
    }
}

#[cfg(test)]
mod tests {
    use tidings_domain::NoRevocations;

    use super::*;

    #[test]
    fn withdrawn_credentials_forget_the_company_s_users() {
        let users = recent_users();
        let (acme, globex, ann) = (CompanyId::new(), CompanyId::new(), UserId::new());
        for company in [acme, globex] {
            let lookup = users.get(company, &ann).unwrap_err();
            users.remember(lookup, company, ann, Role::Admin);
        }
        Forgetting::new(users.clone(), Arc::new(NoRevocations)).withdrawn(acme);
        assert!(users.get(acme, &ann).is_err());
        assert_eq!(users.get(globex, &ann).ok(), Some(Role::Admin));
    }
}
