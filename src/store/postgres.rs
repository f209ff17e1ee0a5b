use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::StoreError;

/// The production store: PostgreSQL (Neon, or any PostgreSQL 13+).
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A pool for `url` that connects on first use.
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid PostgreSQL URL: {err}")))?
            .application_name("todo-api");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(300))
            .max_lifetime(Duration::from_secs(1800))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

sql_task_store!(
    super::PostgresStore,
    sqlx::Postgres,
    begin = "BEGIN",
    lock = " FOR UPDATE",
    migrations = "migrations/postgres",
);
