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

pub use bus::{Bus, LocalBus};
pub use event::{Envelope, Frame, Participant, Room, ServerEvent};
pub use follow::{Followed, Step};
pub use grant::Grant;
pub use hub::{CloseCause, Hub, HubSettings, PresenceEntry, SessionHandle, SessionId};
