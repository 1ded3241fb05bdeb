//! Server configuration: every `TIDINGS_*` variable, read once at start into one typed struct.
//! A bad value stops the start with a message naming the variable and what it expects.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tidings_forwarding::push::{FCM_BASE_URL, ServiceAccount, ServiceAccountError};

/// Prefix shared by every variable.
const PREFIX: &str = "TIDINGS_";

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the server reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// `TIDINGS_DATABASE_URL`: `sqlite://PATH` (default `sqlite://tidings.db`) or `postgres://…`.
    pub database_url: Secret,
    /// `TIDINGS_DATABASE_POOL_SIZE`: most open database connections (default 16).
    pub database_pool_size: usize,
    /// `TIDINGS_BIND`: listen address (default `127.0.0.1:8080`; port 0 picks a free one).
    pub bind: SocketAddr,
    /// `TIDINGS_LOG`: tracing filter (default `info`).
    pub log: String,
    /// `TIDINGS_LOG_FORMAT`: `pretty` (default) or `json`.
    pub log_format: LogFormat,
    /// `TIDINGS_SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may run after a stop signal (default 30).
    pub shutdown_timeout: Duration,
    /// `TIDINGS_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `TIDINGS_DATA_DIR`: where the server keeps files it generates, such as the JWT secret (default `.`).
    pub data_dir: PathBuf,
    /// `TIDINGS_JWT_SECRET`: signs access tokens, at least 32 characters; generated into the data
    /// directory when unset (fine for one node, not for several).
    pub jwt_secret: Option<Secret>,
    /// `TIDINGS_ENCRYPTION_KEY`: 64 hex digits (32 bytes) that encrypt stored secrets; generated into
    /// the data directory when unset (set the same value on every node).
    pub encryption_key: Option<Secret>,
    /// `TIDINGS_BCRYPT_COST`: bcrypt work factor, 4 to 31 (default 12).
    pub bcrypt_cost: u32,
    /// `TIDINGS_ACCESS_TOKEN_TTL_SECS`: access token lifetime (default 900).
    pub access_token_ttl: Duration,
    /// `TIDINGS_REFRESH_TOKEN_TTL_DAYS`: refresh token lifetime (default 30).
    pub refresh_token_ttl_days: u32,
    /// `TIDINGS_LOGIN_MAX_FAILURES`: failed logins before a lock (default 5).
    pub login_max_failures: u32,
    /// `TIDINGS_LOGIN_LOCK_SECS`: how long a lock lasts (default 900).
    pub login_lock: Duration,
    /// `TIDINGS_API_KEY_ROTATION_OVERLAP_SECS`: how long a rotated key keeps working (default 86400).
    pub key_rotation_overlap: Duration,
    /// `TIDINGS_WS_PING_SECS`: how often live connections are pinged (default 25).
    pub ws_ping: Duration,
    /// `TIDINGS_WS_TIMEOUT_SECS`: silence after which a live connection is closed (default 60).
    pub ws_timeout: Duration,
    /// `TIDINGS_WS_QUEUE`: frames queued per live connection before it counts as slow (default 256).
    pub ws_queue: usize,
    /// `TIDINGS_WS_FRAMES_PER_SECOND`: frames a client may send per second on one live connection,
    /// in bursts of three times as many (default 20; 0: no limit).
    pub ws_frames_per_second: u32,
    /// `TIDINGS_WS_RECHECK_SECS`: how often live connections check that their credentials still
    /// stand (default 60); revocations on this node are applied at once.
    pub ws_recheck: Duration,
    /// `TIDINGS_WS_MAX_CONNECTIONS`: live connections this node holds at most, every door together
    /// (default 50,000); keep it under the process's open-file limit.
    pub ws_max_connections: usize,
    /// `TIDINGS_PUBLISH_PER_SECOND`: custom live events a company's services may publish per second
    /// (default 50, with bursts of twice as many).
    pub publish_per_second: u32,
    /// `TIDINGS_REDIS_URL`: `redis://` or `rediss://` URL of the Redis that nodes share live events
    /// through; unset, the node runs alone with its in-process bus.
    pub redis_url: Option<Secret>,
    /// `TIDINGS_PRESENCE_LEASE_SECS`: with Redis, how long a node's presence outlives it if it dies
    /// without a word (default 30).
    pub presence_lease: Duration,
    /// `TIDINGS_ENCRYPTION_KEYS_PREVIOUS`: earlier encryption keys (64 hex digits each, separated by
    /// commas) whose sealed values still open while they are sealed again under the current key.
    pub previous_encryption_keys: Vec<Secret>,
    /// `TIDINGS_META_BOT_URL`: base URL of the Meta bot service replies are forwarded to (`/facebook`,
    /// `/instagram`); unset, forwards stay queued as dead items until it is set and they are retried.
    pub meta_bot_url: Option<String>,
    /// `TIDINGS_META_GRAPH_URL`: Meta's Graph API, for token refreshes (default
    /// `https://graph.facebook.com/v21.0`).
    pub meta_graph_url: String,
    /// `TIDINGS_META_TOKEN_REFRESH_SECS`: how often page tokens are refreshed, once across the
    /// cluster (default 86400).
    pub meta_token_refresh: Duration,
    /// `TIDINGS_APPOINTMENT_REMINDER_SECS`: how often due appointment reminders are looked for,
    /// once across the cluster (default 60).
    pub appointment_reminders: Duration,
    /// `TIDINGS_OUTBOX_WORKERS`: outbox workers on this node (default 2; 0 delivers nothing here).
    pub outbox_workers: usize,
    /// `TIDINGS_OUTBOX_BASE_DELAY_MS`: the first retry waits up to this long (default 1000).
    pub outbox_base_delay: Duration,
    /// `TIDINGS_OUTBOX_MAX_DELAY_SECS`: no retry waits longer (default 300).
    pub outbox_max_delay: Duration,
    /// `TIDINGS_OUTBOX_MAX_ATTEMPTS`: attempts before an item is dead (default 10).
    pub outbox_max_attempts: u32,
    /// `TIDINGS_OUTBOX_LEASE_SECS`: how long a worker holds an item it claimed (default 60; longer
    /// than a call's 10 s timeout).
    pub outbox_lease: Duration,
    /// `TIDINGS_OUTBOX_POLL_MS`: how often an idle worker looks for due items (default 1000).
    pub outbox_poll: Duration,
    /// `TIDINGS_WEBHOOK_ALLOW_LOOPBACK`: `true` accepts `http://` webhook endpoints on this machine
    /// (development only; default `false`: public `https://` endpoints only).
    pub webhook_allow_loopback: bool,
    /// `TIDINGS_FCM_CREDENTIALS`: path of the Firebase service account JSON file push notifications
    /// are sent with, read and checked at start; unset, no push notification is sent (or queued).
    pub fcm_credentials: Option<ServiceAccount>,
    /// `TIDINGS_FCM_BASE_URL`: FCM's base URL (default `https://fcm.googleapis.com`; a stand-in in tests).
    pub fcm_base_url: String,
    /// `TIDINGS_GOOGLE_CALENDAR_URL`: the Google Calendar API (default
    /// `https://www.googleapis.com/calendar/v3`; tests point it at a stand-in).
    pub google_calendar_url: String,
    /// `TIDINGS_GOOGLE_TOKEN_URL`: Google's OAuth token endpoint (default
    /// `https://oauth2.googleapis.com/token`).
    pub google_token_url: String,
    /// `TIDINGS_PUSH_COLLAPSE_SECS`: a conversation's messages within this window make one push
    /// notification, sent when it ends (default 5).
    pub push_collapse: Duration,
    /// `TIDINGS_SMTP_URL`: the SMTP server e-mail goes through, `smtp://[user:password@]host[:port]`
    /// (STARTTLS required; plain only to a loopback host) or `smtps://…` (TLS); unset, e-mails are
    /// skipped (kept as `skipped` with the reason).
    pub smtp_url: Option<Secret>,
    /// `TIDINGS_SMTP_FROM`: the sender of e-mails (default `Tidings <no-reply@localhost>`).
    pub smtp_from: String,
    /// `TIDINGS_PUBLIC_URL`: where users open the web app; links in e-mails start with it (default
    /// `http://127.0.0.1:8080`).
    pub public_url: String,
    /// `TIDINGS_BLOB_URL`: where uploads are kept: `s3://bucket/prefix` (with the usual `AWS_*`
    /// variables), or unset for the `uploads` directory under the data dir.
    pub blob_url: Option<String>,
    /// `TIDINGS_UPLOAD_MAX_BYTES`: the largest file accepted (default 26214400, 25 MiB).
    pub upload_max_bytes: u64,
    /// `TIDINGS_UPLOAD_LINK_SECS`: how long a download link works (default 3600).
    pub upload_link: Duration,
    /// `TIDINGS_CORS_ORIGINS`: origins whose browser pages may call the API, separated by commas
    /// (`https://app.example.com`); none by default.
    pub cors_origins: Vec<String>,
    /// `TIDINGS_REQUEST_TIMEOUT_SECS`: longest a request may take until its answer starts (default
    /// 30; uploads and live connections have none).
    pub request_timeout: Duration,
    /// `TIDINGS_RATE_LIMIT_AUTH_PER_MINUTE`, `TIDINGS_RATE_LIMIT_PER_MINUTE`,
    /// `TIDINGS_RATE_LIMIT_SENDS_PER_15_MIN` (10, 100, 300; 0 lifts one) and
    /// `TIDINGS_TRUSTED_PROXIES` (addresses or networks whose `X-Forwarded-For` is believed).
    pub rate_limits: tidings_api::RateLimitSettings,
    /// `TIDINGS_METRICS_BIND`: an address of its own for `/metrics` (a private one), which the API's
    /// address then no longer serves; unset, `/metrics` is served with the API.
    pub metrics_bind: Option<SocketAddr>,
    /// `TIDINGS_AUDIT_RETENTION_DAYS`: how long audit log entries are kept (default 365).
    pub audit_retention_days: u32,
    /// `TIDINGS_OTLP_ENDPOINT`: an OpenTelemetry collector (`http://host:4318`) that receives the
    /// traces over OTLP/HTTP; unset, none are exported.
    pub otlp_endpoint: Option<String>,
}

/// A configuration value that must not reach logs (it may embed a password).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A variable whose value cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable, e.g. `TIDINGS_BIND`.
    pub var: String,
    /// What it expects, e.g. `an address such as 127.0.0.1:8080`.
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: expected {}", self.var, self.expected)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup: &lookup };
        let database_url = vars.get("DATABASE_URL").unwrap_or_else(|| "sqlite://tidings.db".into());
        let known_scheme =
            ["sqlite:", "postgres://", "postgresql://"].iter().any(|s| database_url.starts_with(s));
        if !known_scheme {
            return Err(
                vars.error("DATABASE_URL", "a URL starting with sqlite://, postgres:// or postgresql://")
            );
        }
        let redis_url = vars.get("REDIS_URL");
        if redis_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("redis://") && !url.starts_with("rediss://"))
        {
            return Err(vars.error("REDIS_URL", "a URL starting with redis:// or rediss://"));
        }
        let smtp_url = vars.get("SMTP_URL");
        if smtp_url.as_deref().is_some_and(|url| tidings_forwarding::SmtpServer::parse(url).is_err()) {
            return Err(vars.error(
                "SMTP_URL",
                "smtp://[user:password@]host[:port] (STARTTLS required; plain SMTP only to 127.0.0.1, \
                 localhost or ::1) or smtps://[user:password@]host[:port] (TLS)",
            ));
        }
        Ok(Config {
            smtp_url: smtp_url.map(Secret),
            smtp_from: match vars.get("SMTP_FROM") {
                None => tidings_forwarding::DEFAULT_FROM.into(),
                Some(from) if from.parse::<tidings_forwarding::Sender>().is_ok() => from.trim().to_owned(),
                Some(_) => {
                    return Err(vars.error(
                        "SMTP_FROM",
                        "an e-mail address with an optional name, such as `Tidings <no-reply@example.com>`",
                    ));
                }
            },
            public_url: http_url(&vars, "PUBLIC_URL")?.unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            blob_url: match vars.get("BLOB_URL") {
                None => None,
                Some(url) if url.starts_with("s3://") && url.len() > "s3://".len() => Some(url),
                Some(_) => return Err(vars.error("BLOB_URL", "an s3://bucket or s3://bucket/prefix URL")),
            },
            upload_max_bytes: vars.parse(
                "UPLOAD_MAX_BYTES",
                25 * 1024 * 1024,
                "a number of bytes from 1024 to 5368709120",
                |n| (1024..=5 * 1024 * 1024 * 1024).contains(n),
            )?,
            upload_link: Duration::from_secs(vars.parse(
                "UPLOAD_LINK_SECS",
                3600,
                "a number of seconds from 60 to 604800",
                |s| (60..=604_800).contains(s),
            )?),
            cors_origins: cors_origins(&vars)?,
            rate_limits: rate_limits(&vars)?,
            metrics_bind: vars.parse_opt("METRICS_BIND", "an address such as 10.0.0.5:9090", |_| true)?,
            audit_retention_days: vars.parse(
                "AUDIT_RETENTION_DAYS",
                365,
                "a number of days from 1 to 3650",
                |d| (1..=3650).contains(d),
            )?,
            otlp_endpoint: match vars.get("OTLP_ENDPOINT") {
                None => None,
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some(url.trim_end_matches('/').to_owned())
                }
                Some(_) => return Err(vars.error("OTLP_ENDPOINT", "an http:// or https:// URL")),
            },
            request_timeout: Duration::from_secs(vars.parse(
                "REQUEST_TIMEOUT_SECS",
                30,
                "a number of seconds from 1 to 600",
                |s| (1..=600).contains(s),
            )?),
            redis_url: redis_url.map(Secret),
            database_url: Secret(database_url),
            database_pool_size: vars.parse(
                "DATABASE_POOL_SIZE",
                16,
                "a number of connections from 1 to 1000",
                |n| (1..=1000).contains(n),
            )?,
            bind: vars.parse(
                "BIND",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
                "an address such as 127.0.0.1:8080",
                |_| true,
            )?,
            log: match vars.get("LOG") {
                None => "info".into(),
                Some(f) if tracing_subscriber::EnvFilter::try_new(&f).is_ok() => f,
                Some(_) => {
                    return Err(
                        vars.error("LOG", "a tracing filter such as `info` or `info,tidings_api=debug`")
                    );
                }
            },
            log_format: match vars.get("LOG_FORMAT").as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(_) => return Err(vars.error("LOG_FORMAT", "`pretty` or `json`")),
            },
            shutdown_timeout: Duration::from_secs(vars.parse(
                "SHUTDOWN_TIMEOUT_SECS",
                30,
                "a number of seconds from 0 to 3600",
                |s| *s <= 3600,
            )?),
            workers: vars.parse_opt("WORKERS", "a number of threads from 1 to 256", |n: &usize| {
                (1..=256).contains(n)
            })?,
            data_dir: PathBuf::from(vars.get("DATA_DIR").unwrap_or_else(|| ".".into())),
            jwt_secret: match vars.get("JWT_SECRET") {
                None => None,
                Some(s) if s.len() >= 32 => Some(Secret(s)),
                Some(_) => return Err(vars.error("JWT_SECRET", "a secret of at least 32 characters")),
            },
            encryption_key: match vars.get("ENCRYPTION_KEY") {
                None => None,
                Some(s) if crate::secrets::decode_key(&s).is_some() => Some(Secret(s)),
                Some(_) => return Err(vars.error("ENCRYPTION_KEY", "64 hex digits (a 32-byte key)")),
            },
            bcrypt_cost: vars
                .parse("BCRYPT_COST", 12, "a bcrypt cost from 4 to 31", |c| (4..=31).contains(c))?,
            access_token_ttl: Duration::from_secs(vars.parse(
                "ACCESS_TOKEN_TTL_SECS",
                900,
                "a number of seconds from 30 to 86400",
                |s| (30..=86_400).contains(s),
            )?),
            refresh_token_ttl_days: vars.parse(
                "REFRESH_TOKEN_TTL_DAYS",
                30,
                "a number of days from 1 to 365",
                |d| (1..=365).contains(d),
            )?,
            login_max_failures: vars.parse(
                "LOGIN_MAX_FAILURES",
                5,
                "a number of attempts from 1 to 100",
                |n| (1..=100).contains(n),
            )?,
            login_lock: Duration::from_secs(vars.parse(
                "LOGIN_LOCK_SECS",
                900,
                "a number of seconds from 1 to 86400",
                |s| (1..=86_400).contains(s),
            )?),
            key_rotation_overlap: Duration::from_secs(vars.parse(
                "API_KEY_ROTATION_OVERLAP_SECS",
                86_400,
                "a number of seconds from 0 to 2592000",
                |s| *s <= 2_592_000,
            )?),
            ws_ping: Duration::from_secs(vars.parse(
                "WS_PING_SECS",
                25,
                "a number of seconds from 1 to 600",
                |s| (1..=600).contains(s),
            )?),
            ws_timeout: Duration::from_secs(vars.parse(
                "WS_TIMEOUT_SECS",
                60,
                "a number of seconds from 2 to 3600",
                |s| (2..=3600).contains(s),
            )?),
            ws_frames_per_second: vars.parse(
                "WS_FRAMES_PER_SECOND",
                20,
                "a number of frames (0 lifts the limit)",
                |_| true,
            )?,
            ws_queue: vars
                .parse("WS_QUEUE", 256, "a number of frames from 8 to 65536", |n| (8..=65_536).contains(n))?,
            ws_recheck: Duration::from_secs(vars.parse(
                "WS_RECHECK_SECS",
                60,
                "a number of seconds from 1 to 3600",
                |s| (1..=3600).contains(s),
            )?),
            ws_max_connections: vars.parse(
                "WS_MAX_CONNECTIONS",
                50_000,
                "a number of connections from 1 to 10000000",
                |n| (1..=10_000_000).contains(n),
            )?,
            presence_lease: Duration::from_secs(vars.parse(
                "PRESENCE_LEASE_SECS",
                30,
                "a number of seconds from 3 to 300",
                |s| (3..=300).contains(s),
            )?),
            publish_per_second: vars.parse(
                "PUBLISH_PER_SECOND",
                50,
                "a number of events from 1 to 10000",
                |n| (1..=10_000).contains(n),
            )?,
            previous_encryption_keys: match vars.get("ENCRYPTION_KEYS_PREVIOUS") {
                None => Vec::new(),
                Some(list) => {
                    let keys: Vec<Secret> = list
                        .split(',')
                        .map(|k| Secret(k.trim().to_owned()))
                        .filter(|k| !k.0.is_empty())
                        .collect();
                    if keys.iter().any(|k| crate::secrets::decode_key(&k.0).is_none()) {
                        return Err(vars.error(
                            "ENCRYPTION_KEYS_PREVIOUS",
                            "64 hex digits per key, separated by commas",
                        ));
                    }
                    keys
                }
            },
            meta_bot_url: http_url(&vars, "META_BOT_URL")?,
            meta_graph_url: http_url(&vars, "META_GRAPH_URL")?
                .unwrap_or_else(|| "https://graph.facebook.com/v21.0".into()),
            meta_token_refresh: Duration::from_secs(vars.parse(
                "META_TOKEN_REFRESH_SECS",
                86_400,
                "a number of seconds from 60 to 2592000",
                |s| (60..=2_592_000).contains(s),
            )?),
            appointment_reminders: Duration::from_secs(vars.parse(
                "APPOINTMENT_REMINDER_SECS",
                60,
                "a number of seconds from 1 to 3600",
                |s| (1..=3_600).contains(s),
            )?),
            outbox_workers: vars
                .parse("OUTBOX_WORKERS", 2, "a number of workers from 0 to 64", |n| *n <= 64)?,
            outbox_base_delay: Duration::from_millis(vars.parse(
                "OUTBOX_BASE_DELAY_MS",
                1000,
                "a number of milliseconds from 10 to 600000",
                |n| (10..=600_000).contains(n),
            )?),
            outbox_max_delay: Duration::from_secs(vars.parse(
                "OUTBOX_MAX_DELAY_SECS",
                300,
                "a number of seconds from 1 to 86400",
                |n| (1..=86_400).contains(n),
            )?),
            outbox_max_attempts: vars.parse(
                "OUTBOX_MAX_ATTEMPTS",
                10,
                "a number of attempts from 1 to 100",
                |n| (1..=100).contains(n),
            )?,
            outbox_lease: Duration::from_secs(vars.parse(
                "OUTBOX_LEASE_SECS",
                60,
                "a number of seconds from 15 to 3600",
                |n| (15..=3600).contains(n),
            )?),
            webhook_allow_loopback: vars.parse(
                "WEBHOOK_ALLOW_LOOPBACK",
                false,
                "`true` or `false`",
                |_| true,
            )?,
            outbox_poll: Duration::from_millis(vars.parse(
                "OUTBOX_POLL_MS",
                1000,
                "a number of milliseconds from 10 to 60000",
                |n| (10..=60_000).contains(n),
            )?),
            fcm_credentials: service_account(&vars)?,
            fcm_base_url: http_url(&vars, "FCM_BASE_URL")?.unwrap_or_else(|| FCM_BASE_URL.into()),
            google_calendar_url: http_url(&vars, "GOOGLE_CALENDAR_URL")?
                .unwrap_or_else(|| tidings_forwarding::GoogleEndpoints::default().calendar),
            google_token_url: http_url(&vars, "GOOGLE_TOKEN_URL")?
                .unwrap_or_else(|| tidings_forwarding::GoogleEndpoints::default().token),
            push_collapse: Duration::from_secs(vars.parse(
                "PUSH_COLLAPSE_SECS",
                5,
                "a number of seconds from 1 to 3600",
                |n| (1..=3600).contains(n),
            )?),
        })
    }
}

/// The service account named by `TIDINGS_FCM_CREDENTIALS`, read and checked now so that a bad file
/// stops the start rather than every push later.
fn service_account(vars: &Vars<'_>) -> Result<Option<ServiceAccount>, ConfigError> {
    const NAME: &str = "FCM_CREDENTIALS";
    let Some(path) = vars.get(NAME) else { return Ok(None) };
    ServiceAccount::from_file(Path::new(path.trim())).map(Some).map_err(|e| {
        vars.error(
            NAME,
            match e {
                ServiceAccountError::Read { .. } => {
                    "the path of a readable Firebase service account JSON file"
                }
                ServiceAccountError::Json(_) | ServiceAccountError::Empty(_) => {
                    "a service account JSON file with project_id, client_email, private_key and token_uri"
                }
                ServiceAccountError::Key => {
                    "a service account whose private_key is an RSA private key in PEM"
                }
                ServiceAccountError::TokenUri => {
                    "a service account whose token_uri is an http:// or https:// URL"
                }
            },
        )
    })
}

/// An optional `http://` or `https://` URL variable, without its trailing slash.
/// The limits, and the proxies trusted to name the client.
fn rate_limits(vars: &Vars<'_>) -> Result<tidings_api::RateLimitSettings, ConfigError> {
    let standard = tidings_api::RateLimitSettings::standard();
    let count = "a number of requests (0 lifts the limit)";
    let trusted_proxies = match vars.get("TRUSTED_PROXIES") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .map(|hop| {
                hop.parse::<ipnet::IpNet>()
                    .or_else(|_| hop.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        vars.error(
                            "TRUSTED_PROXIES",
                            "IP addresses or networks (10.0.0.0/8), separated by commas",
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(tidings_api::RateLimitSettings {
        auth_per_minute: vars
            .parse("RATE_LIMIT_AUTH_PER_MINUTE", standard.auth_per_minute, count, |_| true)?,
        per_minute: vars.parse("RATE_LIMIT_PER_MINUTE", standard.per_minute, count, |_| true)?,
        sends_per_15_minutes: vars.parse(
            "RATE_LIMIT_SENDS_PER_15_MIN",
            standard.sends_per_15_minutes,
            count,
            |_| true,
        )?,
        trusted_proxies,
    })
}

/// `TIDINGS_CORS_ORIGINS`: origins as browsers send them, `scheme://host[:port]` and nothing more.
fn cors_origins(vars: &Vars<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(list) = vars.get("CORS_ORIGINS") else { return Ok(Vec::new()) };
    let expected = "origins such as https://app.example.com, separated by commas (no path, no *)";
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(['/', '*', '?', '#', '@', ' ']) => {
                    Ok(origin.to_owned())
                }
                _ => Err(vars.error("CORS_ORIGINS", expected)),
            }
        })
        .collect()
}

fn http_url(vars: &Vars<'_>, name: &str) -> Result<Option<String>, ConfigError> {
    match vars.get(name) {
        None => Ok(None),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.trim().trim_end_matches('/').to_owned()))
        }
        Some(_) => Err(vars.error(name, "a URL starting with http:// or https://")),
    }
}

struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(&format!("{PREFIX}{name}")).filter(|v| !v.trim().is_empty())
    }

    fn error(&self, name: &str, expected: &'static str) -> ConfigError {
        ConfigError { var: format!("{PREFIX}{name}"), expected }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
        expected: &'static str,
        valid: impl Fn(&T) -> bool,
    ) -> Result<T, ConfigError> {
        Ok(self.parse_opt(name, expected, valid)?.unwrap_or(default))
    }

    fn parse_opt<T: std::str::FromStr>(
        &self,
        name: &str,
        expected: &'static str,
        valid: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => match raw.trim().parse::<T>() {
                Ok(value) if valid(&value) => Ok(Some(value)),
                _ => Err(self.error(name, expected)),
            },
        }
    }
}

/// The variables a setting reads, without the `TIDINGS_` prefix.
const KNOWN: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "BIND",
    "LOG",
    "LOG_FORMAT",
    "SHUTDOWN_TIMEOUT_SECS",
    "WORKERS",
    "DATA_DIR",
    "JWT_SECRET",
    "ENCRYPTION_KEY",
    "BCRYPT_COST",
    "ACCESS_TOKEN_TTL_SECS",
    "REFRESH_TOKEN_TTL_DAYS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCK_SECS",
    "API_KEY_ROTATION_OVERLAP_SECS",
    "WS_PING_SECS",
    "WS_TIMEOUT_SECS",
    "WS_QUEUE",
    "WS_FRAMES_PER_SECOND",
    "WS_RECHECK_SECS",
    "WS_MAX_CONNECTIONS",
    "PUBLISH_PER_SECOND",
    "REDIS_URL",
    "PRESENCE_LEASE_SECS",
    "ENCRYPTION_KEYS_PREVIOUS",
    "META_BOT_URL",
    "META_GRAPH_URL",
    "META_TOKEN_REFRESH_SECS",
    "APPOINTMENT_REMINDER_SECS",
    "OUTBOX_WORKERS",
    "OUTBOX_BASE_DELAY_MS",
    "OUTBOX_MAX_DELAY_SECS",
    "OUTBOX_MAX_ATTEMPTS",
    "OUTBOX_LEASE_SECS",
    "OUTBOX_POLL_MS",
    "WEBHOOK_ALLOW_LOOPBACK",
    "FCM_CREDENTIALS",
    "FCM_BASE_URL",
    "GOOGLE_CALENDAR_URL",
    "GOOGLE_TOKEN_URL",
    "PUSH_COLLAPSE_SECS",
    "SMTP_URL",
    "SMTP_FROM",
    "PUBLIC_URL",
    "BLOB_URL",
    "UPLOAD_MAX_BYTES",
    "UPLOAD_LINK_SECS",
    "CORS_ORIGINS",
    "REQUEST_TIMEOUT_SECS",
    "RATE_LIMIT_AUTH_PER_MINUTE",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_SENDS_PER_15_MIN",
    "TRUSTED_PROXIES",
    "METRICS_BIND",
    "AUDIT_RETENTION_DAYS",
    "OTLP_ENDPOINT",
];

/// Names of `TIDINGS_*` variables in the environment that no setting reads (likely typos).
pub fn unknown_variables() -> Vec<String> {
    std::env::vars()
        .filter_map(|(name, _)| name.strip_prefix(PREFIX).map(str::to_owned))
        .filter(|rest| !KNOWN.contains(&rest.as_str()) && !rest.starts_with("TEST_"))
        .map(|rest| format!("{PREFIX}{rest}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_a_single_node_on_sqlite() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://tidings.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(c.database_pool_size, 16);
        assert_eq!(c.workers, None);
        assert_eq!(c.bcrypt_cost, 12);
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!((c.login_max_failures, c.login_lock), (5, Duration::from_secs(900)));
        assert!(c.redis_url.is_none(), "one node, in-process bus");
        assert_eq!(c.publish_per_second, 50);
        assert_eq!(c.meta_bot_url, None);
        assert_eq!((c.outbox_workers, c.outbox_max_attempts), (2, 10));
        assert_eq!(
            (c.outbox_base_delay, c.outbox_max_delay),
            (Duration::from_secs(1), Duration::from_secs(300))
        );
        assert_eq!(c.outbox_lease, Duration::from_secs(60));
        assert!(c.fcm_credentials.is_none(), "no push without credentials");
        assert_eq!(c.fcm_base_url, "https://fcm.googleapis.com");
        assert_eq!(c.push_collapse, Duration::from_secs(5));
    }

    /// A file in the temporary directory holding `contents`, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(contents: &str) -> TempFile {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("tidings-config-{}-{n}.json", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn the_fcm_service_account_is_read_and_checked_at_start() {
        let account =
            tidings_forwarding::push::test_account::TestAccount::generate("https://oauth2.test/token");
        let file = TempFile::new(&account.json);
        let c = config(&[
            ("TIDINGS_FCM_CREDENTIALS", file.path()),
            ("TIDINGS_FCM_BASE_URL", "http://127.0.0.1:9099/"),
            ("TIDINGS_PUSH_COLLAPSE_SECS", "30"),
        ])
        .unwrap();
        let read = c.fcm_credentials.as_ref().unwrap();
        assert_eq!(
            (read.project_id.as_str(), read.token_uri.as_str()),
            ("tidings-test", "https://oauth2.test/token")
        );
        assert_eq!(c.fcm_base_url, "http://127.0.0.1:9099");
        assert_eq!(c.push_collapse, Duration::from_secs(30));
        let printed = format!("{c:?}");
        assert!(!printed.contains("PRIVATE KEY") && !printed.contains(&account.pem[40..80]), "{printed}");

        let mut broken: serde_json::Value = serde_json::from_str(&account.json).unwrap();
        broken["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
        let bad_key = TempFile::new(&broken.to_string());
        let not_json = TempFile::new("project_id = tidings");
        for (path, why) in [
            ("/nonexistent/service-account.json", "readable"),
            (bad_key.path(), "RSA private key"),
            (not_json.path(), "project_id, client_email"),
        ] {
            let err = config(&[("TIDINGS_FCM_CREDENTIALS", path)]).unwrap_err();
            assert_eq!(err.var, "TIDINGS_FCM_CREDENTIALS");
            assert!(err.to_string().contains(why), "{err}");
        }
        assert!(c.smtp_url.is_none(), "e-mails are skipped");
        assert_eq!(c.smtp_from, "Tidings <no-reply@localhost>");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn values_are_read() {
        let c = config(&[
            ("TIDINGS_DATABASE_URL", "postgres://u:pw@db/tidings"),
            ("TIDINGS_BIND", "0.0.0.0:9000"),
            ("TIDINGS_LOG_FORMAT", "json"),
            ("TIDINGS_SHUTDOWN_TIMEOUT_SECS", "5"),
            ("TIDINGS_WORKERS", "3"),
        ])
        .unwrap();
        assert_eq!(c.database_url.expose(), "postgres://u:pw@db/tidings");
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(c.workers, Some(3));
        assert!(c.cors_origins.is_empty(), "no origin by default");
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        let c = config(&[
            ("TIDINGS_CORS_ORIGINS", "https://app.example.com, http://127.0.0.1:5173"),
            ("TIDINGS_REQUEST_TIMEOUT_SECS", "10"),
        ])
        .unwrap();
        assert_eq!(c.cors_origins, ["https://app.example.com", "http://127.0.0.1:5173"]);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(
            (c.rate_limits.auth_per_minute, c.rate_limits.per_minute, c.rate_limits.sends_per_15_minutes),
            (10, 100, 300),
            "the standard limits"
        );
        let c = config(&[
            ("TIDINGS_RATE_LIMIT_PER_MINUTE", "0"),
            ("TIDINGS_RATE_LIMIT_SENDS_PER_15_MIN", "1000"),
            ("TIDINGS_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
        ])
        .unwrap();
        assert_eq!((c.rate_limits.per_minute, c.rate_limits.sends_per_15_minutes), (0, 1000));
        let proxies: Vec<String> = c.rate_limits.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(proxies, ["10.0.0.0/8", "127.0.0.1/32"]);
        let c = config(&[
            ("TIDINGS_META_BOT_URL", "http://127.0.0.1:4000/"),
            ("TIDINGS_OUTBOX_WORKERS", "0"),
            ("TIDINGS_OUTBOX_MAX_ATTEMPTS", "3"),
            ("TIDINGS_ENCRYPTION_KEYS_PREVIOUS", &format!("{},{}", "5e".repeat(32), "6f".repeat(32))),
        ])
        .unwrap();
        assert_eq!(c.meta_bot_url.as_deref(), Some("http://127.0.0.1:4000"));
        assert_eq!((c.outbox_workers, c.outbox_max_attempts), (0, 3));
        assert_eq!(c.previous_encryption_keys.len(), 2);
        let c = config(&[
            ("TIDINGS_SMTP_URL", "smtp://mailer:secret@smtp.example.com:587"),
            ("TIDINGS_SMTP_FROM", "Acme Support <support@acme.example>"),
            ("TIDINGS_PUBLIC_URL", "https://chat.acme.example/"),
        ])
        .unwrap();
        assert_eq!(c.smtp_url.unwrap().expose(), "smtp://mailer:secret@smtp.example.com:587");
        assert_eq!(c.smtp_from, "Acme Support <support@acme.example>");
        assert_eq!(c.public_url, "https://chat.acme.example");
        for url in
            ["smtps://smtp.example.com", "smtp://127.0.0.1:1025", "smtp://localhost", "smtp://[::1]:25"]
        {
            assert!(config(&[("TIDINGS_SMTP_URL", url)]).is_ok(), "{url}");
        }
    }

    #[test]
    fn every_variable_is_documented_for_operators() {
        // What the configuration asks for when it is read, and what start-up checks against.
        let asked = std::cell::RefCell::new(Vec::new());
        let _ = Config::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        });
        let asked = asked.into_inner();
        assert!(asked.len() > 40, "the lookup was used: {asked:?}");
        let unknown: Vec<&String> =
            asked.iter().filter(|name| !KNOWN.iter().any(|k| format!("{PREFIX}{k}") == **name)).collect();
        assert!(unknown.is_empty(), "read but reported as unknown at start: {unknown:?}");
        let operations = include_str!("../../../docs/operations.md");
        let reference =
            &operations[operations.find("## Configuration reference").expect("the reference section")..];
        let missing: Vec<&str> =
            KNOWN.iter().copied().filter(|name| !reference.contains(&format!("`{PREFIX}{name}`"))).collect();
        assert!(missing.is_empty(), "not in docs/operations.md's configuration reference: {missing:?}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("TIDINGS_BIND", "localhost"),
            ("TIDINGS_LOG_FORMAT", "xml"),
            ("TIDINGS_DATABASE_URL", "mysql://x"),
            ("TIDINGS_DATABASE_POOL_SIZE", "0"),
            ("TIDINGS_SHUTDOWN_TIMEOUT_SECS", "-1"),
            ("TIDINGS_WORKERS", "many"),
            ("TIDINGS_LOG", "info,[[["),
            ("TIDINGS_JWT_SECRET", "short"),
            ("TIDINGS_BCRYPT_COST", "3"),
            ("TIDINGS_LOGIN_MAX_FAILURES", "0"),
            ("TIDINGS_ENCRYPTION_KEY", "not-hex"),
            ("TIDINGS_ENCRYPTION_KEY", "abcd"),
            ("TIDINGS_WS_RECHECK_SECS", "0"),
            ("TIDINGS_WS_MAX_CONNECTIONS", "0"),
            ("TIDINGS_PUBLISH_PER_SECOND", "0"),
            ("TIDINGS_REDIS_URL", "http://cache:6379"),
            ("TIDINGS_PRESENCE_LEASE_SECS", "1"),
            ("TIDINGS_META_BOT_URL", "ftp://bot"),
            ("TIDINGS_OUTBOX_WORKERS", "65"),
            ("TIDINGS_OUTBOX_MAX_ATTEMPTS", "0"),
            ("TIDINGS_OUTBOX_LEASE_SECS", "5"),
            ("TIDINGS_ENCRYPTION_KEYS_PREVIOUS", "abcd"),
            ("TIDINGS_WEBHOOK_ALLOW_LOOPBACK", "yes"),
            ("TIDINGS_FCM_CREDENTIALS", "/nonexistent/service-account.json"),
            ("TIDINGS_FCM_BASE_URL", "fcm.googleapis.com"),
            ("TIDINGS_PUSH_COLLAPSE_SECS", "0"),
            ("TIDINGS_PUSH_COLLAPSE_SECS", "3601"),
            ("TIDINGS_SMTP_URL", "http://smtp.example.com"),
            ("TIDINGS_SMTP_URL", "smtp.example.com:587"),
            ("TIDINGS_SMTP_URL", "smtp://smtp.example.com:587?tls=none"),
            ("TIDINGS_SMTP_URL", "smtp://"),
            ("TIDINGS_SMTP_FROM", "Tidings"),
            ("TIDINGS_SMTP_FROM", "no-reply@"),
            ("TIDINGS_PUBLIC_URL", "chat.acme.example"),
            ("TIDINGS_CORS_ORIGINS", "*"),
            ("TIDINGS_CORS_ORIGINS", "https://app.example.com/inbox"),
            ("TIDINGS_CORS_ORIGINS", "app.example.com"),
            ("TIDINGS_REQUEST_TIMEOUT_SECS", "0"),
            ("TIDINGS_RATE_LIMIT_PER_MINUTE", "-1"),
            ("TIDINGS_RATE_LIMIT_AUTH_PER_MINUTE", "ten"),
            ("TIDINGS_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TIDINGS_TRUSTED_PROXIES", "proxy.internal"),
            ("TIDINGS_METRICS_BIND", "localhost"),
            ("TIDINGS_AUDIT_RETENTION_DAYS", "0"),
            ("TIDINGS_OTLP_ENDPOINT", "collector:4318"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(&format!("invalid {var}: expected ")), "{err}");
        }
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = config(&[
            ("TIDINGS_DATABASE_URL", "postgres://u:hunter2@db/x"),
            ("TIDINGS_JWT_SECRET", "correct-horse-battery-staple-0123456789"),
            ("TIDINGS_ENCRYPTION_KEY", &"5e".repeat(32)),
            ("TIDINGS_REDIS_URL", "redis://:hunter2@cache:6379"),
            ("TIDINGS_SMTP_URL", "smtps://mailer:hunter2@smtp.example.com"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("correct-horse"), "{printed}");
        assert!(!printed.contains("5e5e5e"), "{printed}");
    }
}
