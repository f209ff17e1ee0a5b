//! The [`TaskStore`] over SQL, written once for both databases: [`SqlStore`] runs the same
//! statements on PostgreSQL and SQLite (both take `$N` placeholders and `RETURNING`) and asks its
//! [`Dialect`] for what differs: the row lock, the tag aggregate, how a transaction starts,
//! whether a transaction pooler is in the way, and the migrations.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Database, Encode, Executor, Pool, Transaction, Type};

use super::dialect::{Dialect, RowsAffected as _};
use super::row::{RevisedRow, TaggedRow, TaskRow};
use super::statements::{Bind, Conn, Read, SET_COMPLETED, SET_NEXT_TASK, Texts};
use super::{Completion, Created, IdempotencyKey, Outcome, PoolStats, StoreError, TaskStore};
use super::{feed, listing};
use crate::domain::changes::{FeedPosition, FeedRead};
use crate::domain::listing::{ListQuery, Page, Position};
use crate::domain::{NewTask, Task, TaskChanges, TaskId, UserId, now};
use crate::sync::ChangeHub;

/// A [`TaskStore`] on a pool of `D`'s database.
pub(crate) struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    /// The connections that read the change feed (`DB_FEED_POOL_MAX`), so that delivering a
    /// change never waits behind the writes queued for `pool`; `None`: `pool` (an in-memory
    /// SQLite database, which lives in its one connection).
    feed: Option<Pool<D::Db>>,
    dialect: D,
    pub(super) texts: Texts,
    /// Told of every commit that changes a user's tasks.
    hub: Arc<ChangeHub>,
}

/// Where one operation runs: a pooled connection, or a transaction of its own (behind a
/// transaction pooler).
enum Session<DB: Database> {
    Connection(PoolConnection<DB>),
    Transaction(Transaction<'static, DB>),
}

impl<DB: Database> Session<DB> {
    fn conn(&mut self) -> &mut DB::Connection {
        match self {
            Self::Connection(conn) => conn,
            Self::Transaction(tx) => tx,
        }
    }

    async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Connection(_) => Ok(()),
            Self::Transaction(tx) => tx.commit().await,
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// A store on `pool` (and `feed`, to read the change feed), which must be pools of
    /// `dialect`'s database, telling `hub` of its commits.
    pub(super) fn new(
        pool: Pool<D::Db>,
        feed: Option<Pool<D::Db>>,
        dialect: D,
        hub: Arc<ChangeHub>,
    ) -> Self {
        Self {
            pool,
            feed,
            dialect,
            texts: Texts::new::<D>(),
            hub,
        }
    }

    /// Commits `tx`, which took `owner`'s revisions up to `revision`, and tells the hub.
    async fn commit_changes(
        &self,
        tx: Transaction<'static, D::Db>,
        owner: &UserId,
        revision: i64,
    ) -> Result<(), StoreError> {
        tx.commit().await?;
        self.hub.publish(owner.as_str(), revision);
        Ok(())
    }

    /// Whether statements are prepared once and cached (not behind a transaction pooler).
    pub(super) fn persistent(&self) -> bool {
        !self.dialect.pooled()
    }

    /// Where a read or a single write runs.
    async fn session(&self) -> Result<Session<D::Db>, StoreError> {
        self.session_on(&self.pool).await
    }

    /// Where a read of the change feed runs.
    async fn feed_session(&self) -> Result<Session<D::Db>, StoreError> {
        self.session_on(self.feed.as_ref().unwrap_or(&self.pool))
            .await
    }

    async fn session_on(&self, pool: &Pool<D::Db>) -> Result<Session<D::Db>, StoreError> {
        Ok(if self.dialect.pooled() {
            Session::Transaction(pool.begin_with(self.dialect.begin()).await?)
        } else {
            Session::Connection(pool.acquire().await?)
        })
    }

    /// A transaction, begun as the dialect begins them.
    async fn begin(&self) -> Result<Transaction<'static, D::Db>, StoreError> {
        Ok(self.pool.begin_with(self.dialect.begin()).await?)
    }
}

// The `where` clause is the one on the statements' `impl` in `super::statements`.
#[async_trait]
impl<D> TaskStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
    TaskRow: Read<D::Db>,
    TaggedRow: Read<D::Db>,
    (String, String): Read<D::Db>,
    (String, i64): Read<D::Db>,
    (i64,): Read<D::Db>,
    (i64, i64): Read<D::Db>,
    RevisedRow: Read<D::Db>,
    for<'a> &'a str: Bind<D::Db>,
    for<'a> Option<&'a str>: Encode<'a, D::Db> + Type<D::Db>,
    i16: Bind<D::Db>,
    i32: Bind<D::Db>,
    i64: Bind<D::Db>,
    bool: Bind<D::Db>,
    DateTime<Utc>: Bind<D::Db>,
    Option<i32>: Bind<D::Db>,
    Option<i64>: Bind<D::Db>,
    Option<DateTime<Utc>>: Bind<D::Db>,
{
    async fn list(&self, owner: &UserId, query: &ListQuery) -> Result<Page, StoreError> {
        let p = self.persistent();
        let mut session = self.session().await?;
        let page = listing::page_sql(owner, query, &self.texts.select);
        let mut rows: Vec<TaggedRow> =
            Self::bind_params(sqlx::query_as(AssertSqlSafe(page.text)), &page.params)
                .persistent(p)
                .fetch_all(session.conn())
                .await?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let total: i64 = if query.after.is_none() && !more {
            // A first page that is also the last holds every match: no need to count.
            i64::try_from(rows.len()).unwrap_or(i64::MAX)
        } else {
            let count = listing::count_sql(owner, query);
            let (total,): (i64,) =
                Self::bind_params(sqlx::query_as(AssertSqlSafe(count.text)), &count.params)
                    .persistent(p)
                    .fetch_one(session.conn())
                    .await?;
            total
        };
        session.finish().await?;
        let tasks: Vec<Task> = rows.into_iter().map(TaggedRow::into_task).collect();
        let next = if more {
            tasks.last().map(|task| Position::of(task, query.sort))
        } else {
            None
        };
        Ok(Page {
            tasks,
            total: u64::try_from(total).unwrap_or_default(),
            next,
        })
    }

    async fn create(
        &self,
        owner: &UserId,
        task: NewTask,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, StoreError> {
        let mut tx = self.begin().await?;
        if let Some(key) = &key
            && let Some(earlier) = self.replay(&mut tx, owner, key).await?
        {
            return Ok(earlier);
        }
        let revision = self.take_revisions(&mut tx, owner, 1).await?;
        let created = self.insert_task(&mut tx, owner, &task, revision).await?;
        if let Some(key) = &key
            && !self.remember(&mut tx, owner, key, &created).await?
        {
            // A concurrent request with the same key won: answer as it did.
            tx.rollback().await?;
            let mut session = self.session().await?;
            let earlier = self.replay(session.conn(), owner, key).await?;
            session.finish().await?;
            return Ok(earlier.unwrap_or(Created::KeyReused));
        }
        self.commit_changes(tx, owner, revision).await?;
        Ok(Created::New(created))
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let mut session = self.session().await?;
        let row: Option<TaggedRow> = sqlx::query_as(self.texts.get.clone())
            .bind(id.0)
            .bind(owner.as_str())
            .persistent(self.persistent())
            .fetch_optional(session.conn())
            .await?;
        session.finish().await?;
        Ok(row.map(TaggedRow::into_task))
    }

    async fn update(
        &self,
        owner: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError> {
        let mut tx = self.begin().await?;
        let Some(mut task) = self.load_for_update(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != task.version) {
            return Ok(Outcome::Stale);
        }
        if let Err(issues) = task.apply(changes) {
            return Ok(Outcome::Invalid(issues));
        }
        let tags_changed = changes.tags.is_some();
        let revision = self.take_revisions(&mut tx, owner, 1).await?;
        let row = self
            .update_task(&mut tx, owner, &task, tags_changed, revision)
            .await?;
        self.commit_changes(tx, owner, revision).await?;
        Ok(Outcome::Done(row.into_task(task.tags)))
    }

    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Completion>, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin().await?;
        let Some(task) = self.load_for_update(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != task.version) {
            return Ok(Outcome::Stale);
        }
        let completed = completed.unwrap_or(!task.completed);
        if completed == task.completed {
            // Setting the value it already has changes nothing.
            return Ok(Outcome::Done(Completion { task, next: None }));
        }
        let occurrence = if completed && task.next_occurrence_id.is_none() {
            task.next_occurrence()
        } else {
            None
        };
        // The next occurrence (if any) is created first, then the task is completed.
        let count = 1 + usize::from(occurrence.is_some());
        let revision = self.take_revisions(&mut tx, owner, count).await?;
        let at = now();
        let mut row: TaskRow = sqlx::query_as(SET_COMPLETED)
            .bind(id.0)
            .bind(owner.as_str())
            .bind(completed)
            .bind(completed.then_some(at))
            .bind(at)
            .bind(revision)
            .persistent(p)
            .fetch_one(&mut *tx)
            .await?;
        let mut next = None;
        if let Some(occurrence) = occurrence {
            let created = self
                .insert_task(&mut tx, owner, &occurrence, revision - 1)
                .await?;
            row = sqlx::query_as(SET_NEXT_TASK)
                .bind(id.0)
                .bind(owner.as_str())
                .bind(created.id.0)
                .persistent(p)
                .fetch_one(&mut *tx)
                .await?;
            next = Some(created);
        }
        self.commit_changes(tx, owner, revision).await?;
        Ok(Outcome::Done(Completion {
            task: row.into_task(task.tags),
            next,
        }))
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError> {
        let mut tx = self.begin().await?;
        let deleted: Option<(i64,)> = sqlx::query_as(
            "DELETE FROM tasks WHERE id = $1 AND user_id = $2 \
             AND ($3 IS NULL OR version = $3) RETURNING id",
        )
        .bind(id.0)
        .bind(owner.as_str())
        .bind(expected_version)
        .persistent(self.persistent())
        .fetch_optional(&mut *tx)
        .await?;
        if deleted.is_some() {
            let revision = self.take_revisions(&mut tx, owner, 1).await?;
            self.bury(&mut tx, owner, &[id.0], revision).await?;
            self.commit_changes(tx, owner, revision).await?;
            return Ok(Outcome::Done(()));
        }
        tx.rollback().await?;
        Ok(match self.get(owner, id).await? {
            Some(_) => Outcome::Stale,
            None => Outcome::NotFound,
        })
    }

    async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let rows: Vec<(i64,)> = sqlx::query_as(
            "DELETE FROM tasks WHERE user_id = $1 AND completed = TRUE RETURNING id",
        )
        .bind(owner.as_str())
        .persistent(self.persistent())
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let mut ids: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
        ids.sort_unstable();
        let revision = self.take_revisions(&mut tx, owner, ids.len()).await?;
        self.bury(&mut tx, owner, &ids, revision).await?;
        self.commit_changes(tx, owner, revision).await?;
        Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
    }

    async fn tags(&self, owner: &UserId) -> Result<Vec<(String, u64)>, StoreError> {
        let mut session = self.session().await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT min(tag), count(*) FROM task_tags WHERE user_id = $1 \
             GROUP BY tag_key ORDER BY tag_key",
        )
        .bind(owner.as_str())
        .persistent(self.persistent())
        .fetch_all(session.conn())
        .await?;
        session.finish().await?;
        Ok(rows
            .into_iter()
            .map(|(tag, count)| (tag, u64::try_from(count).unwrap_or_default()))
            .collect())
    }

    async fn reminders(
        &self,
        owner: &UserId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Task>, StoreError> {
        let mut session = self.session().await?;
        let rows: Vec<TaggedRow> = sqlx::query_as(self.texts.reminders.clone())
            .bind(owner.as_str())
            .bind(before)
            .bind(i64::from(limit))
            .persistent(self.persistent())
            .fetch_all(session.conn())
            .await?;
        session.finish().await?;
        Ok(rows.into_iter().map(TaggedRow::into_task).collect())
    }

    /// No transaction is needed for a consistent page: the user's revision `R` is read first,
    /// and everything after the reader's position is read up to `R` only. Every revision up to
    /// `R` is committed by then (a user's revisions commit in order), so the later reads see
    /// each change up to `R`, or the one that replaced it since (which is above `R`, and so
    /// left for the next page, where it belongs). The tombstones come with the user's
    /// compaction mark, read by the same statement: a compaction between the reads is seen.
    /// Three statements, and no round trips for `BEGIN` and `COMMIT`.
    async fn changes(
        &self,
        owner: &UserId,
        since: Option<FeedPosition>,
        limit: u32,
    ) -> Result<FeedRead, StoreError> {
        let p = self.persistent();
        let mut session = self.feed_session().await?;
        let (revision, compacted): (i64, i64) = sqlx::query_as(
            "SELECT revision, compacted_through FROM user_revisions WHERE user_id = $1",
        )
        .bind(owner.as_str())
        .persistent(p)
        .fetch_optional(session.conn())
        .await?
        .unwrap_or((0, 0));
        let start = match since {
            // The whole state: every task, but no deletion (the reader has nothing to delete).
            None => FeedPosition {
                after: 0,
                deletions_after: revision,
            },
            // Older than a compacted deletion, or not from this database's history (restored
            // from an older backup?).
            Some(position)
                if position.deletions_after < compacted || position.deletions_after > revision =>
            {
                return Ok(FeedRead::Expired);
            }
            Some(position) => position,
        };
        let fetch = i64::from(limit) + 1;
        let tasks: Vec<RevisedRow> = sqlx::query_as(self.texts.changed.clone())
            .bind(owner.as_str())
            .bind(start.after)
            .bind(revision)
            .bind(fetch)
            .persistent(p)
            .fetch_all(session.conn())
            .await?;
        let mut deletions: Vec<(i64, i64)> = sqlx::query_as(self.texts.deleted.clone())
            .bind(owner.as_str())
            .bind(start.deletions_after)
            .bind(revision)
            .bind(fetch)
            .persistent(p)
            .fetch_all(session.conn())
            .await?;
        session.finish().await?;
        // The compaction mark comes first (revision 0; every change has a higher one).
        let compacted_now = match deletions.first() {
            Some(&(0, compacted)) => {
                deletions.remove(0);
                compacted
            }
            _ => 0,
        };
        if since.is_some() && start.deletions_after < compacted_now {
            return Ok(FeedRead::Expired);
        }
        Ok(FeedRead::Page(feed::page(
            start, revision, tasks, deletions, limit,
        )))
    }

    async fn compact(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin().await?;
        // First what readers are told (`410` below this), then the tombstones, in one commit.
        sqlx::query(
            "UPDATE user_revisions SET compacted_through = purged.revision \
             FROM (SELECT user_id, max(revision) AS revision FROM task_tombstones \
                   WHERE deleted_at < $1 GROUP BY user_id) AS purged \
             WHERE user_revisions.user_id = purged.user_id \
             AND user_revisions.compacted_through < purged.revision",
        )
        .bind(before)
        .persistent(p)
        .execute(&mut *tx)
        .await?;
        let purged = sqlx::query("DELETE FROM task_tombstones WHERE deleted_at < $1")
            .bind(before)
            .persistent(p)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(purged.rows_affected())
    }

    async fn revisions(&self, users: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let users =
            serde_json::to_string(users).map_err(|err| StoreError::Encode(err.to_string()))?;
        let mut session = self.feed_session().await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(self.texts.revisions.clone())
            .bind(users.as_str())
            .persistent(self.persistent())
            .fetch_all(session.conn())
            .await?;
        session.finish().await?;
        Ok(rows)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.as_mut().execute("SELECT 1").await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.dialect.migrate(&self.pool).await
    }

    fn pool_stats(&self) -> PoolStats {
        // The request pool (the feed's few connections are not counted).
        PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        if let Some(feed) = &self.feed {
            feed.close().await;
        }
        self.pool.close().await;
    }
}
