//! Logging: `RUST_LOG` filters (default [`DEFAULT_FILTER`]); lines go to stderr, with colours
//! only when stderr is a terminal.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is not set: `info`, except the line poem writes for every
/// request. Formatting and writing that line costs a quarter of the CPU of a rejected request
/// (see bench/README.md); `RUST_LOG=info` turns it back on as an access log. Errors are logged
/// either way.
pub const DEFAULT_FILTER: &str = "info,poem::middleware::tracing_mw=warn";

/// Installs the global subscriber; later calls are no-ops.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
