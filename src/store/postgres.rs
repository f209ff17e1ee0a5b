//! PostgreSQL, the production database (Neon, or any PostgreSQL 13+): its [`Dialect`], the pool
//! (with transaction-pooler mode), and migrations under an advisory lock.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPoolOptions, PgQueryResult};
use sqlx::{
    AssertSqlSafe, Connection as _, Executor as _, PgConnection, PgPool, SqlSafeStr, SqlStr,
};

use super::StoreError;
use super::dialect::{Dialect, RowsAffected};
use super::nodelay::NoDelayRelay;
use super::notifier::Notifier;
use super::postgres_url::{self, CHANNEL_BINDING_HINT};
use super::settings::{DatabaseSettings, PoolerMode};
use super::sql::SqlStore;
use super::statements::shared;
use crate::domain::UserId;
use crate::sync::ChangeHub;

/// The channel commits are notified on (`NOTIFY`, by [`Notifier`]), and the change feed
/// listens to.
macro_rules! feed_channel {
    () => {
        "todo_api_changes"
    };
}

/// [`feed_channel!`] as a constant.
pub(super) const FEED_CHANNEL: &str = feed_channel!();

/// The key of the advisory lock that serialises migrations across replicas ("todo_api").
const MIGRATION_LOCK: i64 = 0x746f_646f_5f61_7069;

/// A pooled connection idle for longer than this is pinged before use: it may have been closed
/// meanwhile (a restarted server, a scaled-to-zero Neon compute). A connection in steady use is
/// not, which saves a round trip on every query.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// PostgreSQL's SQL and sessions.
///
/// Behind a transaction-mode pooler (PgBouncer, Neon's `-pooler` endpoint) a session's state
/// does not survive a transaction, so in that mode every operation runs in a transaction of its
/// own, with unnamed statements and `SET LOCAL statement_timeout`; directly connected, the
/// timeout is set once per connection and statements are prepared once and cached.
pub(crate) struct PostgresDialect {
    pooled: bool,
    /// `BEGIN`, with `SET LOCAL statement_timeout` when there is a timeout.
    begin: SqlStr,
    /// Whether a TLS failure gets [`CHANNEL_BINDING_HINT`].
    tls_hint: bool,
    /// Where the pools connect through, for `TCP_NODELAY` (kept as long as they are).
    _relay: Option<NoDelayRelay>,
    /// Tells the other processes of this one's commits.
    notifier: Notifier,
}

/// The production store.
pub(crate) type PostgresStore = SqlStore<PostgresDialect>;

/// A store for `url` that connects on first use.
pub(crate) fn connect_lazy(
    url: &str,
    settings: &DatabaseSettings,
    hub: Arc<ChangeHub>,
) -> Result<PostgresStore, StoreError> {
    let target = postgres_url::parse(url).map_err(StoreError::Config)?;
    for note in &target.notes {
        tracing::info!("DATABASE_URL: {note}");
    }
    let pooled = match settings.transaction_pooler {
        PoolerMode::On => true,
        PoolerMode::Off => false,
        PoolerMode::Auto => target.pooler_host,
    };
    let mut options = target.options.application_name("todo-api");
    if pooled {
        tracing::info!(
            "DATABASE_URL goes through a transaction-mode pooler: one transaction per \
             operation, unnamed statements (DB_TRANSACTION_POOLER)"
        );
        // PgBouncer refuses start-up parameters it does not track unless configured to ignore
        // them; this one only matters for floating-point text output.
        options = options.extra_float_digits(None);
    }
    let timeout_ms = settings
        .statement_timeout
        .map(|t| t.as_millis().max(1))
        .unwrap_or(0);
    let begin = match settings.statement_timeout {
        Some(_) => shared(format!("BEGIN; SET LOCAL statement_timeout = {timeout_ms}")),
        None => "BEGIN".into_sql_str(),
    };
    let pool_options = |max_connections: u32| {
        let mut pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(settings.idle_timeout)
            .max_lifetime(settings.max_lifetime)
            // A ping before every query costs a round trip; only a connection idle for a while is
            // checked before use.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            });
        if !pooled && settings.statement_timeout.is_some() {
            pool = pool.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let sql = format!("SET statement_timeout = {timeout_ms}");
                    conn.execute(AssertSqlSafe(sql)).await?;
                    Ok(())
                })
            });
        }
        pool
    };
    let (options, relay) = NoDelayRelay::wrap(options);
    let requests = pool_options(settings.pool_max).connect_lazy_with(options.clone());
    let dialect = PostgresDialect {
        pooled,
        begin,
        tls_hint: target.upgraded_for_channel_binding,
        _relay: relay,
        notifier: Notifier::new(requests.clone(), !pooled),
    };
    let feed = pool_options(settings.feed_pool_max)
        .connect_lazy_with(options.application_name("todo-api-feed"));
    Ok(SqlStore::new(
        requests,
        Some(feed),
        dialect,
        settings.quotas,
        hub,
    ))
}

/// The statement that takes user `owner`'s lock until the transaction ends (see
/// [`Dialect::begin_write`]). It goes in a simple query, which takes no parameters: the lock's
/// key is the hash of the id's bytes written in hexadecimal, which no setting can make into
/// anything but a string.
pub(super) fn lock_user(owner: &UserId) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(owner.as_str().len() * 2);
    for byte in owner.as_str().bytes() {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    format!("SELECT pg_advisory_xact_lock(1953459311, hashtext('{hex}'))")
}

impl Dialect for PostgresDialect {
    type Db = sqlx::Postgres;

    // `= ANY(array)` is an index condition; the array is built once per statement.
    const TAG_KEY_IN: &'static str =
        "tag_key = ANY(ARRAY(SELECT json_array_elements_text(CAST({keys} AS json))))";

    fn json_rows_as(param: &str, alias: &str) -> String {
        format!("jsonb_array_elements_text({param}::jsonb) WITH ORDINALITY AS {alias}(value, ord)")
    }

    fn begin(&self) -> SqlStr {
        self.begin.clone()
    }

    /// The transaction's first statement takes a transaction-level advisory lock of the user
    /// ([`lock_user`]; it also works through a transaction-mode pooler; in the two-key space,
    /// never the migrations' one-key lock), in the round trip of `BEGIN`.
    fn begin_write(&self, owner: Option<&UserId>) -> SqlStr {
        match owner {
            None => self.begin(),
            Some(owner) => shared(format!("{}; {}", self.begin.as_str(), lock_user(owner))),
        }
    }

    fn pooled(&self) -> bool {
        self.pooled
    }

    fn committed(&self, owner: &UserId, revision: i64) {
        self.notifier.notify(owner.as_str(), revision);
    }

    async fn migrate(&self, pool: &PgPool) -> Result<(), StoreError> {
        let result = self.migrate_locked(pool).await;
        if self.tls_hint
            && let Err(StoreError::Unavailable(sqlx::Error::Tls(_))) = &result
        {
            tracing::error!("{CHANNEL_BINDING_HINT}");
        }
        result
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

impl PostgresDialect {
    /// Applies the migrations inside one transaction that holds an advisory lock, so replicas
    /// starting together migrate once, and so it also works through a transaction-mode pooler
    /// (where a session-level lock would not).
    ///
    /// It runs on a pooled connection, which then serves requests: at start-up the server opens
    /// one connection instead of two (a new TLS connection costs tens of milliseconds, see
    /// bench/README.md).
    async fn migrate_locked(&self, pool: &PgPool) -> Result<(), StoreError> {
        let mut conn = pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin().await?;
            // A migration may take longer than requests are allowed to.
            tx.execute("SET LOCAL statement_timeout = 0").await?;
            if self.pooled {
                // Statements a failed attempt left on this server connection.
                tx.execute("DEALLOCATE ALL").await?;
            }
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
            let before = applied_migrations(&mut tx).await?;
            let mut migrator = sqlx::migrate!("migrations/postgres");
            migrator.set_locking(false);
            // `run_direct` is `run` on a connection (sqlx's own way around a lifetime error).
            migrator.run_direct(None, &mut *tx, false).await?;
            let after = applied_migrations(&mut tx).await?;
            tracing::info!(
                applied = after - before,
                total = after,
                "migrations: {} applied by this process, {after} in place",
                after - before
            );
            if self.pooled {
                tx.execute("DEALLOCATE ALL").await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if self.pooled || result.is_err() {
            // Behind a pooler the statements sqlx cached on this connection were deallocated;
            // after a failure its state is unknown. Either way it does not go back to the pool.
            let _ = conn.close().await;
        }
        result
    }
}

/// How many migrations the database records as applied.
async fn applied_migrations(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .persistent(false)
        .fetch_one(&mut *conn)
        .await
}
