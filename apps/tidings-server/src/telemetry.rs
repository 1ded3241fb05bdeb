//! Logging and tracing: tracing to stdout, human-readable by default or JSON for collectors, and the
//! same spans (each request and live session with its request id) exported to an OpenTelemetry
//! collector over OTLP/HTTP when `TIDINGS_OTLP_ENDPOINT` is set.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;

/// What must be flushed before the process exits: spans still waiting to be exported.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still queued and stops the exporter (a collector that is down costs at most
    /// the exporter's timeout).
    pub fn shutdown(self) {
        if let Some(traces) = self.traces
            && let Err(error) = traces.shutdown()
        {
            eprintln!("tidings: traces could not be flushed: {error}");
        }
    }
}

/// Installs the global subscriber; `filter` was validated with the configuration. With `otlp` (a
/// collector's base URL) spans are also exported to `{otlp}/v1/traces`. Call it before the async
/// runtime starts: the exporter's HTTP client runs on a thread of its own.
pub fn init(filter: &str, format: LogFormat, otlp: Option<&str>) -> Result<Telemetry, String> {
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![match format {
        LogFormat::Json => fmt.json().with_current_span(true).with_span_list(false).boxed(),
        LogFormat::Pretty => fmt.with_ansi(std::io::stdout().is_terminal()).boxed(),
    }];
    let traces = match otlp {
        Some(endpoint) => {
            let provider = tracer_provider(endpoint)?;
            let tracer = provider.tracer("tidings");
            layers.push(tracing_opentelemetry::layer().with_tracer(tracer).boxed());
            Some(provider)
        }
        None => None,
    };
    tracing_subscriber::registry().with(layers).with(EnvFilter::new(filter)).init();
    if let Some(endpoint) = otlp {
        tracing::info!(endpoint, "traces are exported over OTLP");
    }
    Ok(Telemetry { traces })
}

/// Batches spans and posts them as OTLP protobuf to the collector at `endpoint`.
fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(std::time::Duration::from_secs(5))
        .with_headers(Default::default())
        .build()
        .map_err(|e| format!("TIDINGS_OTLP_ENDPOINT: {e}"))?;
    let resource = Resource::builder()
        .with_service_name("tidings")
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}
