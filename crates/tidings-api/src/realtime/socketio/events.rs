//! The Socket.IO door's vocabulary: its two namespaces, the events it emits for the hub's events,
//! and the events clients emit, read into the live session's intents.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tidings_domain::ConversationId;
use tidings_messaging::realtime::event::TypingState;
use tidings_messaging::realtime::{Door, ServerEvent};
use tidings_socketio::Event;

use crate::error::ApiError;

/// The namespaces Tidings serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// `/client`: SDK devices, authenticated by `{app_id, device_id, api_key, platform?}`.
    Client,
    /// `/admin`: agents, authenticated by `{token}` (an access token).
    Admin,
}

impl Space {
    /// The namespace of a CONNECT; `None` for any other.
    pub fn named(ns: &str) -> Option<Space> {
        match ns {
            "/client" => Some(Space::Client),
            "/admin" => Some(Space::Admin),
            _ => None,
        }
    }

    /// The namespace as written on the wire.
    pub fn ns(self) -> &'static str {
        match self {
            Space::Client => "/client",
            Space::Admin => "/admin",
        }
    }

    /// The door whose cached encoding of a frame this namespace shares.
    pub fn door(self) -> Door {
        match self {
            Space::Client => Door::SocketIoClient,
            Space::Admin => Door::SocketIoAdmin,
        }
    }

    /// Someone typing, as this namespace names it: devices hear agents, agents hear users.
    fn typing(self) -> &'static str {
        match self {
            Space::Client => "agent:typing",
            Space::Admin => "user:typing",
        }
    }
}

/// A hub event as this namespace emits it, framed for the WebSocket (once for every connection):
/// the event name, and the native event's fields (less its `type`) as the one argument; typing
/// also says `is_typing`.
pub fn encode(space: Space, event: &ServerEvent) -> Bytes {
    let custom;
    let name = match event {
        ServerEvent::Custom { event, .. } => {
            custom = format!("custom:{event}");
            custom.as_str()
        }
        ServerEvent::MessageNew { .. } => "message:new",
        ServerEvent::MessageUpdated { .. } => "message:updated",
        ServerEvent::MessageStatus { .. } => "message:status",
        ServerEvent::ConversationUpdated { .. } => "conversation:updated",
        ServerEvent::Typing { .. } => space.typing(),
        ServerEvent::Presence { .. } => "presence",
        ServerEvent::AppointmentCreated { .. } => "appointment:created",
        ServerEvent::AppointmentUpdated { .. } => "appointment:updated",
        ServerEvent::AppointmentCancelled { .. } => "appointment:cancelled",
    };
    // Events are plain data (ids, strings, numbers, times): serializing them cannot fail.
    let mut data = serde_json::to_value(event).unwrap_or_default();
    if let Value::Object(fields) = &mut data {
        fields.remove("type");
        if let ServerEvent::Typing { state, .. } = event {
            let typing = matches!(state, TypingState::Start);
            fields.insert("is_typing".into(), Value::Bool(typing));
        }
    }
    tidings_websocket::text_frame(tidings_socketio::encode_event(space.ns(), name, &data).unwrap_or_default())
}

/// The payload of an `error` event (and of an acknowledgement that failed).
pub fn error(code: impl serde::Serialize, message: &str, conversation_id: Option<ConversationId>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(id), Some(fields)) = (conversation_id, error.as_object_mut()) {
        fields.insert("conversation_id".into(), json!(id));
    }
    error
}

/// An error of the API's one mapping as an `error` payload.
pub fn api_error(error: &ApiError, conversation_id: Option<ConversationId>) -> Value {
    self::error(error.code(), error.message(), conversation_id)
}

/// What a client may emit.
#[derive(Debug)]
pub enum ClientEvent {
    /// `conversation:join {conversation_id, after_position? | after_sequence?}`.
    Join {
        /// Which.
        conversation_id: ConversationId,
        /// Replay the changes after this feed position first.
        after_position: Option<i64>,
        /// Replay the changes after this message's creation first (clients that know no positions).
        after_sequence: Option<i64>,
    },
    /// `conversations:sync {changed_after?, limit?}` on `/admin`: what changed since a cursor.
    Sync {
        /// The previous catch-up's cursor.
        changed_after: Option<String>,
        /// Most conversations in the answer.
        limit: Option<i64>,
    },
    /// `conversation:leave {conversation_id}`.
    Leave {
        /// Which.
        conversation_id: ConversationId,
    },
    /// `typing:start|stop {conversation_id}`.
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Started or stopped.
        start: bool,
    },
    /// `message:read {conversation_id, up_to_sequence}`.
    Read {
        /// Where.
        conversation_id: ConversationId,
        /// Up to which sequence.
        up_to_sequence: i64,
    },
    /// `ping`, answered with `pong`.
    Ping,
    /// `auth {token}` on `/admin`: a fresh access token of the same user.
    Auth {
        /// The token.
        token: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinArgs {
    conversation_id: ConversationId,
    after_position: Option<i64>,
    after_sequence: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SyncArgs {
    changed_after: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationArgs {
    conversation_id: ConversationId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadArgs {
    conversation_id: ConversationId,
    up_to_sequence: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthArgs {
    token: String,
}

impl ClientEvent {
    /// Reads a client's event; the error says what was wrong, for an `error` event.
    pub fn read(event: &Event) -> Result<ClientEvent, String> {
        fn args<T: for<'de> Deserialize<'de>>(event: &Event) -> Result<T, String> {
            let raw = event.args.first().map(|a| a.get()).unwrap_or("null");
            serde_json::from_str(raw).map_err(|e| format!("{}: {e}", event.name))
        }
        Ok(match event.name.as_str() {
            "conversation:join" => {
                let JoinArgs { conversation_id, after_position, after_sequence } = args(event)?;
                if after_position.is_some() && after_sequence.is_some() {
                    return Err("conversation:join takes one of after_position and after_sequence".into());
                }
                ClientEvent::Join { conversation_id, after_position, after_sequence }
            }
            "conversations:sync" => {
                let SyncArgs { changed_after, limit } =
                    if event.args.is_empty() { SyncArgs::default() } else { args(event)? };
                ClientEvent::Sync { changed_after, limit }
            }
            "conversation:leave" => {
                ClientEvent::Leave { conversation_id: args::<ConversationArgs>(event)?.conversation_id }
            }
            "typing:start" | "typing:stop" => ClientEvent::Typing {
                conversation_id: args::<ConversationArgs>(event)?.conversation_id,
                start: event.name == "typing:start",
            },
            "message:read" => {
                let ReadArgs { conversation_id, up_to_sequence } = args(event)?;
                ClientEvent::Read { conversation_id, up_to_sequence }
            }
            "ping" => ClientEvent::Ping,
            "auth" => ClientEvent::Auth { token: args::<AuthArgs>(event)?.token },
            other => return Err(format!("unknown event {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tidings_domain::{ContactId, UserId};
    use tidings_messaging::realtime::Participant;
    use tidings_messaging::realtime::event::PresenceStatus;

    use super::*;

    /// The event's name and argument, out of its unmasked text frame.
    fn decode(frame: &Bytes, ns: &str) -> (String, Value) {
        assert_eq!(frame[0], 0x81, "one final text frame");
        let header = match frame[1] {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        let text = std::str::from_utf8(&frame[header..]).unwrap();
        let prefix = format!("42{ns},");
        let json = text.strip_prefix(&prefix).unwrap_or_else(|| panic!("{text}"));
        let parts: Vec<Value> = serde_json::from_str(json).unwrap();
        (parts[0].as_str().unwrap().to_owned(), parts[1].clone())
    }

    #[test]
    fn events_are_named_per_namespace_and_carry_the_native_fields_without_type() {
        let conversation_id = ConversationId::new();
        let typing = ServerEvent::Typing {
            conversation_id,
            participant: Participant::Contact(ContactId::new()),
            state: TypingState::Start,
        };
        let (name, data) = decode(&encode(Space::Admin, &typing), "/admin");
        assert_eq!((name.as_str(), data["is_typing"].as_bool()), ("user:typing", Some(true)));
        assert!(data.get("type").is_none() && data["state"] == "start", "{data}");
        assert_eq!(decode(&encode(Space::Client, &typing), "/client").0, "agent:typing");

        let presence = ServerEvent::Presence {
            participant: Participant::Agent(UserId::new()),
            status: PresenceStatus::Online,
            last_seen_at: Utc::now(),
        };
        let (name, data) = decode(&encode(Space::Admin, &presence), "/admin");
        assert_eq!((name.as_str(), data["status"].as_str()), ("presence", Some("online")));

        let custom =
            ServerEvent::Custom { conversation_id: None, event: "message:new".into(), data: json!(1) };
        let (name, data) = decode(&encode(Space::Admin, &custom), "/admin");
        assert_eq!((name.as_str(), &data["data"]), ("custom:message:new", &json!(1)));
    }
}
