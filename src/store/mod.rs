//! Persistence. Endpoints talk to a [`TaskStore`]; the backend is chosen from the scheme of
//! `DATABASE_URL` (`postgres://` / `postgresql://` or `sqlite:`), each with its own migrations.
//!
//! This module holds the trait, what its operations return, the backend choice and `connect`.
//! One SQL implementation (`sql`, its statements in `statements`) serves both databases, each
//! described by a `Dialect` (`postgres`, `sqlite`); [`MigrationGate`] (on the generic forwarding
//! of `layer`) holds the operations back until the migrations are applied. The pool settings are
//! in `settings`, the errors in `error`.
//!
//! The change feed: every write takes per-user revisions in its transaction (`statements`),
//! `feed` assembles the pages a reader gets, `listener` brings the commits of other processes
//! (PostgreSQL) to this one's [`ChangeHub`], and `compaction` forgets old tombstones.

mod compaction;
mod dialect;
mod error;
mod feed;
mod gate;
mod group;
mod layer;
mod listener;
mod listing;
mod nodelay;
mod notifier;
mod postgres;
mod postgres_url;
mod row;
mod settings;
mod sql;
mod sqlite;
mod statements;
mod tree;
mod turns;

#[cfg(test)]
mod bench_sql;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub(crate) use self::compaction::compact_periodically;
pub(crate) use self::error::{Quota, StoreError};
pub(crate) use self::gate::MigrationGate;
pub(crate) use self::gate::migrate_until_done;
pub(crate) use self::listener::{ListenTarget, follow_commits};
pub use self::settings::{DatabaseSettings, ListenSetting, PoolerMode, Quotas};
use crate::domain::changes::{FeedPosition, FeedRead};
use crate::domain::list::{List, ListChanges, ListId, NewList, TasksOnDelete};
use crate::domain::listing::{ListQuery, Page, TagPage, TagQuery};
use crate::domain::order::Slot;
use crate::domain::{FieldIssue, NewTask, Task, TaskChanges, TaskId, TaskMove, UserId};
use crate::sync::ChangeHub;

/// The result of an operation on one task that may be conditional on its version (`If-Match`).
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// Done.
    Done(T),
    /// No such task for this user.
    NotFound,
    /// The task's version is not the one expected: someone changed it meanwhile.
    Stale,
    /// The merged task breaks a cross-field rule (e.g. a reminder after the due time), or
    /// names a list, parent or sibling it cannot have.
    Invalid(Vec<FieldIssue>),
    /// The change conflicts with the current state (a list name in use, a list that still has
    /// tasks): why.
    Conflict(String),
}

/// An `Idempotency-Key` and the fingerprint of the request that came with it.
#[derive(Clone, Debug)]
pub(crate) struct IdempotencyKey {
    /// The client's key.
    pub key: String,
    /// A hash of the request body.
    pub fingerprint: String,
}

/// The result of a create.
#[derive(Debug)]
pub(crate) enum Created {
    /// A new task.
    New(Task),
    /// The key was used before with the same request: the task as first returned.
    Replayed(Task),
    /// The key was used before with a different request.
    KeyReused,
    /// The list or parent named is not one the task can have.
    Invalid(Vec<FieldIssue>),
}

/// The result of completing or reopening a task.
#[derive(Debug)]
pub(crate) struct Completion {
    /// The task after the change.
    pub task: Task,
    /// The next occurrence, when completing a recurring task created one.
    pub next: Option<Task>,
}

/// How long an idempotency key is remembered.
pub(crate) const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Every operation the API needs from storage. Each one is scoped by the owner's id: a task
/// that belongs to someone else is indistinguishable from one that does not exist.
#[async_trait]
pub(crate) trait TaskStore: Send + Sync + 'static {
    /// One page of the user's tasks that match `query`, with the total count.
    async fn list(&self, owner: &UserId, query: &ListQuery) -> Result<Page, StoreError>;

    /// Stores a new task; with a key, at most once per key and user within 24 hours.
    async fn create(
        &self,
        owner: &UserId,
        task: NewTask,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, StoreError>;

    /// One task, if it exists and belongs to `owner`.
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Applies `changes`, if the task is at `expected_version` (when given).
    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError>;

    /// Sets `completed` (or toggles it when `None`). Completing a task completes its pending
    /// subtasks; completing a recurring task creates its next occurrence (with copies of its
    /// subtasks, reopened), in the same transaction.
    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Completion>, StoreError>;

    /// Moves a task (with its subtasks) to another list, parent or place among its siblings,
    /// if it is at `expected_version` (when given).
    async fn move_task(
        &self,
        owner: &UserId,
        id: TaskId,
        to: &TaskMove,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError>;

    /// The user's lists, in their order.
    async fn lists(&self, owner: &UserId) -> Result<Vec<List>, StoreError>;

    /// One list, if it exists and belongs to `owner`.
    async fn get_list(&self, owner: &UserId, id: ListId) -> Result<Option<List>, StoreError>;

    /// Stores a new list, after the others, within the user's quota; a name in use (ignoring
    /// case) is a conflict.
    async fn create_list(
        &self,
        owner: &UserId,
        list: &NewList,
    ) -> Result<Outcome<List>, StoreError>;

    /// Applies `changes` to a list, if it is at `expected_version` (when given).
    async fn update_list(
        &self,
        owner: &UserId,
        id: ListId,
        changes: &ListChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError>;

    /// Moves a list among the user's lists.
    async fn move_list(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError>;

    /// Deletes a list; its tasks go to the inbox or with it (`tasks`), and without `tasks` a
    /// list that has some is a conflict.
    async fn delete_list(
        &self,
        owner: &UserId,
        id: ListId,
        tasks: Option<TasksOnDelete>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError>;

    /// Deletes a task and its subtasks, if it is at `expected_version` (when given).
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError>;

    /// Deletes the user's completed tasks, with their subtasks; returns how many tasks went.
    async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError>;

    /// One page of the user's tags (as first written) with how many tasks carry each, by name.
    async fn tags(&self, owner: &UserId, query: &TagQuery) -> Result<TagPage, StoreError>;

    /// Pending tasks whose reminder is due at or before `before`, soonest first.
    async fn reminders(
        &self,
        owner: &UserId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Task>, StoreError>;

    /// One consistent page of the user's change feed: the changes after `since`
    /// (`None`: the whole current state, every task as an upsert), oldest first, each task at
    /// most once in its latest state, at most `limit` of them.
    async fn changes(
        &self,
        owner: &UserId,
        since: Option<FeedPosition>,
        limit: u32,
    ) -> Result<FeedRead, StoreError>;

    /// Forgets the tombstones of tasks deleted before `before` (a feed position older than the
    /// latest of them is then expired); returns how many. Idempotent, safe on several
    /// processes at once.
    async fn compact(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The latest revision of each of `users` that has one.
    async fn revisions(&self, users: &[String]) -> Result<Vec<(String, i64)>, StoreError>;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// The connection pool's state, for metrics.
    fn pool_stats(&self) -> PoolStats;

    /// Closes every connection; in-flight queries finish first.
    async fn close(&self);
}

/// How many connections the pool holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PoolStats {
    /// Open connections (in use or idle).
    pub open: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl PoolStats {
    /// Connections serving a request right now.
    pub(crate) fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// Which database a `DATABASE_URL` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// PostgreSQL (production; Neon).
    Postgres,
    /// SQLite (the embedded default).
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme.
    pub(crate) fn from_url(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(format!(
                "unsupported scheme `{scheme}`: use postgres://… (or postgresql://…) or sqlite://…"
            )),
        }
    }
}

/// Opens a connection pool for `url` without waiting for the database: a database that is down
/// at start-up makes requests fail with 503 until it is back, instead of stopping the server.
/// Every commit that changes a user's tasks is published to `hub`.
pub(crate) fn connect(
    url: &str,
    settings: &DatabaseSettings,
    hub: Arc<ChangeHub>,
) -> Result<Arc<dyn TaskStore>, StoreError> {
    Ok(match Backend::from_url(url).map_err(StoreError::Config)? {
        Backend::Postgres => Arc::new(postgres::connect_lazy(url, settings, hub)?),
        Backend::Sqlite => Arc::new(sqlite::connect_lazy(url, settings, hub)?),
    })
}
