//! The two tasks of a node's Redis bus, which the server owns: the publisher sends queued messages
//! to Redis, the subscriber delivers other nodes' messages to this node's hub. Both outlive Redis
//! outages: they reconnect by themselves, and meanwhile this node keeps serving its own sessions.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, Msg};
use tidings_messaging::realtime::{Hub, NodeId};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::bus::BusStats;
use crate::wire::{PATTERN, Wire, channel};

/// How long one Redis command may take before the message counts as dropped.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Sends queued messages to Redis, in order.
pub struct Publisher {
    pub(crate) client: Client,
    pub(crate) queue: mpsc::Receiver<Wire>,
    pub(crate) stats: Arc<BusStats>,
}

impl Publisher {
    /// Publishes until `stop` turns true or the bus is dropped.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut connection: Option<ConnectionManager> = None;
        let mut next_attempt = Instant::now();
        loop {
            let wire = tokio::select! {
                wire = self.queue.recv() => match wire {
                    Some(wire) => wire,
                    None => return,
                },
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            if connection.is_none() && Instant::now() >= next_attempt {
                connection = self.connect().await;
                if connection.is_none() {
                    next_attempt = Instant::now() + Duration::from_secs(1);
                }
            }
            let Some(redis) = connection.as_mut() else {
                self.stats.count_dropped("Redis is unreachable");
                continue;
            };
            let Ok(payload) = serde_json::to_string(&wire) else {
                self.stats.count_dropped("a message could not be encoded");
                continue;
            };
            let sent = redis.publish::<_, _, ()>(channel(wire.company_id()), payload);
            match tokio::time::timeout(COMMAND_TIMEOUT, sent).await {
                Ok(Ok(())) => self.stats.count_published(),
                _ => self.stats.count_dropped("Redis did not take a message"),
            }
        }
    }

    /// A connection that reconnects by itself once made.
    async fn connect(&self) -> Option<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(MAX_BACKOFF);
        let made = self.client.get_connection_manager_with_config(config);
        match tokio::time::timeout(COMMAND_TIMEOUT, made).await {
            Ok(Ok(connection)) => Some(connection),
            _ => None,
        }
    }
}

/// Delivers the other nodes' messages to this node's hub.
pub struct Subscriber {
    pub(crate) client: Client,
    pub(crate) node: NodeId,
    pub(crate) hub: Arc<Hub>,
    pub(crate) stats: Arc<BusStats>,
}

impl Subscriber {
    /// Subscribes, and subscribes again after every loss, until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let subscribing = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.psubscribe(PATTERN).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let subscribed = tokio::select! {
                subscribed = tokio::time::timeout(COMMAND_TIMEOUT, subscribing) => subscribed,
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            match subscribed {
                Ok(Ok(pubsub)) => {
                    backoff = Duration::from_millis(100);
                    self.stats.set_connected(true);
                    tracing::info!("subscribed to the Redis bus");
                    // Whatever other nodes published while this one was not subscribed is in the
                    // store: every session fills its followed conversations from there.
                    self.hub.catch_up_all();
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            message = messages.next() => match message {
                                Some(message) => self.receive(&message),
                                None => break,
                            },
                            _ = stop.wait_for(|stopping| *stopping) => return,
                        }
                    }
                    self.stats.set_connected(false);
                    tracing::warn!("lost the Redis bus; this node serves its own sessions and reconnects");
                }
                Ok(Err(e)) => {
                    if self.stats.set_connected(false) {
                        tracing::warn!(error = %e, "cannot reach the Redis bus");
                    }
                }
                Err(_) => {
                    if self.stats.set_connected(false) {
                        tracing::warn!("the Redis bus does not answer");
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One message from Redis: delivered here unless this node sent it (it delivered it already)
    /// or it does not belong to the channel it came on.
    fn receive(&self, message: &Msg) {
        let Ok(wire) = serde_json::from_slice::<Wire>(message.get_payload_bytes()) else {
            tracing::warn!(channel = message.get_channel_name(), "unreadable message on the Redis bus");
            return;
        };
        if wire.origin() == Some(self.node) {
            return;
        }
        if message.get_channel_name() != channel(wire.company_id()) {
            tracing::warn!(
                channel = message.get_channel_name(),
                "a message on another company's channel was dropped"
            );
            return;
        }
        self.stats.count_received();
        match wire {
            Wire::Event { envelope, .. } | Wire::Presence { envelope } => self.hub.dispatch(*envelope),
            Wire::Recheck { company_id, .. } => self.hub.recheck(company_id),
        }
    }
}
