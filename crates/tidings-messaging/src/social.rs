//! Conversations with Facebook and Instagram contacts, fed by authenticated Meta webhooks: a
//! contact's message lands in their open conversation (once, however often Meta redelivers it), and
//! Meta's delivery and read receipts move our replies' status.

use std::sync::Arc;

use async_trait::async_trait;
use tidings_domain::message::MAX_BODY_CHARS;
use tidings_domain::{
    ConversationQuery, Direction, MessageStatus, NewMessage, RepoError, RepoResult, Sender, SocialEvent,
    SocialEventKind, SocialInbox,
};

use crate::change::Change;
use crate::conversations::open;
use crate::error::MessagingError;
use crate::messages::Messages;
use crate::repos::MessagingRepos;

/// Takes social platforms' events into conversations.
#[derive(Clone)]
pub struct Social {
    repos: Arc<dyn MessagingRepos>,
    messages: Messages,
}

impl Social {
    /// Builds the service over `repos`, publishing through `messages`.
    pub fn new(repos: Arc<dyn MessagingRepos>, messages: Messages) -> Self {
        Self { repos, messages }
    }

    async fn apply(&self, event: SocialEvent) -> RepoResult<()> {
        let (company_id, platform) = (event.company_id, event.platform);
        let contact = self.repos.social_contact(company_id, platform, &event.social_id).await?;
        match event.kind {
            SocialEventKind::Message { mid, text, attachments } => {
                let effects = self.messages.effects();
                let conversation = open(&*self.repos, effects, company_id, contact.id, None, platform)
                    .await
                    .map_err(into_repo)?;
                let mut change = Change::begin(&*self.repos, effects).await.map_err(into_repo)?;
                let appended = change
                    .append_message(NewMessage {
                        company_id,
                        conversation_id: conversation.id,
                        // Meta's id makes a redelivered message the same one.
                        local_id: Some(format!("meta:{mid}")),
                        sender: Sender::Contact,
                        author_id: Some(contact.id.to_string()),
                        direction: Direction::Inbound,
                        platform: Some(platform),
                        body: text.chars().take(MAX_BODY_CHARS).collect(),
                        attachments: platform_files(attachments),
                        awaiting_forward: false,
                        uploads: Vec::new(),
                    })
                    .await?;
                change.record_created(&appended, &conversation).await.map_err(into_repo)?;
                change.commit().await.map_err(into_repo)?;
                if appended.created {
                    self.messages.publish_message(&appended.message, appended.position, true);
                }
            }
            SocialEventKind::Delivered { watermark } | SocialEventKind::Read { watermark } => {
                let status = match event.kind {
                    SocialEventKind::Read { .. } => MessageStatus::Read,
                    _ => MessageStatus::Delivered,
                };
                let query = ConversationQuery {
                    contact_id: Some(contact.id),
                    platform: Some(platform),
                    limit: 20,
                    ..ConversationQuery::default()
                };
                for conversation in self.repos.list_conversations(company_id, query).await? {
                    let Some(up_to) = self.repos.sequence_at(company_id, conversation.id, watermark).await?
                    else {
                        continue;
                    };
                    self.messages
                        .apply_receipt(&conversation, Direction::Outbound, up_to, status)
                        .await
                        .map_err(into_repo)?;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SocialInbox for Social {
    async fn receive(&self, events: Vec<SocialEvent>) -> RepoResult<()> {
        for event in events {
            self.apply(event).await?;
        }
        Ok(())
    }
}

fn into_repo(error: MessagingError) -> RepoError {
    match error {
        MessagingError::Store(e) => e,
        MessagingError::NotFound => RepoError::not_found(),
        other => RepoError::internal(other.to_string()),
    }
}

/// A platform's attachments as they are, but never taken for uploads of the company: an
/// `upload_id` in them is dropped (only messages sent here refer to uploads).
fn platform_files(attachments: serde_json::Value) -> serde_json::Value {
    match attachments {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|mut item| {
                if let Some(fields) = item.as_object_mut() {
                    fields.remove("upload_id");
                }
                item
            })
            .collect(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_platform_attachment_never_names_an_upload() {
        let upload = tidings_domain::UploadId::new();
        let from_meta = json!([
            { "type": "image", "payload": { "url": "https://cdn.fbsbx.test/1.jpg" }, "upload_id": upload },
            { "type": "file", "payload": { "url": "https://cdn.fbsbx.test/2.pdf" } },
        ]);
        let kept = platform_files(from_meta);
        assert_eq!(kept[0], json!({ "type": "image", "payload": { "url": "https://cdn.fbsbx.test/1.jpg" } }));
        assert_eq!(kept[1]["payload"]["url"], "https://cdn.fbsbx.test/2.pdf");
        assert!(kept.as_array().unwrap().iter().all(|item| tidings_domain::attached_upload(item).is_none()));
    }
}
