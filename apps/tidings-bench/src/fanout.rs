//! Fan-out: agents connected in the company room through one door, a sender posting into one
//! conversation, either at a fixed rate or as fast as the server accepts (saturation); every
//! delivery is counted and timed from the start of its POST to its receipt.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Door, Tenant};
use crate::server::ServerProcess;
use crate::stats::Latency;

/// How long receivers wait without any delivery, once every message is accepted, before the
/// missing ones count as lost.
const STALL: Duration = Duration::from_secs(15);

/// The longest receivers wait for the last deliveries once every message is accepted.
const DRAIN: Duration = Duration::from_secs(300);

/// How the sender paces its messages.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// One sender, this many messages a second.
    Rate(u32),
    /// This many concurrent senders, each posting its next message as soon as the last one is
    /// accepted.
    Saturate(usize),
}

/// One fan-out measurement.
#[derive(Clone, Debug, Serialize)]
pub struct FanoutResult {
    /// The door the receivers used.
    pub door: Door,
    /// Connected receivers.
    pub receivers: usize,
    /// Messages sent.
    pub messages: usize,
    /// Target send rate; `None` when sending as fast as the server accepts.
    pub rate_per_second: Option<u32>,
    /// Concurrent senders.
    pub senders: usize,
    /// Messages accepted per second, from the first POST to the last one answered.
    pub accepted_per_second: f64,
    /// Deliveries expected (messages x receivers).
    pub expected: u64,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries per second over the send and drain window.
    pub deliveries_per_second: f64,
    /// POST-to-receipt latency.
    pub latency: Latency,
    /// How long each POST took to be answered: the part of the latency spent storing the message.
    pub post_latency: Latency,
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

/// The benchmark messages of one run, as receivers recognize and time them.
pub struct Probe {
    tag: String,
    sent_at: Vec<OnceLock<Instant>>,
    delivered: AtomicU64,
}

impl Probe {
    /// Messages whose `local_id` is `prefix` followed by their index, `messages` of them.
    pub fn new(prefix: &str, messages: usize) -> Probe {
        Probe {
            tag: format!("\"local_id\":\"{prefix}"),
            sent_at: (0..messages).map(|_| OnceLock::new()).collect(),
            delivered: AtomicU64::new(0),
        }
    }
}

/// Receives on `ws` until `stop` turns true, or, with a probe, until every one of its messages
/// came; answers the door's heartbeat throughout. Returns the latencies of the probe's messages,
/// in µs.
pub fn listen(
    mut ws: crate::Socket,
    door: Door,
    probe: Option<Arc<Probe>>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let wanted = probe.as_ref().map_or(usize::MAX, |p| p.sent_at.len());
        let mut latencies = Vec::with_capacity(wanted.min(1 << 16));
        while latencies.len() < wanted && !*stop.borrow() {
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = stop.changed() => break,
            };
            let Some(Ok(frame)) = frame else { break };
            let Ok(text) = frame.to_text() else { continue };
            if let Some(probe) = &probe
                && let Some(i) = bench_index(text, door.message_prefix(), &probe.tag)
                && let Some(at) = probe.sent_at.get(i).and_then(OnceLock::get)
            {
                latencies.push(at.elapsed().as_micros() as u64);
                probe.delivered.fetch_add(1, Ordering::Relaxed);
            } else if let Some(pong) = door.pong_for(text) {
                let _ = ws.send(Message::text(pong)).await;
            }
        }
        latencies
    })
}

/// Opens `count` agent connections through `door`, 64 at a time, each handed to [`listen`] as
/// soon as it is authenticated (so that none misses a heartbeat while the others connect).
pub async fn connect(
    tenant: &Arc<Tenant>,
    door: Door,
    count: usize,
    probe: Option<Arc<Probe>>,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<Vec<u64>>> {
    let mut listeners = Vec::with_capacity(count);
    let mut pending = futures_util::stream::iter((0..count).map(|index| {
        let tenant = tenant.clone();
        async move { tenant.connect(door, index).await }
    }))
    .buffer_unordered(64);
    while let Some(socket) = pending.next().await {
        let socket = socket.unwrap_or_else(|| panic!("a {} receiver could not connect", door.name()));
        listeners.push(listen(socket, door, probe.clone(), stop.clone()));
    }
    listeners
}

/// Sends `messages` paced by `pace` into one conversation with `receivers` listening on `door`.
pub async fn run(
    server: &ServerProcess,
    tenant: &Arc<Tenant>,
    door: Door,
    receivers: usize,
    messages: usize,
    pace: Pace,
) -> FanoutResult {
    // Each run tags its messages apart: a repeated local_id would (rightly) not be stored again.
    let prefix = match pace {
        Pace::Rate(rate) => format!("bench-{}-{receivers}x{rate}x{messages}-", door.name()),
        Pace::Saturate(senders) => format!("bench-{}-{receivers}x{senders}sx{messages}-", door.name()),
    };
    let probe = Arc::new(Probe::new(&prefix, messages));
    let (stop, stopped) = watch::channel(false);
    let listeners = connect(tenant, door, receivers, Some(probe.clone()), &stopped).await;
    let conversation = tenant.conversations[0];
    let started = Instant::now();
    let cpu_before = server.cpu_seconds();
    let mut posts = Vec::with_capacity(messages);
    let senders = match pace {
        Pace::Rate(rate) => {
            let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
            for i in 0..messages {
                ticker.tick().await;
                let posted = Instant::now();
                let _ = probe.sent_at[i].set(posted);
                assert!(
                    tenant
                        .post_until_accepted(conversation, &format!("fanout {i}"), format!("{prefix}{i}"))
                        .await,
                    "a message was refused ten times"
                );
                posts.push(posted.elapsed().as_micros() as u64);
            }
            1
        }
        Pace::Saturate(senders) => {
            let next = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..senders)
                .map(|_| {
                    let (tenant, probe, next, prefix) =
                        (tenant.clone(), probe.clone(), next.clone(), prefix.clone());
                    tokio::spawn(async move {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= messages {
                                break;
                            }
                            let _ = probe.sent_at[i].set(Instant::now());
                            let body = format!("saturation {i}");
                            assert!(
                                tenant.post_until_accepted(conversation, &body, format!("{prefix}{i}")).await,
                                "a message was refused ten times"
                            );
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("sender");
            }
            senders
        }
    };
    let accepted_per_second = messages as f64 / started.elapsed().as_secs_f64();
    let watched = probe.clone();
    let deadline = tokio::spawn(async move {
        let give_up = tokio::time::Instant::now() + DRAIN;
        let mut seen = watched.delivered.load(Ordering::Relaxed);
        loop {
            tokio::time::sleep(STALL).await;
            let now = watched.delivered.load(Ordering::Relaxed);
            if now == seen || tokio::time::Instant::now() >= give_up {
                break;
            }
            seen = now;
        }
        let _ = stop.send(true);
    });
    let mut all = Vec::new();
    for listener in listeners {
        all.extend(listener.await.expect("receiver"));
    }
    deadline.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(server.cpu_seconds()).map(|(before, after)| after - before);
    FanoutResult {
        door,
        receivers,
        messages,
        rate_per_second: match pace {
            Pace::Rate(rate) => Some(rate),
            Pace::Saturate(_) => None,
        },
        senders,
        accepted_per_second,
        expected: (receivers * messages) as u64,
        delivered: all.len() as u64,
        deliveries_per_second: all.len() as f64 / elapsed,
        server_cpu_us_per_delivery: cpu
            .filter(|_| !all.is_empty())
            .map(|seconds| seconds * 1e6 / all.len() as f64),
        latency: Latency::of(all),
        post_latency: Latency::of(posts),
    }
}

/// The index a benchmark message carries at the end of its `local_id` (after `tag`), in a frame
/// that starts with `prefix` (the door's new-message frame), found without parsing the whole frame:
/// thousands of receivers share two cores with the server.
fn bench_index(text: &str, prefix: &str, tag: &str) -> Option<usize> {
    if !text.starts_with(prefix) {
        return None;
    }
    let at = text.find(tag)? + tag.len();
    text[at..].split('"').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::bench_index;
    use crate::client::Door;

    #[test]
    fn the_index_is_read_from_message_frames_only() {
        let tag = r#""local_id":"bench-7-"#;
        let native = Door::Native.message_prefix();
        assert_eq!(
            bench_index(r#"{"type":"message.new","message":{"local_id":"bench-7-42","x":1}}"#, native, tag),
            Some(42)
        );
        assert_eq!(
            bench_index(r#"{"type":"message.new","message":{"local_id":"bench-8-42"}}"#, native, tag),
            None
        );
        assert_eq!(bench_index(r#"{"type":"message.status","local_id":"bench-7-42"}"#, native, tag), None);
        assert_eq!(bench_index(r#"{"type":"message.new","message":{"local_id":null}}"#, native, tag), None);
    }

    #[test]
    fn socket_io_events_are_read_on_the_admin_namespace() {
        let tag = r#""local_id":"bench-7-"#;
        let sio = Door::SocketIo.message_prefix();
        let event = r#"42/admin,["message:new",{"conversation_id":"c","message":{"local_id":"bench-7-9"}}]"#;
        assert_eq!(bench_index(event, sio, tag), Some(9));
        assert_eq!(bench_index(r#"42/admin,["message:status",{"local_id":"bench-7-9"}]"#, sio, tag), None);
        assert_eq!(
            bench_index(r#"{"type":"message.new","message":{"local_id":"bench-7-9"}}"#, sio, tag),
            None
        );
        assert_eq!(Door::SocketIo.pong_for("2"), Some("3"));
        assert_eq!(Door::Native.pong_for("2"), None);
    }
}
