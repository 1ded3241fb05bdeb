//! What nodes tell each other over Redis, and on which channels.

use serde::{Deserialize, Serialize};
use tidings_domain::CompanyId;
use tidings_messaging::realtime::{Envelope, NodeId};

/// The channel pattern every node subscribes to.
pub const PATTERN: &str = "tidings:company:*";

/// The channel of a company's messages. One channel per company (rather than per room) keeps the
/// number of channels as small as the number of companies, lets a node's hub route to rooms as it
/// does on one node, and leaves room for nodes to subscribe only to the companies they serve.
pub fn channel(company_id: CompanyId) -> String {
    format!("tidings:company:{company_id}")
}

/// One message on a company's channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wire {
    /// A live event for the company's rooms.
    Event {
        /// The node that published it (which delivered it to its own sessions already).
        origin: NodeId,
        /// The event and where it goes.
        envelope: Box<Envelope>,
    },
    /// Somebody came online or went offline in the cluster: every node, the sender included,
    /// tells its agents (presence is decided in Redis, so no node has told anyone yet).
    Presence {
        /// The presence event for the company's room.
        envelope: Box<Envelope>,
    },
    /// Credentials of the company were withdrawn: every node re-checks its sessions of it.
    Recheck {
        /// The node where it happened.
        origin: NodeId,
        /// Whose.
        company_id: CompanyId,
    },
}

impl Wire {
    /// The node the message came from, when that node has delivered it to itself already.
    pub fn origin(&self) -> Option<NodeId> {
        match self {
            Wire::Event { origin, .. } | Wire::Recheck { origin, .. } => Some(*origin),
            Wire::Presence { .. } => None,
        }
    }

    /// The company the message belongs to.
    pub fn company_id(&self) -> CompanyId {
        match self {
            Wire::Event { envelope, .. } | Wire::Presence { envelope } => envelope.company_id,
            Wire::Recheck { company_id, .. } => *company_id,
        }
    }
}
