//! The Tidings server binary: reads its configuration, sets up logging and runs the server.

use std::process::ExitCode;

use tidings_server::{Config, config, serve, telemetry};

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("tidings-server: {err}");
            return ExitCode::from(2);
        }
    };
    let telemetry = match telemetry::init(&config.log, config.log_format, config.otlp_endpoint.as_deref()) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("tidings-server: {err}");
            return ExitCode::from(2);
        }
    };
    for var in config::unknown_variables() {
        tracing::warn!(%var, "unknown configuration variable ignored");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped with an error");
            ExitCode::FAILURE
        }
    };
    drop(runtime);
    telemetry.shutdown();
    code
}
