//! Logs and metrics. Logs: `RUST_LOG` filters (default `info`), `LOG_FORMAT` picks human lines
//! or JSON, and lines go to stderr, written by a thread of their own ([`init`]). Metrics:
//! [`metrics::Metrics`], served at `GET /metrics`. Their settings: [`TelemetrySettings`].

pub(crate) mod metrics;
mod settings;

pub use settings::{LogFormat, TelemetrySettings};

use std::io::{BufWriter, stderr};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// The most log lines waiting for the writer (a few MiB at most).
const LINES_WAITING: usize = 8_192;

/// Installs the global subscriber, once a process (the binary calls it once, for the command
/// it runs). The lines go to stderr from a thread of their own, buffered and written together
/// when several wait, so that a request does not wait for a write (writing its line cost a
/// quarter of the throughput of `GET`s of one task: `bench/README.md`). Nothing is dropped:
/// when [`LINES_WAITING`] lines wait, the next one waits for room. Keep the guard until the
/// process ends: dropping it writes what is left.
#[must_use = "dropping the guard stops the log writer"]
pub(crate) fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LINES_WAITING)
        .thread_name("log-writer")
        .finish(BufWriter::new(stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    guard
}
