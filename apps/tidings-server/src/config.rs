//! Server configuration: every `TIDINGS_*` variable, read once at start into one typed struct.
//! A bad value stops the start with a message naming the variable and what it expects.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

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
        Ok(Config {
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
        })
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

/// Names of `TIDINGS_*` variables in the environment that no setting reads (likely typos).
pub fn unknown_variables() -> Vec<String> {
    const KNOWN: &[&str] = &[
        "DATABASE_URL",
        "DATABASE_POOL_SIZE",
        "BIND",
        "LOG",
        "LOG_FORMAT",
        "SHUTDOWN_TIMEOUT_SECS",
        "WORKERS",
    ];
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
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(&format!("invalid {var}: expected ")), "{err}");
        }
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = config(&[("TIDINGS_DATABASE_URL", "postgres://u:hunter2@db/x")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
