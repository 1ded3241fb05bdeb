//! The FCM channel: delivers push items to the devices of a contact who is still offline.

use std::sync::Arc;

use async_trait::async_trait;
use tidings_domain::{
    CompanyId, ContactId, ConversationId, Device, Direction, ErrorChain, Message, MessageCursor,
    MessageStatus, OutboxItem, OutboxKind, RepoError, Sender,
};

use super::answer::{Answer, classify};
use super::notification::Notification;
use super::token::AccessTokens;
use super::{ContactOnline, PushRepos, ServiceAccount};
use crate::channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};

/// How many of the newest messages are searched for the company's latest one.
const RECENT: i64 = 20;

/// Sends push items through FCM HTTP v1.
pub struct FcmChannel {
    http: reqwest::Client,
    send_url: String,
    tokens: AccessTokens,
    repos: Arc<dyn PushRepos>,
    online: Arc<dyn ContactOnline>,
}

/// How the sends of one item went.
#[derive(Default)]
struct Tally {
    sent: usize,
    dead: usize,
    transient: Option<String>,
    permanent: Option<String>,
}

impl FcmChannel {
    /// A channel sending as `account` to FCM at `base_url` (`https://fcm.googleapis.com`; a
    /// stand-in in tests), reading devices and messages from `repos` and presence from `online`.
    pub fn new(
        account: ServiceAccount,
        base_url: &str,
        repos: Arc<dyn PushRepos>,
        online: Arc<dyn ContactOnline>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        let send_url = format!(
            "{}/v1/projects/{}/messages:send",
            base_url.trim_end_matches('/'),
            form_urlencoded::byte_serialize(account.project_id.as_bytes()).collect::<String>()
        );
        Ok(Self { http, send_url, tokens: AccessTokens::new(account)?, repos, online })
    }

    /// The newest message from the company in the conversation, not deleted.
    async fn newest_from_company(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
    ) -> Result<Option<Message>, RepoError> {
        let recent =
            self.repos.list_messages(company_id, conversation_id, MessageCursor::Latest, RECENT).await?;
        Ok(recent.into_iter().rev().find(|m| {
            m.direction == Direction::Outbound && m.sender != Sender::Contact && m.deleted_at.is_none()
        }))
    }

    /// Sends the notification to one device's token; a token FCM calls dead is removed from the
    /// device (unless the device registered another meanwhile).
    async fn send(&self, access: &str, device: &Device, token: &str, notification: &Notification) -> Answer {
        let sent = self
            .http
            .post(&self.send_url)
            .bearer_auth(access)
            .json(&notification.fcm_message(token))
            .send()
            .await;
        let answer = match sent {
            Ok(answer) => answer,
            Err(e) => return Answer::Failed(DeliveryError::from_transport(&e)),
        };
        let status = answer.status();
        // Errors are stored and shown to admins: the token never goes with them.
        let body = answer.text().await.unwrap_or_default().replace(token, "[push token]");
        let answer = classify(status, &body);
        if let Answer::DeadToken(why) = &answer {
            match self.repos.clear_push_token(device.company_id, device.id, token).await {
                Ok(_) => tracing::info!(device = %device.id, %why, "removed a push token FCM refused"),
                Err(e) => {
                    tracing::warn!(device = %device.id, error = %ErrorChain(&e), "could not remove a dead push token")
                }
            }
        }
        answer
    }
}

/// The conversation and contact a push item is about.
fn target(item: &OutboxItem) -> Result<(ConversationId, ContactId), DeliveryError> {
    match (id(item, "conversation_id"), id(item, "contact_id")) {
        (Some(conversation), Some(contact)) => Ok((conversation, contact)),
        _ => Err(DeliveryError::Permanent("a push item without its conversation and contact".into())),
    }
}

fn id<T: std::str::FromStr>(item: &OutboxItem, field: &str) -> Option<T> {
    item.payload.get(field)?.as_str()?.parse().ok()
}

fn store_failed(e: &RepoError) -> DeliveryError {
    DeliveryError::Transient(format!("store: {}", ErrorChain(e)))
}

#[async_trait]
impl Channel for FcmChannel {
    fn kind(&self) -> OutboxKind {
        OutboxKind::Push
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError> {
        let company_id = item.company_id;
        let (conversation_id, contact_id) = target(item)?;
        // Decided now, at the end of the collapse window, not when the message was written: a
        // contact who came back meanwhile reads it live.
        if self.online.is_online(company_id, contact_id).await {
            return Ok(Delivery::Skipped("the contact is online".into()));
        }
        let devices = self.repos.push_targets(company_id, contact_id).await.map_err(|e| store_failed(&e))?;
        if devices.is_empty() {
            return Ok(Delivery::Skipped("the contact has no device with a push token".into()));
        }
        let Some(message) =
            self.newest_from_company(company_id, conversation_id).await.map_err(|e| store_failed(&e))?
        else {
            return Ok(Delivery::Skipped("no message from the company to notify about".into()));
        };
        if message.status == MessageStatus::Read {
            return Ok(Delivery::Skipped("the contact has read the message".into()));
        }
        let company = self.repos.get_company(company_id).await.map_err(|e| store_failed(&e))?;
        let notification = Notification::new(&company.name, &message);
        let access = self.tokens.get().await?;

        let answers = futures_util::future::join_all(
            devices
                .iter()
                .filter_map(|device| Some((device, device.push_token.as_deref()?)))
                .map(|(device, token)| self.send(&access, device, token, &notification)),
        )
        .await;
        let mut tally = Tally::default();
        for answer in answers {
            match answer {
                Answer::Sent => tally.sent += 1,
                Answer::DeadToken(_) => tally.dead += 1,
                Answer::Unauthenticated(why) => {
                    self.tokens.refused(&access).await;
                    tally.transient.get_or_insert(why);
                }
                Answer::Failed(DeliveryError::Transient(why)) => {
                    tally.transient.get_or_insert(why);
                }
                Answer::Failed(DeliveryError::Permanent(why)) => {
                    tally.permanent.get_or_insert(why);
                }
            }
        }
        // FCM takes no idempotency key: a retry sends again to the tokens that got it this time.
        // Their devices replace the first notification with the second (same collapse key and
        // apns-collapse-id), so the contact sees one, possibly twice in a row.
        if let Some(why) = tally.transient {
            return Err(DeliveryError::Transient(why));
        }
        if tally.sent > 0 {
            if let Some(why) = tally.permanent {
                tracing::warn!(item = %item.id, error = %why, "FCM refused a push to one of the contact's devices");
            }
            return Ok(Delivery::Sent);
        }
        match tally.permanent {
            Some(why) => Err(DeliveryError::Permanent(why)),
            None => Ok(Delivery::Skipped(format!(
                "FCM refused every push token of the contact ({} removed)",
                tally.dead
            ))),
        }
    }
}
