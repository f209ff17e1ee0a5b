//! SQLite, the embedded default: its [`Dialect`] and the pools on one database file (WAL mode),
//! created if missing: connections that read, and one that writes, committing the writes in
//! groups (`super::group`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{SqlSafeStr, SqlStr, SqlitePool};

use super::StoreError;
use super::dialect::{Dialect, RowsAffected};
use super::settings::DatabaseSettings;
use super::sql::SqlStore;
use crate::sync::ChangeHub;

/// The connections that read for requests. SQLite runs a statement on the thread of its
/// connection, so more readers than a few per core add threads, not throughput.
const READERS: u32 = 4;

/// Each connection's page cache (`PRAGMA cache_size`; negative: KiB): SQLite's default is 2 MiB
/// per connection, most of the process's memory with a dozen connections; a page not cached is
/// read from the operating system's cache of the file.
const CACHE_SIZE: &str = "-1024";

/// Rows a statement's thread hands over before the request takes them (sqlx's default: 50, a
/// page of tasks without the statement's end).
const ROWS_IN_FLIGHT: usize = 256;

/// SQLite's SQL and sessions.
pub(crate) struct SqliteDialect;

/// The embedded store.
pub(crate) type SqliteStore = SqlStore<SqliteDialect>;

/// A store for `url` (`sqlite://todo.db`, `sqlite:///abs/path.db`, `sqlite::memory:`) that
/// opens the database on first use.
pub(crate) fn connect_lazy(
    url: &str,
    settings: &DatabaseSettings,
    hub: Arc<ChangeHub>,
) -> Result<SqliteStore, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| StoreError::Config(format!("invalid SQLite URL: {err}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .pragma("cache_size", CACHE_SIZE)
        // A list's rows pass from the connection's thread to the request in one go.
        .row_buffer_size(ROWS_IN_FLIGHT);
    // An in-memory database lives as long as its one connection.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool_options = |max_connections: u32| {
        if in_memory {
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
    };
    let requests = pool_options(READERS).connect_lazy_with(options.clone());
    // An in-memory database lives in its one connection: the feed reads it there too, and
    // the writes run there, each in a transaction of its own.
    if in_memory {
        return Ok(SqlStore::new(
            requests,
            None,
            SqliteDialect,
            settings.quotas,
            hub,
        ));
    }
    // The feed's readers are readers too: no more of them than `READERS`.
    let feed = pool_options(settings.feed_pool_max.min(READERS)).connect_lazy_with(options.clone());
    // One writer at a time: the writes are committed in groups on a connection of their own
    // (see `group`), the pool's connections only read.
    let writer = pool_options(1).connect_lazy_with(options);
    Ok(
        SqlStore::new(requests, Some(feed), SqliteDialect, settings.quotas, hub)
            .with_group_commit(writer),
    )
}

impl Dialect for SqliteDialect {
    type Db = sqlx::Sqlite;

    const TAG_KEY_IN: &'static str = "tag_key IN (SELECT value FROM json_each({keys}))";

    fn json_rows_as(param: &str, alias: &str) -> String {
        format!("(SELECT value, key + 1 AS ord FROM json_each({param})) AS {alias}")
    }

    /// A write transaction, taken at once (`BEGIN IMMEDIATE`) so that two transactions never
    /// deadlock upgrading from a read.
    fn begin(&self) -> SqlStr {
        "BEGIN IMMEDIATE".into_sql_str()
    }

    fn pooled(&self) -> bool {
        false
    }

    async fn migrate(&self, pool: &SqlitePool) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite").run(pool).await?;
        Ok(())
    }
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}
