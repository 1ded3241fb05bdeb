//! The bus carries events from the services to the hubs. With one node it is a queue in this
//! process; a multi-node bus (Redis pub/sub) delivers the same envelopes to every node's hub.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tidings_domain::{CompanyId, Revocations};
use tokio::sync::{mpsc, watch};

use crate::realtime::event::Envelope;
use crate::realtime::hub::Hub;

/// Envelopes the in-process bus queues before publishers deliver themselves.
pub const LOCAL_QUEUE: usize = 4096;

/// How a bus reaches the other nodes, for readiness checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusState {
    /// One node: there are no others.
    Local,
    /// Connected to the other nodes.
    Connected,
    /// Cut off from the other nodes (this node still serves its own sessions).
    Degraded,
}

/// Where services publish events, after their transaction has committed. Publishing never waits.
pub trait Bus: Send + Sync {
    /// Sends an envelope to every hub.
    fn publish(&self, envelope: Envelope);

    /// How the bus reaches the other nodes.
    fn state(&self) -> BusState {
        BusState::Local
    }
}

/// The in-process bus: one node, one hub. Publishing queues the envelope for a dispatcher task,
/// so that a request never pays for a large fan-out; when the queue is full the publisher
/// dispatches itself (the hub only queues frames, it never waits), so nothing is lost on one node.
pub struct LocalBus {
    hub: Arc<Hub>,
    queue: mpsc::Sender<Envelope>,
    overflows: AtomicU64,
}

/// The task that empties a [`LocalBus`]'s queue into the hub; its owner runs it.
pub struct Dispatcher {
    hub: Arc<Hub>,
    queue: mpsc::Receiver<Envelope>,
}

impl LocalBus {
    /// A bus delivering to `hub` through a queue of `capacity` envelopes, and the dispatcher the
    /// caller must run (see [`Dispatcher::run`]).
    pub fn new(hub: Arc<Hub>, capacity: usize) -> (Arc<LocalBus>, Dispatcher) {
        let (queue, receiver) = mpsc::channel(capacity);
        let bus = Arc::new(LocalBus { hub: hub.clone(), queue, overflows: AtomicU64::new(0) });
        (bus, Dispatcher { hub, queue: receiver })
    }

    /// A bus whose dispatcher runs on the current tokio runtime until the bus is dropped: for
    /// tests and embedding, where nobody owns background tasks.
    pub fn spawned(hub: Arc<Hub>) -> Arc<LocalBus> {
        let (bus, dispatcher) = LocalBus::new(hub, LOCAL_QUEUE);
        let (_keep, stop) = watch::channel(false);
        tokio::spawn(async move {
            dispatcher.run(stop).await;
            drop(_keep);
        });
        bus
    }

    /// How many envelopes found the queue full and were dispatched by their publisher.
    pub fn overflows(&self) -> u64 {
        self.overflows.load(Ordering::Relaxed)
    }
}

impl Dispatcher {
    /// Delivers queued envelopes until every publisher is gone or `stop` turns true; then
    /// delivers what is still queued and returns.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                envelope = self.queue.recv() => match envelope {
                    Some(envelope) => self.hub.dispatch(envelope),
                    None => return,
                },
                changed = stop.wait_for(|stopping| *stopping) => {
                    let _ = changed;
                    while let Ok(envelope) = self.queue.try_recv() {
                        self.hub.dispatch(envelope);
                    }
                    return;
                }
            }
        }
    }
}

impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        match self.queue.try_send(envelope) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(envelope)) => {
                let overflows = self.overflows.fetch_add(1, Ordering::Relaxed) + 1;
                if overflows.is_power_of_two() {
                    tracing::warn!(overflows, "the event queue is full; publishers deliver themselves");
                }
                self.hub.dispatch(envelope);
            }
            // The dispatcher has stopped (shutdown): deliver directly to whoever is still there.
            Err(mpsc::error::TrySendError::Closed(envelope)) => self.hub.dispatch(envelope),
        }
    }
}

impl Revocations for LocalBus {
    fn withdrawn(&self, company_id: CompanyId) {
        self.hub.recheck(company_id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tidings_domain::{ConversationId, Direction, MessageStatus, UserId};

    use super::*;
    use crate::realtime::event::{Participant, ServerEvent};
    use crate::realtime::hub::HubSettings;

    fn status(company: CompanyId, n: i64) -> Envelope {
        let conversation_id = ConversationId::new();
        let event = ServerEvent::MessageStatus {
            conversation_id,
            position: 1,
            direction: Direction::Inbound,
            status: MessageStatus::Read,
            up_to_sequence: n,
        };
        Envelope::conversation(company, conversation_id, event)
    }

    #[tokio::test]
    async fn publishing_queues_and_a_full_queue_loses_nothing() {
        let hub = Hub::new(HubSettings { queue_capacity: 64, ..HubSettings::default() });
        let acme = CompanyId::new();
        let mut agent = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        let (bus, dispatcher) = LocalBus::new(hub.clone(), 2);
        for n in 1..=5 {
            bus.publish(status(acme, n));
        }
        assert_eq!(bus.overflows(), 3, "two queued, three delivered by their publishers");
        let (stop_tx, stop) = watch::channel(false);
        let running = tokio::spawn(dispatcher.run(stop));
        let mut seen = 0;
        while tokio::time::timeout(Duration::from_secs(5), agent.queue.recv()).await.unwrap().is_some() {
            seen += 1;
            if seen == 5 {
                break;
            }
        }
        assert_eq!(seen, 5);
        stop_tx.send(true).unwrap();
        running.await.unwrap();
    }
}
