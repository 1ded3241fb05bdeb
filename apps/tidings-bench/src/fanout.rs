//! Fan-out: one sender, N agents connected in the company room; every delivery is counted and timed
//! from the start of its POST to its receipt.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use crate::client::Tenant;
use crate::server::ServerProcess;
use crate::stats::Latency;

/// One fan-out measurement.
#[derive(Clone, Debug, Serialize)]
pub struct FanoutResult {
    /// Connected receivers.
    pub receivers: usize,
    /// Messages sent.
    pub messages: usize,
    /// Target send rate.
    pub rate_per_second: u32,
    /// Deliveries expected (messages x receivers).
    pub expected: u64,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries per second while sending.
    pub deliveries_per_second: f64,
    /// POST-to-receipt latency.
    pub latency: Latency,
    /// Server CPU time (user and system) per delivery over the send and drain window, in µs; it
    /// includes storing each message once.
    pub server_cpu_us_per_delivery: Option<f64>,
}

impl FanoutResult {
    /// Deliveries that never arrived.
    pub fn lost(&self) -> u64 {
        self.expected - self.delivered
    }
}

/// Opens `count` agent sockets, `parallel` at a time.
pub async fn connect(tenant: &Arc<Tenant>, count: usize) -> Vec<crate::Socket> {
    let mut sockets = Vec::with_capacity(count);
    let mut pending = futures_util::stream::iter((0..count).map(|_| {
        let tenant = tenant.clone();
        async move { tenant.socket().await }
    }))
    .buffer_unordered(64);
    while let Some(socket) = pending.next().await {
        sockets.push(socket.expect("a receiver could not connect"));
    }
    sockets
}

/// Sends `messages` at `rate` per second into one conversation with `receivers` listening.
pub async fn run(
    server: &ServerProcess,
    tenant: &Arc<Tenant>,
    receivers: usize,
    messages: usize,
    rate: u32,
) -> FanoutResult {
    let sockets = connect(tenant, receivers).await;
    let sent_at: Arc<Vec<OnceLock<Instant>>> = Arc::new((0..messages).map(|_| OnceLock::new()).collect());
    // Each run tags its messages apart: a repeated local_id would (rightly) not be stored again.
    let prefix = format!("bench-{receivers}x{rate}x{messages}-");
    let tag: Arc<str> = format!("\"local_id\":\"{prefix}").into();
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let (sent_at, tag) = (sent_at.clone(), tag.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(messages);
                let deadline = tokio::time::sleep(Duration::from_secs(60));
                tokio::pin!(deadline);
                while latencies.len() < messages {
                    let frame = tokio::select! {
                        frame = ws.next() => frame,
                        _ = &mut deadline => break,
                    };
                    let Some(Ok(frame)) = frame else { break };
                    let Ok(text) = frame.to_text() else { continue };
                    if let Some(i) = bench_index(text, &tag)
                        && let Some(at) = sent_at.get(i).and_then(OnceLock::get)
                    {
                        latencies.push(at.elapsed().as_micros() as u64);
                    }
                }
                latencies
            })
        })
        .collect();
    let conversation = tenant.conversations[0];
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let started = Instant::now();
    let cpu_before = server.cpu_seconds();
    let mut ticker = tokio::time::interval(interval);
    for i in 0..messages {
        ticker.tick().await;
        let _ = sent_at[i].set(Instant::now());
        assert!(
            tenant.post(conversation, &format!("fanout {i}"), Some(format!("{prefix}{i}"))).await,
            "a message was refused"
        );
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("receiver"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(server.cpu_seconds()).map(|(before, after)| after - before);
    FanoutResult {
        receivers,
        messages,
        rate_per_second: rate,
        expected: (receivers * messages) as u64,
        delivered: all.len() as u64,
        deliveries_per_second: all.len() as f64 / elapsed,
        server_cpu_us_per_delivery: cpu
            .filter(|_| !all.is_empty())
            .map(|seconds| seconds * 1e6 / all.len() as f64),
        latency: Latency::of(all),
    }
}

/// The index a benchmark message carries at the end of its `local_id` (after `tag`), found without
/// parsing the whole frame: thousands of receivers share two cores with the server.
fn bench_index(text: &str, tag: &str) -> Option<usize> {
    if !text.starts_with("{\"type\":\"message.new\"") {
        return None;
    }
    let at = text.find(tag)? + tag.len();
    text[at..].split('"').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::bench_index;

    #[test]
    fn the_index_is_read_from_message_frames_only() {
        let tag = r#""local_id":"bench-7-"#;
        assert_eq!(
            bench_index(r#"{"type":"message.new","message":{"local_id":"bench-7-42","x":1}}"#, tag),
            Some(42)
        );
        assert_eq!(bench_index(r#"{"type":"message.new","message":{"local_id":"bench-8-42"}}"#, tag), None);
        assert_eq!(bench_index(r#"{"type":"message.status","local_id":"bench-7-42"}"#, tag), None);
        assert_eq!(bench_index(r#"{"type":"message.new","message":{"local_id":null}}"#, tag), None);
    }
}
