//! Delivering webhook events: a signed POST to the endpoint, each attempt logged for its owners, and
//! an endpoint that has failed for a day disabled.
//!
//! The signature follows the scheme Stripe uses, so that receivers can refuse replays:
//! `X-Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with one `v1` per
//! secret in force (two while a rotation overlaps).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use chrono::Utc;
use tidings_auth::Cipher;
use tidings_domain::{
    AttachmentLinks, OutboxItem, OutboxKind, WebhookAttempt, WebhookAttemptId, WebhookEndpoint, WebhookId,
    WebhookPatch, WebhookRepo,
};

use crate::channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};
use crate::webhooks::{open_secret, valid_url};

/// How long an endpoint may fail without a success before it is disabled.
pub const FAILING_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// Told when an endpoint was disabled for failing (to tell its owners).
#[async_trait]
pub trait DisabledNotice: Send + Sync {
    /// `endpoint` was just disabled; `error` is its last failure.
    async fn endpoint_disabled(&self, endpoint: &WebhookEndpoint, error: &str);
}

/// Posts webhook deliveries.
pub struct WebhookChannel {
    repo: Arc<dyn WebhookRepo>,
    cipher: Cipher,
    http: reqwest::Client,
    allow_loopback: bool,
    notice: Option<Arc<dyn DisabledNotice>>,
    links: Option<Arc<dyn AttachmentLinks>>,
}

impl WebhookChannel {
    /// A channel over `repo`, opening secrets with `cipher`; `allow_loopback` lets plain-HTTP
    /// endpoints on this machine through (development and tests only).
    pub fn new(
        repo: Arc<dyn WebhookRepo>,
        cipher: Cipher,
        allow_loopback: bool,
    ) -> Result<Self, reqwest::Error> {
        // Redirects are not followed: an endpoint could otherwise send the call anywhere.
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { repo, cipher, http, allow_loopback, notice: None, links: None })
    }

    /// Gives message events download links to the message's files, signed when the call is made.
    pub fn with_links(mut self, links: Arc<dyn AttachmentLinks>) -> Self {
        self.links = Some(links);
        self
    }

    /// Tells `notice` about endpoints disabled for failing.
    pub fn with_notice(mut self, notice: Arc<dyn DisabledNotice>) -> Self {
        self.notice = Some(notice);
        self
    }

    /// The `X-Tidings-Signature` of `body` at `t` under the endpoint's secrets in force.
    fn signature(&self, endpoint: &WebhookEndpoint, t: i64, body: &[u8]) -> Result<String, DeliveryError> {
        let mut secrets = vec![open_secret(&self.cipher, endpoint, &endpoint.secret)];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_until)
            && until > Utc::now()
        {
            secrets.push(open_secret(&self.cipher, endpoint, previous));
        }
        let mut header = format!("t={t}");
        for secret in secrets {
            let secret = secret.map_err(|e| DeliveryError::Permanent(e.to_string()))?;
            header.push_str(&format!(",v1={}", sign(&secret, t, body)));
        }
        Ok(header)
    }

    async fn post(
        &self,
        endpoint: &WebhookEndpoint,
        item: &OutboxItem,
        event: &str,
    ) -> (Option<u16>, Result<(), DeliveryError>) {
        if let Err(why) = valid_url(&endpoint.url, self.allow_loopback) {
            return (None, Err(DeliveryError::Permanent(why.to_owned())));
        }
        let mut body = item.payload["body"].clone();
        if let (Some(links), Some(files)) = (&self.links, body.pointer_mut("/data/message/attachments")) {
            *files = links.link(item.company_id, files);
        }
        let body = match serde_json::to_vec(&body) {
            Ok(body) => body,
            Err(e) => return (None, Err(DeliveryError::Permanent(e.to_string()))),
        };
        let signature = match self.signature(endpoint, Utc::now().timestamp(), &body) {
            Ok(signature) => signature,
            Err(e) => return (None, Err(e)),
        };
        let sent = self
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("user-agent", "Tidings-Webhooks/1")
            .header("x-tidings-signature", signature)
            .header("x-tidings-event", event)
            .header("x-tidings-delivery", &item.idempotency_key)
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) => (None, Err(DeliveryError::from_transport(&e))),
            Ok(answer) if answer.status().is_success() => (Some(answer.status().as_u16()), Ok(())),
            Ok(answer) => {
                let status = answer.status();
                let text = answer.text().await.unwrap_or_default();
                (Some(status.as_u16()), Err(DeliveryError::from_status(status, &text)))
            }
        }
    }
}

/// Hex HMAC-SHA256 of `<t>.<body>` under `secret`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(t.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    hex::encode(context.sign().as_ref())
}

#[async_trait]
impl Channel for WebhookChannel {
    fn kind(&self) -> OutboxKind {
        OutboxKind::WebhookDelivery
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError> {
        let endpoint_id: WebhookId = item.payload["endpoint_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| DeliveryError::Permanent("a webhook delivery without its endpoint".into()))?;
        let endpoint = match self.repo.get_webhook(item.company_id, endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(e) if e.is_not_found() => return Ok(Delivery::Skipped("the endpoint was deleted".into())),
            Err(e) => return Err(DeliveryError::Transient(e.to_string())),
        };
        if endpoint.disabled_at.is_some() {
            return Ok(Delivery::Skipped("the endpoint is disabled".into()));
        }
        let event = item.payload["event"].as_str().unwrap_or("unknown").to_owned();
        let started = Instant::now();
        let (status_code, outcome) = self.post(&endpoint, item, &event).await;
        let attempt = WebhookAttempt {
            id: WebhookAttemptId::new(),
            company_id: item.company_id,
            endpoint_id,
            outbox_id: item.id,
            event,
            delivery_id: item.idempotency_key.clone(),
            status_code: status_code.map(i32::from),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error: outcome.as_ref().err().map(ToString::to_string),
            attempted_at: Utc::now(),
        };
        // The log is for people; a failure to write it must not make the delivery fail.
        let endpoint = match self.repo.record_attempt(attempt).await {
            Ok(endpoint) => endpoint,
            Err(e) => {
                tracing::warn!(error = %tidings_domain::ErrorChain(&e), "could not log a webhook attempt");
                endpoint
            }
        };
        if let Err(error) = &outcome {
            self.disable_if_failing(&endpoint, &error.to_string()).await;
        }
        outcome.map(|()| Delivery::Sent)
    }
}

impl WebhookChannel {
    async fn disable_if_failing(&self, endpoint: &WebhookEndpoint, error: &str) {
        let limit = chrono::Duration::from_std(FAILING_LIMIT).unwrap_or(chrono::Duration::MAX);
        let Some(since) = endpoint.failing_since else { return };
        if Utc::now() - since < limit || endpoint.disabled_at.is_some() {
            return;
        }
        let reason = format!("failing since {since}: {error}");
        let patch = WebhookPatch { disabled: Some(Some((Utc::now(), reason))), ..WebhookPatch::default() };
        match self.repo.update_webhook(endpoint.company_id, endpoint.id, patch).await {
            Ok(disabled) => {
                tracing::warn!(endpoint = %endpoint.id, company = %endpoint.company_id, "a webhook endpoint failing for a day was disabled");
                if let Some(notice) = &self.notice {
                    notice.endpoint_disabled(&disabled, error).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %tidings_domain::ErrorChain(&e), "could not disable a failing webhook endpoint")
            }
        }
    }
}
