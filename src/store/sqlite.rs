use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::row::{TaskRow, columns};
use super::{PoolStats, StoreError, TaskStore};
use crate::config::DatabaseSettings;
use crate::domain::{NewTask, StatusFilter, Task, TaskChanges, TaskId, UserId, now};

/// The embedded store: one SQLite file (WAL mode), created if missing.
pub struct SqliteStore {
    pool: SqlitePool,
    max_connections: u32,
}

impl SqliteStore {
    /// A pool for `url` (`sqlite://todo.db`, `sqlite:///abs/path.db`, `sqlite::memory:`).
    pub fn connect_lazy(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid SQLite URL: {err}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database lives as long as its one connection.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let max_connections = if in_memory { 1 } else { 8 };
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(max_connections)
        }
        .acquire_timeout(settings.acquire_timeout.max(Duration::from_secs(5)))
        .connect_lazy_with(options);
        Ok(Self {
            pool,
            max_connections,
        })
    }
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn list(&self, owner: &UserId, status: StatusFilter) -> Result<Vec<Task>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tasks \
             WHERE user_id = ?1 AND (?2 IS NULL OR completed = ?2) \
             ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<TaskRow> = sqlx::query_as(sql)
            .bind(owner.as_str())
            .bind(status.completed())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|row| row.into_task(owner)).collect())
    }

    async fn create(&self, owner: &UserId, task: NewTask) -> Result<Task, StoreError> {
        let sql = concat!(
            "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 0, ?4, ?4) RETURNING ",
            columns!()
        );
        let row: TaskRow = sqlx::query_as(sql)
            .bind(owner.as_str())
            .bind(task.title.as_str())
            .bind(task.description.as_ref().map(|d| d.as_str()))
            .bind(now())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into_task(owner))
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM tasks WHERE id = ?1 AND user_id = ?2"
        );
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id.0)
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.into_task(owner)))
    }

    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
    ) -> Result<Option<Task>, StoreError> {
        let sql = concat!(
            "UPDATE tasks SET \
               title = COALESCE(?3, title), \
               description = CASE WHEN ?4 THEN ?5 ELSE description END, \
               updated_at = ?6 \
             WHERE id = ?1 AND user_id = ?2 RETURNING ",
            columns!()
        );
        let description = changes.description.as_ref();
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id.0)
            .bind(owner.as_str())
            .bind(changes.title.as_ref().map(|t| t.as_str()))
            .bind(description.is_some())
            .bind(description.and_then(|d| d.as_ref()).map(|d| d.as_str()))
            .bind(now())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.into_task(owner)))
    }

    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
    ) -> Result<Option<Task>, StoreError> {
        // Setting the value it already has changes nothing, so `updated_at` stays.
        let sql = concat!(
            "UPDATE tasks SET \
               completed = COALESCE(?3, NOT completed), \
               updated_at = CASE WHEN completed = COALESCE(?3, NOT completed) \
                                 THEN updated_at ELSE ?4 END \
             WHERE id = ?1 AND user_id = ?2 RETURNING ",
            columns!()
        );
        let row: Option<TaskRow> = sqlx::query_as(sql)
            .bind(id.0)
            .bind(owner.as_str())
            .bind(completed)
            .bind(now())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.into_task(owner)))
    }

    async fn delete(&self, owner: &UserId, id: TaskId) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM tasks WHERE id = ?1 AND user_id = ?2")
            .bind(id.0)
            .bind(owner.as_str())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.max_connections,
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
