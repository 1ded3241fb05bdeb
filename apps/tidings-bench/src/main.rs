//! Tidings benchmark: ingest, fan-out and saturation (through the native and the Socket.IO door),
//! memory and resume against a real server on SQLite and PostgreSQL, reported as markdown and JSON.
//!
//! `cargo run --release -p tidings-bench -- [--quick] [--backend sqlite|postgres|both] [--json PATH]
//! [--pin SERVER_CPU,LOADGEN_CPU] [--server-bin PATH] [--hold N] [--fanout RECEIVERS,MESSAGES,RATE]`
//! `--fanout` runs that one fan-out scenario on both doors and nothing else: for profiles and A/Bs.
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

use client::Door;
use fanout::Pace;
use tidings_store::Backend;
use tidings_store::test_db::TestDb;

/// A WebSocket client connection.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// How much to measure.
pub struct Plan {
    /// `quick` or `full`.
    pub name: &'static str,
    ingest_seconds: f64,
    concurrency: Vec<usize>,
    spreads: Vec<usize>,
    fanout: Vec<(usize, usize, u32)>,
    /// Receivers, messages and concurrent senders of the saturation scenario.
    saturation: (usize, usize, usize),
    idle_connections: usize,
    resume_backlog: i64,
    /// Only the fan-out scenarios run (`--fanout`).
    fanout_only: bool,
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
            saturation: (100, 500, 16),
            idle_connections: 1000,
            resume_backlog: 2000,
            fanout_only: false,
        }
    }

    fn full() -> Plan {
        Plan {
            name: "full",
            ingest_seconds: 5.0,
            concurrency: vec![1, 8, 64],
            spreads: vec![1, 100],
            fanout: vec![(100, 1000, 200), (100, 500, 100), (1000, 500, 100), (10_000, 50, 10)],
            saturation: (1000, 500, 16),
            idle_connections: 10_000,
            resume_backlog: 10_000,
            fanout_only: false,
        }
    }
}

/// What the command line asked for besides the plan.
struct Options {
    backends: Vec<Backend>,
    json_path: std::path::PathBuf,
    server: server::ServerOptions,
    /// The load generator's CPU, when pinned.
    loadgen_cpu: Option<usize>,
    /// An extra count of idle connections to hold in the memory scenario.
    hold: Option<usize>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return server::serve();
    }
    let mut plan = Plan::full();
    let mut options = Options {
        backends: vec![Backend::Sqlite, Backend::Postgres],
        json_path: "target/bench/latest.json".into(),
        server: server::ServerOptions::default(),
        loadgen_cpu: None,
        hold: None,
    };
    let mut fanout_only = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => plan = Plan::quick(),
            "--backend" => {
                options.backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Backend::Sqlite],
                    Some("postgres") => vec![Backend::Postgres],
                    Some("both") => vec![Backend::Sqlite, Backend::Postgres],
                    _ => return usage(),
                }
            }
            "--json" => match it.next() {
                Some(path) => options.json_path = path.into(),
                None => return usage(),
            },
            "--pin" => {
                let cpus = it.next().and_then(|v| v.split_once(',')).and_then(|(server, loadgen)| {
                    Some((server.trim().parse::<usize>().ok()?, loadgen.trim().parse::<usize>().ok()?))
                });
                let Some((server_cpu, loadgen_cpu)) = cpus else { return usage() };
                options.server.cpu = Some(server_cpu);
                options.loadgen_cpu = Some(loadgen_cpu);
            }
            "--server-bin" => match it.next() {
                Some(path) => options.server.bin = Some(path.into()),
                None => return usage(),
            },
            "--fanout" => {
                let scenario = it.next().map(|v| v.split(',').map(str::trim).collect::<Vec<_>>());
                let parsed = scenario.as_deref().and_then(|parts| match parts {
                    [receivers, messages, rate] => {
                        Some((receivers.parse().ok()?, messages.parse().ok()?, rate.parse().ok()?))
                    }
                    _ => None,
                });
                match parsed {
                    Some(scenario) => fanout_only = Some(scenario),
                    None => return usage(),
                }
            }
            "--hold" => match it.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => options.hold = Some(n),
                _ => return usage(),
            },
            _ => return usage(),
        }
    }
    if let Some(scenario) = fanout_only {
        plan.fanout = vec![scenario];
        plan.fanout_only = true;
    }
    if let Some(bin) = &options.server.bin
        && !bin.is_file()
    {
        eprintln!("--server-bin {}: no such executable", bin.display());
        return ExitCode::from(2);
    }
    if std::env::var("TIDINGS_TEST_DATABASE_URL").is_err()
        && let Ok(url) = std::env::var("TIDINGS_BENCH_DATABASE_URL")
    {
        // SAFETY: set before any other thread exists.
        unsafe { std::env::set_var("TIDINGS_TEST_DATABASE_URL", url) };
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Each held connection is a descriptor in the server and one in the load generator, which
    // both get this limit; the rest of the run needs a few thousand more at most.
    let most_held = options.hold.unwrap_or(0).max(plan.idle_connections).max(plan.fanout_receivers());
    let fd_limit = server::raise_fd_limit(most_held as u64 + 4096);
    if let Some(hold) = options.hold
        && hold as u64 + 1024 > fd_limit
    {
        eprintln!(
            "--hold {hold}: needs an open-file limit of at least {}, and this process can raise it only \
             to {fd_limit} (raise the hard limit: ulimit -Hn, or LimitNOFILE for a service)",
            hold + 1024
        );
        return ExitCode::from(2);
    }
    // Pinned before the runtime exists, so that every worker thread inherits it.
    if let Some(cpu) = options.loadgen_cpu
        && let Err(e) = server::pin_to(cpu)
    {
        eprintln!("--pin: cannot pin the load generator to CPU {cpu}: {e}");
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let results = runtime.block_on(async {
        let mut results = Vec::new();
        for &backend in &options.backends {
            match TestDb::new(backend).await {
                Some(db) => results.push(run_backend(&plan, &options, backend, &db).await),
                None => eprintln!("skipping PostgreSQL: set TIDINGS_BENCH_DATABASE_URL"),
            }
        }
        results
    });
    let pinning = options
        .server
        .cpu
        .zip(options.loadgen_cpu)
        .map(|(server_cpu, load_generator_cpu)| report::Pinning { server_cpu, load_generator_cpu });
    let server_bin = options.server.bin.as_ref().map(|b| b.display().to_string());
    let report = report::Report::new(plan.name, cores, fd_limit, server_bin, pinning, results);
    println!("{}", report.markdown());
    if let Some(dir) = options.json_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&options.json_path, serde_json::to_string_pretty(&report).expect("json"))
        .expect("write the JSON report");
    eprintln!("JSON report: {}", options.json_path.display());
    let lost = report.lost_deliveries();
    if lost > 0 {
        eprintln!("FAILED: {lost} deliveries were lost");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: tidings-bench [--quick] [--backend sqlite|postgres|both] [--json PATH] \
         [--pin SERVER_CPU,LOADGEN_CPU] [--server-bin PATH] [--hold N] \
         [--fanout RECEIVERS,MESSAGES,RATE]"
    );
    ExitCode::from(2)
}

impl Plan {
    /// The most receivers any fan-out or saturation run connects.
    fn fanout_receivers(&self) -> usize {
        self.fanout.iter().map(|f| f.0).chain([self.saturation.0]).max().unwrap_or(0)
    }
}

async fn run_backend(plan: &Plan, options: &Options, backend: Backend, db: &TestDb) -> report::BackendResult {
    let dir = std::env::temp_dir().join(format!("tidings-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    if plan.fanout_only {
        return run_fanout_only(plan, options, backend, db, &dir).await;
    }
    let mut memory = Vec::new();
    let mut counts = vec![plan.idle_connections];
    counts.extend(options.hold.filter(|&n| n != plan.idle_connections));
    for &connections in &counts {
        for door in Door::ALL {
            let result = memory::run(&options.server, db.url(), &dir, door, connections).await;
            eprintln!(
                "{backend:?}: memory, {} x {}: {:.1} KiB/connection",
                result.connections,
                door.name(),
                result.kib_per_connection
            );
            memory.push(result);
        }
    }

    let server = server::ServerProcess::start(&options.server, db.url(), &dir, &[]);
    // The store-only path appends from this process: it checkpoints SQLite's log as the server does.
    let (stop_checkpoints, stopping) = tokio::sync::watch::channel(false);
    let checkpointer = tokio::spawn(db.store().clone().run_checkpoints(stopping));
    let tenant = Arc::new(client::Tenant::create(&server.base, 101).await);
    eprintln!("{backend:?}: server at {}", server.base);
    let duration = Duration::from_secs_f64(plan.ingest_seconds);
    let mut ingest = Vec::new();
    for &spread in &plan.spreads {
        for &concurrency in &plan.concurrency {
            ingest.push(ingest::api(&tenant, concurrency, spread, duration).await);
            ingest.push(ingest::store(db.store(), &tenant, concurrency, spread, duration).await);
        }
    }
    eprintln!("{backend:?}: ingest done");
    let fanout = run_fanout(plan, backend, &server, &tenant).await;
    let resume = Some(resume::run(db.store(), &tenant, plan.resume_backlog).await);
    let _ = stop_checkpoints.send(true);
    let _ = checkpointer.await;
    server.stop();

    let (receivers, messages, senders) = plan.saturation;
    // Messages arrive faster than they can be fanned out: the per-connection queue holds the
    // whole burst, so that what is measured is how fast the server drains it, not how soon it cuts
    // a receiver off as a slow consumer.
    let queue = (messages + 64).to_string();
    let saturated =
        server::ServerProcess::start(&options.server, db.url(), &dir, &[("TIDINGS_WS_QUEUE", &queue)]);
    let tenant = Arc::new(client::Tenant::create(&saturated.base, 1).await);
    let mut saturation = Vec::new();
    for door in Door::ALL {
        let result =
            fanout::run(&saturated, &tenant, door, receivers, messages, Pace::Saturate(senders)).await;
        eprintln!(
            "{backend:?}: saturation to {receivers} ({}): {:.0} msg/s accepted, p99 {:.1} ms, lost {}",
            door.name(),
            result.accepted_per_second,
            result.latency.p99_ms,
            result.lost()
        );
        saturation.push(result);
    }
    saturated.stop();
    let _ = std::fs::remove_dir_all(&dir);
    report::BackendResult { backend: format!("{backend:?}"), ingest, fanout, saturation, memory, resume }
}

/// The plan's fan-out scenarios at their fixed rates, on every door.
async fn run_fanout(
    plan: &Plan,
    backend: Backend,
    server: &server::ServerProcess,
    tenant: &Arc<client::Tenant>,
) -> Vec<fanout::FanoutResult> {
    let mut fanout = Vec::new();
    for &(receivers, messages, rate) in &plan.fanout {
        for door in Door::ALL {
            let result = fanout::run(server, tenant, door, receivers, messages, Pace::Rate(rate)).await;
            eprintln!(
                "{backend:?}: fan-out to {receivers} ({}): p99 {:.1} ms, lost {}",
                door.name(),
                result.latency.p99_ms,
                result.lost()
            );
            fanout.push(result);
        }
    }
    fanout
}

/// `--fanout`: only the fan-out scenario, on a server of its own.
async fn run_fanout_only(
    plan: &Plan,
    options: &Options,
    backend: Backend,
    db: &TestDb,
    dir: &std::path::Path,
) -> report::BackendResult {
    let server = server::ServerProcess::start(&options.server, db.url(), dir, &[]);
    let tenant = Arc::new(client::Tenant::create(&server.base, 1).await);
    eprintln!("{backend:?}: server at {} (pid {})", server.base, server.pid());
    let fanout = run_fanout(plan, backend, &server, &tenant).await;
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
    report::BackendResult {
        backend: format!("{backend:?}"),
        ingest: Vec::new(),
        fanout,
        saturation: Vec::new(),
        memory: Vec::new(),
        resume: None,
    }
}
