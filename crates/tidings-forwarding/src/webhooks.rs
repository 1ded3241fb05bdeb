//! A company's webhook endpoints as owners and admins manage them (`/v1/webhooks`): the secret is
//! shown once, at creation or rotation, and sealed at rest; recent attempts can be read, a delivery
//! sent again, and a `ping` sent to check an endpoint.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use rand::RngCore;
use serde::Deserialize;
use tidings_auth::Cipher;
use tidings_domain::{
    Audit, AuditAction, AuditEvent, OutboxId, OutboxItem, OutboxKind, OutboxRepo, Principal, Role,
    WEBHOOK_EVENTS, WebhookAttempt, WebhookEndpoint, WebhookId, WebhookPatch, WebhookRepo,
};

use crate::error::{ForwardingError, ForwardingResult};
use crate::webhook_events::{RecentEndpoints, WebhookEvents, delivery, envelope, recent_endpoints};

/// How long a rotated secret keeps signing beside its successor.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// Most endpoints a company may have.
const MAX_ENDPOINTS: usize = 20;

/// `POST /v1/webhooks`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where events are posted: `https://`, or `http://` to this machine in development.
    #[schema(example = "https://example.com/hooks/tidings")]
    pub url: String,
    /// The event types wanted.
    #[schema(schema_with = event_names)]
    pub events: Vec<String>,
}

/// `PATCH /v1/webhooks/{id}`: a field left out is kept.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatchInput {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    #[schema(schema_with = optional_event_names)]
    pub events: Option<Vec<String>>,
    /// `false` disables it; `true` enables it again (forgetting its failures).
    pub enabled: Option<bool>,
}

/// The schema of a list of event types: at least one, each of [`WEBHOOK_EVENTS`].
fn event_names() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let name =
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(WEBHOOK_EVENTS.iter().copied()));
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(name)
        .min_items(Some(1))
        .examples([vec!["message.created"]])
}

/// [`event_names`], or `null` (kept as they are).
fn optional_event_names() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{SchemaType, Type};
    event_names().schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
}

/// An endpoint with its secret in clear, the one time it is shown.
#[derive(Clone, Debug)]
pub struct WithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its signing secret (`whsec_…`).
    pub secret: String,
}

/// The store a webhook service needs.
pub trait WebhookRepos: WebhookRepo + OutboxRepo {}

impl<T: WebhookRepo + OutboxRepo> WebhookRepos for T {}

/// Managing a company's webhook endpoints.
#[derive(Clone)]
pub struct Webhooks {
    repo: Arc<dyn WebhookRepos>,
    cipher: Cipher,
    allow_loopback: bool,
    audit: Audit,
    endpoints: RecentEndpoints,
}

impl Webhooks {
    /// Builds the service; `allow_loopback` accepts `http://` URLs on this machine (development).
    pub fn new(repo: Arc<dyn WebhookRepos>, cipher: Cipher, allow_loopback: bool) -> Self {
        Self { repo, cipher, allow_loopback, audit: Audit::default(), endpoints: recent_endpoints() }
    }

    /// Accepts `http://` URLs on this machine, or not.
    pub fn allowing_loopback(mut self, allow: bool) -> Self {
        self.allow_loopback = allow;
        self
    }

    /// The effect that queues every event for the endpoints this service manages: it reads them
    /// through a memory this service clears as it changes them.
    pub fn events(&self) -> WebhookEvents {
        WebhookEvents::new(self.endpoints.clone())
    }

    /// Records endpoints created, changed, deleted and their secrets rotated in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    async fn record(&self, admin: &Principal, action: AuditAction, id: WebhookId, detail: serde_json::Value) {
        let event = AuditEvent::new(admin.company_id, action, admin).target("webhook", id).detail(detail);
        self.audit.record(event).await;
    }

    fn admin(principal: &Principal) -> ForwardingResult<()> {
        if principal.role >= Role::Admin {
            Ok(())
        } else {
            Err(ForwardingError::Forbidden("only owners and admins manage webhooks"))
        }
    }

    fn check(&self, url: Option<&str>, events: Option<&[String]>) -> ForwardingResult<()> {
        if let Some(url) = url {
            valid_url(url, self.allow_loopback).map_err(|why| ForwardingError::Invalid("url", why.into()))?;
        }
        if let Some(events) = events {
            if events.is_empty() {
                return Err(ForwardingError::Invalid("events", "subscribe to at least one event".into()));
            }
            if let Some(unknown) = events.iter().find(|e| !WEBHOOK_EVENTS.contains(&e.as_str())) {
                return Err(ForwardingError::Invalid("events", format!("unknown event `{unknown}`")));
            }
        }
        Ok(())
    }

    fn new_secret(&self, id: WebhookId) -> ForwardingResult<(String, String)> {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("whsec_{}", hex::encode(bytes));
        let sealed = self
            .cipher
            .seal(secret.as_bytes(), &context(id))
            .map_err(|e| ForwardingError::Internal(e.to_string()))?;
        Ok((secret, sealed))
    }

    /// Adds an endpoint; its secret is in the answer and never again.
    pub async fn create(&self, admin: &Principal, input: WebhookInput) -> ForwardingResult<WithSecret> {
        Self::admin(admin)?;
        self.check(Some(&input.url), Some(&input.events))?;
        if self.repo.list_webhooks(admin.company_id).await?.len() >= MAX_ENDPOINTS {
            return Err(ForwardingError::Conflict("a company may have at most 20 webhook endpoints"));
        }
        let id = WebhookId::new();
        let (secret, sealed) = self.new_secret(id)?;
        let events = normalized(input.events);
        let endpoint = WebhookEndpoint {
            id,
            company_id: admin.company_id,
            url: input.url,
            events,
            secret: sealed,
            previous_secret: None,
            previous_until: None,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let endpoint = self.repo.create_webhook(endpoint).await?;
        self.endpoints.forget(admin.company_id);
        // The URL's host only: a query string may carry the receiver's own token.
        let detail = serde_json::json!({ "host": host_of(&endpoint.url), "events": endpoint.events });
        self.record(admin, AuditAction::WebhookCreated, id, detail).await;
        Ok(WithSecret { endpoint, secret })
    }

    /// The company's endpoints.
    pub async fn list(&self, admin: &Principal) -> ForwardingResult<Vec<WebhookEndpoint>> {
        Self::admin(admin)?;
        Ok(self.repo.list_webhooks(admin.company_id).await?)
    }

    /// One endpoint.
    pub async fn get(&self, admin: &Principal, id: WebhookId) -> ForwardingResult<WebhookEndpoint> {
        Self::admin(admin)?;
        Ok(self.repo.get_webhook(admin.company_id, id).await?)
    }

    /// Changes an endpoint's URL, events, or whether it is enabled.
    pub async fn update(
        &self,
        admin: &Principal,
        id: WebhookId,
        input: WebhookPatchInput,
    ) -> ForwardingResult<WebhookEndpoint> {
        Self::admin(admin)?;
        self.check(input.url.as_deref(), input.events.as_deref())?;
        let disabled = input.enabled.map(|on| (!on).then(|| (Utc::now(), "disabled by an admin".to_owned())));
        let changed: Vec<&str> = [
            input.url.as_ref().map(|_| "url"),
            input.events.as_ref().map(|_| "events"),
            input.enabled.map(|_| "enabled"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let patch =
            WebhookPatch { url: input.url, events: input.events.map(normalized), disabled, rotate: None };
        let endpoint = self.repo.update_webhook(admin.company_id, id, patch).await?;
        self.endpoints.forget(admin.company_id);
        let detail = serde_json::json!({ "changed": changed, "host": host_of(&endpoint.url), "enabled": endpoint.disabled_at.is_none() });
        self.record(admin, AuditAction::WebhookChanged, id, detail).await;
        Ok(endpoint)
    }

    /// Removes an endpoint; what was queued for it is skipped.
    pub async fn delete(&self, admin: &Principal, id: WebhookId) -> ForwardingResult<()> {
        Self::admin(admin)?;
        self.repo.delete_webhook(admin.company_id, id).await?;
        self.endpoints.forget(admin.company_id);
        self.record(admin, AuditAction::WebhookDeleted, id, serde_json::json!({})).await;
        Ok(())
    }

    /// A new secret; the old one keeps signing beside it for 24 hours, so receivers can switch.
    pub async fn rotate_secret(&self, admin: &Principal, id: WebhookId) -> ForwardingResult<WithSecret> {
        Self::admin(admin)?;
        self.repo.get_webhook(admin.company_id, id).await?;
        let (secret, sealed) = self.new_secret(id)?;
        let patch =
            WebhookPatch { rotate: Some((sealed, Utc::now() + ROTATION_OVERLAP)), ..WebhookPatch::default() };
        let endpoint = self.repo.update_webhook(admin.company_id, id, patch).await?;
        self.endpoints.forget(admin.company_id);
        self.record(admin, AuditAction::WebhookSecretRotated, id, serde_json::json!({})).await;
        Ok(WithSecret { endpoint, secret })
    }

    /// The endpoint's newest delivery attempts.
    pub async fn attempts(
        &self,
        admin: &Principal,
        id: WebhookId,
        limit: i64,
    ) -> ForwardingResult<Vec<WebhookAttempt>> {
        Self::admin(admin)?;
        self.repo.get_webhook(admin.company_id, id).await?;
        Ok(self.repo.list_attempts(admin.company_id, id, limit).await?)
    }

    /// Sends a delivery of the endpoint again, as a new delivery (a new `X-Tidings-Delivery`).
    pub async fn redeliver(
        &self,
        admin: &Principal,
        id: WebhookId,
        delivery_id: OutboxId,
    ) -> ForwardingResult<OutboxItem> {
        Self::admin(admin)?;
        let endpoint = self.repo.get_webhook(admin.company_id, id).await?;
        let original = self.repo.get_outbox(admin.company_id, delivery_id).await?;
        let of_endpoint = original.payload["endpoint_id"].as_str() == Some(&id.to_string());
        if original.kind != OutboxKind::WebhookDelivery || !of_endpoint {
            return Err(ForwardingError::NotFound);
        }
        let event = original.payload["event"].as_str().unwrap_or_default().to_owned();
        let again = format!("redelivery_{}", uuid::Uuid::now_v7().simple());
        let mut item = delivery(&endpoint, &event, &again, "redelivery", original.payload["body"].clone());
        item.order_key = None;
        Ok(self.repo.enqueue(item).await?)
    }

    /// Queues a `ping` event to the endpoint.
    pub async fn ping(&self, admin: &Principal, id: WebhookId) -> ForwardingResult<OutboxItem> {
        Self::admin(admin)?;
        let endpoint = self.repo.get_webhook(admin.company_id, id).await?;
        let event_id = format!("evt_{}", uuid::Uuid::now_v7().simple());
        let body = envelope(admin.company_id, &event_id, "ping", serde_json::json!({ "webhook_id": id }));
        let mut item = delivery(&endpoint, "ping", &event_id, "ping", body);
        item.order_key = None;
        Ok(self.repo.enqueue(item).await?)
    }
}

/// Event names sorted, each once.
fn normalized(mut events: Vec<String>) -> Vec<String> {
    events.sort();
    events.dedup();
    events
}

/// What a sealed secret of an endpoint is bound to.
fn context(id: WebhookId) -> String {
    format!("webhook:{id}")
}

/// Opens one of an endpoint's sealed secrets.
pub(crate) fn open_secret(
    cipher: &Cipher,
    endpoint: &WebhookEndpoint,
    sealed: &str,
) -> ForwardingResult<String> {
    let plain =
        cipher.open(sealed, &context(endpoint.id)).map_err(|e| ForwardingError::Internal(e.to_string()))?;
    String::from_utf8(plain).map_err(|e| ForwardingError::Internal(e.to_string()))
}

/// Whether a webhook may be posted to `url`: `https://` to a public host, or, when
/// `allow_loopback`, `http://` to this machine. Hosts written as private or loopback addresses, and
/// `localhost`, are refused otherwise, so that an admin cannot aim the server at its own network.
pub fn valid_url(url: &str, allow_loopback: bool) -> Result<(), &'static str> {
    if url.len() > 2048 {
        return Err("at most 2048 characters");
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed");
    }
    let host = parsed.host_str().ok_or("no host")?.trim_matches(['[', ']']);
    let local = host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost");
    let address = host.parse::<IpAddr>().ok();
    let loopback = local || address.is_some_and(|a| a.is_loopback());
    let private = address.is_some_and(|a| match a {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast(),
        IpAddr::V6(v6) => {
            v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    });
    match parsed.scheme() {
        "https" if !loopback && !private => Ok(()),
        "https" | "http" if loopback && allow_loopback => Ok(()),
        "https" => Err("must not point at a private or loopback address"),
        "http" => Err("must use https"),
        _ => Err("must be an https URL"),
    }
}

/// The host of an endpoint's URL, for the audit log.
fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().and_then(|url| url.host_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::valid_url;

    #[test]
    fn webhook_urls_are_public_https_or_local_in_development() {
        assert!(valid_url("https://hooks.example.com/tidings", false).is_ok());
        assert!(valid_url("http://hooks.example.com/tidings", false).is_err());
        assert!(valid_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(valid_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(valid_url("http://localhost:9000/hook", true).is_ok());
        assert!(valid_url("http://hooks.example.com/hook", true).is_err(), "plain http only to loopback");
        for internal in [
            "https://10.0.0.5/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://localhost/",
        ] {
            assert!(valid_url(internal, false).is_err(), "{internal}");
        }
        assert!(valid_url("https://user:pw@hooks.example.com/", false).is_err());
        assert!(valid_url("ftp://hooks.example.com/", false).is_err());
        assert!(valid_url("not a url", false).is_err());
    }
}
