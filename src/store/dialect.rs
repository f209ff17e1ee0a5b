//! What differs between the databases the store runs on: the [`Dialect`] trait, which the
//! PostgreSQL and SQLite modules implement and the shared SQL ([`super::sql`]) asks.

use std::future::Future;

use sqlx::database::HasStatementCache;
use sqlx::{Database, IntoArguments, Pool, SqlStr};

use super::StoreError;
use crate::domain::UserId;

/// One database's SQL and sessions: everything the shared statements leave to the backend.
pub(crate) trait Dialect: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: Database<Arguments: IntoArguments<Self::Db>, QueryResult: RowsAffected>
        + HasStatementCache;

    /// A condition on `task_tags.tag_key`: it is one of the strings of the JSON array bound at
    /// `{keys}` (a placeholder such as `$3`); served by the `(user_id, tag_key, …)` index.
    const TAG_KEY_IN: &'static str;

    /// A `FROM` item named `a` with the rows `(value, ord)` of the elements of the JSON array
    /// in the parameter `param` (e.g. `$4`): each element as text (`value`) and its position,
    /// from 1 (`ord`).
    fn json_rows(param: &str) -> String {
        Self::json_rows_as(param, "a")
    }

    /// [`Self::json_rows`] named `alias`.
    fn json_rows_as(param: &str, alias: &str) -> String;

    /// The statement that opens a transaction.
    fn begin(&self) -> SqlStr;

    /// The statement that opens a write transaction of user `owner` (`None`: of no user in
    /// particular, e.g. a compaction). Where writers of one database run concurrently
    /// (PostgreSQL), it also makes the user's other writes wait until this one ends, before
    /// any statement of it runs: so a per-user quota holds under concurrency, every statement
    /// of the transaction sees the user's writes committed before it, and two writes of one
    /// user never hold row locks the other waits for (no deadlock). By default [`Self::begin`].
    fn begin_write(&self, owner: Option<&UserId>) -> SqlStr {
        let _ = owner;
        self.begin()
    }

    /// Whether the server is reached through a pooler in transaction mode, where no session
    /// state outlives a transaction: each operation then runs in a transaction of its own, and
    /// statements are not prepared once and cached.
    fn pooled(&self) -> bool;

    /// Told once `owner`'s changes up to `revision` are committed (after this process's hub):
    /// where other processes share the database (PostgreSQL), it tells them. By default
    /// nothing.
    fn committed(&self, owner: &UserId, revision: i64) {
        let _ = (owner, revision);
    }

    /// Applies the pending migrations.
    fn migrate(&self, pool: &Pool<Self::Db>)
    -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How many rows a statement changed (each driver's result has it, under no common trait).
pub(crate) trait RowsAffected {
    /// The number of rows inserted, updated or deleted.
    fn rows_affected(&self) -> u64;
}
