//! Logs and metrics. Logs: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks human lines
//! or JSON, and lines go to stderr. Metrics: [`metrics::Metrics`], served at `GET /metrics`.

pub mod metrics;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls are no-ops.
pub fn init(format: LogFormat) {
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

/// Logs and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetrySettings {
    /// `LOG_FORMAT`: `pretty` (the default) or `json`.
    pub log_format: LogFormat,
    /// `METRICS_ENABLED`: whether `GET /metrics` answers (default true).
    pub metrics_enabled: bool,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Pretty,
            metrics_enabled: true,
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}
