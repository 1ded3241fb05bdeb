//! Tidings benchmark: ingest, fan-out, memory and resume against a real server on SQLite and
//! PostgreSQL, reported as a markdown table and JSON.
//!
//! `cargo run --release -p tidings-bench -- [--quick] [--backend sqlite|postgres|both] [--json PATH]`
//! PostgreSQL runs when `TIDINGS_BENCH_DATABASE_URL` (or `TIDINGS_TEST_DATABASE_URL`) names a server
//! where a throw-away database may be created. Everything stays on loopback and ends by itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a load generator: failing loudly is its error handling"
)]

mod client;
mod fanout;
mod ingest;
mod memory;
mod report;
mod resume;
mod server;
mod stats;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tidings_store::Backend;
use tidings_store::test_db::TestDb;

/// A WebSocket client connection.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How much to measure.
pub struct Plan {
    /// `quick` or `full`.
    pub name: &'static str,
    ingest_seconds: f64,
    concurrency: Vec<usize>,
    spreads: Vec<usize>,
    fanout: Vec<(usize, usize, u32)>,
    idle_connections: usize,
    resume_backlog: i64,
}

impl Plan {
    fn quick() -> Plan {
        Plan {
            name: "quick",
            ingest_seconds: 1.0,
            concurrency: vec![1, 8, 64],
            spreads: vec![1, 100],
            // Light load (100 receivers at 200 messages a second) shows latency without queueing.
            fanout: vec![(100, 1000, 200), (100, 100, 100), (1000, 100, 100)],
            idle_connections: 1000,
            resume_backlog: 2000,
        }
    }

    fn full() -> Plan {
        Plan {
            name: "full",
            ingest_seconds: 5.0,
            concurrency: vec![1, 8, 64],
            spreads: vec![1, 100],
            fanout: vec![(100, 1000, 200), (100, 500, 100), (1000, 500, 100), (10_000, 50, 10)],
            idle_connections: 10_000,
            resume_backlog: 10_000,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return server::serve();
    }
    let mut plan = Plan::full();
    let mut backends = vec![Backend::Sqlite, Backend::Postgres];
    let mut json_path = std::path::PathBuf::from("target/bench/latest.json");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => plan = Plan::quick(),
            "--backend" => {
                backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Backend::Sqlite],
                    Some("postgres") => vec![Backend::Postgres],
                    Some("both") => vec![Backend::Sqlite, Backend::Postgres],
                    _ => return usage(),
                }
            }
            "--json" => match it.next() {
                Some(path) => json_path = path.into(),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    if std::env::var("TIDINGS_TEST_DATABASE_URL").is_err()
        && let Ok(url) = std::env::var("TIDINGS_BENCH_DATABASE_URL")
    {
        // SAFETY: set before any other thread exists.
        unsafe { std::env::set_var("TIDINGS_TEST_DATABASE_URL", url) };
    }
    let fd_limit = server::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let results = runtime.block_on(async {
        let mut results = Vec::new();
        for backend in backends {
            match TestDb::new(backend).await {
                Some(db) => results.push(run_backend(&plan, backend, &db).await),
                None => eprintln!("skipping PostgreSQL: set TIDINGS_BENCH_DATABASE_URL"),
            }
        }
        results
    });
    let report = report::Report::new(plan.name, fd_limit, results);
    println!("{}", report.markdown());
    if let Some(dir) = json_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&report).expect("json"))
        .expect("write the JSON report");
    eprintln!("JSON report: {}", json_path.display());
    let lost = report.lost_deliveries();
    if lost > 0 {
        eprintln!("FAILED: {lost} deliveries were lost");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: tidings-bench [--quick] [--backend sqlite|postgres|both] [--json PATH]");
    ExitCode::from(2)
}

async fn run_backend(plan: &Plan, backend: Backend, db: &TestDb) -> report::BackendResult {
    let dir = std::env::temp_dir().join(format!("tidings-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let server = server::ServerProcess::start(db.url(), &dir, &[]);
    let tenant = Arc::new(client::Tenant::create(&server.base, 101).await);
    eprintln!("{backend:?}: server at {}", server.base);

    let memory = memory::run(&server, &tenant, plan.idle_connections).await;
    eprintln!("{backend:?}: memory {:.1} KiB/connection", memory.kib_per_connection);
    let duration = Duration::from_secs_f64(plan.ingest_seconds);
    let mut ingest = Vec::new();
    for &spread in &plan.spreads {
        for &concurrency in &plan.concurrency {
            ingest.push(ingest::api(&tenant, concurrency, spread, duration).await);
            ingest.push(ingest::store(db.store(), &tenant, concurrency, spread, duration).await);
        }
    }
    eprintln!("{backend:?}: ingest done");
    let mut fanout = Vec::new();
    for &(receivers, messages, rate) in &plan.fanout {
        let result = fanout::run(&server, &tenant, receivers, messages, rate).await;
        eprintln!(
            "{backend:?}: fan-out to {receivers}: p99 {:.1} ms, lost {}",
            result.latency.p99_ms,
            result.lost()
        );
        fanout.push(result);
    }
    let resume = resume::run(db.store(), &tenant, plan.resume_backlog).await;
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    report::BackendResult { backend: format!("{backend:?}"), ingest, fanout, memory, resume }
}
