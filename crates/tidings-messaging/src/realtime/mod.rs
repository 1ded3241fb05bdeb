//! Realtime: a hub of live sessions and rooms, the bus that carries events to it, and the per-session
//! bookkeeping that makes live delivery gapless and ordered.
//!
//! Services publish an [`Envelope`] on the [`Bus`] after their transaction commits; the bus hands it
//! to the [`Hub`] of every node, which serializes it once and queues it for each session in its rooms.

pub mod bus;
pub mod event;
pub mod follow;
pub mod grant;
pub mod hub;
pub mod presence;
pub mod queue;
pub mod session;

pub use bus::{Bus, BusState, Dispatcher, LocalBus};
pub use event::{Door, Envelope, Frame, NodeId, Participant, Room, ServerEvent};
pub use follow::{Followed, Step};
pub use grant::Grant;
pub use hub::{CloseCause, Hub, HubSettings, SessionHandle, SessionId};
pub use presence::{LocalPresence, Presence, PresenceEntry};
pub use queue::{Next, Signal};
pub use session::{Gone, Intent, LiveSession, Outbound, Outlet, Refusal, ResumeFrom, Stop};
