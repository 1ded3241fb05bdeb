//! Users looked up in the last second, so that a busy agent's requests do not each load the same
//! row. An entry lives [`RECENT`] at most and is forgotten at once when its company's credentials
//! change on this node (a user removed or given another role); on other nodes the lifetime bounds
//! how long a change takes to apply. Hand-written rather than a caching crate: what is needed is
//! a lifetime, forgetting a whole company, and refusing a lookup that raced with a forget, in a
//! few lines over a map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidings_domain::{CompanyId, Revocations, Role, UserId};

/// How long a looked-up user is believed without asking the store again.
pub const RECENT: Duration = Duration::from_secs(1);

/// At most this many users are remembered; past it, the expired ones go, or all of them.
const CAPACITY: usize = 16_384;

/// Users recently found in the store, shared by the authenticator and whoever changes users.
#[derive(Clone, Default)]
pub struct RecentUsers {
    inner: Arc<Mutex<Memory>>,
}

#[derive(Default)]
struct Memory {
    users: HashMap<(CompanyId, UserId), (Role, Instant)>,
    /// Counts forgets, so that a lookup which started before one does not store what it read.
    generation: u64,
}

/// A lookup under way: what [`RecentUsers::remember`] needs to know nothing was forgotten since.
#[derive(Clone, Copy, Debug)]
pub struct Lookup {
    generation: u64,
}

impl RecentUsers {
    /// The user's role if it was read less than [`RECENT`] ago; otherwise the ticket to remember
    /// what the store is about to say.
    pub fn get(&self, company_id: CompanyId, user_id: UserId) -> Result<Role, Lookup> {
        let memory = self.memory();
        match memory.users.get(&(company_id, user_id)) {
            Some((role, at)) if at.elapsed() < RECENT => Ok(*role),
            _ => Err(Lookup { generation: memory.generation }),
        }
    }

    /// Remembers the role read from the store, unless the company's users were forgotten since
    /// the lookup started (what was read may then be the old role).
    pub fn remember(&self, lookup: Lookup, company_id: CompanyId, user_id: UserId, role: Role) {
        let mut memory = self.memory();
        if memory.generation != lookup.generation {
            return;
        }
        if memory.users.len() >= CAPACITY {
            memory.users.retain(|_, (_, at)| at.elapsed() < RECENT);
            if memory.users.len() >= CAPACITY {
                memory.users.clear();
            }
        }
        memory.users.insert((company_id, user_id), (role, Instant::now()));
    }

    /// Forgets every user of `company_id`: one of them was removed or given another role.
    pub fn forget(&self, company_id: CompanyId) {
        let mut memory = self.memory();
        memory.generation += 1;
        memory.users.retain(|(company, _), _| *company != company_id);
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // Nothing here can panic while holding the lock; a poisoned map is still a valid map.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
    use super::*;

    #[test]
    fn a_user_is_believed_until_its_company_is_forgotten() {
        let users = RecentUsers::default();
        let (acme, globex, ann) = (CompanyId::new(), CompanyId::new(), UserId::new());
        let lookup = users.get(acme, ann).unwrap_err();
        users.remember(lookup, acme, ann, Role::Admin);
        assert_eq!(users.get(acme, ann).ok(), Some(Role::Admin));
        // Another company's user of the same id is another user.
        assert!(users.get(globex, ann).is_err());
        users.forget(globex);
        assert_eq!(users.get(acme, ann).ok(), Some(Role::Admin));
        users.forget(acme);
        assert!(users.get(acme, ann).is_err());
    }

    #[test]
    fn a_lookup_that_raced_with_a_forget_is_not_remembered() {
        let users = RecentUsers::default();
        let (acme, ann) = (CompanyId::new(), UserId::new());
        let lookup = users.get(acme, ann).unwrap_err();
        // The role changes (and is forgotten) while the store is being read.
        users.forget(acme);
        users.remember(lookup, acme, ann, Role::Owner);
        assert!(users.get(acme, ann).is_err());
    }

    #[test]
    fn a_remembered_user_expires() {
        let users = RecentUsers::default();
        let (acme, ann) = (CompanyId::new(), UserId::new());
        let lookup = users.get(acme, ann).unwrap_err();
        users.remember(lookup, acme, ann, Role::Agent);
        std::thread::sleep(RECENT + Duration::from_millis(50));
        assert!(users.get(acme, ann).is_err());
    }
}
