//! Compaction: each process forgets, at start and then periodically, the tombstones older than
//! the retention window (`CHANGES_RETENTION`). Cheap, idempotent, and harmless when several
//! processes do it at once.

use std::sync::Arc;
use std::time::Duration;

use super::{StoreError, TaskStore};

/// The longest time between two compactions.
const EVERY: Duration = Duration::from_secs(3600);

/// After a failure (the database down, migrations pending), the next attempt comes this soon.
const RETRY: Duration = Duration::from_secs(60);

/// Compacts at once, then every hour (or every `retention`, when shorter), forever.
pub(crate) async fn compact_periodically(store: Arc<dyn TaskStore>, retention: Duration) {
    let every = retention.min(EVERY);
    loop {
        let wait = match compact(store.as_ref(), retention).await {
            Ok(()) => every,
            Err(err) => {
                match err {
                    StoreError::NotReady(_) => tracing::debug!(error = %err, "compaction deferred"),
                    _ => tracing::warn!(error = %err, "compaction failed; retrying later"),
                }
                every.min(RETRY)
            }
        };
        tokio::time::sleep(wait).await;
    }
}

async fn compact(store: &dyn TaskStore, retention: Duration) -> Result<(), StoreError> {
    let retention = chrono::TimeDelta::from_std(retention).unwrap_or(chrono::TimeDelta::MAX);
    let before = crate::domain::now()
        .checked_sub_signed(retention)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let purged = store.compact(before).await?;
    if purged > 0 {
        tracing::info!(
            purged,
            "change feed compacted: tombstones past CHANGES_RETENTION removed"
        );
    }
    Ok(())
}
