//! Presence across nodes. Each node counts its own connections (as on one node) and keeps, in
//! Redis, a lease per participant it has online: a sorted set per company whose members are
//! `participant|node` and whose scores are the leases' ends. The keeper renews this node's leases
//! every third of their length, so a node that dies takes its participants' presence with it within
//! one lease. Listing reads every live lease of the company; when Redis cannot answer, the node
//! answers with what it sees itself.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client};
use tidings_domain::{CompanyId, ContactId, UserId};
use tidings_messaging::realtime::event::PresenceStatus;
use tidings_messaging::realtime::presence::page;
use tidings_messaging::realtime::{
    Envelope, LocalPresence, NodeId, Participant, Presence, PresenceEntry, Room, ServerEvent,
};
use tokio::sync::{mpsc, watch};

use crate::wire::{Wire, channel};

/// How long a lease lasts by default: the bound on how long a dead node's presence outlives it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Presence changes queued for Redis; beyond, the next renewal puts Redis right.
const CHANGES_QUEUE: usize = 4096;
/// How long one Redis command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// A change of this node's presence, on its way to Redis.
enum Change {
    Online(CompanyId, Participant),
    Offline(CompanyId, Participant),
}

/// Presence of the whole cluster.
pub struct RedisPresence {
    local: LocalPresence,
    node: NodeId,
    changes: mpsc::Sender<Change>,
    redis: Arc<RwLock<Option<ConnectionManager>>>,
}

/// The task that writes this node's presence to Redis and renews its leases; the server owns it.
pub struct PresenceKeeper {
    client: Client,
    node: NodeId,
    lease: Duration,
    presence: Arc<RedisPresence>,
    changes: mpsc::Receiver<Change>,
}

/// Cluster presence for node `node` and the keeper to run, with leases of `lease`. Fails only on a
/// malformed URL.
pub fn cluster_presence(
    url: &str,
    node: NodeId,
    lease: Duration,
) -> Result<(Arc<RedisPresence>, PresenceKeeper), redis::RedisError> {
    let client = Client::open(url)?;
    let (tx, changes) = mpsc::channel(CHANGES_QUEUE);
    let presence =
        Arc::new(RedisPresence { local: LocalPresence::default(), node, changes: tx, redis: Arc::default() });
    let keeper = PresenceKeeper { client, node, lease, presence: presence.clone(), changes };
    Ok((presence, keeper))
}

fn key(company_id: CompanyId) -> String {
    format!("tidings:presence:{company_id}")
}

fn member(participant: Participant, node: NodeId) -> String {
    match participant {
        Participant::Agent(id) => format!("agent:{id}|{}", node.0),
        Participant::Contact(id) => format!("contact:{id}|{}", node.0),
    }
}

fn participant_of(member: &str) -> Option<Participant> {
    let (who, _node) = member.split_once('|')?;
    let (kind, id) = who.split_once(':')?;
    match kind {
        "agent" => id.parse::<UserId>().ok().map(Participant::Agent),
        "contact" => id.parse::<ContactId>().ok().map(Participant::Contact),
        _ => None,
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

impl RedisPresence {
    fn queue(&self, change: Change) {
        // Full: the keeper's next renewal writes this node's whole presence anyway.
        let _ = self.changes.try_send(change);
    }

    fn connection(&self) -> Option<ConnectionManager> {
        self.redis.read().ok().and_then(|held| held.clone())
    }
}

#[async_trait]
impl Presence for RedisPresence {
    /// Never asks the hub to announce: the keeper announces to every node once Redis says whether
    /// the participant was online on another node.
    fn connected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool {
        if self.local.connected(company_id, participant, at) {
            self.queue(Change::Online(company_id, participant));
        }
        false
    }

    fn disconnected(&self, company_id: CompanyId, participant: Participant, at: DateTime<Utc>) -> bool {
        if self.local.disconnected(company_id, participant, at) {
            self.queue(Change::Offline(company_id, participant));
        }
        false
    }

    async fn online(
        &self,
        company_id: CompanyId,
        after: Option<Participant>,
        limit: usize,
    ) -> Vec<PresenceEntry> {
        let Some(mut redis) = self.connection() else {
            return self.local.online(company_id, after, limit).await;
        };
        let now = Utc::now();
        let live = redis.zrangebyscore::<_, _, _, Vec<String>>(key(company_id), millis(now), "+inf");
        let members = match tokio::time::timeout(COMMAND_TIMEOUT, live).await {
            Ok(Ok(members)) => members,
            _ => return self.local.online(company_id, after, limit).await,
        };
        let mut participants: Vec<Participant> = members.iter().filter_map(|m| participant_of(m)).collect();
        participants.sort_by_key(|p| member(*p, self.node));
        participants.dedup();
        let entries = participants
            .into_iter()
            .map(|participant| PresenceEntry {
                participant,
                status: PresenceStatus::Online,
                last_seen_at: now,
            })
            .collect();
        page(entries, after, limit)
    }

    /// One read of the company's live leases, whichever node holds the participant's.
    async fn is_online(&self, company_id: CompanyId, participant: Participant) -> bool {
        let Some(mut redis) = self.connection() else {
            return self.local.is_online(company_id, participant).await;
        };
        let live = redis.zrangebyscore::<_, _, _, Vec<String>>(key(company_id), millis(Utc::now()), "+inf");
        match tokio::time::timeout(COMMAND_TIMEOUT, live).await {
            Ok(Ok(members)) => members.iter().any(|m| participant_of(m) == Some(participant)),
            _ => self.local.is_online(company_id, participant).await,
        }
    }
}

impl PresenceKeeper {
    /// Writes changes and renews leases until `stop` turns true; then withdraws this node's leases.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut renew = tokio::time::interval(self.lease / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                change = self.changes.recv() => match change {
                    Some(change) => self.apply(change).await,
                    None => return,
                },
                _ = renew.tick() => self.renew().await,
                () = stopping(&mut stop) => {
                    // Connections closed by the shutdown queued their departures: write them first.
                    while let Ok(change) = self.changes.try_recv() {
                        self.apply(change).await;
                    }
                    self.withdraw().await;
                    return;
                }
            }
        }
    }

    /// The shared connection, made on first use and after failures to make it.
    async fn connection(&self) -> Option<ConnectionManager> {
        if let Some(connection) = self.presence.connection() {
            return Some(connection);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(2);
        let made = self.client.get_connection_manager_with_config(config);
        let connection = tokio::time::timeout(COMMAND_TIMEOUT, made).await.ok()?.ok()?;
        if let Ok(mut held) = self.presence.redis.write() {
            *held = Some(connection.clone());
        }
        Some(connection)
    }

    /// Writes a change and, when it is the participant's first lease anywhere (or their last
    /// one went), tells every node. The write and the look at the other leases are one
    /// transaction, so two nodes racing never both (or neither) announce.
    async fn apply(&self, change: Change) {
        let Some(mut redis) = self.connection().await else { return };
        let now = millis(Utc::now());
        let (company_id, participant, status) = match change {
            Change::Online(company_id, participant) => (company_id, participant, PresenceStatus::Online),
            Change::Offline(company_id, participant) => (company_id, participant, PresenceStatus::Offline),
        };
        let (key, own) = (key(company_id), member(participant, self.node));
        let mut pipe = redis::pipe();
        pipe.atomic();
        match status {
            PresenceStatus::Online => {
                let until = now + self.lease.as_millis() as i64;
                pipe.zadd(&key, &own, until).ignore();
                pipe.pexpire(&key, 2 * self.lease.as_millis() as i64).ignore();
            }
            PresenceStatus::Offline => {
                pipe.zrem(&key, &own).ignore();
            }
        }
        pipe.zrangebyscore(&key, now, "+inf");
        let live =
            tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<(Vec<String>,)>(&mut redis)).await;
        let Ok(Ok((live,))) = live else { return };
        let elsewhere = live.iter().any(|m| *m != own && participant_of(m) == Some(participant));
        if !elsewhere {
            announce(&mut redis, company_id, participant, status).await;
        }
    }

    /// Renews the leases of everybody online here, and removes the expired leases of their
    /// companies (those of dead nodes), announcing who is now online nowhere.
    async fn renew(&self) {
        let Some(mut redis) = self.connection().await else { return };
        let now = millis(Utc::now());
        let until = now + self.lease.as_millis() as i64;
        let mut pipe = redis::pipe();
        let mut companies = Vec::new();
        for (company_id, participant, _) in self.presence.local.snapshot() {
            pipe.zadd(key(company_id), member(participant, self.node), until).ignore();
            companies.push(company_id);
        }
        companies.sort();
        companies.dedup();
        for &company_id in &companies {
            pipe.pexpire(key(company_id), 2 * self.lease.as_millis() as i64).ignore();
        }
        if let Ok(Err(e)) = tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<()>(&mut redis)).await {
            tracing::warn!(error = %e, "could not renew presence leases");
            return;
        }
        for company_id in companies {
            self.prune(&mut redis, company_id, now).await;
        }
    }

    /// Removes a company's expired leases; who has no lease left went offline. Reading and removing
    /// are one transaction, so of several nodes pruning at once only one sees (and announces) them.
    async fn prune(&self, redis: &mut ConnectionManager, company_id: CompanyId, now: i64) {
        let key = key(company_id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.zrangebyscore(&key, "-inf", now);
        pipe.zrembyscore(&key, "-inf", now).ignore();
        pipe.zrangebyscore(&key, now, "+inf");
        let pruned =
            tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<(Vec<String>, Vec<String>)>(redis))
                .await;
        let Ok(Ok((expired, live))) = pruned else { return };
        let mut gone: Vec<Participant> = Vec::new();
        for participant in expired.iter().filter_map(|m| participant_of(m)) {
            if !gone.contains(&participant) {
                gone.push(participant);
            }
        }
        for participant in gone {
            if !live.iter().any(|m| participant_of(m) == Some(participant)) {
                announce(redis, company_id, participant, PresenceStatus::Offline).await;
            }
        }
    }

    /// Withdraws this node's leases (a clean stop: its participants go offline at once).
    async fn withdraw(&self) {
        let Some(mut redis) = self.connection().await else { return };
        let mut pipe = redis::pipe();
        for (company_id, participant, _) in self.presence.local.snapshot() {
            pipe.zrem(key(company_id), member(participant, self.node)).ignore();
        }
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, pipe.query_async::<()>(&mut redis)).await;
    }
}

/// Tells every node's agents of the company that `participant` came online or went offline.
async fn announce(
    redis: &mut ConnectionManager,
    company_id: CompanyId,
    participant: Participant,
    status: PresenceStatus,
) {
    let event = ServerEvent::Presence { participant, status, last_seen_at: Utc::now() };
    let envelope = Envelope { company_id, rooms: vec![Room::Company(company_id)], event, except: None };
    let Ok(payload) = serde_json::to_string(&Wire::Presence { envelope: Box::new(envelope) }) else { return };
    let sent = redis.publish::<_, _, ()>(channel(company_id), payload);
    if !matches!(tokio::time::timeout(COMMAND_TIMEOUT, sent).await, Ok(Ok(()))) {
        tracing::warn!("could not announce a presence change");
    }
}

/// Resolves once `stop` turns true (without holding its lock, so the caller may go on waiting).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}
