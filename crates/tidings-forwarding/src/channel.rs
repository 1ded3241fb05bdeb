//! Where an outbox item goes: a channel per kind, and how a failed call is classified.

use async_trait::async_trait;
use thiserror::Error;
use tidings_domain::{OutboxItem, OutboxKind};

/// How long one call may take, on every channel.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a delivery failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DeliveryError {
    /// It may succeed later: a timeout, a connection error, a 5xx, 408 or 429.
    #[error("{0}")]
    Transient(String),
    /// It will not succeed as it is: any other 4xx, or an item the channel cannot read.
    #[error("{0}")]
    Permanent(String),
}

impl DeliveryError {
    /// The error of an HTTP answer that was not a success, by its status.
    pub fn from_status(status: reqwest::StatusCode, body: &str) -> DeliveryError {
        let what = format!("{status}: {}", body.chars().take(500).collect::<String>());
        let retryable = status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        if retryable { DeliveryError::Transient(what) } else { DeliveryError::Permanent(what) }
    }

    /// The error of a call that got no answer (a timeout, a refused connection): it may work later.
    pub fn from_transport(error: &reqwest::Error) -> DeliveryError {
        let what = if error.is_timeout() { "timed out".to_owned() } else { format!("no answer: {error}") };
        DeliveryError::Transient(what)
    }
}

/// How a call that did not fail ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver took it.
    Sent,
    /// Nothing was sent, on purpose (no SMTP server configured, a contact already online): why.
    Skipped(String),
}

/// Delivers outbox items of one kind.
#[async_trait]
pub trait Channel: Send + Sync {
    /// The kind of items it delivers.
    fn kind(&self) -> OutboxKind;
    /// Makes the call once; the worker decides about retries.
    async fn deliver(&self, item: &OutboxItem) -> Result<Delivery, DeliveryError>;
}
