//! [`HttpSettings`]: what the HTTP layer is configured with (read from the environment by
//! [`crate::config`]).

use std::num::NonZeroU32;
use std::time::Duration;

/// The largest request body accepted by default, in bytes (`MAX_BODY_BYTES` changes it).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

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
            max_body_bytes: MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(30),
            rate_limit_per_minute: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
