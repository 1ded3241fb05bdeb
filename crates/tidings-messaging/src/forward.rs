//! Replies that leave through Meta: which agent messages are forwarded, under which of Meta's
//! messaging rules, and the outbox item that carries them.
//!
//! Meta lets a page answer freely for 24 hours after the contact's last message; after that, only a
//! human agent may answer, tagged `HUMAN_AGENT`, for up to 7 days; later nothing may be sent. A
//! reply that could not be sent is refused before anything is stored.

use chrono::{DateTime, Duration, Utc};
use tidings_domain::{Contact, Conversation, Message, NewOutboxItem, OutboxKind, Platform, Sender};

use crate::error::{MessagingError, MessagingResult};

/// How long after the contact's last message a page may answer freely.
pub const STANDARD_WINDOW: Duration = Duration::hours(24);
/// How long a human agent may still answer, with the `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW: Duration = Duration::days(7);

/// How a forward may be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Within 24 hours: a plain response.
    Standard,
    /// Within 7 days, by a human agent: tagged `HUMAN_AGENT`.
    HumanAgent,
}

/// Whether a platform's replies are forwarded to Meta.
pub fn is_forwarded(platform: Platform) -> bool {
    matches!(platform, Platform::Facebook | Platform::Instagram)
}

/// The window a reply by `sender` falls in, given when the contact last wrote; a conflict when it
/// may not be sent at all.
pub fn window(
    sender: Sender,
    last_inbound: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> MessagingResult<Window> {
    let Some(last) = last_inbound else {
        return Err(MessagingError::Conflict(
            "the contact has never written on this platform: Meta allows no message to be sent first",
        ));
    };
    let since = now - last;
    if since <= STANDARD_WINDOW {
        return Ok(Window::Standard);
    }
    if sender != Sender::Agent {
        return Err(MessagingError::Conflict(
            "outside Meta's 24-hour window only a human agent may answer (HUMAN_AGENT tag)",
        ));
    }
    if since <= HUMAN_AGENT_WINDOW {
        return Ok(Window::HumanAgent);
    }
    Err(MessagingError::Conflict("outside Meta's 7-day human agent window: the contact must write first"))
}

/// The contact's id on the conversation's platform; a conflict when it has none.
pub fn social_id(contact: &Contact, platform: Platform) -> MessagingResult<String> {
    let id = match platform {
        Platform::Facebook => contact.facebook_id.clone(),
        Platform::Instagram => contact.instagram_id.clone(),
        _ => None,
    };
    id.ok_or(MessagingError::Conflict("the contact has no id on this platform to send to"))
}

/// The outbox item forwarding `message`: the body the bot service takes (its access token is added
/// at call time), keyed by the message so that it is sent once.
pub fn item(
    message: &Message,
    conversation: &Conversation,
    social_id: String,
    window: Window,
) -> NewOutboxItem {
    let mut payload = serde_json::json!({
        "company_id": message.company_id,
        "customer_id": conversation.contact_id,
        "platform": conversation.platform,
        "content": message.body,
        "customer_social_id": social_id,
        "message_id": message.id,
        "messaging_type": "RESPONSE",
    });
    if message.attachments.as_array().is_some_and(|a| !a.is_empty()) {
        payload["attachments"] = message.attachments.clone();
    }
    if window == Window::HumanAgent {
        payload["messaging_type"] = "MESSAGE_TAG".into();
        payload["tag"] = "HUMAN_AGENT".into();
    }
    NewOutboxItem {
        company_id: message.company_id,
        kind: OutboxKind::MetaForward,
        idempotency_key: format!("meta.forward:{}", message.id),
        payload,
        message_id: Some(message.id),
        order_key: None,
        due_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_metas_rules() {
        let now = Utc::now();
        let ago = |h: i64| Some(now - Duration::hours(h));
        assert_eq!(window(Sender::Agent, ago(23), now).unwrap(), Window::Standard);
        assert_eq!(window(Sender::Bot, ago(23), now).unwrap(), Window::Standard);
        assert_eq!(window(Sender::Agent, ago(25), now).unwrap(), Window::HumanAgent);
        assert!(window(Sender::Bot, ago(25), now).is_err(), "no tag for bots");
        assert!(window(Sender::System, ago(25), now).is_err(), "nor for system messages");
        assert_eq!(window(Sender::Agent, ago(24 * 7 - 1), now).unwrap(), Window::HumanAgent);
        assert!(window(Sender::Agent, ago(24 * 7 + 1), now).is_err(), "not after 7 days");
        assert!(window(Sender::Agent, None, now).is_err(), "never first");
    }
}
