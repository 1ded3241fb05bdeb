//! The report: a markdown table for people and JSON for tools.

use std::fmt::Write;

use serde::Serialize;

use crate::fanout::FanoutResult;
use crate::ingest::IngestResult;
use crate::memory::MemoryResult;
use crate::resume::ResumeResult;

/// Everything measured on one backend.
#[derive(Serialize)]
pub struct BackendResult {
    /// `Sqlite` or `Postgres`.
    pub backend: String,
    /// Ingest runs.
    pub ingest: Vec<IngestResult>,
    /// Fan-out runs at a fixed rate.
    pub fanout: Vec<FanoutResult>,
    /// Fan-out runs with the senders as fast as the server accepts.
    pub saturation: Vec<FanoutResult>,
    /// Memory, per door and count of connections.
    pub memory: Vec<MemoryResult>,
    /// Resume, unless only fan-out ran.
    pub resume: Option<ResumeResult>,
}

/// CPU affinity of the run; PostgreSQL is never pinned.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Pinning {
    /// The CPU of the server under test (every thread).
    pub server_cpu: usize,
    /// The CPU of the load generator (every thread).
    pub load_generator_cpu: usize,
}

/// The whole run.
#[derive(Serialize)]
pub struct Report {
    /// `quick` or `full`.
    pub plan: &'static str,
    /// Cores of the machine.
    pub cores: usize,
    /// Open-file limit used.
    pub fd_limit: u64,
    /// The server's executable when it was not the load generator's own.
    pub server_bin: Option<String>,
    /// CPU affinity, when pinned.
    pub pinning: Option<Pinning>,
    /// Per backend.
    pub backends: Vec<BackendResult>,
}

impl Report {
    /// Assembles the report.
    pub fn new(
        plan: &'static str,
        cores: usize,
        fd_limit: u64,
        server_bin: Option<String>,
        pinning: Option<Pinning>,
        backends: Vec<BackendResult>,
    ) -> Report {
        Report { plan, cores, fd_limit, server_bin, pinning, backends }
    }

    /// Deliveries lost over every fan-out and saturation run.
    pub fn lost_deliveries(&self) -> u64 {
        self.backends.iter().flat_map(|b| b.fanout.iter().chain(&b.saturation)).map(FanoutResult::lost).sum()
    }

    /// The markdown tables.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let server =
            self.server_bin.as_deref().map_or_else(|| "this executable".to_owned(), |b| format!("`{b}`"));
        let pinning = match self.pinning {
            Some(p) => format!(
                "server pinned to CPU {}, load generator to CPU {} (PostgreSQL not pinned)",
                p.server_cpu, p.load_generator_cpu
            ),
            None => "nothing pinned".to_owned(),
        };
        let _ = writeln!(
            out,
            "Plan `{}`, {} cores, open-file limit {}, server {server}, {pinning}.\n",
            self.plan, self.cores, self.fd_limit
        );
        for b in &self.backends {
            let _ = writeln!(out, "### {}\n", b.backend);
            let _ = writeln!(
                out,
                "| ingest | concurrency | conversations | msg/s | p50 ms | p99 ms | API / store |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
            for r in &b.ingest {
                let ratio = match r.path {
                    "api" => b
                        .ingest
                        .iter()
                        .find(|s| {
                            s.path == "store"
                                && s.concurrency == r.concurrency
                                && s.conversations == r.conversations
                        })
                        .map_or(String::new(), |s| format!("{:.0}%", 100.0 * r.per_second / s.per_second)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
                    r.path,
                    r.concurrency,
                    r.conversations,
                    r.per_second,
                    r.latency.p50_ms,
                    r.latency.p99_ms,
                    ratio
                );
            }
            let _ = writeln!(
                out,
                "\n| fan-out door | receivers | msg/s sent | delivered | deliveries/s | p50 ms | p99 ms | max ms | POST p50 / p99 ms | server CPU µs/delivery |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for f in &b.fanout {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {}/{} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} | {} |",
                    f.door.name(),
                    f.receivers,
                    f.rate_per_second.unwrap_or_default(),
                    f.delivered,
                    f.expected,
                    f.deliveries_per_second,
                    f.latency.p50_ms,
                    f.latency.p99_ms,
                    f.latency.max_ms,
                    f.post_latency.p50_ms,
                    f.post_latency.p99_ms,
                    cpu(f)
                );
            }
            let _ = writeln!(
                out,
                "\n| saturation door | receivers | senders | msg/s accepted | delivered | deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for f in &b.saturation {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {}/{} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
                    f.door.name(),
                    f.receivers,
                    f.senders,
                    f.accepted_per_second,
                    f.delivered,
                    f.expected,
                    f.deliveries_per_second,
                    f.latency.p50_ms,
                    f.latency.p99_ms,
                    f.latency.max_ms,
                    cpu(f)
                );
            }
            let _ = writeln!(
                out,
                "\n| memory door | idle RSS | idle connections held | RSS with them | KiB per connection |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|");
            for m in &b.memory {
                let _ = writeln!(
                    out,
                    "| {} | {:.1} MiB | {} | {:.1} MiB | {:.1} |",
                    m.door.name(),
                    m.idle_rss_kib as f64 / 1024.0,
                    m.connections,
                    m.loaded_rss_kib as f64 / 1024.0,
                    m.kib_per_connection
                );
            }
            if let Some(r) = &b.resume {
                let _ = writeln!(out, "\n| resume: messages replayed | time | msg/s |");
                let _ = writeln!(out, "|---:|---:|---:|");
                let _ = writeln!(out, "| {} | {:.0} ms | {:.0} |\n", r.messages, r.millis, r.per_second);
            }
        }
        out
    }
}

/// The server's CPU µs per delivery, or `n/a` where `/proc` did not tell.
fn cpu(f: &FanoutResult) -> String {
    f.server_cpu_us_per_delivery.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.2}"))
}
