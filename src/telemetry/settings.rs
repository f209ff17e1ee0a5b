//! [`TelemetrySettings`]: how logs are written and whether metrics are served (read from the
//! environment by [`crate::config`]).

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
