//! Group commit, for a database with one writer at a time (SQLite): the write transactions
//! waiting for the writer are committed together, in one transaction (one commit, one sync of
//! the log), and each is still told its own outcome.
//!
//! One task, the writer, owns the write connection. It begins a transaction and lends the
//! connection to the first waiting write inside a `SAVEPOINT` of its own name (sent ahead of the
//! write's first statement, not waited for); the write runs its statements as
//! it would in a transaction of its own ([`WriteTx`] derefs to the connection) and ends: a
//! commit keeps what it did, anything else (an error, a quota, a rollback, a dropped future)
//! rolls back to its savepoint, so a failing write leaves no trace and fails no other. The writer
//! then lends the connection to the next waiting write, and so on until none is waiting (or the
//! group is full), commits, and only then answers each committed write: an acknowledged write is
//! durable, and whoever it tells next (the change hub) hears of it after the commit.
//!
//! The store's one transaction entry point (`SqlStore::begin`) hands out a [`WriteTx`], so every
//! write, whatever its kind, goes through here; PostgreSQL keeps transactions of its own
//! ([`WriteTx::Own`]), which it commits concurrently.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Database, Executor, IntoArguments, Pool, SqlStr, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

use super::StoreError;
use super::turns::Turn;

/// The most writes committed together: a bound on how long the first of a group waits for
/// the last.
const MAX_MEMBERS: usize = 64;

/// The longest a group stays open for more writes once it has begun.
const MAX_OPEN: Duration = Duration::from_millis(5);

/// A write transaction: the database's own, or a member of a group commit. Either way it
/// derefs to the connection its statements run on, and ends with [`WriteTx::commit`] or
/// [`WriteTx::rollback`] (dropped, it rolls back).
pub(crate) enum WriteTx<DB: Database> {
    /// A transaction of its own (PostgreSQL), with its user's turn in this process when it
    /// has a user (held until it ends).
    Own(Transaction<'static, DB>, Option<Turn>),
    /// A savepoint in the writer's group transaction (SQLite).
    Member(Member<DB>),
}

impl<DB: Database> WriteTx<DB> {
    /// Commits: returns once the changes are durable (for a member, once its group committed).
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Own(tx, _turn) => Ok(tx.commit().await?),
            Self::Member(member) => member.commit().await,
        }
    }

    /// Undoes every change made through this transaction.
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Self::Own(tx, _turn) => Ok(tx.rollback().await?),
            // The writer rolls back to the member's savepoint when it hears of the drop.
            Self::Member(member) => {
                drop(member);
                Ok(())
            }
        }
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Own(tx, _) => tx,
            Self::Member(member) => &member.conn,
        }
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Own(tx, _) => tx,
            Self::Member(member) => &mut member.conn,
        }
    }
}

/// A write's turn on the writer's connection, inside its own savepoint.
pub(crate) struct Member<DB: Database> {
    /// The writer's connection, lent for the member's statements.
    conn: OwnedMutexGuard<PoolConnection<DB>>,
    /// Tells the writer how the member ended (taken when it is told).
    ended: Option<oneshot::Sender<Ending>>,
}

/// How a member ended.
enum Ending {
    /// Keep its changes, and answer on the sender once the group committed (or failed).
    Commit(oneshot::Sender<Result<(), StoreError>>),
    /// Undo them.
    Rollback,
}

impl<DB: Database> Member<DB> {
    async fn commit(mut self) -> Result<(), StoreError> {
        let (answer, committed) = oneshot::channel();
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(Ending::Commit(answer));
        }
        // Gives the connection back.
        drop(self);
        committed
            .await
            .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::WorkerCrashed)))
    }
}

impl<DB: Database> Drop for Member<DB> {
    fn drop(&mut self) {
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(Ending::Rollback);
        }
    }
}

/// What waits for the writer: where to send the write's [`Member`] (or why there is none).
type Waiter<DB> = oneshot::Sender<Result<WriteTx<DB>, StoreError>>;

/// The writer of a database that has one writer at a time: commits the writes that wait for it
/// in groups. Its task starts with the first write.
pub(crate) struct GroupWriter<DB: Database> {
    /// The write connection (a pool of one: opened on first use, reopened if it breaks).
    pool: Pool<DB>,
    /// The statement that opens the group's transaction.
    begin: SqlStr,
    /// The writer task's queue.
    queue: OnceLock<mpsc::UnboundedSender<Waiter<DB>>>,
}

impl<DB> GroupWriter<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    /// A writer on `pool` (which should hold one connection), opening its transactions with
    /// `begin`.
    pub(crate) fn new(pool: Pool<DB>, begin: SqlStr) -> Self {
        Self {
            pool,
            begin,
            queue: OnceLock::new(),
        }
    }

    /// Waits for this write's turn in a group.
    pub(crate) async fn join(&self) -> Result<WriteTx<DB>, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (queue, waiting) = mpsc::unbounded_channel();
            tokio::spawn(write(self.pool.clone(), self.begin.clone(), waiting));
            queue
        });
        let (waiter, turn) = oneshot::channel();
        queue
            .send(waiter)
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        turn.await
            .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::WorkerCrashed)))
    }

    /// Closes the write connection.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// The writer task: one group after another, while the store lives.
async fn write<DB>(pool: Pool<DB>, begin: SqlStr, mut waiting: mpsc::UnboundedReceiver<Waiter<DB>>)
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    while let Some(first) = waiting.recv().await {
        let conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                let _ = first.send(Err(err.into()));
                continue;
            }
        };
        let conn = Arc::new(Mutex::new(conn));
        if let Err(err) = run(&conn, sqlx::query(begin.clone())).await {
            let _ = first.send(Err(err.into()));
            continue;
        }
        group(&conn, first, &mut waiting).await;
    }
}

/// One group: lends the connection to `first` and to the writes waiting after it, one at a
/// time, then commits and answers them.
async fn group<DB>(
    conn: &Arc<Mutex<PoolConnection<DB>>>,
    first: Waiter<DB>,
    waiting: &mut mpsc::UnboundedReceiver<Waiter<DB>>,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    let opened = Instant::now();
    let mut committed: Vec<oneshot::Sender<Result<(), StoreError>>> = Vec::new();
    let mut next = Some(first);
    let mut members = 0;
    while let Some(waiter) = next.take() {
        members += 1;
        let mut lent = Arc::clone(conn).lock_owned().await;
        // The member's savepoint is sent, not waited for: it queues on the connection's
        // thread ahead of the member's first statement, and the member starts at once (one
        // round trip to that thread less per write). sqlx's SQLite driver sends a statement
        // when its future is first polled and runs it even if nobody waits for the answer.
        // Should it not have run, or have failed, the member's writes still belong to the
        // group; only a rollback needs the savepoint, and `ROLLBACK TO` one that does not
        // exist fails, which fails the group: never a rollback to another member's
        // savepoint, because each member's name is its own.
        let savepoint = format!("m{members}");
        let open = sqlx::query(AssertSqlSafe(format!("SAVEPOINT {savepoint}")));
        if let Some(Err(err)) = open.execute(lent.as_mut()).now_or_never() {
            drop(lent);
            let _ = waiter.send(Err(StoreError::shared(&err)));
            return fail(conn, committed, &err).await;
        }
        let (ended, ending) = oneshot::channel();
        let member = Member {
            conn: lent,
            ended: Some(ended),
        };
        // A waiter that has gone drops the member, which rolls back.
        let _ = waiter.send(Ok(WriteTx::Member(member)));
        // The savepoints are not released (a round trip each, on the writer's path): they
        // nest, `ROLLBACK TO` undoes the latest one only, and `COMMIT` ends them all.
        match ending.await.unwrap_or(Ending::Rollback) {
            Ending::Commit(answer) => committed.push(answer),
            Ending::Rollback => {
                // The member's error may have ended the whole transaction (SQLite does so
                // on a full disk or an I/O error): the group is lost.
                let undo = sqlx::query(AssertSqlSafe(format!("ROLLBACK TO {savepoint}")));
                if let Err(err) = run(conn, undo).await {
                    return fail(conn, committed, &err).await;
                }
            }
        }
        if members < MAX_MEMBERS && opened.elapsed() < MAX_OPEN {
            next = waiting.try_recv().ok();
        }
    }
    match run(conn, sqlx::query("COMMIT")).await {
        Ok(()) => {
            for answer in committed {
                let _ = answer.send(Ok(()));
            }
        }
        Err(err) => fail(conn, committed, &err).await,
    }
}

/// The group's transaction failed: rolls it back and tells every member that had committed.
async fn fail<DB>(
    conn: &Arc<Mutex<PoolConnection<DB>>>,
    committed: Vec<oneshot::Sender<Result<(), StoreError>>>,
    err: &sqlx::Error,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    tracing::warn!(error = %err, members = committed.len(), "a group commit failed");
    // There may be no transaction left to roll back.
    let _ = run(conn, sqlx::query("ROLLBACK")).await;
    for answer in committed {
        let _ = answer.send(Err(StoreError::shared(err)));
    }
}

/// Runs one of the writer's own statements.
async fn run<DB>(
    conn: &Arc<Mutex<PoolConnection<DB>>>,
    query: sqlx::query::Query<'_, DB, <DB as Database>::Arguments>,
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
{
    let mut conn = conn.lock().await;
    query.execute(conn.as_mut()).await.map(|_| ())
}
