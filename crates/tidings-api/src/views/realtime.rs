//! What the realtime publish endpoint answers.

use serde::Serialize;
use tidings_domain::ConversationId;
use tidings_messaging::realtime::ServerEvent;
use utoipa::ToSchema;

/// A custom event on its way: its name on each door, and where it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedView {
    /// The name the publisher gave.
    pub event: String,
    /// The event's name on the Socket.IO door (`custom:<event>`); the native door sends
    /// `{"type":"custom","event":...}`.
    pub socket_io_event: String,
    /// The conversation whose followers receive it; `null` for the company's agents only.
    pub conversation_id: Option<ConversationId>,
}

impl PublishedView {
    /// The view of a published custom event; `None` for any other event.
    pub fn of(event: &ServerEvent) -> Option<PublishedView> {
        let ServerEvent::Custom { conversation_id, event, .. } = event else { return None };
        Some(PublishedView {
            event: event.clone(),
            socket_io_event: format!("custom:{event}"),
            conversation_id: *conversation_id,
        })
    }
}

/// Engine.IO's own error body, answered by the Socket.IO door to what is not a WebSocket upgrade of
/// Engine.IO 4 (Socket.IO clients read it).
#[derive(Debug, ToSchema)]
pub struct EngineIoError {
    /// `0` (transport unknown: polling, or no upgrade) or `5` (unsupported protocol version).
    #[schema(example = 0)]
    pub code: u8,
    /// Engine.IO's message.
    #[schema(example = "Transport unknown")]
    pub message: String,
}
