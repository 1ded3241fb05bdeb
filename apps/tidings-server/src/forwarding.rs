//! What leaves the server, wired: the effects changes record, the outbox workers with their
//! channels, and the job runner with the periodic jobs. Workers and runner are owned by
//! [`Workers`], so they stop and drain with the server.

use std::sync::Arc;

use tidings_api::AppState;
use tidings_domain::{EffectList, Effects};
use tidings_forwarding::{
    AppointmentReminders, AppointmentReseal, Channel, EmailChannel, FcmChannel, GoogleCalendar,
    GoogleEndpoints, Job, JobRunner, JobSettings, MetaBot, MetaTokenRefresh, PushNotifications, RetryPolicy,
    Sender, SmtpServer, Worker, WorkerSettings,
};
use tidings_messaging::Attachments;
use tidings_messaging::realtime::NodeId;
use tidings_store::{Backend, Store};

use crate::config::Config;
use crate::workers::Workers;

/// What every change records in its unit of work: push notifications when FCM is configured. Without
/// credentials nothing is queued, since nothing could deliver it (and a message without effects is
/// stored without a unit of work).
pub fn effects(config: &Config) -> EffectList {
    let mut effects: Vec<Arc<dyn Effects>> = Vec::new();
    match &config.fcm_credentials {
        Some(_) => effects.push(Arc::new(PushNotifications::new(config.push_collapse))),
        None => tracing::info!("TIDINGS_FCM_CREDENTIALS is unset: no push notifications"),
    }
    EffectList(effects)
}

/// How often appointments still sealed under a previous encryption key are sealed again (a scan of
/// the appointments table; only a key rotation leaves any).
const RESEAL_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// Starts the outbox workers and the job runner of this node.
pub fn start(
    workers: &mut Workers,
    config: &Config,
    store: &Store,
    state: &AppState,
    node: NodeId,
    cipher: tidings_auth::Cipher,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    match &config.meta_bot_url {
        Some(url) => {
            let bot = MetaBot::new(url, Arc::new(state.integrations.clone()))?
                .with_links(state.uploads.attachments().links());
            channels.push(Arc::new(bot));
        }
        None => tracing::info!("TIDINGS_META_BOT_URL is unset: Meta forwards will not be delivered"),
    }
    channels.push(Arc::new(state.webhook_channel(config.webhook_allow_loopback).map_err(|e| e.to_string())?));
    if let Some(account) = &config.fcm_credentials {
        let fcm = FcmChannel::new(
            account.clone(),
            &config.fcm_base_url,
            Arc::new(store.clone()),
            state.contact_online(),
        )?;
        channels.push(Arc::new(fcm));
        tracing::info!(project = %account.project_id, "push notifications go out through FCM");
    }
    channels.push(Arc::new(email_channel(config, cipher.clone())?));
    let google = GoogleEndpoints {
        calendar: config.google_calendar_url.clone(),
        token: config.google_token_url.clone(),
    };
    channels.push(Arc::new(GoogleCalendar::new(Arc::new(store.clone()), cipher.clone(), google)?));
    let settings = WorkerSettings {
        retry: RetryPolicy {
            base: config.outbox_base_delay,
            cap: config.outbox_max_delay,
            max_attempts: config.outbox_max_attempts,
        },
        lease: config.outbox_lease,
        poll: config.outbox_poll,
        ..WorkerSettings::default()
    };
    // SQLite has one writer: more claimers would only queue behind each other.
    let count = match store.backend() {
        Backend::Sqlite => config.outbox_workers.min(1),
        Backend::Postgres => config.outbox_workers,
    };
    let listener = state.forward_listener();
    for _ in 0..count {
        let worker = Worker::new(Arc::new(store.clone()), channels.clone(), settings)
            .with_listener(listener.clone())
            .with_effects(state.effects());
        workers.spawn("outbox worker", |stop| worker.run(stop));
    }
    tracing::info!(workers = count, "outbox workers started");

    let refresh =
        MetaTokenRefresh::new(state.integrations.clone(), &config.meta_graph_url, config.meta_token_refresh)?;
    let reminders =
        AppointmentReminders::new(Arc::new(store.clone()), cipher.clone(), config.appointment_reminders);
    let runner = JobRunner::new(Arc::new(store.clone()), format!("node-{}", node.0), JobSettings::default())
        .register(Arc::new(refresh))
        .register(Arc::new(reminders))
        .register(Arc::new(AppointmentReseal::new(Arc::new(store.clone()), cipher.clone(), RESEAL_PERIOD)))
        .register(Arc::new(CollectUploads(state.uploads.attachments())))
        .register(Arc::new(Expire {
            retention: state.messaging.retention.clone(),
            audit_log: state.audit_log.clone(),
            audit_days: config.audit_retention_days,
        }));
    workers.spawn("job runner", |stop| runner.run(stop));
    Ok(())
}

/// Removes uploads no message took within a day, hourly, across the cluster.
struct CollectUploads(Attachments);

#[async_trait::async_trait]
impl Job for CollectUploads {
    fn name(&self) -> &'static str {
        "uploads.collect"
    }

    fn period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    async fn run(&self) -> Result<(), String> {
        // Batches until the backlog is gone or a minute has passed (well within the job's lease).
        let started = std::time::Instant::now();
        let mut removed = 0;
        loop {
            let batch = self.0.collect(chrono::Utc::now()).await.map_err(|e| e.to_string())?;
            removed += batch;
            if batch < tidings_messaging::attachments::COLLECT_BATCH || started.elapsed().as_secs() >= 60 {
                break;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "unattached uploads collected");
        }
        Ok(())
    }
}

/// Removes, hourly across the cluster, the messages companies keep no longer and audit entries
/// older than `TIDINGS_AUDIT_RETENTION_DAYS`.
struct Expire {
    retention: tidings_messaging::Retention,
    audit_log: tidings_auth::AuditLog,
    audit_days: u32,
}

#[async_trait::async_trait]
impl Job for Expire {
    fn name(&self) -> &'static str {
        "retention.expire"
    }

    fn period(&self) -> std::time::Duration {
        std::time::Duration::from_secs(3600)
    }

    async fn run(&self) -> Result<(), String> {
        // Within a minute, well inside the job's lease; what is left goes at the next run.
        let budget = std::time::Duration::from_secs(60);
        let now = chrono::Utc::now();
        let messages = self.retention.expire(now, budget).await.map_err(|e| e.to_string())?;
        let before = now - chrono::Duration::days(i64::from(self.audit_days));
        let audit = self.audit_log.expire(before, 5_000).await.map_err(|e| e.to_string())?;
        if messages > 0 || audit > 0 {
            tracing::info!(messages, audit_entries = audit, "expired data removed");
        }
        Ok(())
    }
}

/// The e-mail channel: through `TIDINGS_SMTP_URL` (checked when the configuration was read), or
/// skipping every e-mail when it is unset.
fn email_channel(
    config: &Config,
    cipher: tidings_auth::Cipher,
) -> Result<EmailChannel, Box<dyn std::error::Error>> {
    let server = match &config.smtp_url {
        Some(url) => Some(SmtpServer::parse(url.expose()).map_err(|e| format!("TIDINGS_SMTP_URL: {e}"))?),
        None => {
            tracing::warn!(
                "TIDINGS_SMTP_URL is unset: e-mails (password resets, invitations) will be skipped"
            );
            None
        }
    };
    if let Some(server) = &server {
        tracing::info!(host = %server.host, port = server.port, security = ?server.security, "e-mail goes out through SMTP");
    }
    let from: Sender = config.smtp_from.parse().map_err(|e| format!("TIDINGS_SMTP_FROM: {e}"))?;
    Ok(EmailChannel::new(server.as_ref(), from, cipher)?)
}
