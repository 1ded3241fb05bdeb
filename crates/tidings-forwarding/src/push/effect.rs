//! The push effect: an agent's (or bot's, or system) message to a contact on an SDK platform
//! enqueues a push item, one per conversation and collapse window.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tidings_domain::{
    Conversation, Direction, DomainEvent, Effects, Message, NewOutboxItem, OutboxKind, RepoResult, Sender,
    Transaction,
};

/// Records push items for new messages from the company.
#[derive(Clone, Copy, Debug)]
pub struct PushNotifications {
    window_ms: i64,
    enabled: bool,
}

impl PushNotifications {
    /// Pushes, collapsing a conversation's messages within `window` (at least 1 ms) into one.
    pub fn new(window: Duration) -> Self {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
        Self { window_ms, enabled: true }
    }

    /// Records nothing: push is not configured, and items nobody can deliver must not pile up.
    pub fn disabled() -> Self {
        Self { window_ms: 1, enabled: false }
    }

    /// The item a new message enqueues, if any: only messages from the company (agent, bot, system)
    /// to a contact on an SDK platform; Facebook and Instagram notify through Meta.
    pub fn item(&self, message: &Message, conversation: &Conversation) -> Option<NewOutboxItem> {
        let from_company = message.direction == Direction::Outbound && message.sender != Sender::Contact;
        if !self.enabled || !from_company || !conversation.platform.is_device() {
            return None;
        }
        let bucket = message.created_at.timestamp_millis().div_euclid(self.window_ms);
        // Every message of the window shares the key, so the first one's item stands for all of them;
        // it is due when the window ends, by which time the whole burst is stored.
        let due_at = bucket
            .checked_add(1)
            .and_then(|next| next.checked_mul(self.window_ms))
            .and_then(DateTime::<Utc>::from_timestamp_millis);
        Some(NewOutboxItem {
            company_id: conversation.company_id,
            kind: OutboxKind::Push,
            idempotency_key: format!("push:{}:{bucket}", conversation.id),
            payload: serde_json::json!({
                "company_id": conversation.company_id,
                "conversation_id": conversation.id,
                "contact_id": conversation.contact_id,
            }),
            // No message: the worker settles the status of an item's message with its delivery,
            // which is right for a forward and wrong for a notification about it.
            message_id: None,
            order_key: None,
            due_at,
        })
    }
}

#[async_trait]
impl Effects for PushNotifications {
    async fn record(&self, unit: &dyn Transaction, event: &DomainEvent) -> RepoResult<()> {
        if let DomainEvent::MessageCreated { message, conversation } = event
            && let Some(item) = self.item(message, conversation)
        {
            unit.enqueue(item).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tidings_domain::{
        CompanyId, ContactId, ConversationId, ConversationStatus, MessageId, MessageStatus, Platform,
    };

    use super::*;

    fn conversation(platform: Platform) -> Conversation {
        Conversation {
            id: ConversationId::new(),
            company_id: CompanyId::new(),
            contact_id: ContactId::new(),
            app_id: None,
            platform,
            status: ConversationStatus::Open,
            assignee_id: None,
            last_sequence: 1,
            last_message_at: None,
            agent_read_sequence: 0,
            contact_read_sequence: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            last_position: 1,
            changed_at: Utc::now(),
        }
    }

    fn message(conversation: &Conversation, sender: Sender, at: DateTime<Utc>) -> Message {
        Message {
            id: MessageId::new(),
            company_id: conversation.company_id,
            conversation_id: conversation.id,
            sequence: 1,
            local_id: None,
            sender,
            author_id: None,
            direction: if sender == Sender::Contact { Direction::Inbound } else { Direction::Outbound },
            platform: conversation.platform,
            body: "hi".into(),
            attachments: serde_json::json!([]),
            status: MessageStatus::Sent,
            created_at: at,
            edited_at: None,
            deleted_at: None,
        }
    }

    #[test]
    fn a_window_of_messages_shares_one_item_due_at_its_end() {
        let push = PushNotifications::new(Duration::from_secs(5));
        let ios = conversation(Platform::Ios);
        let at = |ms: i64| Utc.timestamp_millis_opt(1_700_000_000_000 + ms).single().unwrap();
        let first = push.item(&message(&ios, Sender::Agent, at(1)), &ios).unwrap();
        let last = push.item(&message(&ios, Sender::Bot, at(4_999)), &ios).unwrap();
        let next = push.item(&message(&ios, Sender::System, at(5_000)), &ios).unwrap();
        assert_eq!(first.idempotency_key, last.idempotency_key, "one window, one item");
        assert_ne!(first.idempotency_key, next.idempotency_key, "the next window, another");
        assert_eq!(first.idempotency_key, format!("push:{}:{}", ios.id, 1_700_000_000 / 5));
        assert_eq!(first.due_at, Some(at(5_000)));
        assert_eq!(
            (first.kind, first.message_id, first.company_id),
            (OutboxKind::Push, None, ios.company_id)
        );
        assert_eq!(first.payload["contact_id"], serde_json::json!(ios.contact_id));
        assert_eq!(first.payload["conversation_id"], serde_json::json!(ios.id));
    }

    #[test]
    fn only_the_companys_messages_on_sdk_platforms_push() {
        let push = PushNotifications::new(Duration::from_secs(5));
        for platform in [Platform::Ios, Platform::Android, Platform::Web, Platform::Desktop] {
            let c = conversation(platform);
            assert!(push.item(&message(&c, Sender::Agent, Utc::now()), &c).is_some(), "{platform}");
            assert!(push.item(&message(&c, Sender::Contact, Utc::now()), &c).is_none(), "{platform}");
        }
        for platform in [Platform::Facebook, Platform::Instagram] {
            let c = conversation(platform);
            assert!(push.item(&message(&c, Sender::Agent, Utc::now()), &c).is_none(), "Meta notifies");
        }
        let c = conversation(Platform::Android);
        assert!(PushNotifications::disabled().item(&message(&c, Sender::Agent, Utc::now()), &c).is_none());
    }
}
