//! What travels live: rooms, the events the server sends, and their serialized frames.

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tidings_domain::{
    CompanyId, ContactId, Conversation, ConversationId, Direction, FeedChange, FeedEntry, Message,
    MessageStatus, UserId,
};

/// A set of sessions that receive the same events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Room {
    /// Every agent of a company (joined on connect).
    Company(CompanyId),
    /// Everybody following one conversation.
    Conversation(ConversationId),
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Room::Company(id) => write!(f, "company:{id}"),
            Room::Conversation(id) => write!(f, "conversation:{id}"),
        }
    }
}

/// Who is typing or present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Participant {
    /// A user of the company.
    Agent(UserId),
    /// A contact.
    Contact(ContactId),
}

/// Events the server pushes; serialized with `type` as in `docs/realtime.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    /// A message was stored.
    #[serde(rename = "message.new")]
    MessageNew {
        /// Its conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Its sequence.
        sequence: i64,
        /// The message.
        message: Message,
    },
    /// A message was edited or deleted.
    #[serde(rename = "message.updated")]
    MessageUpdated {
        /// Its conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Its sequence.
        sequence: i64,
        /// The message as it is now.
        message: Message,
    },
    /// Messages moved to a new delivery status.
    #[serde(rename = "message.status")]
    MessageStatus {
        /// The conversation.
        conversation_id: ConversationId,
        /// The change's position in the conversation's feed.
        position: i64,
        /// Whose messages: inbound (the contact's) or outbound (the agents').
        direction: Direction,
        /// The new status.
        status: MessageStatus,
        /// Every message of `direction` up to this sequence has at least this status.
        up_to_sequence: i64,
    },
    /// A conversation's status or assignee changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        /// The change's position in the conversation's feed.
        position: i64,
        /// The conversation as it is now.
        conversation: Conversation,
    },
    /// Somebody started or stopped typing.
    #[serde(rename = "typing")]
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        participant: Participant,
        /// `start` or `stop`.
        state: TypingState,
    },
    /// Somebody came online or went offline.
    #[serde(rename = "presence")]
    Presence {
        /// Who.
        participant: Participant,
        /// `online` or `offline`.
        status: PresenceStatus,
        /// When they were last connected (now, while online).
        last_seen_at: DateTime<Utc>,
    },
    /// An appointment was booked (to the company's agents).
    #[serde(rename = "appointment.created")]
    AppointmentCreated {
        /// The appointment, as the API shows it.
        appointment: serde_json::Value,
    },
    /// An appointment was moved, edited, or changed status (to the company's agents).
    #[serde(rename = "appointment.updated")]
    AppointmentUpdated {
        /// The appointment as it is now.
        appointment: serde_json::Value,
    },
    /// An appointment was cancelled (to the company's agents).
    #[serde(rename = "appointment.cancelled")]
    AppointmentCancelled {
        /// The appointment as it is now.
        appointment: serde_json::Value,
    },
    /// A company's own event, published by one of its services (`POST /v1/realtime/publish`).
    #[serde(rename = "custom")]
    Custom {
        /// The conversation it is about; `None` for the company's agents.
        conversation_id: Option<ConversationId>,
        /// Its name, as the publisher gave it.
        event: String,
        /// Its data, as the publisher gave it.
        data: serde_json::Value,
    },
}

impl ServerEvent {
    /// The conversation an event is about; `None` for company-wide events (presence, custom events
    /// for the company).
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            ServerEvent::MessageNew { conversation_id, .. }
            | ServerEvent::MessageUpdated { conversation_id, .. }
            | ServerEvent::MessageStatus { conversation_id, .. }
            | ServerEvent::Typing { conversation_id, .. } => Some(*conversation_id),
            ServerEvent::ConversationUpdated { conversation, .. } => Some(conversation.id),
            ServerEvent::Custom { conversation_id, .. } => *conversation_id,
            ServerEvent::Presence { .. }
            | ServerEvent::AppointmentCreated { .. }
            | ServerEvent::AppointmentUpdated { .. }
            | ServerEvent::AppointmentCancelled { .. } => None,
        }
    }

    /// The conversation and feed position of a change; `None` for events that are not changes
    /// (typing, presence, custom events), which are live only.
    pub fn position(&self) -> Option<(ConversationId, i64)> {
        match self {
            ServerEvent::MessageNew { conversation_id, position, .. }
            | ServerEvent::MessageUpdated { conversation_id, position, .. }
            | ServerEvent::MessageStatus { conversation_id, position, .. } => {
                Some((*conversation_id, *position))
            }
            ServerEvent::ConversationUpdated { position, conversation } => Some((conversation.id, *position)),
            ServerEvent::Typing { .. }
            | ServerEvent::Presence { .. }
            | ServerEvent::Custom { .. }
            | ServerEvent::AppointmentCreated { .. }
            | ServerEvent::AppointmentUpdated { .. }
            | ServerEvent::AppointmentCancelled { .. } => None,
        }
    }

    /// The sequence of the message a `message.new` stores.
    pub fn new_sequence(&self) -> Option<i64> {
        match self {
            ServerEvent::MessageNew { sequence, .. } => Some(*sequence),
            _ => None,
        }
    }

    /// The live event of a feed entry of `conversation` (as it is now).
    pub fn of_change(entry: FeedEntry, conversation: &Conversation) -> ServerEvent {
        let (conversation_id, position) = (conversation.id, entry.position);
        match entry.change {
            FeedChange::MessageNew(message) => {
                ServerEvent::MessageNew { conversation_id, position, sequence: message.sequence, message }
            }
            FeedChange::MessageUpdated(message) => {
                ServerEvent::MessageUpdated { conversation_id, position, sequence: message.sequence, message }
            }
            FeedChange::MessageStatus { direction, status, up_to_sequence } => {
                ServerEvent::MessageStatus { conversation_id, position, direction, status, up_to_sequence }
            }
            FeedChange::ConversationUpdated => {
                ServerEvent::ConversationUpdated { position, conversation: conversation.clone() }
            }
        }
    }
}

/// Typing state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypingState {
    /// Started (or still) typing.
    Start,
    /// Stopped, or no refresh within the typing timeout.
    Stop,
}

/// Presence state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// At least one connection open.
    Online,
    /// No connection open.
    Offline,
}

/// Identifies a server process among the nodes that share a bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId(pub uuid::Uuid);

impl NodeId {
    /// A fresh id for this process.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for NodeId {
    fn default() -> Self {
        Self::new()
    }
}

/// An event on its way to rooms; it crosses nodes as it is (serde both ways).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The company it belongs to (every room of an envelope is of this company).
    pub company_id: CompanyId,
    /// Where it goes; a session in several of them receives it once.
    pub rooms: Vec<Room>,
    /// What it says.
    pub event: ServerEvent,
    /// A session that must not receive it (the one that caused it, for typing), on the node that
    /// published it: session ids mean nothing on other nodes.
    pub except: Option<(NodeId, u64)>,
}

impl Envelope {
    /// An event for a conversation's followers and the company's agents.
    pub fn conversation(company_id: CompanyId, conversation_id: ConversationId, event: ServerEvent) -> Self {
        Self {
            company_id,
            rooms: vec![Room::Conversation(conversation_id), Room::Company(company_id)],
            event,
            except: None,
        }
    }
}

/// The doors a frame can be encoded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// `GET /v1/realtime`: JSON text frames.
    Native,
    /// `GET /v1/socket.io/`, namespace `/client`: Socket.IO event packets for SDK devices.
    SocketIoClient,
    /// `GET /v1/socket.io/`, namespace `/admin`: Socket.IO event packets for agents.
    SocketIoAdmin,
}

/// An event on its way to sessions, shared by every session that receives it. Each door encodes it
/// once, on first use, and every session of that door shares the bytes.
#[derive(Debug)]
pub struct Frame {
    /// What it says.
    pub event: ServerEvent,
    /// The company whose event it is; a session of another company never sends it.
    pub company_id: CompanyId,
    /// The conversation it is about, which a session must have been granted; `None` for
    /// company-wide events, which only agents receive.
    pub conversation_id: Option<ConversationId>,
    /// For changes: the conversation and feed position, which sessions use to order and de-duplicate.
    pub position: Option<(ConversationId, i64)>,
    encodings: [OnceLock<Bytes>; 3],
}

impl Frame {
    /// An event of `company_id`, not yet encoded.
    pub fn new(company_id: CompanyId, event: ServerEvent) -> Frame {
        let position = event.position();
        let conversation_id = event.conversation_id();
        Frame { event, company_id, conversation_id, position, encodings: Default::default() }
    }

    /// The frame as `door` puts it on the wire, encoded by `encode` the first time any session of
    /// that door asks; cloning the result shares the bytes.
    pub fn encoded(&self, door: Door, encode: impl FnOnce(&ServerEvent) -> Bytes) -> Bytes {
        let slot = match door {
            Door::Native => &self.encodings[0],
            Door::SocketIoClient => &self.encodings[1],
            Door::SocketIoAdmin => &self.encodings[2],
        };
        slot.get_or_init(|| encode(&self.event)).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_cross_nodes_as_they_are() {
        let company = CompanyId::new();
        let mut envelope = Envelope::conversation(
            company,
            ConversationId::new(),
            ServerEvent::Typing {
                conversation_id: ConversationId::new(),
                participant: Participant::Contact(ContactId::new()),
                state: TypingState::Start,
            },
        );
        envelope.except = Some((NodeId::new(), 7));
        let wire = serde_json::to_string(&envelope).unwrap();
        assert_eq!(serde_json::from_str::<Envelope>(&wire).unwrap(), envelope);
    }

    #[test]
    fn each_door_encodes_a_frame_once() {
        let frame = Frame::new(
            CompanyId::new(),
            ServerEvent::Presence {
                participant: Participant::Agent(UserId::new()),
                status: PresenceStatus::Online,
                last_seen_at: Utc::now(),
            },
        );
        let mut calls = 0;
        for _ in 0..3 {
            frame.encoded(Door::Native, |_| {
                calls += 1;
                Bytes::from_static(b"native")
            });
        }
        let other = frame.encoded(Door::SocketIoClient, |_| Bytes::from_static(b"sio"));
        assert_eq!((calls, &*other), (1, &b"sio"[..]));
    }
}
