//! Start-up without the database: the server serves at once, answering 503 until the
//! migrations are applied, which a background task retries until the database answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::layer::Layer;
use super::{StoreError, TaskStore};

/// A store that refuses every operation (503) until its migrations have been applied.
pub(crate) struct MigrationGate {
    inner: Arc<dyn TaskStore>,
    migrated: AtomicBool,
}

impl MigrationGate {
    /// Wraps `inner`, closed until [`TaskStore::migrate`] succeeds.
    pub(crate) fn new(inner: Arc<dyn TaskStore>) -> Self {
        Self {
            inner,
            migrated: AtomicBool::new(false),
        }
    }

    /// Whether the migrations have been applied.
    pub(crate) fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }
}

/// The one readiness check: every operation passes through [`Layer::ready`].
#[async_trait]
impl Layer for MigrationGate {
    fn ready(&self) -> Result<&dyn TaskStore, StoreError> {
        if self.is_migrated() {
            Ok(self.inner.as_ref())
        } else {
            Err(StoreError::NotReady(
                "the database migrations are not applied yet",
            ))
        }
    }

    fn inner(&self) -> &dyn TaskStore {
        self.inner.as_ref()
    }

    async fn apply_migrations(&self) -> Result<(), StoreError> {
        if !self.is_migrated() {
            self.inner.migrate().await?;
            self.migrated.store(true, Ordering::Release);
        }
        Ok(())
    }
}

/// Retries the migrations until they are applied, waiting longer after each failure (up to
/// `max_delay`), logging every failure.
pub(crate) async fn migrate_until_done(store: Arc<MigrationGate>, max_delay: Duration) {
    let mut delay = Duration::from_millis(250);
    loop {
        match store.migrate().await {
            Ok(()) => {
                tracing::info!("database reachable: migrations applied, ready to serve");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?delay, "database not ready");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(max_delay);
    }
}
