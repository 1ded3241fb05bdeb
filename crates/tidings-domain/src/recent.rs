//! What a node remembers for a moment of what it read from the store, per company: the users
//! behind tokens, the webhook endpoints of an event. An entry lives a fixed lifetime at most and
//! a company's entries are forgotten at once when whoever changes them says so; on other nodes
//! the lifetime bounds how long a change takes to apply. Hand-written rather than a caching
//! crate: what is needed is a lifetime, forgetting a whole company, and refusing to remember a
//! read that raced with a forget, in a few lines over a map.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::ids::CompanyId;

/// At most this many companies are remembered; past it, the expired entries go, or all of them.
const CAPACITY: usize = 16_384;

/// Values of type `V` under keys `K` within each company, each believed for `lifetime`.
pub struct Recent<K, V> {
    inner: Arc<Mutex<Memory<K, V>>>,
    lifetime: Duration,
}

impl<K, V> Clone for Recent<K, V> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), lifetime: self.lifetime }
    }
}

struct Memory<K, V> {
    companies: HashMap<CompanyId, HashMap<K, (V, Instant)>>,
    /// Counts forgets, so that a read which started before one does not store what it found.
    generation: u64,
}

/// A read under way: what [`Recent::remember`] needs to know nothing was forgotten since.
#[derive(Clone, Copy, Debug)]
#[must_use = "remember what the store said with it"]
pub struct Lookup {
    generation: u64,
}

impl<K: Hash + Eq, V: Clone> Recent<K, V> {
    /// An empty memory whose entries are believed for `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        let memory = Memory { companies: HashMap::new(), generation: 0 };
        Self { inner: Arc::new(Mutex::new(memory)), lifetime }
    }

    /// The value if it was read less than the lifetime ago; otherwise the ticket to remember what
    /// the store is about to say.
    pub fn get(&self, company_id: CompanyId, key: &K) -> Result<V, Lookup> {
        let memory = self.memory();
        match memory.companies.get(&company_id).and_then(|entries| entries.get(key)) {
            Some((value, at)) if at.elapsed() < self.lifetime => Ok(value.clone()),
            _ => Err(Lookup { generation: memory.generation }),
        }
    }

    /// Remembers what the store said, unless something was forgotten since the read started
    /// (what was read may then be the old value).
    pub fn remember(&self, lookup: Lookup, company_id: CompanyId, key: K, value: V) {
        let lifetime = self.lifetime;
        let mut memory = self.memory();
        if memory.generation != lookup.generation {
            return;
        }
        if memory.companies.len() >= CAPACITY && !memory.companies.contains_key(&company_id) {
            memory.companies.retain(|_, entries| {
                entries.retain(|_, (_, at)| at.elapsed() < lifetime);
                !entries.is_empty()
            });
            if memory.companies.len() >= CAPACITY {
                memory.companies.clear();
            }
        }
        let entries = memory.companies.entry(company_id).or_default();
        entries.retain(|_, (_, at)| at.elapsed() < lifetime);
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets everything of `company_id`: it changed.
    pub fn forget(&self, company_id: CompanyId) {
        let mut memory = self.memory();
        memory.generation += 1;
        memory.companies.remove(&company_id);
    }

    fn memory(&self) -> MutexGuard<'_, Memory<K, V>> {
        // Nothing here can panic while holding the lock; a poisoned map is still a valid map.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_value_is_believed_until_its_company_is_forgotten() {
        let recent = Recent::new(SECOND);
        let (acme, globex) = (CompanyId::new(), CompanyId::new());
        let lookup = recent.get(acme, &"ann").unwrap_err();
        recent.remember(lookup, acme, "ann", 1);
        assert_eq!(recent.get(acme, &"ann").ok(), Some(1));
        // Another company's key of the same name is another entry.
        assert!(recent.get(globex, &"ann").is_err());
        recent.forget(globex);
        assert_eq!(recent.get(acme, &"ann").ok(), Some(1));
        recent.forget(acme);
        assert!(recent.get(acme, &"ann").is_err());
    }

    #[test]
    fn a_read_that_raced_with_a_forget_is_not_remembered() {
        let recent = Recent::new(SECOND);
        let acme = CompanyId::new();
        let lookup = recent.get(acme, &"ann").unwrap_err();
        // The value changes (and is forgotten) while the store is being read.
        recent.forget(acme);
        recent.remember(lookup, acme, "ann", 1);
        assert!(recent.get(acme, &"ann").is_err());
    }

    #[test]
    fn a_remembered_value_expires() {
        let recent = Recent::new(Duration::from_millis(50));
        let acme = CompanyId::new();
        let lookup = recent.get(acme, &"ann").unwrap_err();
        recent.remember(lookup, acme, "ann", 1);
        std::thread::sleep(Duration::from_millis(80));
        assert!(recent.get(acme, &"ann").is_err());
    }
}
