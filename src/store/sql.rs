//! The [`TaskStore`] over SQL, written once for both databases: [`SqlStore`] runs the same
//! statements on PostgreSQL and SQLite (both take `$N` placeholders and `RETURNING`) and asks its
//! [`Dialect`] for what differs: the tag aggregate, how a transaction starts,
//! whether a transaction pooler is in the way, and the migrations.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Database, Encode, Executor, Pool, Transaction, Type};

use super::group::{GroupWriter, WriteTx};

use super::dialect::{Dialect, RowsAffected as _};
use super::row::{ListRow, RevisedListRow, RevisedRow, TaggedRow, TaskRow};
use super::statements::{Bind, Conn, Read, SET_COMPLETED, SET_NEXT_TASK, Texts, list_columns};
use super::tree::{Revisions, Siblings, Target, json};
use super::turns::Turns;
use super::{
    Completion, Created, IdempotencyKey, Outcome, PoolStats, Quotas, StoreError, TaskStore,
};
use super::{feed, listing};
use crate::domain::changes::{FeedPosition, FeedRead};
use crate::domain::list::{List, ListChanges, ListId, NewList, TasksOnDelete};
use crate::domain::listing::{ListQuery, Page, Position, TagPage, TagQuery};
use crate::domain::order::{self, Slot};
use crate::domain::{NewTask, Task, TaskChanges, TaskId, TaskMove, UserId, now};
use crate::store::Quota;
use crate::sync::ChangeHub;

/// A [`TaskStore`] on a pool of `D`'s database.
pub(crate) struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    /// The connections that read the change feed (`DB_FEED_POOL_MAX`), so that delivering a
    /// change never waits behind the writes queued for `pool`; `None`: `pool` (an in-memory
    /// SQLite database, which lives in its one connection).
    feed: Option<Pool<D::Db>>,
    /// The writer that commits the writes together (SQLite); `None`: each write is a
    /// transaction of its own on `pool` (PostgreSQL, or an in-memory SQLite database, which
    /// lives in its one connection).
    writer: Option<GroupWriter<D::Db>>,
    /// Each user's turn to write in this process, where writes run concurrently (PostgreSQL).
    turns: Arc<Turns>,
    dialect: D,
    pub(super) texts: Texts,
    /// What one user may store.
    pub(super) quotas: Quotas,
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
    /// `dialect`'s database, holding each user to `quotas` and telling `hub` of its commits.
    pub(super) fn new(
        pool: Pool<D::Db>,
        feed: Option<Pool<D::Db>>,
        dialect: D,
        quotas: Quotas,
        hub: Arc<ChangeHub>,
    ) -> Self {
        Self {
            pool,
            feed,
            writer: None,
            turns: Arc::default(),
            dialect,
            texts: Texts::new::<D>(),
            quotas,
            hub,
        }
    }

    /// Commits the writes in groups through the one connection of `pool` (SQLite: one writer
    /// at a time), instead of a transaction each on the request pool.
    pub(super) fn with_group_commit(mut self, pool: Pool<D::Db>) -> Self
    where
        for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
    {
        self.writer = Some(GroupWriter::new(pool, self.dialect.begin()));
        self
    }

    /// Commits `tx`, which took `owner`'s revisions up to `revision`, and tells the hub (once
    /// the commit is durable).
    async fn commit_changes(
        &self,
        tx: WriteTx<D::Db>,
        owner: &UserId,
        revision: i64,
    ) -> Result<(), StoreError> {
        tx.commit().await?;
        self.hub.publish(owner.as_str(), revision);
        self.dialect.committed(owner, revision);
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

    /// A write transaction of `owner`: every write begins here. With a group writer (SQLite),
    /// a turn in its next group; otherwise, once the user's earlier writes in this process are
    /// done ([`Turns`]: one user's burst holds one pooled connection, not the pool), a
    /// transaction of its own, begun as the dialect begins a write of that user
    /// ([`Dialect::begin_write`]: on PostgreSQL, with the user's lock).
    async fn begin(&self, owner: Option<&UserId>) -> Result<WriteTx<D::Db>, StoreError>
    where
        for<'c> &'c mut Conn<D>: Executor<'c, Database = D::Db>,
    {
        match &self.writer {
            Some(writer) => writer.join().await,
            None => {
                let turn = match owner {
                    Some(owner) => Some(self.turns.take(owner.as_str()).await),
                    None => None,
                };
                Ok(WriteTx::Own(
                    self.pool
                        .begin_with(self.dialect.begin_write(owner))
                        .await?,
                    turn,
                ))
            }
        }
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
    ListRow: Read<D::Db>,
    RevisedListRow: Read<D::Db>,
    (String,): Read<D::Db>,
    (Option<String>,): Read<D::Db>,
    (String, String): Read<D::Db>,
    (String, i64): Read<D::Db>,
    (String, String, i64): Read<D::Db>,
    (i64,): Read<D::Db>,
    (i64, i64): Read<D::Db>,
    (i64, Option<i64>): Read<D::Db>,
    (i64, Option<String>): Read<D::Db>,
    (i64, i64, String): Read<D::Db>,
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
        let page = listing::page_sql(owner, query, &self.texts);
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
            let count = listing::count_sql(owner, query, &self.texts);
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
        let mut tx = self.begin(Some(owner)).await?;
        if let Some(key) = &key
            && let Some(earlier) = self.replay(&mut tx, owner, key).await?
        {
            return Ok(earlier);
        }
        let target = match self
            .resolve(&mut tx, owner, None, task.list_id, task.parent_id.map(Some))
            .await?
        {
            Ok(target) => target,
            Err(issues) => return Ok(Created::Invalid(issues)),
        };
        // The task, and its parent (whose subtask count changes).
        let count = 1 + usize::from(target.parent.is_some());
        let (last_revision, last_position) = self
            .take_revisions_and_last(&mut tx, owner, count, target.siblings())
            .await?;
        let mut revisions = Revisions::ending(last_revision, count);
        let keyed = match self
            .place_last(&mut tx, owner, target.siblings(), last_position)
            .await?
        {
            Ok(keyed) => keyed,
            Err(issue) => return Ok(Created::Invalid(vec![issue])),
        };
        if let Some(last) = keyed.renumbered {
            revisions.extend_to(last);
        }
        let revision = revisions.one();
        let created = self
            .insert_task(&mut tx, owner, &task, revision, target, &keyed.key)
            .await?;
        let parents: Vec<i64> = target.parent.into_iter().collect();
        let base = revisions.take(parents.len());
        self.revise(&mut tx, owner, &parents, base).await?;
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
        self.commit_changes(tx, owner, revisions.last()).await?;
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
        let mut tx = self.begin(Some(owner)).await?;
        let Some(mut task) = self.load_to_change(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != task.version) {
            return Ok(Outcome::Stale);
        }
        let original = task.clone();
        if let Err(issues) = task.apply(changes) {
            return Ok(Outcome::Invalid(issues));
        }
        let tags_changed = changes.tags.is_some();
        let (revision, last) = if changes.stays() {
            let revision = self.take_revisions(&mut tx, owner, 1).await?;
            (revision, revision)
        } else {
            // Another list or parent: the task goes last among its new siblings, unless it
            // stays where it is.
            let stays = |list: Option<Option<ListId>>, parent: Option<Option<TaskId>>| {
                list.is_none_or(|l| l == original.list_id)
                    && parent.is_none_or(|p| p == original.parent_id)
            };
            if stays(changes.list_id, changes.parent_id) {
                let revision = self.take_revisions(&mut tx, owner, 1).await?;
                (revision, revision)
            } else {
                match self
                    .relocate(
                        &mut tx,
                        owner,
                        &original,
                        changes.list_id,
                        changes.parent_id,
                        Slot::Last,
                        false,
                    )
                    .await?
                {
                    Ok(moved) => (moved.revision, moved.last),
                    Err(issues) => return Ok(Outcome::Invalid(issues)),
                }
            }
        };
        let row = self
            .update_task(&mut tx, owner, &task, tags_changed, revision)
            .await?;
        self.commit_changes(tx, owner, last).await?;
        Ok(Outcome::Done(row.into_task(task.tags)))
    }

    async fn move_task(
        &self,
        owner: &UserId,
        id: TaskId,
        to: &TaskMove,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Task>, StoreError> {
        let mut tx = self.begin(Some(owner)).await?;
        let Some(task) = self.load_to_change(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != task.version) {
            return Ok(Outcome::Stale);
        }
        match self
            .relocate(
                &mut tx,
                owner,
                &task,
                to.list_id,
                to.parent_id,
                to.slot,
                true,
            )
            .await?
        {
            Ok(moved) => {
                self.commit_changes(tx, owner, moved.last).await?;
                Ok(Outcome::Done(moved.row.into_task(task.tags)))
            }
            Err(issues) => Ok(Outcome::Invalid(issues)),
        }
    }

    async fn set_completed(
        &self,
        owner: &UserId,
        id: TaskId,
        completed: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<Completion>, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin(Some(owner)).await?;
        let Some(task) = self.load_to_change(&mut tx, owner, id).await? else {
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
        // Completing a task completes its pending subtasks (every level); every one of them
        // is sent again (their counts change too). Reopening reopens the task alone.
        let below: Vec<i64> = if completed {
            let subtree = self.subtree(&mut tx, owner, &task).await?;
            subtree
                .into_iter()
                .map(|(sub, _)| sub)
                .filter(|sub| *sub != id.0)
                .collect()
        } else {
            Vec::new()
        };
        let occurrence = if completed && task.next_occurrence_id.is_none() {
            task.next_occurrence()
        } else {
            None
        };
        let parents: Vec<i64> = task.parent_id.map(|p| p.0).into_iter().collect();
        // The subtasks, the parent, the next occurrence and its copies of the subtasks, then
        // the task itself (last: the occurrence it names comes before it in the feed).
        let copies = if occurrence.is_some() { below.len() } else { 0 };
        let count = below.len() + parents.len() + usize::from(occurrence.is_some()) + copies + 1;
        let mut revisions =
            Revisions::ending(self.take_revisions(&mut tx, owner, count).await?, count);
        let at = now();
        if !below.is_empty() {
            let ids = json(&below)?;
            sqlx::query(self.texts.complete_all.clone())
                .bind(owner.as_str())
                .bind(ids.as_str())
                .bind(at)
                .persistent(p)
                .execute(&mut *tx)
                .await?;
            let base = revisions.take(below.len());
            self.revise(&mut tx, owner, &below, base).await?;
        }
        let base = revisions.take(parents.len());
        self.revise(&mut tx, owner, &parents, base).await?;
        let mut next = None;
        if let Some(occurrence) = occurrence {
            let target = Target {
                list: task.list_id.map(|l| l.0),
                parent: task.parent_id.map(|p| p.0),
            };
            let keyed = match self
                .place_key(&mut tx, owner, target.siblings(), Slot::After(id.0), None)
                .await?
            {
                Ok(keyed) => keyed,
                Err(issue) => return Ok(Outcome::Invalid(vec![issue])),
            };
            if let Some(last) = keyed.renumbered {
                revisions.extend_to(last);
            }
            let revision = revisions.one();
            let created = self
                .insert_task(&mut tx, owner, &occurrence, revision, target, &keyed.key)
                .await?;
            self.copy_subtasks(&mut tx, owner, &task, &created, &below, &mut revisions)
                .await?;
            next = Some(created);
        }
        let revision = revisions.one();
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
        if let Some(created) = &next {
            row = sqlx::query_as(SET_NEXT_TASK)
                .bind(id.0)
                .bind(owner.as_str())
                .bind(created.id.0)
                .persistent(p)
                .fetch_one(&mut *tx)
                .await?;
        }
        self.commit_changes(tx, owner, revisions.last()).await?;
        let next = match next {
            // Read again: its copied subtasks are counted now.
            Some(created) => self.get(owner, created.id).await?.or(Some(created)),
            None => None,
        };
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
        let mut tx = self.begin(Some(owner)).await?;
        let Some(task) = self.load_to_change(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != task.version) {
            return Ok(Outcome::Stale);
        }
        let parents: Vec<i64> = task.parent_id.map(|p| p.0).into_iter().collect();
        // The user's writes are serial from `begin`: no subtask comes or goes meanwhile.
        let doomed: Vec<i64> = self
            .subtree(&mut tx, owner, &task)
            .await?
            .into_iter()
            .map(|(sub, _)| sub)
            .collect();
        let count = doomed.len() + parents.len();
        let last = self.take_revisions(&mut tx, owner, count).await?;
        let base = last - i64::try_from(count).unwrap_or(i64::MAX);
        self.delete_tasks(&mut tx, owner, &doomed, &parents, base)
            .await?;
        self.commit_changes(tx, owner, last).await?;
        Ok(Outcome::Done(()))
    }

    async fn delete_completed(&self, owner: &UserId) -> Result<u64, StoreError> {
        let mut tx = self.begin(Some(owner)).await?;
        let (doomed, parents) = self.completed_trees(&mut tx, owner).await?;
        if doomed.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        // The user's writes are serial from `begin`: what was read is what is deleted.
        let count = doomed.len() + parents.len();
        let last = self.take_revisions(&mut tx, owner, count).await?;
        let base = last - i64::try_from(count).unwrap_or(i64::MAX);
        self.delete_tasks(&mut tx, owner, &doomed, &parents, base)
            .await?;
        self.commit_changes(tx, owner, last).await?;
        Ok(u64::try_from(doomed.len()).unwrap_or(u64::MAX))
    }

    async fn lists(&self, owner: &UserId) -> Result<Vec<List>, StoreError> {
        let mut session = self.session().await?;
        let rows: Vec<ListRow> = sqlx::query_as(concat!(
            "SELECT ",
            list_columns!(),
            " FROM lists WHERE user_id = $1 ORDER BY position, id"
        ))
        .bind(owner.as_str())
        .persistent(self.persistent())
        .fetch_all(session.conn())
        .await?;
        session.finish().await?;
        Ok(rows.into_iter().map(ListRow::into_list).collect())
    }

    async fn get_list(&self, owner: &UserId, id: ListId) -> Result<Option<List>, StoreError> {
        let mut session = self.session().await?;
        let row: Option<ListRow> = sqlx::query_as(concat!(
            "SELECT ",
            list_columns!(),
            " FROM lists WHERE id = $1 AND user_id = $2"
        ))
        .bind(id.0)
        .bind(owner.as_str())
        .persistent(self.persistent())
        .fetch_optional(session.conn())
        .await?;
        session.finish().await?;
        Ok(row.map(ListRow::into_list))
    }

    async fn create_list(
        &self,
        owner: &UserId,
        list: &NewList,
    ) -> Result<Outcome<List>, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin(Some(owner)).await?;
        // The user's lock first: the quota, the name and the position are then this
        // transaction's to check.
        let mut revisions = Revisions::ending(self.take_revisions(&mut tx, owner, 1).await?, 1);
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM lists WHERE user_id = $1")
            .bind(owner.as_str())
            .persistent(p)
            .fetch_one(&mut *tx)
            .await?;
        let max = self.quotas.max_lists_per_user;
        if u64::try_from(count).unwrap_or(u64::MAX) >= max {
            return Err(StoreError::QuotaExceeded(Quota::Lists(max)));
        }
        if let Some(conflict) = self.name_taken(&mut tx, owner, &list.name.key(), 0).await? {
            return Ok(Outcome::Conflict(conflict));
        }
        let keyed = match self
            .place_key(&mut tx, owner, Siblings::Lists, Slot::Last, None)
            .await?
        {
            Ok(keyed) => keyed,
            Err(issue) => return Ok(Outcome::Invalid(vec![issue])),
        };
        if let Some(last) = keyed.renumbered {
            revisions.extend_to(last);
        }
        let at = now();
        let row: ListRow = sqlx::query_as(concat!(
            "INSERT INTO lists (user_id, name, name_key, color, position, revision, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
            list_columns!()
        ))
        .bind(owner.as_str())
        .bind(list.name.as_str())
        .bind(list.name.key().as_str())
        .bind(list.color.as_ref().map(|c| c.as_str()))
        .bind(keyed.key.as_str())
        .bind(revisions.one())
        .bind(at)
        .persistent(p)
        .fetch_one(&mut *tx)
        .await?;
        self.commit_changes(tx, owner, revisions.last()).await?;
        Ok(Outcome::Done(row.into_list()))
    }

    async fn update_list(
        &self,
        owner: &UserId,
        id: ListId,
        changes: &ListChanges,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError> {
        let mut tx = self.begin(Some(owner)).await?;
        let Some(current) = self.find_list(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        let current = current.into_list();
        if expected_version.is_some_and(|v| v != current.version) {
            return Ok(Outcome::Stale);
        }
        let revision = self.take_revisions(&mut tx, owner, 1).await?;
        let name = match &changes.name {
            Some(name) => {
                if let Some(conflict) = self.name_taken(&mut tx, owner, &name.key(), id.0).await? {
                    return Ok(Outcome::Conflict(conflict));
                }
                name.as_str().to_owned()
            }
            None => current.name,
        };
        let color = match &changes.color {
            Some(color) => color.as_ref().map(|c| c.as_str().to_owned()),
            None => current.color,
        };
        let row: ListRow = sqlx::query_as(concat!(
            "UPDATE lists SET name = $3, name_key = $4, color = $5, version = version + 1, \
             updated_at = $6, revision = $7 WHERE id = $1 AND user_id = $2 RETURNING ",
            list_columns!()
        ))
        .bind(id.0)
        .bind(owner.as_str())
        .bind(name.as_str())
        .bind(name.to_lowercase().as_str())
        .bind(color.as_deref())
        .bind(now())
        .bind(revision)
        .persistent(self.persistent())
        .fetch_one(&mut *tx)
        .await?;
        self.commit_changes(tx, owner, revision).await?;
        Ok(Outcome::Done(row.into_list()))
    }

    async fn move_list(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot,
        expected_version: Option<i64>,
    ) -> Result<Outcome<List>, StoreError> {
        let mut tx = self.begin(Some(owner)).await?;
        let Some(current) = self.find_list(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != current.into_list().version) {
            return Ok(Outcome::Stale);
        }
        let mut revisions = Revisions::ending(self.take_revisions(&mut tx, owner, 1).await?, 1);
        let revision = revisions.one();
        let keyed = match self
            .place_key(&mut tx, owner, Siblings::Lists, slot, Some(id.0))
            .await?
        {
            Ok(keyed) => keyed,
            Err(issue) => return Ok(Outcome::Invalid(vec![issue])),
        };
        if let Some(last) = keyed.renumbered {
            revisions.extend_to(last);
        }
        let row: ListRow = sqlx::query_as(concat!(
            "UPDATE lists SET position = $3, version = version + 1, updated_at = $4, \
             revision = $5 WHERE id = $1 AND user_id = $2 RETURNING ",
            list_columns!()
        ))
        .bind(id.0)
        .bind(owner.as_str())
        .bind(keyed.key.as_str())
        .bind(now())
        .bind(revision)
        .persistent(self.persistent())
        .fetch_one(&mut *tx)
        .await?;
        self.commit_changes(tx, owner, revisions.last()).await?;
        Ok(Outcome::Done(row.into_list()))
    }

    async fn delete_list(
        &self,
        owner: &UserId,
        id: ListId,
        tasks: Option<TasksOnDelete>,
        expected_version: Option<i64>,
    ) -> Result<Outcome<()>, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin(Some(owner)).await?;
        let Some(current) = self.find_list(&mut tx, owner, id).await? else {
            return Ok(Outcome::NotFound);
        };
        if expected_version.is_some_and(|v| v != current.into_list().version) {
            return Ok(Outcome::Stale);
        }
        // Top-level tasks first, each level in its order. (A task goes into a list only
        // holding the list, which this transaction holds: no task joins meanwhile.)
        let members: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, parent_id FROM tasks WHERE user_id = $1 AND list_id = $2 \
             ORDER BY parent_id IS NOT NULL, position, id",
        )
        .bind(owner.as_str())
        .bind(id.0)
        .persistent(p)
        .fetch_all(&mut *tx)
        .await?;
        let Some(tasks) = tasks.or(members.is_empty().then_some(TasksOnDelete::Delete)) else {
            return Ok(Outcome::Conflict(format!(
                "the list still has {} task(s): delete it with `?tasks=inbox` to move them to \
                 the inbox, or with `?tasks=delete` to delete them too",
                members.len()
            )));
        };
        let ids: Vec<i64> = members.iter().map(|(task, _)| *task).collect();
        let count = ids.len() + 1;
        let mut revisions =
            Revisions::ending(self.take_revisions(&mut tx, owner, count).await?, count);
        match tasks {
            TasksOnDelete::Delete => {
                let base = revisions.take(ids.len());
                self.delete_tasks(&mut tx, owner, &ids, &[], base).await?;
            }
            TasksOnDelete::Inbox => {
                // The top-level tasks go after the inbox's, in their order; their subtasks
                // keep their places under them.
                let top: Vec<i64> = members
                    .iter()
                    .filter(|(_, parent)| parent.is_none())
                    .map(|(task, _)| *task)
                    .collect();
                let below: Vec<i64> = members
                    .iter()
                    .filter(|(_, parent)| parent.is_some())
                    .map(|(task, _)| *task)
                    .collect();
                let inbox = Siblings::Tasks {
                    list: None,
                    parent: None,
                };
                let mut keys = Vec::with_capacity(top.len());
                let mut last = match self
                    .place_key(&mut tx, owner, inbox, Slot::Last, None)
                    .await?
                {
                    Ok(keyed) => {
                        if let Some(renumbered) = keyed.renumbered {
                            revisions.extend_to(renumbered);
                        }
                        keyed.key
                    }
                    Err(issue) => return Ok(Outcome::Invalid(vec![issue])),
                };
                for _ in &top {
                    keys.push(last.clone());
                    last = order::between(Some(&last), None).unwrap_or_else(|| last.clone());
                }
                let base = revisions.take(top.len());
                self.reposition(&mut tx, owner, inbox, &top, &keys, base)
                    .await?;
                let base = revisions.take(below.len());
                self.relist(&mut tx, owner, &below, None, base, now())
                    .await?;
            }
        }
        sqlx::query("DELETE FROM lists WHERE id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(owner.as_str())
            .persistent(p)
            .execute(&mut *tx)
            .await?;
        let revision = revisions.one();
        let list = json(&[id.0])?;
        sqlx::query(self.texts.list_tombstones.clone())
            .bind(owner.as_str())
            .bind(revision - 1)
            .bind(now())
            .bind(list.as_str())
            .persistent(p)
            .execute(&mut *tx)
            .await?;
        self.commit_changes(tx, owner, revisions.last()).await?;
        Ok(Outcome::Done(()))
    }

    async fn tags(&self, owner: &UserId, query: &TagQuery) -> Result<TagPage, StoreError> {
        let p = self.persistent();
        let mut session = self.session().await?;
        let mut rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT tag_key, min(tag), count(*) FROM task_tags \
             WHERE user_id = $1 AND ($2 IS NULL OR tag_key > $2) \
             GROUP BY tag_key ORDER BY tag_key LIMIT $3",
        )
        .bind(owner.as_str())
        .bind(query.after.as_deref())
        .bind(i64::from(query.limit) + 1)
        .persistent(p)
        .fetch_all(session.conn())
        .await?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let total = if query.after.is_none() && !more {
            i64::try_from(rows.len()).unwrap_or(i64::MAX)
        } else {
            let (total,): (i64,) =
                sqlx::query_as("SELECT count(DISTINCT tag_key) FROM task_tags WHERE user_id = $1")
                    .bind(owner.as_str())
                    .persistent(p)
                    .fetch_one(session.conn())
                    .await?;
            total
        };
        session.finish().await?;
        let next = if more {
            rows.last().map(|(key, _, _)| key.clone())
        } else {
            None
        };
        Ok(TagPage {
            tags: rows
                .into_iter()
                .map(|(_, tag, count)| (tag, u64::try_from(count).unwrap_or_default()))
                .collect(),
            total: u64::try_from(total).unwrap_or_default(),
            next,
        })
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
    /// Four statements (the tasks, the lists, the tombstones), and no round trips for `BEGIN`
    /// and `COMMIT`.
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
        let lists: Vec<RevisedListRow> = sqlx::query_as(self.texts.lists_changed.clone())
            .bind(owner.as_str())
            .bind(start.after)
            .bind(revision)
            .bind(fetch)
            .persistent(p)
            .fetch_all(session.conn())
            .await?;
        let mut deletions: Vec<(i64, i64, String)> = sqlx::query_as(self.texts.deleted.clone())
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
            Some(&(0, compacted, _)) => {
                deletions.remove(0);
                compacted
            }
            _ => 0,
        };
        if since.is_some() && start.deletions_after < compacted_now {
            return Ok(FeedRead::Expired);
        }
        Ok(FeedRead::Page(feed::page(
            start, revision, tasks, lists, deletions, limit,
        )))
    }

    async fn compact(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let p = self.persistent();
        let mut tx = self.begin(None).await?;
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
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}
