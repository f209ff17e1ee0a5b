//! [`HttpSettings`]: what the HTTP layer is configured with (read from the environment by
//! [`crate::config`]).

use std::num::NonZeroU32;
use std::time::Duration;

/// The largest request body accepted by default, in bytes (`MAX_BODY_BYTES` changes it).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a request body may take to arrive by default (`BODY_READ_TIMEOUT` changes it).
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest URL (path and query) accepted, in bytes: far more than any request of this API
/// needs (414 above).
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;

/// The largest header section accepted, in bytes of names and values (431 above).
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most header fields a request may have (431 above).
pub(crate) const MAX_HEADERS: usize = 100;

/// CORS, limits and shutdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// `CORS_ORIGINS`: the browser origins allowed to call the API (none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// `MAX_BODY_BYTES`: the largest request body accepted.
    pub max_body_bytes: usize,
    /// `REQUEST_TIMEOUT`: a request still running after this long is answered 503.
    pub request_timeout: Duration,
    /// `BODY_READ_TIMEOUT`: a request body that has not arrived after this long is answered 408.
    pub body_read_timeout: Duration,
    /// `HEADER_READ_TIMEOUT`: a connection that has not sent a request's headers this long
    /// after it became ready for one (a new connection, or an idle keep-alive one) is closed.
    pub header_read_timeout: Duration,
    /// `IDLE_TIMEOUT`: a connection on which nothing is read or written for this long is
    /// closed (requests in flight finish first).
    pub idle_timeout: Duration,
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
            body_read_timeout: BODY_READ_TIMEOUT,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            rate_limit_per_minute: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
