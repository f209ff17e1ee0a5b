//! Start-up without the database: the server serves at once, answering 503 until the
//! migrations are applied, which a background task retries until the database answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Completion, Created, IdempotencyKey, Outcome, PoolStats, StoreError, TaskStore};
use crate::domain::listing::{ListQuery, Page};
use crate::domain::{NewTask, Task, TaskChanges, TaskId, UserId};

/// A store that refuses every operation (503) until its migrations have been applied.
pub struct MigrationGate {
    inner: Arc<dyn TaskStore>,
    migrated: AtomicBool,
}

const PENDING: StoreError = StoreError::NotReady("the database migrations are not applied yet");

impl MigrationGate {
    /// Wraps `inner`, closed until [`TaskStore::migrate`] succeeds.
    pub fn new(inner: Arc<dyn TaskStore>) -> Self {
        Self {
            inner,
            migrated: AtomicBool::new(false),
        }
    }

    /// Whether the migrations have been applied.
    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    fn open(&self) -> Result<(), StoreError> {
        if self.is_migrated() {
            Ok(())
        } else {
            Err(PENDING)
        }
    }
}

/// Retries the migrations until they are applied, waiting longer after each failure (up to
/// `max_delay`), logging every failure.
pub async fn migrate_until_done(store: Arc<MigrationGate>, max_delay: Duration) {
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

#[async_trait]
impl TaskStore for MigrationGate {
    async fn list(&self, owner: &UserId, query: &ListQuery) -> Result<Page, StoreError> {
        self.open()?;
        self.inner.list(owner, query).await
    }

    async fn create(
        &self,
        owner: &UserId,
        task: NewTask,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, StoreError> {
        self.open()?;
        self.inner.create(owner, task, key).await
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.open()?;
        self.inner.get(owner, id).await
    }

    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError> {
        self.open()?;
        self.inner
            .update(owner, id, changes, expected_version)
            .await
    }

    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Completion>, StoreError> {
        self.open()?;
        self.inner
            .set_completed(owner, id, completed, expected_version)
            .await
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError> {
        self.open()?;
        self.inner.delete(owner, id, expected_version).await
    }

    async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError> {
        self.open()?;
        self.inner.delete_completed(owner).await
    }

    async fn tags(&self, owner: &UserId) -> Result<Vec<(String, u64)>, StoreError> {
        self.open()?;
        self.inner.tags(owner).await
    }

    async fn reminders(
        &self,
        owner: &UserId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Task>, StoreError> {
        self.open()?;
        self.inner.reminders(owner, before, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.open()?;
        self.inner.ping().await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        if !self.is_migrated() {
            self.inner.migrate().await?;
            self.migrated.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        self.inner.pool_stats()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
