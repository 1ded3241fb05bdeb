//! The bus carries events from the services to the hubs. With one node it is a direct call; a
//! multi-node bus (Redis pub/sub) delivers the same envelopes to every node's hub.

use std::sync::Arc;

use tidings_domain::{CompanyId, Revocations};

use crate::realtime::event::Envelope;
use crate::realtime::hub::Hub;

/// Where services publish events, after their transaction has committed.
pub trait Bus: Send + Sync {
    /// Sends an envelope to every hub; never blocks on slow receivers.
    fn publish(&self, envelope: Envelope);
}

/// The in-process bus: one node, one hub.
pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    /// A bus delivering to `hub`.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        self.hub.dispatch(envelope);
    }
}

impl Revocations for LocalBus {
    fn withdrawn(&self, company_id: CompanyId) {
        self.hub.recheck(company_id);
    }
}
