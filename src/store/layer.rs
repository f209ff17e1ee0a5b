//! A store in front of another: the [`Layer`] trait, and the one forwarding of every
//! [`TaskStore`] method to the store behind a layer, past the layer's readiness check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Completion, Created, IdempotencyKey, Outcome, PoolStats, StoreError, TaskStore};
use crate::domain::changes::{FeedPosition, FeedRead};
use crate::domain::list::{List, ListChanges, ListId, NewList, TasksOnDelete};
use crate::domain::listing::{ListQuery, Page, TagPage, TagQuery};
use crate::domain::order::Slot;
use crate::domain::{NewTask, Task, TaskChanges, TaskId, TaskMove, UserId};

/// A store that passes every operation on to another once it is ready: implementing it makes a
/// type a [`TaskStore`].
#[async_trait]
pub(crate) trait Layer: Send + Sync + 'static {
    /// The store behind this one, when operations may reach it; otherwise why not. The only way
    /// the forwarding below reaches the store, but for what is never held back.
    fn ready(&self) -> Result<&dyn TaskStore, StoreError>;

    /// The store behind this one, for what is never held back: the migrations, the pool
    /// statistics and closing.
    fn inner(&self) -> &dyn TaskStore;

    /// What [`TaskStore::migrate`] does through this layer: by default, the inner store's.
    async fn apply_migrations(&self) -> Result<(), StoreError> {
        self.inner().migrate().await
    }
}

#[async_trait]
impl<L: Layer> TaskStore for L {
    async fn list(&self, owner: &UserId, query: &ListQuery) -> Result<Page, StoreError> {
        self.ready()?.list(owner, query).await
    }

    async fn create(
        &self,
        owner: &UserId,
        task: NewTask,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, StoreError> {
        self.ready()?.create(owner, task, key).await
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.ready()?.get(owner, id).await
    }

    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError> {
        self.ready()?
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
        self.ready()?
            .set_completed(owner, id, completed, expected_version)
            .await
    }

    async fn move_task(
        &self,
        owner: &UserId,
        id: TaskId,
        to: &TaskMove,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError> {
        self.ready()?
            .move_task(owner, id, to, expected_version)
            .await
    }

    async fn lists(&self, owner: &UserId) -> Result<Vec<List>, StoreError> {
        self.ready()?.lists(owner).await
    }

    async fn get_list(&self, owner: &UserId, id: ListId) -> Result<Option<List>, StoreError> {
        self.ready()?.get_list(owner, id).await
    }

    async fn create_list(
        &self,
        owner: &UserId,
        list: &NewList,
    ) -> Result<Outcome<List>, StoreError> {
        self.ready()?.create_list(owner, list).await
    }

    async fn update_list(
        &self,
        owner: &UserId,
        id: ListId,
        changes: &ListChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError> {
        self.ready()?
            .update_list(owner, id, changes, expected_version)
            .await
    }

    async fn move_list(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError> {
        self.ready()?
            .move_list(owner, id, slot, expected_version)
            .await
    }

    async fn delete_list(
        &self,
        owner: &UserId,
        id: ListId,
        tasks: Option<TasksOnDelete>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError> {
        self.ready()?
            .delete_list(owner, id, tasks, expected_version)
            .await
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError> {
        self.ready()?.delete(owner, id, expected_version).await
    }

    async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError> {
        self.ready()?.delete_completed(owner).await
    }

    async fn tags(&self, owner: &UserId, query: &TagQuery) -> Result<TagPage, StoreError> {
        self.ready()?.tags(owner, query).await
    }

    async fn reminders(
        &self,
        owner: &UserId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Task>, StoreError> {
        self.ready()?.reminders(owner, before, limit).await
    }

    async fn changes(
        &self,
        owner: &UserId,
        since: Option<FeedPosition>,
        limit: u32,
    ) -> Result<FeedRead, StoreError> {
        self.ready()?.changes(owner, since, limit).await
    }

    async fn compact(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.ready()?.compact(before).await
    }

    async fn revisions(&self, users: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
        self.ready()?.revisions(users).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.ready()?.ping().await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.apply_migrations().await
    }

    fn pool_stats(&self) -> PoolStats {
        self.inner().pool_stats()
    }

    async fn close(&self) {
        self.inner().close().await;
    }
}
