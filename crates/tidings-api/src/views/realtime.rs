//! What the realtime publish endpoint answers.

use serde::Serialize;
use tidings_domain::ConversationId;
use tidings_messaging::realtime::ServerEvent;

/// A custom event on its way: its name on each door, and where it went.
#[derive(Debug, Serialize)]
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
