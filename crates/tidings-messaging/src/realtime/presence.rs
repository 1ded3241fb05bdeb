//! Who is online: counted per participant over their open connections. Behind a trait so that a
//! store shared by every node (Redis, with leases that expire with a dead node) can replace the
//! in-process one.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::CompanyId;

use crate::realtime::event::{Participant, PresenceStatus};

/// Presence of one participant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PresenceEntry {
    /// Who.
    #[serde(flatten)]
    pub participant: Participant,
    /// Online or offline.
    pub status: PresenceStatus,
    /// Last time connected (now, while online).
    pub last_seen_at: DateTime<Utc>,
}

/// Counts connections per participant. `connected` and `disconnected` are called under the hub's
/// lock and must not wait; `online` answers requests and may. When they answer true the hub tells
/// this node's agents; a presence shared by several nodes answers false and tells every node's
/// agents itself, once it knows whether the participant was online anywhere else.
#[async_trait]
pub trait Presence: Send + Sync {
    /// A connection of `participant` opened; true when it is their first (they came online).
    fn connected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool;
    /// A connection closed; true when it was their last (they went offline).
    fn disconnected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool;
    /// Who of a company is online, in a stable order (agents, then contacts, by id): at most
    /// `limit` entries after the participant `after`.
    async fn online(
        &self,
        company_id: CompanyId,
        after: Option<Participant>,
        limit: usize,
    ) -> Vec<PresenceEntry>;
    /// Whether `participant` has a connection open anywhere (to hold back a push notification, say).
    /// By default it pages through [`Presence::online`]; implementations that can look one up
    /// directly should.
    async fn is_online(&self, company_id: CompanyId, participant: Participant) -> bool {
        const PAGE: usize = 500;
        let mut after = None;
        loop {
            let entries = self.online(company_id, after, PAGE).await;
            if entries.iter().any(|e| e.participant == participant) {
                return true;
            }
            match entries.last() {
                Some(last) if entries.len() == PAGE => after = Some(last.participant),
                _ => return false,
            }
        }
    }
}

/// Presence of the sessions of this process. Only who is online is kept, so it is as big as the
/// live sessions, whatever number of participants ever connected.
#[derive(Default)]
pub struct LocalPresence {
    online: Mutex<Counts>,
}

/// Open connections and the time of the latest, per participant.
type Counts = HashMap<(CompanyId, Participant), (usize, DateTime<Utc>)>;

impl LocalPresence {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.online.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Participants currently counted (for tests of boundedness).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nobody is online.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[async_trait]
impl Presence for LocalPresence {
    fn connected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool {
        let mut online = self.lock();
        let entry = online.entry((company_id, participant)).or_insert((0, at));
        entry.0 += 1;
        entry.1 = at;
        entry.0 == 1
    }

    fn disconnected(&self, company_id: CompanyId, participant: Participant, _at: DateTime<Utc>) -> bool {
        let mut online = self.lock();
        let key = (company_id, participant);
        match online.get_mut(&key) {
            Some((count, _)) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                online.remove(&key);
                true
            }
            None => false,
        }
    }

    async fn online(
        &self,
        company_id: CompanyId,
        after: Option<Participant>,
        limit: usize,
    ) -> Vec<PresenceEntry> {
        let entries = self
            .lock()
            .iter()
            .filter(|((company, _), _)| *company == company_id)
            .map(|((_, participant), (_, at))| PresenceEntry {
                participant: *participant,
                status: PresenceStatus::Online,
                last_seen_at: *at,
            })
            .collect();
        page(entries, after, limit)
    }

    async fn is_online(&self, company_id: CompanyId, participant: Participant) -> bool {
        self.lock().contains_key(&(company_id, participant))
    }
}

impl LocalPresence {
    /// Everybody online on this node, with the time of their latest connection.
    pub fn snapshot(&self) -> Vec<(CompanyId, Participant, DateTime<Utc>)> {
        self.lock().iter().map(|((company, participant), (_, at))| (*company, *participant, *at)).collect()
    }
}

/// One page of presence entries in the listing order: at most `limit` after `after`.
pub fn page(mut entries: Vec<PresenceEntry>, after: Option<Participant>, limit: usize) -> Vec<PresenceEntry> {
    entries.retain(|e| after.is_none_or(|after| order(&e.participant) > order(&after)));
    entries.sort_by_key(|e| order(&e.participant));
    entries.truncate(limit);
    entries
}

/// The order presence is listed in.
fn order(participant: &Participant) -> (u8, String) {
    match participant {
        Participant::Agent(id) => (0, id.to_string()),
        Participant::Contact(id) => (1, id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use tidings_domain::ContactId;

    use super::*;

    #[tokio::test]
    async fn holds_only_who_is_online_and_pages() {
        let presence = LocalPresence::default();
        let acme = CompanyId::new();
        for _ in 0..50 {
            let passer = Participant::Contact(ContactId::new());
            assert!(presence.connected(acme, passer, Utc::now()));
            assert!(presence.disconnected(acme, passer, Utc::now()));
        }
        assert!(presence.is_empty(), "participants who left leave nothing behind");
        let twice = Participant::Contact(ContactId::new());
        assert!(presence.connected(acme, twice, Utc::now()));
        assert!(!presence.connected(acme, twice, Utc::now()), "a second connection is not news");
        assert!(!presence.disconnected(acme, twice, Utc::now()), "one connection is still open");
        for _ in 0..4 {
            presence.connected(acme, Participant::Contact(ContactId::new()), Utc::now());
        }
        let first = presence.online(acme, None, 2).await;
        let rest = presence.online(acme, Some(first[1].participant), 10).await;
        assert_eq!((first.len(), rest.len()), (2, 3));
        assert!(rest.iter().all(|e| !first.contains(e)), "pages do not overlap");
        assert!(presence.online(CompanyId::new(), None, 10).await.is_empty());
        assert!(presence.is_online(acme, twice).await);
        assert!(!presence.is_online(CompanyId::new(), twice).await, "online in their own company only");
        presence.disconnected(acme, twice, Utc::now());
        assert!(!presence.is_online(acme, twice).await);
    }

    /// Presence that only lists, to test the paging default of `is_online`.
    struct Listing(LocalPresence);

    #[async_trait]
    impl Presence for Listing {
        fn connected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool {
            self.0.connected(company_id, participant, at)
        }
        fn disconnected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool {
            self.0.disconnected(company_id, participant, at)
        }
        async fn online(
            &self,
            company_id: CompanyId,
            after: Option<Participant>,
            limit: usize,
        ) -> Vec<PresenceEntry> {
            self.0.online(company_id, after, limit).await
        }
    }

    #[tokio::test]
    async fn is_online_pages_through_the_listing_by_default() {
        let presence = Listing(LocalPresence::default());
        let acme = CompanyId::new();
        let everyone: Vec<_> = (0..1200).map(|_| Participant::Contact(ContactId::new())).collect();
        for p in &everyone {
            presence.connected(acme, *p, Utc::now());
        }
        let last = *everyone.iter().max_by_key(|p| order(p)).unwrap();
        assert!(presence.is_online(acme, last).await, "found on the third page");
        assert!(!presence.is_online(acme, Participant::Contact(ContactId::new())).await);
    }
}
