//! Two nodes on one Redis: events and revocations cross, nobody hears an event twice, and a node
//! whose Redis is gone keeps serving its own sessions without waiting.

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{CompanyId, ConversationId, Direction, MessageStatus, Revocations, UserId};
use tidings_messaging::realtime::{
    Bus, Envelope, Hub, HubSettings, LocalBus, LocalPresence, Next, NodeId, Participant, ServerEvent,
};
use tidings_redis::RedisBus;
use tokio::sync::watch;

use crate::{WAIT, redis_url};

struct Node {
    hub: Arc<Hub>,
    bus: Arc<RedisBus>,
    _stop: watch::Sender<bool>,
}

fn node(url: &str) -> Node {
    let id = NodeId::new();
    let hub = Hub::with_presence(HubSettings::default(), id, Arc::new(LocalPresence::default()));
    let local = LocalBus::spawned(hub.clone());
    let (bus, publisher, subscriber) = tidings_redis::connect(url, id, hub.clone(), local).unwrap();
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(publisher.run(stop.clone()));
    tokio::spawn(subscriber.run(stop));
    Node { hub, bus, _stop: stop_tx }
}

async fn subscribed(node: &Node) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !node.bus.stats().is_connected() {
        assert!(tokio::time::Instant::now() < deadline, "the node never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn read(company: CompanyId, conversation: ConversationId, up_to: i64) -> Envelope {
    let event = ServerEvent::MessageStatus {
        conversation_id: conversation,
        position: up_to,
        direction: Direction::Inbound,
        status: MessageStatus::Read,
        up_to_sequence: up_to,
    };
    Envelope::conversation(company, conversation, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_nodes_in_order_and_each_session_hears_them_once() {
    let Some(url) = redis_url() else { return };
    let (a, b) = (node(&url), node(&url));
    subscribed(&a).await;
    subscribed(&b).await;
    let company = CompanyId::new();
    let conversation = ConversationId::new();
    let mut on_a = a.hub.connect(company, Participant::Agent(UserId::new())).unwrap();
    let mut on_b = b.hub.connect(company, Participant::Agent(UserId::new())).unwrap();
    let mut other_company = b.hub.connect(CompanyId::new(), Participant::Agent(UserId::new())).unwrap();

    for n in 1..=20 {
        a.bus.publish(read(company, conversation, n));
    }
    for handle in [&mut on_a, &mut on_b] {
        for n in 1..=20 {
            let frame = tokio::time::timeout(WAIT, handle.queue.recv()).await.unwrap().unwrap();
            let ServerEvent::MessageStatus { up_to_sequence, .. } = frame.event else { panic!("{frame:?}") };
            assert_eq!(up_to_sequence, n);
        }
        let echo = tokio::time::timeout(Duration::from_millis(300), handle.queue.recv()).await;
        assert!(echo.is_err(), "an event arrived twice: {echo:?}");
    }
    assert!(other_company.queue.try_recv().is_err(), "another company heard it");
    assert!(b.bus.stats().received() >= 20 && a.bus.stats().published() >= 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_makes_every_node_check_again() {
    let Some(url) = redis_url() else { return };
    let (a, b) = (node(&url), node(&url));
    subscribed(&a).await;
    subscribed(&b).await;
    let company = CompanyId::new();
    let mut on_b = b.hub.connect(company, Participant::Agent(UserId::new())).unwrap();
    a.bus.withdrawn(company);
    let asked = tokio::time::timeout(WAIT, on_b.queue.next()).await.expect("node B was asked in time");
    assert!(matches!(asked, Next::Recheck), "node B was asked to re-check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_node_serves_its_own_sessions_and_never_waits() {
    // Nothing listens on port 1.
    let lonely = node("redis://127.0.0.1:1");
    let company = CompanyId::new();
    let conversation = ConversationId::new();
    let mut here = lonely.hub.connect(company, Participant::Agent(UserId::new())).unwrap();
    let started = std::time::Instant::now();
    for n in 1..=50 {
        lonely.bus.publish(read(company, conversation, n));
    }
    // A publish that waited for a connection attempt (1 s each) would take far longer.
    assert!(started.elapsed() < Duration::from_secs(5), "publishing waited for Redis");
    for _ in 1..=50 {
        tokio::time::timeout(WAIT, here.queue.recv()).await.unwrap().unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while lonely.bus.stats().dropped() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "drops are counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!lonely.bus.stats().is_connected());
}
