//! Ingest: messages accepted per second through `POST .../messages`, and the same inserts straight
//! through the store as the ceiling.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tidings_domain::{Direction, MessageRepo, NewMessage, Platform, Sender};
use tidings_store::Store;

use crate::client::Tenant;
use crate::stats::Latency;

/// One ingest measurement.
#[derive(Clone, Debug, Serialize)]
pub struct IngestResult {
    /// `api` or `store`.
    pub path: &'static str,
    /// Concurrent senders.
    pub concurrency: usize,
    /// Conversations the messages are spread over.
    pub conversations: usize,
    /// Messages accepted.
    pub messages: u64,
    /// Messages per second.
    pub per_second: f64,
    /// Latency per message.
    pub latency: Latency,
}

/// Runs `concurrency` senders for `duration` through the API.
pub async fn api(
    tenant: &Arc<Tenant>,
    concurrency: usize,
    conversations: usize,
    duration: Duration,
) -> IngestResult {
    run("api", concurrency, conversations, duration, {
        let tenant = tenant.clone();
        move |conv| {
            let tenant = tenant.clone();
            async move {
                let id = tenant.conversations[conv];
                tenant.post(id, "benchmark message body", None).await
            }
        }
    })
    .await
}

/// The same through the store directly: the ceiling the API is compared with.
pub async fn store(
    store: &Store,
    tenant: &Tenant,
    concurrency: usize,
    conversations: usize,
    duration: Duration,
) -> IngestResult {
    let (store, company_id, ids) = (store.clone(), tenant.company_id, Arc::new(tenant.conversations.clone()));
    run("store", concurrency, conversations, duration, move |conv| {
        let (store, ids) = (store.clone(), ids.clone());
        async move {
            let new = NewMessage {
                company_id,
                conversation_id: ids[conv],
                local_id: None,
                sender: Sender::Agent,
                author_id: None,
                direction: Direction::Outbound,
                platform: Some(Platform::Web),
                body: "benchmark message body".into(),
                attachments: serde_json::json!([]),
                awaiting_forward: false,
                uploads: Vec::new(),
            };
            store.append_message(new).await.is_ok()
        }
    })
    .await
}

async fn run<F, Fut>(
    path: &'static str,
    concurrency: usize,
    conversations: usize,
    duration: Duration,
    send: F,
) -> IngestResult
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (stop, send) = (stop.clone(), send.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    assert!(send(i % conversations).await, "a message was refused");
                    latencies.push(t.elapsed().as_micros() as u64);
                    i += concurrency;
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("sender"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    IngestResult {
        path,
        concurrency,
        conversations,
        messages: all.len() as u64,
        per_second: all.len() as f64 / elapsed,
        latency: Latency::of(all),
    }
}
