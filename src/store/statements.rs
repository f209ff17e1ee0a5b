//! The statements of the SQL store: their text, with the parts that differ composed once per
//! dialect ([`Texts`]), and the steps several operations share (binding a task's values, writing
//! a task and its tags, reading one to change it, an idempotency key).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::query::QueryAs;
use sqlx::{AssertSqlSafe, Database, Encode, Executor, FromRow, SqlSafeStr, SqlStr, Type};

use super::dialect::{Dialect, RowsAffected as _};
use super::listing::Param;
use super::row::{ListRow, RevisedListRow, RevisedRow, TaggedRow, TaskRow, TaskValues, tags_json};
use super::sql::SqlStore;
use super::tree::Target;
use super::{Created, IDEMPOTENCY_WINDOW, IdempotencyKey, Quota, StoreError};
use crate::domain::{NewTask, Tag, Task, TaskId, UserId, now};

/// The task columns, in [`TaskRow`]'s order (a macro, so that statements stay `&'static str`).
/// The subtask counts are columns, kept by triggers (the migration `tags_and_counts_on_task`).
macro_rules! columns {
    () => {
        "id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, \
         remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, \
         updated_at, list_id, parent_id, position, subtask_count, completed_subtask_count"
    };
}

/// The list columns, in [`ListRow`](super::row::ListRow)'s order, with the list's task counts.
macro_rules! list_columns {
    () => {
        "id, user_id, name, color, position, version, created_at, updated_at, \
         (SELECT count(*) FROM tasks WHERE tasks.list_id = lists.id) AS task_count, \
         (SELECT count(*) FROM tasks WHERE tasks.list_id = lists.id AND tasks.completed = FALSE) \
         AS pending_count"
    };
}
pub(super) use list_columns;

/// Inserts a new task and returns its row, unless the user has `$19` tasks already (then no
/// row: `MAX_TASKS_PER_USER`, checked in the same statement, on the count that triggers keep
/// in the user's `user_revisions` row, written by [`TAKE_REVISIONS`] before). Binds the user id, then the
/// [`TaskValues`] (`$13`, the time of the write, is also the update time), then the revision
/// (`$14`), the list (`$15`), the parent (`$16`), the position (`$17`), the tags as a JSON
/// array (`$18`) and the quota (`$19`).
pub(super) const INSERT_TASK: &str = concat!(
    "INSERT INTO tasks (user_id, title, description, completed, priority, due_at, \
     due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, \
     search_text, created_at, updated_at, revision, list_id, parent_id, position, tags) \
     SELECT $1, $2, $3, FALSE, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13, $14, \
     $15, $16, $17, $18 \
     WHERE (SELECT task_count FROM user_revisions WHERE user_id = $1) < $19 \
     RETURNING ",
    columns!()
);

/// Rewrites a task and returns its row. Binds the task id and the user id, then the
/// [`TaskValues`], then the revision (`$15`) and the tags as a JSON array (`$16`).
const UPDATE_TASK: &str = concat!(
    "UPDATE tasks SET title = $3, description = $4, priority = $5, due_at = $6, \
     due_offset = $7, remind_at = $8, recurrence = $9, occurrence = $10, \
     anchor_day = $11, title_key = $12, search_text = $13, \
     version = version + 1, updated_at = $14, revision = $15, tags = $16 \
     WHERE id = $1 AND user_id = $2 RETURNING ",
    columns!()
);

/// Completes or reopens a task and returns its row. Binds the task id, the user id, `completed`,
/// `completed_at`, the time of the write and the revision.
pub(super) const SET_COMPLETED: &str = concat!(
    "UPDATE tasks SET completed = $3, completed_at = $4, \
     version = version + 1, updated_at = $5, revision = $6 \
     WHERE id = $1 AND user_id = $2 RETURNING ",
    columns!()
);

/// Moves a task and returns its row. Binds the task id, the user id, the list, the parent, the
/// position, the revision, how much to add to the version (0 or 1) and the time of the write.
pub(super) const MOVE_TASK: &str = concat!(
    "UPDATE tasks SET list_id = $3, parent_id = $4, position = $5, revision = $6, \
     version = version + $7, updated_at = $8 \
     WHERE id = $1 AND user_id = $2 RETURNING ",
    columns!()
);

/// Takes the next `$count` revisions of user `$1` and returns the last of them (`revision`)
/// (a macro, so that statements built on it stay `&'static str`). The user's row stays locked
/// until the transaction ends, so a higher revision of a user never commits before a lower one:
/// every revision up to a committed one is committed.
macro_rules! take_revisions {
    ($count:literal) => {
        concat!(
            "INSERT INTO user_revisions (user_id, revision) VALUES ($1, ",
            $count,
            ") ON CONFLICT (user_id) DO UPDATE \
             SET revision = user_revisions.revision + excluded.revision RETURNING revision"
        )
    };
}
pub(super) use take_revisions;

/// [`take_revisions!`] with the count at `$2`.
pub(super) const TAKE_REVISIONS: &str = take_revisions!("$2");

/// Links a completed task to its next occurrence and returns its row. Binds the task id, the
/// user id and the next occurrence's id.
pub(super) const SET_NEXT_TASK: &str = concat!(
    "UPDATE tasks SET next_task_id = $3 WHERE id = $1 AND user_id = $2 RETURNING ",
    columns!()
);

/// The statements that read tasks with their tags, whose text depends on the dialect (the tag
/// aggregate): composed once, when the store is built.
pub(super) struct Texts {
    /// `SELECT` the task columns and the task's tags `FROM tasks`: how every read of tasks
    /// begins (rows of [`TaggedRow`]).
    pub select: String,
    /// One task of a user.
    pub get: SqlStr,
    /// A user's pending tasks whose reminder is due by `$2`, soonest first, at most `$3`.
    pub reminders: SqlStr,
    /// The dialect's [`Dialect::TAG_KEY_IN`].
    pub tag_key_in: &'static str,
    /// A user's tasks changed after revision `$2` and up to `$3`, oldest change first, at most
    /// `$4` (rows of [`RevisedRow`](super::row::RevisedRow)).
    pub changed: SqlStr,
    /// `(revision, task or list id, kind)` of a user's tombstones after revision `$2` and up to
    /// `$3`, oldest first, at most `$4`, preceded by `(0, compacted_through, 'task')` of the user (read in the same
    /// statement, so that a compaction meanwhile cannot go unnoticed).
    pub deleted: SqlStr,
    /// Tombstones of user `$1` for the task ids of the JSON array `$4`, at revisions `$2 + 1`,
    /// `$2 + 2`, … in the array's order, deleted at `$3`.
    pub tombstones: SqlStr,
    /// The latest revision of each user of the JSON array `$1`.
    pub revisions: SqlStr,
    /// A user's lists changed after revision `$2` and up to `$3`, oldest change first, at most
    /// `$4` (rows of [`RevisedListRow`](super::row::RevisedListRow)).
    pub lists_changed: SqlStr,
    /// Tombstones of lists, as [`Self::tombstones`].
    pub list_tombstones: SqlStr,
    /// Gives the tasks of the JSON array `$3` (ids) of user `$1` the revisions `$2 + 1`,
    /// `$2 + 2`, … in the array's order: they are in the feed again (their subtask counts
    /// changed).
    pub revise: SqlStr,
    /// Rewrites the tasks of the JSON array `$3` (ids) of user `$1`: positions from the JSON
    /// array `$4` (same order), revisions `$2 + 1`, … , version bumped, changed at `$5`.
    pub reposition: SqlStr,
    /// The same for lists.
    pub reposition_lists: SqlStr,
    /// Moves the tasks of the JSON array `$3` (ids) of user `$1` to list `$4` (NULL: the
    /// inbox): revisions `$2 + 1`, …, version bumped, changed at `$5`.
    pub relist: SqlStr,
    /// Task `$1` of user `$2` and its subtasks at every level: `(id, depth)` (the task at
    /// depth 1), parents before children.
    pub subtree: SqlStr,
    /// Task `$1` of user `$2` and its ancestors: ids, the task first.
    pub ancestors: SqlStr,
    /// List `$1` of user `$2`.
    pub find_list: SqlStr,
    /// Tasks of user `$1` in the JSON array `$2` (ids), with their tags.
    pub select_ids: SqlStr,
    /// Deletes the tasks of user `$1` in the JSON array `$2` (ids).
    pub delete_ids: SqlStr,
    /// Completes the pending tasks of user `$1` in the JSON array `$2` (ids) at `$3` (their
    /// revisions are given apart).
    pub complete_all: SqlStr,
    /// Task `$1` of user `$2`: `(id, list_id)`.
    pub task_list: SqlStr,
}

impl Texts {
    pub(super) fn new<D: Dialect>() -> Self {
        let select = format!("SELECT {}, tags FROM tasks", columns!());
        let get = format!("{select} WHERE id = $1 AND user_id = $2");
        Self {
            get: shared(get),
            reminders: shared(format!(
                "{select} WHERE user_id = $1 AND completed = FALSE \
                 AND remind_at IS NOT NULL AND remind_at <= $2 ORDER BY remind_at, id LIMIT $3"
            )),
            changed: shared(format!(
                "SELECT revision AS change_revision, {}, tags FROM tasks \
                 WHERE user_id = $1 AND revision > $2 AND revision <= $3 \
                 ORDER BY revision LIMIT $4",
                columns!()
            )),
            deleted: shared(
                "SELECT revision, task_id, kind FROM (SELECT revision, task_id, kind \
                 FROM task_tombstones \
                 WHERE user_id = $1 AND revision > $2 AND revision <= $3 \
                 ORDER BY revision LIMIT $4) AS d \
                 UNION ALL SELECT 0, compacted_through, 'task' FROM user_revisions \
                 WHERE user_id = $1 ORDER BY 1"
                    .to_owned(),
            ),
            tombstones: shared(format!(
                "INSERT INTO task_tombstones (user_id, task_id, revision, deleted_at) \
                 SELECT $1, CAST(a.value AS BIGINT), $2 + a.ord, $3 FROM {}",
                D::json_rows("$4")
            )),
            revisions: shared(format!(
                "SELECT user_id, revision FROM user_revisions \
                 WHERE user_id IN (SELECT a.value FROM {})",
                D::json_rows("$1")
            )),
            lists_changed: shared(format!(
                "SELECT revision AS change_revision, {} FROM lists \
                 WHERE user_id = $1 AND revision > $2 AND revision <= $3 \
                 ORDER BY revision LIMIT $4",
                list_columns!()
            )),
            list_tombstones: shared(format!(
                "INSERT INTO task_tombstones (user_id, task_id, revision, deleted_at, kind) \
                 SELECT $1, CAST(a.value AS BIGINT), $2 + a.ord, $3, 'list' FROM {}",
                D::json_rows("$4")
            )),
            revise: shared(format!(
                "UPDATE tasks SET revision = $2 + a.ord FROM {} \
                 WHERE tasks.id = CAST(a.value AS BIGINT) AND tasks.user_id = $1",
                D::json_rows("$3")
            )),
            reposition: shared(format!(
                "UPDATE tasks SET list_id = $6, position = k.value, revision = $2 + a.ord, \
                 version = version + 1, updated_at = $5 \
                 FROM {} JOIN {} ON k.ord = a.ord \
                 WHERE tasks.id = CAST(a.value AS BIGINT) AND tasks.user_id = $1",
                D::json_rows("$3"),
                D::json_rows_as("$4", "k")
            )),
            reposition_lists: shared(format!(
                "UPDATE lists SET position = k.value, revision = $2 + a.ord, \
                 version = version + 1, updated_at = $5 \
                 FROM {} JOIN {} ON k.ord = a.ord \
                 WHERE lists.id = CAST(a.value AS BIGINT) AND lists.user_id = $1",
                D::json_rows("$3"),
                D::json_rows_as("$4", "k")
            )),
            relist: shared(format!(
                "UPDATE tasks SET list_id = $4, revision = $2 + a.ord, \
                 version = version + 1, updated_at = $5 FROM {} \
                 WHERE tasks.id = CAST(a.value AS BIGINT) AND tasks.user_id = $1",
                D::json_rows("$3")
            )),
            subtree: shared(format!(
                "WITH RECURSIVE down(id, depth) AS ( \
                   SELECT id, CAST(1 AS BIGINT) FROM tasks WHERE id = $1 AND user_id = $2 \
                   UNION ALL SELECT t.id, down.depth + 1 FROM tasks AS t \
                   JOIN down ON t.parent_id = down.id WHERE down.depth < {limit}) \
                 SELECT id, depth FROM down ORDER BY depth, id",
                limit = RECURSION_LIMIT
            )),
            ancestors: shared(format!(
                "WITH RECURSIVE up(id, parent_id, n) AS ( \
                   SELECT id, parent_id, 1 FROM tasks WHERE id = $1 AND user_id = $2 \
                   UNION ALL SELECT t.id, t.parent_id, up.n + 1 FROM tasks AS t \
                   JOIN up ON t.id = up.parent_id WHERE up.n < {limit}) \
                 SELECT id FROM up ORDER BY n",
                limit = RECURSION_LIMIT
            )),
            find_list: shared(format!(
                "SELECT {} FROM lists WHERE id = $1 AND user_id = $2",
                list_columns!()
            )),
            select_ids: shared(format!(
                "{select} WHERE user_id = $1 AND id IN (SELECT CAST(a.value AS BIGINT) FROM {})",
                D::json_rows("$2")
            )),
            delete_ids: shared(format!(
                "DELETE FROM tasks WHERE user_id = $1 \
                 AND id IN (SELECT CAST(a.value AS BIGINT) FROM {})",
                D::json_rows("$2")
            )),
            complete_all: shared(format!(
                "UPDATE tasks SET completed = TRUE, completed_at = $3, version = version + 1, \
                 updated_at = $3 FROM {} WHERE tasks.id = CAST(a.value AS BIGINT) \
                 AND tasks.user_id = $1 AND tasks.completed = FALSE",
                D::json_rows("$2")
            )),
            task_list: shared(
                "SELECT id, list_id FROM tasks WHERE id = $1 AND user_id = $2".to_owned(),
            ),
            select,
            tag_key_in: D::TAG_KEY_IN,
        }
    }
}

/// How far the recursive statements follow parents (a guard: the rules keep trees at
/// [`MAX_DEPTH`](crate::domain::MAX_DEPTH) levels and free of cycles).
const RECURSION_LIMIT: u32 = 16;

/// The user and revision a commit's notification names (PostgreSQL `NOTIFY`, sent by the
/// `Notifier`): `<revision> <user id>`.
pub(crate) fn parse_feed_payload(payload: &str) -> Option<(&str, i64)> {
    let (revision, user) = payload.split_once(' ')?;
    Some((user, revision.parse().ok()?))
}

/// Statement text composed from constants only, cheap to clone for each use.
pub(super) fn shared(text: String) -> SqlStr {
    AssertSqlSafe(Arc::<str>::from(text)).into_sql_str()
}

/// A Rust type the driver `DB` binds as a parameter (a trait alias).
pub(super) trait Bind<DB: Database>: for<'q> Encode<'q, DB> + Type<DB> {}

impl<DB: Database, T: for<'q> Encode<'q, DB> + Type<DB>> Bind<DB> for T {}

/// A row type the driver `DB` decodes (a trait alias).
pub(super) trait Read<DB: Database>: for<'r> FromRow<'r, DB::Row> + Send + Unpin {}

impl<DB: Database, T: for<'r> FromRow<'r, DB::Row> + Send + Unpin> Read<DB> for T {}

/// A driver connection.
pub(super) type Conn<D> = <<D as Dialect>::Db as Database>::Connection;

/// A query of the driver of `D` returning rows of `O`.
type Query<'q, D, O> =
    QueryAs<'q, <D as Dialect>::Db, O, <<D as Dialect>::Db as Database>::Arguments>;

// The `where` clause below is what the statements need from a driver: connections that execute
// queries, the rows they decode and the types they bind. `SqlStore`'s `TaskStore` impl repeats it
// (Rust does not carry a trait's `where` clauses over to the trait's users, so it cannot be named
// once); both drivers meet it.
impl<D> SqlStore<D>
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
    /// Binds a listing's parameters, in order.
    pub(super) fn bind_params<'q, O>(
        mut query: Query<'q, D, O>,
        params: &'q [Param],
    ) -> Query<'q, D, O> {
        for param in params {
            query = match param {
                Param::Text(v) => query.bind(v.as_str()),
                Param::Int(v) => query.bind(*v),
                Param::Bool(v) => query.bind(*v),
                Param::Time(v) => query.bind(*v),
            };
        }
        query
    }

    /// Binds the values both INSERT and UPDATE write, after the parameters already bound.
    fn bind_values<'q>(
        query: Query<'q, D, TaskRow>,
        v: &'q TaskValues<'_>,
    ) -> Query<'q, D, TaskRow> {
        query
            .bind(v.title)
            .bind(v.description)
            .bind(v.priority)
            .bind(v.due_at)
            .bind(v.due_offset)
            .bind(v.remind_at)
            .bind(v.recurrence.as_deref())
            .bind(v.occurrence)
            .bind(v.anchor_day)
            .bind(v.title_key.as_str())
            .bind(v.search_text.as_str())
            .bind(v.at)
    }

    /// Refuses tags beyond `MAX_TAGS_PER_USER` (after they are written: the transaction is
    /// then rolled back).
    async fn check_tag_quota(&self, tx: &mut Conn<D>, owner: &UserId) -> Result<(), StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(DISTINCT tag_key) FROM task_tags WHERE user_id = $1")
                .bind(owner.as_str())
                .persistent(self.persistent())
                .fetch_one(&mut *tx)
                .await?;
        let max = self.quotas.max_tags_per_user;
        if u64::try_from(count).unwrap_or(u64::MAX) > max {
            return Err(StoreError::QuotaExceeded(Quota::Tags(max)));
        }
        Ok(())
    }

    /// Stores a new task with its tags, within the user's quotas, changed at `revision`, in
    /// `target` at `position`; returns it as stored.
    pub(super) async fn insert_task(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &NewTask,
        revision: i64,
        target: Target,
        position: &str,
    ) -> Result<Task, StoreError> {
        let values = TaskValues::of_new(task, now());
        let max = self.quotas.max_tasks_per_user;
        let tags = tags_json(&task.tags)?;
        let row: Option<TaskRow> =
            Self::bind_values(sqlx::query_as(INSERT_TASK).bind(owner.as_str()), &values)
                .bind(revision)
                .bind(target.list)
                .bind(target.parent)
                .bind(position)
                .bind(tags.as_str())
                .bind(i64::try_from(max).unwrap_or(i64::MAX))
                .persistent(self.persistent())
                .fetch_optional(&mut *tx)
                .await?;
        let row = row.ok_or(StoreError::QuotaExceeded(Quota::Tasks(max)))?;
        self.insert_tags(tx, owner, row.id(), &task.tags).await?;
        if !task.tags.is_empty() {
            self.check_tag_quota(tx, owner).await?;
        }
        Ok(row.into_task(task.tags.clone()))
    }

    /// Writes a changed task (its tags too when `tags_changed`), changed at `revision`; returns
    /// its new row.
    pub(super) async fn update_task(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &Task,
        tags_changed: bool,
        revision: i64,
    ) -> Result<TaskRow, StoreError> {
        let p = self.persistent();
        let values = TaskValues::of_task(task, now());
        let tags = tags_json(&task.tags)?;
        let query = sqlx::query_as(UPDATE_TASK)
            .bind(task.id.0)
            .bind(owner.as_str());
        let row = Self::bind_values(query, &values)
            .bind(revision)
            .bind(tags.as_str())
            .persistent(p)
            .fetch_one(&mut *tx)
            .await?;
        if tags_changed {
            sqlx::query("DELETE FROM task_tags WHERE task_id = $1")
                .bind(task.id.0)
                .persistent(p)
                .execute(&mut *tx)
                .await?;
            self.insert_tags(tx, owner, task.id.0, &task.tags).await?;
            if !task.tags.is_empty() {
                self.check_tag_quota(tx, owner).await?;
            }
        }
        Ok(row)
    }

    async fn insert_tags(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task_id: i64,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        for (position, tag) in tags.iter().enumerate() {
            let key = tag.key();
            sqlx::query(
                "INSERT INTO task_tags (task_id, user_id, tag, tag_key, position) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(task_id)
            .bind(owner.as_str())
            .bind(tag.as_str())
            .bind(key.as_str())
            .bind(i16::try_from(position).unwrap_or(i16::MAX))
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// Takes the next `count` revisions of `owner` for the changes of this transaction and
    /// returns the last one: the changes get `last - count + 1` to `last`, in the order they are
    /// made. Called once per transaction, before those changes are written (the user's other
    /// writes already wait for this one: [`Dialect::begin_write`]); `commit_changes` then
    /// tells this process's hub and the other processes ([`Dialect::committed`]).
    pub(super) async fn take_revisions(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        count: usize,
    ) -> Result<i64, StoreError> {
        let (last,): (i64,) = sqlx::query_as(TAKE_REVISIONS)
            .bind(owner.as_str())
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .persistent(self.persistent())
            .fetch_one(&mut *tx)
            .await?;
        Ok(last)
    }

    /// Leaves the tombstones of the tasks `ids`, deleted by this transaction at the revisions
    /// ending with `last` (one each, in order).
    pub(super) async fn bury(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        ids: &[i64],
        last: i64,
    ) -> Result<(), StoreError> {
        let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        let ids = serde_json::to_string(ids).map_err(|err| StoreError::Encode(err.to_string()))?;
        sqlx::query(self.texts.tombstones.clone())
            .bind(owner.as_str())
            .bind(last - count)
            .bind(now())
            .bind(ids.as_str())
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// The task, read to be changed (in a write transaction: the user's other writes wait
    /// for this one, [`Dialect::begin_write`], so it stays as read until the commit).
    pub(super) async fn load_to_change(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        id: TaskId,
    ) -> Result<Option<Task>, StoreError> {
        let row: Option<TaggedRow> = sqlx::query_as(self.texts.get.clone())
            .bind(id.0)
            .bind(owner.as_str())
            .persistent(self.persistent())
            .fetch_optional(tx)
            .await?;
        Ok(row.map(TaggedRow::into_task))
    }

    /// The stored answer to an earlier use of `key`, if any.
    pub(super) async fn replay(
        &self,
        conn: &mut Conn<D>,
        owner: &UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<Created>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT fingerprint, response FROM idempotency_keys \
             WHERE user_id = $1 AND key = $2 AND created_at > $3",
        )
        .bind(owner.as_str())
        .bind(key.key.as_str())
        .bind(now() - IDEMPOTENCY_WINDOW)
        .persistent(self.persistent())
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|(fingerprint, response)| {
            if fingerprint != key.fingerprint {
                return Created::KeyReused;
            }
            match serde_json::from_str::<Task>(&response) {
                Ok(task) => Created::Replayed(task),
                Err(_) => Created::KeyReused,
            }
        }))
    }

    /// Records `created` as the answer to `key`; `false` when a live use of the key holds it.
    pub(super) async fn remember(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        key: &IdempotencyKey,
        created: &Task,
    ) -> Result<bool, StoreError> {
        let response =
            serde_json::to_string(created).map_err(|err| StoreError::Encode(err.to_string()))?;
        // The user's expired keys go: what a user keeps is bounded by what 24 hours allow.
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at <= $2")
            .bind(owner.as_str())
            .bind(now() - IDEMPOTENCY_WINDOW)
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        // An expired use of the key gives way to this one.
        let stored = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, response, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, key) DO UPDATE SET \
               fingerprint = excluded.fingerprint, response = excluded.response, \
               created_at = excluded.created_at \
             WHERE idempotency_keys.created_at <= $6",
        )
        .bind(owner.as_str())
        .bind(key.key.as_str())
        .bind(key.fingerprint.as_str())
        .bind(response.as_str())
        .bind(now())
        .bind(now() - IDEMPOTENCY_WINDOW)
        .persistent(self.persistent())
        .execute(tx)
        .await?;
        Ok(stored.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::row::TASK_COLUMNS;

    /// The statements select the columns in the order the rows read them by position.
    #[test]
    fn the_task_columns_are_selected_in_the_order_rows_read_them() {
        assert_eq!(columns!(), TASK_COLUMNS.join(", "));
    }
}
