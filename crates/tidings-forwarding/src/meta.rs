//! The Meta channel: an agent's reply forwarded to the company's Meta bot service, which posts it to
//! Facebook or Instagram. The body is the one the service already takes; the page's access token is
//! read when the call is made (it is a secret, and never stored in the outbox), and so are the
//! download links of the reply's files.

use std::sync::Arc;

use async_trait::async_trait;
use tidings_domain::{AttachmentLinks, CompanyId, OutboxItem, OutboxKind};

use crate::channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};

/// The company's Meta access tokens, read at call time.
#[async_trait]
pub trait MetaCredentials: Send + Sync {
    /// The access token for `platform` (`facebook` or `instagram`) of a company; `None` when the
    /// company has none.
    async fn access_token(&self, company_id: CompanyId, platform: &str) -> Result<Option<String>, String>;
}

/// Calls `{base_url}/facebook` or `{base_url}/instagram`.
pub struct MetaBot {
    http: reqwest::Client,
    base_url: String,
    credentials: Arc<dyn MetaCredentials>,
    links: Option<Arc<dyn AttachmentLinks>>,
}

impl MetaBot {
    /// A channel to the bot service at `base_url`, with tokens from `credentials`.
    pub fn new(base_url: &str, credentials: Arc<dyn MetaCredentials>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_owned(), credentials, links: None })
    }

    /// Gives the bot service download links to the reply's files, signed when the call is made (so
    /// a retried forward never hands Meta an expired link).
    pub fn with_links(mut self, links: Arc<dyn AttachmentLinks>) -> Self {
        self.links = Some(links);
        self
    }
}

#[async_trait]
impl Channel for MetaBot {
    fn kind(&self) -> OutboxKind {
        OutboxKind::MetaForward
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError> {
        let platform = match item.payload.get("platform").and_then(serde_json::Value::as_str) {
            Some(p @ ("facebook" | "instagram")) => p,
            other => return Err(DeliveryError::Permanent(format!("not a Meta platform: {other:?}"))),
        };
        let token = self
            .credentials
            .access_token(item.company_id, platform)
            .await
            .map_err(DeliveryError::Transient)?
            .ok_or_else(|| DeliveryError::Permanent(format!("the company has no {platform} access token")))?;
        let mut body = item.payload.clone();
        if let Some(fields) = body.as_object_mut() {
            fields.insert("access_token".into(), token.into());
            if let (Some(links), Some(files)) = (&self.links, fields.get("attachments")) {
                let linked = links.link(item.company_id, files);
                fields.insert("attachments".into(), linked);
            }
        }
        let answer = self
            .http
            .post(format!("{}/{platform}", self.base_url))
            .header("Idempotency-Key", &item.idempotency_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| DeliveryError::from_transport(&e))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(Delivery::Sent);
        }
        let text = answer.text().await.unwrap_or_default();
        Err(DeliveryError::from_status(status, &text))
    }
}
