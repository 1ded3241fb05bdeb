//! Frames clients send, and the server's control frames (events are in `tidings_messaging::realtime`).

use bytestring::ByteString;
use serde::Deserialize;
use serde_json::{Value, json};
use tidings_domain::ConversationId;
use tidings_messaging::realtime::ServerEvent;

use crate::error::ApiError;

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// Credentials, when the upgrade request carried none.
    #[serde(rename = "auth")]
    Auth {
        /// A user's access token.
        token: Option<String>,
        /// SDK: app id.
        app_id: Option<String>,
        /// SDK: device id.
        device_id: Option<String>,
        /// SDK: client key.
        api_key: Option<String>,
        /// SDK: platform.
        platform: Option<String>,
    },
    /// Follow a conversation from now on.
    #[serde(rename = "subscribe")]
    Subscribe {
        /// Which.
        conversation_id: ConversationId,
    },
    /// Follow a conversation, first receiving every change after `after_position` (or, for clients
    /// that know no positions, after the message `after_sequence`).
    #[serde(rename = "resume")]
    Resume {
        /// Which.
        conversation_id: ConversationId,
        /// The position of the last change the client has.
        after_position: Option<i64>,
        /// The last message sequence the client has.
        after_sequence: Option<i64>,
    },
    /// Agents: the conversations that changed after a catch-up cursor.
    #[serde(rename = "sync")]
    Sync {
        /// The cursor of the previous catch-up (or of the inbox list); absent for every conversation.
        changed_after: Option<String>,
        /// Most conversations in the answer (1 to 200, 50 by default).
        limit: Option<i64>,
    },
    /// Stop following.
    #[serde(rename = "unsubscribe")]
    Unsubscribe {
        /// Which.
        conversation_id: ConversationId,
    },
    /// Started typing (repeat within 5 s to keep the indicator).
    #[serde(rename = "typing.start")]
    TypingStart {
        /// Where.
        conversation_id: ConversationId,
    },
    /// Stopped typing.
    #[serde(rename = "typing.stop")]
    TypingStop {
        /// Where.
        conversation_id: ConversationId,
    },
    /// Application-level ping; answered with `pong`.
    #[serde(rename = "ping")]
    Ping,
}

/// `{"type":"error","code":..,"message":..}`
pub fn error(code: &str, message: impl Into<String>) -> String {
    json!({ "type": "error", "code": code, "message": message.into() }).to_string()
}

/// An error about one conversation: `{"type":"error","code":..,"message":..,"conversation_id":..}`
pub fn error_about(code: &str, message: &str, conversation_id: ConversationId) -> String {
    json!({ "type": "error", "code": code, "message": message, "conversation_id": conversation_id })
        .to_string()
}

/// A server event as the native door sends it: the event's JSON, with `type` as in
/// `docs/realtime.md`.
pub fn event(event: &ServerEvent) -> ByteString {
    // Events are plain data (ids, strings, numbers, times): serializing them cannot fail.
    serde_json::to_string(event).unwrap_or_default().into()
}

/// An error of the API's one mapping as an error frame, with extra fields (such as the
/// conversation it concerns). The mapping already logged what the client must not see.
pub fn api_error(error: &ApiError, fields: Value) -> String {
    let mut frame = json!({ "type": "error", "code": error.code(), "message": error.message() });
    if let (Some(target), Value::Object(extra)) = (frame.as_object_mut(), fields) {
        target.extend(extra);
    }
    frame.to_string()
}

/// Any other control frame: `{"type": kind, ...fields}`.
pub fn control(kind: &str, fields: Value) -> String {
    let mut frame = json!({ "type": kind });
    if let (Some(target), Value::Object(extra)) = (frame.as_object_mut(), fields) {
        target.extend(extra);
    }
    frame.to_string()
}
