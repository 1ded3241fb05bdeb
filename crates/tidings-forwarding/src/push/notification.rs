//! What a notification says, and the FCM v1 message that carries it to one token.

use serde_json::{Value, json};
use tidings_domain::Message;

/// Longest body shown, in characters: a lock screen shows a couple of lines anyway.
const MAX_BODY_CHARS: usize = 200;

/// A notification about a conversation's newest message from the company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The company's name, or "New message".
    pub title: String,
    /// The message's text, shortened.
    pub body: String,
    /// The conversation: the app opens it, and notifications of one conversation replace each other.
    pub conversation_id: String,
    /// The message.
    pub message_id: String,
}

impl Notification {
    /// The notification of `message` from the company called `company_name`.
    pub fn new(company_name: &str, message: &Message) -> Self {
        let title = match company_name.trim() {
            "" => "New message".to_owned(),
            name => name.to_owned(),
        };
        Self {
            title,
            body: body_of(message),
            conversation_id: message.conversation_id.to_string(),
            message_id: message.id.to_string(),
        }
    }

    /// The body of `POST /v1/projects/{project}/messages:send` for `token`. Android's `collapse_key`
    /// and APNs' `apns-collapse-id` are the conversation, so a device shows one notification per
    /// conversation, the latest (a retried send replaces the earlier one instead of adding to it).
    pub fn fcm_message(&self, token: &str) -> Value {
        json!({
            "message": {
                "token": token,
                "notification": { "title": self.title, "body": self.body },
                "data": { "conversation_id": self.conversation_id, "message_id": self.message_id },
                "android": { "collapse_key": self.conversation_id },
                "apns": { "headers": { "apns-collapse-id": self.conversation_id } },
            }
        })
    }
}

/// The text shown: the message's, cut to [`MAX_BODY_CHARS`] with an ellipsis, or a word about the
/// attachment of a message without text.
fn body_of(message: &Message) -> String {
    let text = message.body.trim();
    if text.is_empty() {
        return "Sent an attachment".to_owned();
    }
    if text.chars().count() <= MAX_BODY_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_BODY_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tidings_domain::{CompanyId, ConversationId, Direction, MessageId, MessageStatus, Platform, Sender};

    use super::*;

    fn message(body: &str) -> Message {
        Message {
            id: MessageId::new(),
            company_id: CompanyId::new(),
            conversation_id: ConversationId::new(),
            sequence: 3,
            local_id: None,
            sender: Sender::Agent,
            author_id: None,
            direction: Direction::Outbound,
            platform: Platform::Ios,
            body: body.into(),
            attachments: json!([]),
            status: MessageStatus::Sent,
            created_at: Utc::now(),
            edited_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn long_text_is_cut_and_empty_text_named() {
        let long = "é".repeat(500);
        let n = Notification::new("Acme", &message(&long));
        assert_eq!(n.body.chars().count(), 200);
        assert!(n.body.ends_with('…'));
        assert_eq!(Notification::new("Acme", &message(&"a".repeat(200))).body, "a".repeat(200));
        assert_eq!(Notification::new("Acme", &message("  ")).body, "Sent an attachment");
        assert_eq!(Notification::new(" ", &message("hi")).title, "New message");
    }

    #[test]
    fn the_fcm_message_collapses_per_conversation() {
        let m = message("We can help");
        let sent = Notification::new("Acme", &m).fcm_message("tok-1");
        let conversation = m.conversation_id.to_string();
        assert_eq!(sent["message"]["token"], "tok-1");
        assert_eq!(sent["message"]["notification"], json!({ "title": "Acme", "body": "We can help" }));
        assert_eq!(
            sent["message"]["data"],
            json!({ "conversation_id": conversation, "message_id": m.id.to_string() })
        );
        assert_eq!(sent["message"]["android"]["collapse_key"], conversation.as_str());
        assert_eq!(sent["message"]["apns"]["headers"]["apns-collapse-id"], conversation.as_str());
    }
}
