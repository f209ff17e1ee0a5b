//! The database settings: the connection pool and how queries reach the server. Read from the
//! environment by `crate::config`; used by the store to open its pool.

use std::time::Duration;

/// The connection pool. The defaults suit a serverless PostgreSQL such as Neon: few
/// connections, a short wait for one, and idle connections closed so the compute can suspend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `DB_POOL_MAX`: the most connections this process opens for requests.
    pub pool_max: u32,
    /// `DB_FEED_POOL_MAX`: the most connections it opens, besides, to read the change feed
    /// (event streams and `/changes`), so that delivering a change never waits behind writes.
    pub feed_pool_max: u32,
    /// `DB_ACQUIRE_TIMEOUT`: how long a request waits for a connection (connecting included)
    /// before it is answered 503.
    pub acquire_timeout: Duration,
    /// `DB_STATEMENT_TIMEOUT`: the longest a statement may run (PostgreSQL; `None` = no limit).
    pub statement_timeout: Option<Duration>,
    /// `DB_IDLE_TIMEOUT`: an idle connection is closed after this long.
    pub idle_timeout: Duration,
    /// `DB_MAX_LIFETIME`: every connection is replaced after this long.
    pub max_lifetime: Duration,
    /// `DB_TRANSACTION_POOLER`: whether `DATABASE_URL` goes through a pooler in transaction
    /// mode (PgBouncer, Neon's `-pooler` endpoint).
    pub transaction_pooler: PoolerMode,
    /// What one user may store.
    pub quotas: Quotas,
    /// `DATABASE_LISTEN_URL`: where this process listens for the commits of other processes
    /// (PostgreSQL).
    pub listen: ListenSetting,
}

/// Per-user quotas, enforced in the write transaction that would exceed them (so they hold
/// under concurrency, and for every caller of the store).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// `MAX_TASKS_PER_USER`: the most tasks one user may have.
    pub max_tasks_per_user: u64,
    /// `MAX_TAGS_PER_USER`: the most distinct tags (ignoring case) across one user's tasks.
    pub max_tags_per_user: u64,
    /// `MAX_LISTS_PER_USER`: the most lists one user may have.
    pub max_lists_per_user: u64,
}

impl Quotas {
    /// Default of [`Self::max_tasks_per_user`].
    pub const MAX_TASKS_PER_USER: u64 = 10_000;
    /// Default of [`Self::max_tags_per_user`].
    pub const MAX_TAGS_PER_USER: u64 = 1_000;
    /// Default of [`Self::max_lists_per_user`].
    pub const MAX_LISTS_PER_USER: u64 = 500;
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            max_tasks_per_user: Self::MAX_TASKS_PER_USER,
            max_tags_per_user: Self::MAX_TAGS_PER_USER,
            max_lists_per_user: Self::MAX_LISTS_PER_USER,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            pool_max: 10,
            feed_pool_max: 8,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Some(Duration::from_secs(10)),
            idle_timeout: Duration::from_secs(60),
            max_lifetime: Duration::from_secs(30 * 60),
            transaction_pooler: PoolerMode::Auto,
            quotas: Quotas::default(),
            listen: ListenSetting::Auto,
        }
    }
}

/// `DB_TRANSACTION_POOLER`: `auto` (the default), `true` or `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolerMode {
    /// On when the host name contains `-pooler.` (Neon's pooled endpoint), off otherwise.
    Auto,
    /// Every operation runs in its own transaction with unnamed statements, which works
    /// behind any transaction-mode pooler, with or without prepared-statement support.
    On,
    /// A direct connection (or a session-mode pooler): cached prepared statements.
    Off,
}

/// `DATABASE_LISTEN_URL`: unset, a PostgreSQL URL, or `off`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenSetting {
    /// `DATABASE_URL` when it is direct; for Neon's `-pooler` host, the same URL without
    /// `-pooler`; behind another transaction pooler, none (poll instead).
    Auto,
    /// This direct (not pooled) URL.
    Url(String),
    /// Never listen: poll the revisions of the users with open streams.
    Off,
}
