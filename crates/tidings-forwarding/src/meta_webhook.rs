//! Meta's webhooks into Tidings: the subscription handshake, and deliveries authenticated by the
//! `X-Hub-Signature-256` HMAC of the raw body under the app secret of the company whose page or
//! Instagram account they concern, then read into social events. Nothing from a delivery whose
//! signature does not check is kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::hmac;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use tidings_domain::{CompanyId, LookupKey, Platform, SocialEvent, SocialEventKind, SocialInbox};

use crate::error::{ForwardingError, ForwardingResult};
use crate::integrations::{Integrations, digest};

/// Largest webhook body read.
pub const MAX_BODY: usize = 1024 * 1024;

/// Receives Meta's webhooks.
#[derive(Clone)]
pub struct MetaWebhooks {
    integrations: Integrations,
    inbox: Arc<dyn SocialInbox>,
}

/// The query of the subscription handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Handshake {
    /// Must be `subscribe`.
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    /// One company's verify token.
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// Echoed back when the token is known.
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

impl MetaWebhooks {
    /// Builds the service: secrets from `integrations`, events into `inbox`.
    pub fn new(integrations: Integrations, inbox: Arc<dyn SocialInbox>) -> Self {
        Self { integrations, inbox }
    }

    /// The challenge to echo when a company's verify token subscribes; `Forbidden` otherwise.
    pub async fn handshake(&self, query: Handshake) -> ForwardingResult<String> {
        let refused = ForwardingError::Forbidden("the verify token matches no integration");
        let (Some("subscribe"), Some(token), Some(challenge)) =
            (query.mode.as_deref(), query.verify_token.as_deref(), query.challenge)
        else {
            return Err(ForwardingError::Invalid(
                "hub.mode",
                "expected hub.mode=subscribe with a token and a challenge".into(),
            ));
        };
        if token.is_empty() || challenge.len() > 256 {
            return Err(refused);
        }
        let found = self.integrations.find(LookupKey::VerifyTokenDigest(&digest(token))).await?;
        // The digest found the row; the token itself is compared too, in constant time.
        let known = found.iter().any(|o| {
            o.secrets.verify_token.as_deref().is_some_and(|t| {
                aws_lc_rs::constant_time::verify_slices_are_equal(t.as_bytes(), token.as_bytes()).is_ok()
            })
        });
        if known { Ok(challenge) } else { Err(refused) }
    }

    /// Authenticates a delivery and takes its events in; returns how many were read.
    pub async fn receive(&self, body: &[u8], signature: Option<&str>) -> ForwardingResult<usize> {
        let unsigned = ForwardingError::Unauthenticated("missing or invalid X-Hub-Signature-256");
        let signature = signature
            .and_then(|s| s.trim().strip_prefix("sha256="))
            .and_then(|hex_digits| hex::decode(hex_digits).ok())
            .ok_or(unsigned)?;
        if body.len() > MAX_BODY {
            return Err(ForwardingError::Invalid("body", "larger than 1 MiB".into()));
        }
        let delivery: Delivery = serde_json::from_slice(body)
            .map_err(|e| ForwardingError::Invalid("body", format!("not a Meta webhook: {e}")))?;
        let platform = match delivery.object.as_str() {
            "page" => Platform::Facebook,
            "instagram" => Platform::Instagram,
            _ => return Err(ForwardingError::Invalid("object", "expected page or instagram".into())),
        };
        // Every entry's company must have signed the body: one stranger refuses the whole delivery.
        let mut companies: BTreeMap<String, CompanyId> = BTreeMap::new();
        for entry in &delivery.entry {
            if companies.contains_key(&entry.id) {
                continue;
            }
            let key = match platform {
                Platform::Instagram => LookupKey::InstagramAccountId(&entry.id),
                _ => LookupKey::PageId(&entry.id),
            };
            let found = self.integrations.find(key).await?;
            let Some(opened) = found.first() else {
                return Err(ForwardingError::Unauthenticated(
                    "a webhook entry names no connected page or account",
                ));
            };
            let Some(secret) = opened.secrets.app_secret.as_deref() else {
                return Err(ForwardingError::Unauthenticated("the company has no app secret to check it"));
            };
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
            if hmac::verify(&key, body, &signature).is_err() {
                return Err(ForwardingError::Unauthenticated("missing or invalid X-Hub-Signature-256"));
            }
            companies.insert(entry.id.clone(), opened.integration.company_id);
        }
        let events = delivery.events(platform, &companies);
        let count = events.len();
        if count > 0 {
            self.inbox.receive(events).await?;
        }
        Ok(count)
    }
}

/// A webhook delivery as Meta sends it (the fields read; others are ignored).
#[derive(Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    messaging: Vec<Messaging>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    #[serde(default)]
    timestamp: Option<i64>,
    message: Option<InboundMessage>,
    delivery: Option<Watermark>,
    read: Option<Watermark>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

#[derive(Deserialize)]
struct InboundMessage {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Option<serde_json::Value>,
    #[serde(default)]
    is_echo: bool,
}

#[derive(Deserialize)]
struct Watermark {
    #[serde(default)]
    watermark: Option<i64>,
}

impl Delivery {
    fn events(self, platform: Platform, companies: &BTreeMap<String, CompanyId>) -> Vec<SocialEvent> {
        let mut events = Vec::new();
        for entry in self.entry {
            let Some(&company_id) = companies.get(&entry.id) else { continue };
            for item in entry.messaging {
                // The page's own messages (ours, echoed back) are not the contact's.
                if item.sender.id == entry.id {
                    continue;
                }
                let at = |ms: Option<i64>| ms.or(item.timestamp).and_then(millis);
                let kind = if let Some(message) = item.message {
                    if message.is_echo {
                        continue;
                    }
                    SocialEventKind::Message {
                        mid: message.mid,
                        text: message.text.unwrap_or_default(),
                        attachments: message.attachments.unwrap_or_else(|| serde_json::json!([])),
                    }
                } else if let Some(watermark) = item.delivery.as_ref().and_then(|d| at(d.watermark)) {
                    SocialEventKind::Delivered { watermark }
                } else if let Some(watermark) = item.read.as_ref().and_then(|r| at(r.watermark)) {
                    SocialEventKind::Read { watermark }
                } else {
                    continue;
                };
                events.push(SocialEvent { company_id, platform, social_id: item.sender.id, kind });
            }
        }
        events
    }
}

fn millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}
