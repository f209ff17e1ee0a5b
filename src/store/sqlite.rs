use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;

/// The embedded store: one SQLite file (WAL mode), created if missing.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// A pool for `url` (`sqlite://todo.db`, `sqlite:///abs/path.db`, `sqlite::memory:`).
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid SQLite URL: {err}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database lives as long as its one connection.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        }
        .acquire_timeout(Duration::from_secs(5))
        // A connection to a local file does not go stale: no ping before each use.
        .test_before_acquire(false)
        .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

sql_task_store!(
    super::SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    lock = "",
    migrations = "migrations/sqlite",
);
