use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use super::StoreError;

/// A pooled connection idle for longer than this is pinged before use: it may have been closed
/// meanwhile (a restarted server, a scaled-to-zero Neon compute). A connection in steady use is
/// not, which saves a round trip on every query.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

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
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
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
