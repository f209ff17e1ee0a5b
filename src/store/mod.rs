//! Persistence. Endpoints talk to a [`TaskStore`]; the backend is chosen from the scheme of
//! `DATABASE_URL` (`postgres://` / `postgresql://` or `sqlite:`), each with its own migrations.

mod error;
mod gate;
mod postgres;
pub mod postgres_url;
mod row;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::error::StoreError;
pub use self::gate::{MigrationGate, migrate_until_done};
pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;
use crate::config::DatabaseSettings;
use crate::domain::{NewTask, StatusFilter, Task, TaskChanges, TaskId, UserId};

/// Every operation the API needs from storage. Each one is scoped by the owner's id: a task
/// that belongs to someone else is indistinguishable from one that does not exist.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// The user's tasks that match `status`, newest first.
    async fn list(&self, owner: &UserId, status: StatusFilter) -> Result<Vec<Task>, StoreError>;

    /// Stores a new task and returns it.
    async fn create(&self, owner: &UserId, task: NewTask) -> Result<Task, StoreError>;

    /// One task, if it exists and belongs to `owner`.
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Applies `changes` and returns the updated task, if it exists and belongs to `owner`.
    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
    ) -> Result<Option<Task>, StoreError>;

    /// Sets `completed` (or toggles it when `None`) and returns the updated task.
    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
    ) -> Result<Option<Task>, StoreError>;

    /// Deletes a task; false when there was no such task of `owner`'s.
    async fn delete(&self, owner: &UserId, id: TaskId) -> Result<bool, StoreError>;

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
pub struct PoolStats {
    /// Open connections (in use or idle).
    pub open: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl PoolStats {
    /// Connections serving a request right now.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// Which database a `DATABASE_URL` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (production; Neon).
    Postgres,
    /// SQLite (the embedded default).
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme.
    pub fn from_url(url: &str) -> Result<Self, String> {
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
pub fn connect(url: &str, settings: &DatabaseSettings) -> Result<Arc<dyn TaskStore>, StoreError> {
    Ok(match Backend::from_url(url).map_err(StoreError::Config)? {
        Backend::Postgres => Arc::new(PostgresStore::connect_lazy(url, settings)?),
        Backend::Sqlite => Arc::new(SqliteStore::connect_lazy(url, settings)?),
    })
}
