//! Logs and metrics. Logs: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks human lines
//! or JSON, and lines go to stderr ([`init`]). Metrics: [`metrics::Metrics`], served at
//! `GET /metrics`. Their settings: [`TelemetrySettings`].

pub(crate) mod metrics;
mod settings;

pub use settings::{LogFormat, TelemetrySettings};

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls are no-ops.
pub(crate) fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}
