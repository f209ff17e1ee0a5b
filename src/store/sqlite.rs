use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::DatabaseSettings;
use super::{PoolStats, StoreError};

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
        // A connection to a local file does not go stale: no ping before each use.
        .test_before_acquire(false)
        .connect_lazy_with(options);
        Ok(Self {
            pool,
            max_connections,
        })
    }
}

/// One operation's connection.
struct Session(PoolConnection<Sqlite>);

impl Session {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }

    async fn finish(self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// What the shared queries need from this backend.
impl SqliteStore {
    /// A connection from the pool.
    async fn session(&self) -> Result<Session, StoreError> {
        Ok(Session(self.pool.acquire().await?))
    }

    /// Statements are always prepared once and cached.
    fn persistent(&self) -> bool {
        true
    }

    /// A write transaction, taken at once (`BEGIN IMMEDIATE`) so that two transactions never
    /// deadlock upgrading from a read.
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn ping_impl(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate_impl(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    fn pool_stats_impl(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.max_connections,
        }
    }
}

sql_task_store!(
    super::SqliteStore,
    sqlx::Sqlite,
    lock = "",
    // Aggregate ORDER BY: SQLite 3.44 and later (the bundled one is newer).
    tags =
        "(SELECT json_group_array(tag ORDER BY position) FROM task_tags WHERE task_id = tasks.id)",
);
