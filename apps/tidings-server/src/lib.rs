//! The Tidings server as a library: configuration, telemetry and [`serve`], which opens and migrates
//! the store and serves HTTP until SIGINT or SIGTERM. The `tidings-server` binary and the benchmark
//! both run it.

pub mod config;
mod forwarding;
mod secrets;
pub mod telemetry;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use tidings_api::{AppState, RealtimeSettings};
use tidings_auth::{AuthSettings, LockoutPolicy};
use tidings_domain::Revocations;
use tidings_messaging::realtime::bus::LOCAL_QUEUE;
use tidings_messaging::realtime::{Bus, Hub, LocalBus, LocalPresence, NodeId, Presence};
use tidings_messaging::{PublishLimits, UploadSettings};
use tidings_store::{PoolOptions, Store};
use tidings_websocket::server::{self, Bound, ServerSettings};

use crate::workers::Workers;

pub use crate::config::Config;

/// Connections for background work besides one per outbox worker: the job runner's, the
/// channels' own look-ups and SQLite's checkpoints.
const BACKGROUND_CONNECTIONS: usize = 3;

/// How long background workers get to finish after the HTTP server stopped.
const WORKER_GRACE: Duration = Duration::from_secs(5);

/// Opens and migrates the store, wires the application and its background workers, then serves
/// until SIGINT or SIGTERM. Shutdown goes in order: stop accepting and tell live sockets, finish
/// in-flight requests, drain the workers, close the store.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let options = PoolOptions { max_size: config.database_pool_size, ..PoolOptions::default() };
    let url = config.database_url.expose();
    // A database connection is driven by the runtime of the thread that opened it, and requests
    // run on the HTTP workers' threads, background work on the main runtime's: each opens its own,
    // from pools of their own, so that a request's queries never wait on another thread (two task
    // switches each, on a loaded CPU) and background work never takes the connections requests
    // wait for. The connection that checks the database and migrates it is closed after.
    let startup = Store::connect(url, &options).await?;
    startup.migrate().await?;
    startup.close();
    let store = Store::open(url, &options)?;
    let background_size = config.outbox_workers + BACKGROUND_CONNECTIONS;
    let background = Store::open(url, &PoolOptions { max_size: background_size, ..options })?;
    tracing::info!(backend = ?store.backend(), "store ready");
    let mut workers = Workers::new();
    // SQLite's log is copied into the database file here, not by the request whose commit
    // crosses a threshold (a PostgreSQL store has nothing to do and the task ends at once).
    workers.spawn("store checkpointer", {
        let background = background.clone();
        |stop| background.run_checkpoints(stop)
    });

    let realtime = RealtimeSettings {
        ping_interval: config.ws_ping,
        client_timeout: config.ws_timeout,
        queue_capacity: config.ws_queue,
        client_frames_per_second: config.ws_frames_per_second,
        recheck_interval: config.ws_recheck,
        max_connections: config.ws_max_connections,
        publish: PublishLimits::per_second(config.publish_per_second),
        ..RealtimeSettings::default()
    };
    let node = NodeId::new();
    let presence: Arc<dyn Presence> = match &config.redis_url {
        None => Arc::new(LocalPresence::default()),
        Some(url) => {
            let (presence, keeper) =
                tidings_redis::cluster_presence(url.expose(), node, config.presence_lease)
                    .map_err(|e| format!("TIDINGS_REDIS_URL: {e}"))?;
            workers.spawn("presence keeper", |stop| keeper.run(stop));
            presence
        }
    };
    let hub = Hub::with_presence(realtime.hub_settings(), node, presence);
    let (local, dispatcher) = LocalBus::new(hub.clone(), LOCAL_QUEUE);
    workers.spawn("event dispatcher", |stop| dispatcher.run(stop));
    workers.spawn("hub timers", {
        let hub = hub.clone();
        |stop| Hub::run_timers(hub, stop)
    });
    let (bus, revocations): (Arc<dyn Bus>, Arc<dyn Revocations>) = match &config.redis_url {
        None => (local.clone(), local),
        Some(url) => {
            let (bus, publisher, subscriber) = tidings_redis::connect(url.expose(), node, hub.clone(), local)
                .map_err(|e| format!("TIDINGS_REDIS_URL: {e}"))?;
            workers.spawn("redis publisher", |stop| publisher.run(stop));
            workers.spawn("redis subscriber", |stop| subscriber.run(stop));
            tracing::info!("live events cross nodes through Redis");
            (bus.clone(), bus)
        }
    };
    // With Redis, rate limits are the cluster's: N nodes do not grant N times a limit.
    let shared_limiter: Option<Arc<dyn tidings_domain::SharedLimiter>> = match &config.redis_url {
        None => None,
        Some(url) => Some(Arc::new(
            tidings_redis::RedisLimiter::new(url.expose()).map_err(|e| format!("TIDINGS_REDIS_URL: {e}"))?,
        )),
    };
    let auth = auth_settings(&config)?;
    // The e-mail channel opens what the services sealed, with the same keys.
    let cipher = auth.cipher();
    let blobs = blobs(&config)?;
    let uploads = UploadSettings {
        max_bytes: config.upload_max_bytes,
        link_lifetime: chrono::Duration::from_std(config.upload_link).unwrap_or(chrono::Duration::hours(1)),
        public_url: config.public_url.clone(),
    };
    let state = AppState::build(Arc::new(store.clone()), auth, realtime, hub.clone(), bus, revocations)
        .allow_loopback_webhooks(config.webhook_allow_loopback)
        .with_effects(forwarding::effects(&config))
        .with_uploads(blobs, uploads, Arc::new(cipher.clone()))
        .with_http(tidings_api::HttpSettings {
            cors_origins: config.cors_origins.clone(),
            hsts: config.public_url.starts_with("https://"),
            request_timeout: config.request_timeout,
            metrics_with_api: config.metrics_bind.is_none(),
        })
        .with_rate_limits(&config.rate_limits, shared_limiter);
    forwarding::start(&mut workers, &config, &background, &state, node, cipher)?;
    tracing::info!(node = %node.0, "application wired");
    let metrics = match config.metrics_bind {
        Some(bind) => {
            let state = state.clone();
            let server = HttpServer::new(move || tidings_api::metrics_app(state.clone()))
                .workers(1)
                .disable_signals()
                .bind(bind)?;
            for addr in server.addrs() {
                tracing::info!(%addr, "metrics on http://{addr}/metrics");
            }
            let server = server.run();
            let handle = server.handle();
            tokio::spawn(server);
            Some(handle)
        }
        None => None,
    };
    // Not actix-web's HttpServer: this one hands upgraded WebSockets to the live doors.
    let settings = ServerSettings { workers: config.workers, shutdown_timeout: config.shutdown_timeout };
    let Bound { server, addr, sessions } =
        server::bind(move || tidings_api::app(state.clone()), config.bind, &settings)?;
    tracing::info!(%addr, "listening on http://{addr}");
    let handle = server.handle();
    // actix would stop at once on SIGINT; both signals get the same graceful drain here. Live
    // connections are told first (they would otherwise hold the drain until its timeout).
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!(sessions = hub.session_count(), "shutdown requested; closing live connections");
        hub.shutdown(Duration::from_secs(5)).await;
        // Out of the hub, a connection still sends its close frame: stopping the server would
        // drop the sockets of those that have not.
        if !sessions.ended(Duration::from_secs(2)).await {
            tracing::warn!(open = sessions.len(), "live connections dropped without their close frame");
        }
        tracing::info!("finishing in-flight requests");
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        handle.stop(true).await;
    });
    server.await?;
    tracing::info!("draining background workers");
    workers.drain(WORKER_GRACE).await;
    store.close();
    background.close();
    tracing::info!("stopped");
    Ok(())
}

fn auth_settings(config: &Config) -> Result<AuthSettings, Box<dyn std::error::Error>> {
    let secret = secrets::jwt_secret(config).map_err(|e| format!("JWT secret: {e}"))?;
    let encryption_key = secrets::encryption_key(config).map_err(|e| format!("encryption key: {e}"))?;
    Ok(AuthSettings {
        access_ttl: chrono::Duration::from_std(config.access_token_ttl)?,
        refresh_ttl: chrono::Duration::days(config.refresh_token_ttl_days.into()),
        bcrypt_cost: config.bcrypt_cost,
        lockout: LockoutPolicy {
            max_failures: config.login_max_failures,
            lock_for: chrono::Duration::from_std(config.login_lock)?,
        },
        key_rotation_overlap: chrono::Duration::from_std(config.key_rotation_overlap)?,
        encryption_key,
        previous_encryption_keys: config
            .previous_encryption_keys
            .iter()
            .filter_map(|k| secrets::decode_key(k.expose()))
            .collect(),
        public_url: config.public_url.clone(),
        ..AuthSettings::with_secret(secret)
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with SIGINT");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The blob store of uploads: the bucket of `TIDINGS_BLOB_URL`, or `uploads/` under the data dir.
fn blobs(config: &Config) -> Result<Arc<dyn tidings_domain::BlobStore>, Box<dyn std::error::Error>> {
    let blobs = match &config.blob_url {
        Some(url) => tidings_blobs::Blobs::s3(url, &[]).map_err(|e| format!("TIDINGS_BLOB_URL: {e}"))?,
        None => {
            let dir = config.data_dir.join("uploads");
            tidings_blobs::Blobs::local(&dir).map_err(|e| format!("uploads directory: {e}"))?
        }
    };
    tracing::info!(store = %blobs.describe(), "uploads are kept in the blob store");
    Ok(Arc::new(blobs))
}
