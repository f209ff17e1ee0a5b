//! The statements of the SQL store: their text, with the parts that differ composed once per
//! dialect ([`Texts`]), and the steps several operations share (binding a task's values, writing
//! a task and its tags, reading one to change it, an idempotency key).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::query::QueryAs;
use sqlx::{AssertSqlSafe, Database, Encode, Executor, FromRow, SqlSafeStr, SqlStr, Type};

use super::dialect::{Dialect, RowsAffected as _};
use super::listing::Param;
use super::row::{RevisedRow, TaggedRow, TaskRow, TaskValues};
use super::sql::SqlStore;
use super::{Created, IDEMPOTENCY_WINDOW, IdempotencyKey, StoreError};
use crate::domain::{NewTask, Tag, Task, TaskId, UserId, now};

/// The task columns, in [`TaskRow`]'s order (a macro, so that statements stay `&'static str`).
macro_rules! columns {
    () => {
        "id, user_id, title, description, completed, completed_at, priority, due_at, due_offset, \
         remind_at, recurrence, occurrence, anchor_day, next_task_id, version, created_at, updated_at"
    };
}

/// Inserts a new task and returns its row. Binds the user id, then the [`TaskValues`] (`$13`,
/// the time of the write, is also the update time), then the revision (`$14`).
pub(super) const INSERT_TASK: &str = concat!(
    "INSERT INTO tasks (user_id, title, description, completed, priority, due_at, \
     due_offset, remind_at, recurrence, occurrence, anchor_day, version, title_key, \
     search_text, created_at, updated_at, revision) \
     VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13, $14) \
     RETURNING ",
    columns!()
);

/// Rewrites a task and returns its row. Binds the task id and the user id, then the
/// [`TaskValues`], then the revision (`$15`).
const UPDATE_TASK: &str = concat!(
    "UPDATE tasks SET title = $3, description = $4, priority = $5, due_at = $6, \
     due_offset = $7, remind_at = $8, recurrence = $9, occurrence = $10, \
     anchor_day = $11, title_key = $12, search_text = $13, \
     version = version + 1, updated_at = $14, revision = $15 \
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

/// Takes the next `$2` revisions of user `$1` and returns the last of them (`revision`). The
/// user's row stays locked until the transaction ends, so a higher revision of a user never
/// commits before a lower one: every revision up to a committed one is committed.
pub(super) const TAKE_REVISIONS: &str = "INSERT INTO user_revisions (user_id, revision) \
     VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE \
     SET revision = user_revisions.revision + excluded.revision RETURNING revision";

/// Links a completed task to its next occurrence and returns its row. Binds the task id, the
/// user id and the next occurrence's id.
pub(super) const SET_NEXT_TASK: &str = concat!(
    "UPDATE tasks SET next_task_id = $3 WHERE id = $1 AND user_id = $2 RETURNING ",
    columns!()
);

/// The statements that read tasks with their tags, whose text depends on the dialect (the tag
/// aggregate, the row lock): composed once, when the store is built.
pub(super) struct Texts {
    /// `SELECT` the task columns and the task's tags `FROM tasks`: how every read of tasks
    /// begins (rows of [`TaggedRow`]).
    pub select: String,
    /// One task of a user.
    pub get: SqlStr,
    /// The same, locked for the rest of the transaction.
    pub get_for_update: SqlStr,
    /// A user's pending tasks whose reminder is due by `$2`, soonest first, at most `$3`.
    pub reminders: SqlStr,
    /// [`TAKE_REVISIONS`], and where other processes are told of commits, the notification
    /// of the last revision taken (one statement, one round trip).
    pub take_revisions: SqlStr,
    /// A user's tasks changed after revision `$2` and up to `$3`, oldest change first, at most
    /// `$4` (rows of [`RevisedRow`](super::row::RevisedRow)).
    pub changed: SqlStr,
    /// `(revision, task id)` of a user's tombstones after revision `$2` and up to `$3`, oldest
    /// first, at most `$4`, preceded by `(0, compacted_through)` of the user (read in the same
    /// statement, so that a compaction meanwhile cannot go unnoticed).
    pub deleted: SqlStr,
    /// Tombstones of user `$1` for the task ids of the JSON array `$4`, at revisions `$2 + 1`,
    /// `$2 + 2`, … in the array's order, deleted at `$3`.
    pub tombstones: SqlStr,
    /// The latest revision of each user of the JSON array `$1`.
    pub revisions: SqlStr,
}

impl Texts {
    pub(super) fn new<D: Dialect>() -> Self {
        let select = format!("SELECT {}, {} AS tags FROM tasks", columns!(), D::TAGS);
        let get = format!("{select} WHERE id = $1 AND user_id = $2");
        Self {
            get_for_update: shared(format!("{get}{}", D::LOCK)),
            get: shared(get),
            reminders: shared(format!(
                "{select} WHERE user_id = $1 AND completed = FALSE \
                 AND remind_at IS NOT NULL AND remind_at <= $2 ORDER BY remind_at, id LIMIT $3"
            )),
            take_revisions: shared(match D::NOTIFY {
                Some(notify) => {
                    format!("WITH taken AS ({TAKE_REVISIONS}) SELECT revision FROM taken, {notify}")
                }
                None => TAKE_REVISIONS.to_owned(),
            }),
            changed: shared(format!(
                "SELECT revision AS change_revision, {}, {} AS tags FROM tasks \
                 WHERE user_id = $1 AND revision > $2 AND revision <= $3 \
                 ORDER BY revision LIMIT $4",
                columns!(),
                D::TAGS
            )),
            deleted: shared(
                "SELECT revision, task_id FROM (SELECT revision, task_id FROM task_tombstones \
                 WHERE user_id = $1 AND revision > $2 AND revision <= $3 \
                 ORDER BY revision LIMIT $4) AS d \
                 UNION ALL SELECT 0, compacted_through FROM user_revisions WHERE user_id = $1 \
                 ORDER BY 1"
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
            select,
        }
    }
}

/// The user and revision a commit's notification names (PostgreSQL `NOTIFY`, written by the
/// dialect's `NOTIFY`): `<revision> <user id>`.
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

    /// Stores a new task with its tags, changed at `revision`; returns it as stored.
    pub(super) async fn insert_task(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &NewTask,
        revision: i64,
    ) -> Result<Task, StoreError> {
        let values = TaskValues::of_new(task, now());
        let row: TaskRow =
            Self::bind_values(sqlx::query_as(INSERT_TASK).bind(owner.as_str()), &values)
                .bind(revision)
                .persistent(self.persistent())
                .fetch_one(&mut *tx)
                .await?;
        self.insert_tags(tx, owner, row.id(), &task.tags).await?;
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
        let query = sqlx::query_as(UPDATE_TASK)
            .bind(task.id.0)
            .bind(owner.as_str());
        let row = Self::bind_values(query, &values)
            .bind(revision)
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
    /// made. Called once per transaction, after the task rows it changes are locked (always in
    /// that order: task rows, then the user's revision row, so writers never deadlock), and
    /// before those changes are written. On PostgreSQL the same statement notifies the other
    /// processes (`<revision> <user id>`, see [`parse_feed_payload`]), on commit.
    pub(super) async fn take_revisions(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        count: usize,
    ) -> Result<i64, StoreError> {
        let (last,): (i64,) = sqlx::query_as(self.texts.take_revisions.clone())
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

    /// The task, locked for the rest of the transaction.
    pub(super) async fn load_for_update(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        id: TaskId,
    ) -> Result<Option<Task>, StoreError> {
        let row: Option<TaggedRow> = sqlx::query_as(self.texts.get_for_update.clone())
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
