//! CORS, limits and shutdown: the settings of the HTTP layer.

use std::num::NonZeroU32;
use std::time::Duration;

/// CORS, limits and shutdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// `CORS_ORIGINS`: the browser origins allowed to call the API (none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// `MAX_BODY_BYTES`: the largest request body accepted.
    pub max_body_bytes: usize,
    /// `REQUEST_TIMEOUT`: a request still running after this long is answered 503.
    pub request_timeout: Duration,
    /// `RATE_LIMIT_PER_MINUTE`: requests per user per minute (`None`: no limit).
    pub rate_limit_per_minute: Option<NonZeroU32>,
    /// `SHUTDOWN_GRACE`: how long in-flight requests may run after SIGTERM or SIGINT.
    pub shutdown_grace: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limit_per_minute: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
