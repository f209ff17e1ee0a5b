//! [`SyncSettings`]: how long deletions are remembered and how event streams behave (read from
//! the environment by [`crate::config`]).

use std::time::Duration;

/// The change feed and its event streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// `CHANGES_RETENTION`: how long a deleted task's tombstone is kept; a cursor older than
    /// that is answered 410.
    pub retention: Duration,
    /// `EVENTS_HEARTBEAT`: how often an idle event stream sends a comment, so that proxies keep
    /// it open.
    pub heartbeat: Duration,
    /// `EVENTS_MAX_LAG`: how many revisions an event stream may fall behind before it is told to
    /// resync from the feed and closed.
    pub max_lag: u64,
}

impl SyncSettings {
    /// The default retention: 30 days.
    pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            retention: Self::RETENTION,
            heartbeat: Duration::from_secs(15),
            max_lag: 1000,
        }
    }
}
