//! Engine.IO v4 and Socket.IO v5 over a `tidings-websocket` WebSocket (no polling): the protocol
//! layer of the Socket.IO door, with no knowledge of what the events mean.
//!
//! Packets are read and written by socketioxide's codec crates (`engineioxide-core`,
//! `socketioxide-parser-common`); socketioxide's server itself is a tower service that cannot be
//! mounted in actix-web, so the connection state (heartbeat, namespaces, attachments) is kept here.
//! A door drives a [`SocketIo`] in a loop: [`SocketIo::next`] yields what the client sent or the
//! door's own wake-up (a hub frame, a timer), and the door answers through the send methods.

pub mod engine;
pub mod event;
pub mod handshake;
pub mod socket;

pub use engine::{Closed, EngineSettings, EngineSocket, Next, Received};
pub use event::Event;
pub use handshake::HandshakeError;
pub use socket::{Incoming, SocketIo, SocketSettings, encode_event};
