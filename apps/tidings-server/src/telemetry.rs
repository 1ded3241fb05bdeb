//! Logging: tracing to stdout, human-readable by default or JSON for collectors.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; `filter` was validated with the configuration.
pub fn init(filter: &str, format: LogFormat) {
    let builder =
        tracing_subscriber::fmt().with_env_filter(EnvFilter::new(filter)).with_writer(std::io::stdout);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}
