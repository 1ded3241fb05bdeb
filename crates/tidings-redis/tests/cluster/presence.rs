//! Presence of the cluster: who is online on one node is listed by every node, goes when they go,
//! and a node that dies without a word takes its presence with it within one lease.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tidings_domain::{CompanyId, ContactId, UserId};
use tidings_messaging::realtime::{NodeId, Participant, Presence};
use tidings_redis::RedisPresence;
use tokio::sync::watch;

use crate::{WAIT, redis_url};
use tokio::task::JoinHandle;

struct Node {
    presence: Arc<RedisPresence>,
    keeper: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

fn node(url: &str, lease: Duration) -> Node {
    let (presence, keeper) = tidings_redis::cluster_presence(url, NodeId::new(), lease).unwrap();
    let (stop, stopped) = watch::channel(false);
    let keeper = tokio::spawn(keeper.run(stopped));
    Node { presence, keeper, stop }
}

/// Waits until `who` is (or is not) listed by `node` for `company`.
async fn listed(node: &Node, company: CompanyId, who: Participant, want: bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let online = node.presence.online(company, None, 100).await;
        if online.iter().any(|e| e.participant == who) == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{who:?} listed: expected {want}, got {online:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_lists_who_is_online_anywhere_and_only_while_they_are() {
    let Some(url) = redis_url() else { return };
    let (a, b) = (node(&url, Duration::from_secs(30)), node(&url, Duration::from_secs(30)));
    let company = CompanyId::new();
    let device = Participant::Contact(ContactId::new());
    let agent = Participant::Agent(UserId::new());

    // Announcing is the keeper's: the hub is never asked to.
    assert!(!a.presence.connected(company, device, Utc::now()));
    assert!(!b.presence.connected(company, device, Utc::now()));
    assert!(!b.presence.connected(company, agent, Utc::now()));
    listed(&a, company, agent, true).await;
    listed(&b, company, device, true).await;
    let page = a.presence.online(company, None, 100).await;
    assert_eq!(page.len(), 2, "a participant on two nodes is listed once: {page:?}");
    assert!(a.presence.is_online(company, agent).await, "online on B, seen from A");
    assert!(!a.presence.is_online(company, Participant::Contact(ContactId::new())).await);
    assert_eq!(page[0].participant, agent, "agents first");

    // Still online on B after leaving A.
    a.presence.disconnected(company, device, Utc::now());
    tokio::time::sleep(Duration::from_millis(300)).await;
    listed(&a, company, device, true).await;
    b.presence.disconnected(company, device, Utc::now());
    listed(&a, company, device, false).await;
    assert!(!a.presence.is_online(company, device).await, "gone from every node");
    // Another company sees none of it.
    assert!(a.presence.online(CompanyId::new(), None, 100).await.is_empty());
    let _ = (a.stop.send(true), b.stop.send(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_takes_its_presence_with_it_within_a_lease() {
    let Some(url) = redis_url() else { return };
    let lease = Duration::from_secs(2);
    let (dying, watching) = (node(&url, lease), node(&url, lease));
    let company = CompanyId::new();
    let device = Participant::Contact(ContactId::new());
    dying.presence.connected(company, device, Utc::now());
    listed(&watching, company, device, true).await;

    // Killed: no withdrawal, no renewal.
    dying.keeper.abort();
    let died = tokio::time::Instant::now();
    listed(&watching, company, device, false).await;
    assert!(died.elapsed() <= lease + Duration::from_secs(2), "gone within a lease: {:?}", died.elapsed());
    let _ = watching.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_withdraws_at_once() {
    let Some(url) = redis_url() else { return };
    let (leaving, staying) = (node(&url, Duration::from_secs(30)), node(&url, Duration::from_secs(30)));
    let company = CompanyId::new();
    let agent = Participant::Agent(UserId::new());
    leaving.presence.connected(company, agent, Utc::now());
    listed(&staying, company, agent, true).await;
    leaving.stop.send(true).unwrap();
    leaving.keeper.await.unwrap();
    listed(&staying, company, agent, false).await;
    let _ = staying.stop.send(true);
}

/// A node with a hub, its cluster presence and its bus subscriber.
struct FullNode {
    hub: Arc<tidings_messaging::realtime::Hub>,
    bus: Arc<tidings_redis::RedisBus>,
    _stop: watch::Sender<bool>,
}

impl FullNode {
    async fn subscribed(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.bus.stats().is_connected() {
            assert!(tokio::time::Instant::now() < deadline, "the node never subscribed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn full_node(url: &str) -> FullNode {
    use tidings_messaging::realtime::{Hub, HubSettings, LocalBus};
    let id = NodeId::new();
    let (presence, keeper) = tidings_redis::cluster_presence(url, id, Duration::from_secs(30)).unwrap();
    let hub = Hub::with_presence(HubSettings::default(), id, presence);
    let local = LocalBus::spawned(hub.clone());
    let (bus, publisher, subscriber) = tidings_redis::connect(url, id, hub.clone(), local).unwrap();
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(keeper.run(stop.clone()));
    tokio::spawn(publisher.run(stop.clone()));
    tokio::spawn(subscriber.run(stop));
    FullNode { hub, bus, _stop: stop_tx }
}

/// The next presence event an agent's session receives: who, and whether they came online.
async fn presence_event(session: &mut tidings_messaging::realtime::SessionHandle) -> (Participant, bool) {
    use tidings_messaging::realtime::ServerEvent;
    use tidings_messaging::realtime::event::PresenceStatus;
    loop {
        let frame =
            tokio::time::timeout(WAIT, session.queue.recv()).await.expect("an event in time").unwrap();
        if let ServerEvent::Presence { participant, status, .. } = frame.event {
            return (participant, status == PresenceStatus::Online);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_nodes_agents_hear_who_comes_and_goes_once_for_the_cluster() {
    let Some(url) = redis_url() else { return };
    let (a, b) = (full_node(&url), full_node(&url));
    a.subscribed().await;
    b.subscribed().await;
    let company = CompanyId::new();
    let mut watcher = b.hub.connect(company, Participant::Agent(UserId::new())).unwrap();
    // The watcher itself comes online: every node hears it, itself included.
    let (first, online) = presence_event(&mut watcher).await;
    assert!(online && matches!(first, Participant::Agent(_)));

    let device = ContactId::new();
    let on_a = a.hub.connect(company, Participant::Contact(device)).unwrap();
    assert_eq!(presence_event(&mut watcher).await, (Participant::Contact(device), true));
    // A second connection, on another node: still the same presence, nothing announced. (Each
    // node writes its lease on its own time; the scenario is a second connection already leased.)
    let on_b = b.hub.connect(company, Participant::Contact(device)).unwrap();
    leases_reach(&url, company, device, 2).await;
    a.hub.disconnect(on_a.id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(watcher.queue.try_recv().is_err(), "nothing changed for the cluster");
    // The last connection goes: offline, once.
    b.hub.disconnect(on_b.id);
    assert_eq!(presence_event(&mut watcher).await, (Participant::Contact(device), false));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(watcher.queue.try_recv().is_err(), "announced once");
}

/// Waits until `n` nodes hold a lease for the contact.
async fn leases_reach(url: &str, company: CompanyId, device: ContactId, n: usize) {
    let mut redis = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(format!("tidings:presence:{company}"))
            .arg(0)
            .arg(-1)
            .query_async(&mut redis)
            .await
            .unwrap();
        if members.iter().filter(|m| m.contains(&device.to_string())).count() == n {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{n} leases never appeared: {members:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
