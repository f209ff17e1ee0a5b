//! [`StoreError`]: what can go wrong in the store, and how sqlx errors map onto it.

use thiserror::Error;

/// What can go wrong in the store, sorted by what the client should be told.
#[derive(Debug, Error)]
pub(crate) enum StoreError {
    /// The database could not be reached (pool timeout, I/O, TLS): a 503, worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The server is up but the database is not ready yet (migrations pending): a 503.
    #[error("the database is not ready yet: {0}")]
    NotReady(&'static str),
    /// The write would take the user past a quota: a client error.
    #[error("{0}")]
    QuotaExceeded(Quota),
    /// A named constraint refused the data: a client error.
    #[error("constraint `{constraint}` was violated")]
    Constraint {
        /// The constraint's name, as declared in the migrations.
        constraint: String,
    },
    /// The connection string or options are unusable.
    #[error("{0}")]
    Config(String),
    /// Anything else: a bug or an unexpected database state (a 500).
    #[error(transparent)]
    Other(sqlx::Error),
    /// A value could not be encoded for storage.
    #[error("could not encode a value: {0}")]
    Encode(String),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err),
            sqlx::Error::Database(ref db) => match db.constraint() {
                Some(name) => Self::Constraint {
                    constraint: name.to_owned(),
                },
                None if is_transient(db.code().as_deref()) => Self::Unavailable(err),
                None => Self::Other(err),
            },
            other => Self::Other(other),
        }
    }
}

impl StoreError {
    /// The same kind of error as `err` would be, for one of several callers who share it (the
    /// members of a failed group commit): sqlx errors are not `Clone`.
    pub(super) fn shared(err: &sqlx::Error) -> Self {
        let transient = match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => is_transient(db.code().as_deref()),
            _ => false,
        };
        let copy = sqlx::Error::Io(std::io::Error::other(format!(
            "the group commit failed: {err}"
        )));
        if transient {
            Self::Unavailable(copy)
        } else {
            Self::Other(copy)
        }
    }
}

/// SQLSTATEs (PostgreSQL) and result codes (SQLite) meaning "try again later".
fn is_transient(code: Option<&str>) -> bool {
    matches!(
        code,
        // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, too many connections,
        // statement timeout (query canceled), serialization failure, deadlock, lock timeout.
        Some("57P01" | "57P02" | "57P03" | "53300" | "57014" | "40001" | "40P01" | "55P03")
        // SQLite: SQLITE_BUSY, SQLITE_LOCKED.
        | Some("5" | "6")
    )
}

/// A per-user quota a write would exceed, with its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub(crate) enum Quota {
    /// `MAX_TASKS_PER_USER`.
    #[error("a user may have at most {0} tasks: delete some to create more")]
    Tasks(u64),
    /// `MAX_TAGS_PER_USER`.
    #[error("a user's tasks may carry at most {0} distinct tags: reuse or remove some")]
    Tags(u64),
    /// `MAX_LISTS_PER_USER`.
    #[error("a user may have at most {0} lists: delete some to create more")]
    Lists(u64),
}
