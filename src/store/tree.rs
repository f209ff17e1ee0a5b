//! Lists, subtasks and manual order in the SQL store: where a task goes (its list and parent,
//! checked), the position key it gets among its siblings, and the subtrees that move,
//! complete and go with it.
//!
//! Every write here runs in a write transaction of its user ([`SqlStore::begin`]): the user's
//! other writes wait for it from its start (on PostgreSQL the user's advisory lock, taken with
//! `BEGIN`; on SQLite the one writer), so the rows it reads (the task, its subtasks, the list
//! and parent it goes to) stay as read until it commits, and no row lock is needed on top. A
//! position key is computed once the user's revision row is held as well
//! ([`SqlStore::take_revisions`]): every writer of positions holds it, so the siblings read are
//! the ones committed, and two writers never compute the same key. The unique indexes on positions (`tasks_sibling_position_key`,
//! `lists_user_position_key`) back this up.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Encode, Executor, Type};

use super::StoreError;
use super::dialect::Dialect;
use super::row::{ListRow, RevisedListRow, RevisedRow, TaggedRow, TaskRow};
use super::sql::SqlStore;
use super::statements::{Bind, Conn, Read, take_revisions};
use crate::domain::list::ListId;
use crate::domain::order::{self, MAX_KEY_LEN, Slot};
use crate::domain::{FieldIssue, MAX_DEPTH, Task, TaskId, UserId};

/// The siblings a task or list is ordered among.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Siblings {
    /// The tasks of a list (`None`: the inbox) under one parent (`None`: the top level).
    Tasks {
        /// The list.
        list: Option<i64>,
        /// The parent.
        parent: Option<i64>,
    },
    /// The user's lists.
    Lists,
}

impl Siblings {
    fn table(self) -> &'static str {
        match self {
            Self::Tasks { .. } => "tasks",
            Self::Lists => "lists",
        }
    }

    /// The condition selecting the siblings of user `$1` but `$2` (an id, or 0), and the
    /// values to bind after those two; the next placeholder is `$` + (2 + their number + 1).
    fn scope(self) -> (&'static str, Vec<i64>) {
        match self {
            Self::Tasks { list, parent } => (
                "user_id = $1 AND id <> $2 AND coalesce(list_id, 0) = $3 \
                 AND coalesce(parent_id, 0) = $4",
                vec![list.unwrap_or(0), parent.unwrap_or(0)],
            ),
            Self::Lists => ("user_id = $1 AND id <> $2", vec![]),
        }
    }
}

/// The statement reading the last (or first) position among `siblings` (see
/// [`Siblings::scope`] for its parameters).
pub(super) fn extreme_sql(siblings: Siblings, last: bool) -> String {
    let (scope, _) = siblings.scope();
    let function = if last { "max" } else { "min" };
    format!(
        "SELECT {function}(position) FROM {} WHERE {scope}",
        siblings.table()
    )
}

/// [`TAKE_REVISIONS`](super::statements::TAKE_REVISIONS) that also returns the last position
/// among `siblings` (for a new item, so none is excluded: `$2` is 0), in one statement: the
/// user's other writes already wait for this one, so nothing can change the siblings between
/// the read and the write. Binds what [`Siblings::scope`] says, then the count.
pub(super) fn take_revisions_and_last_sql(siblings: Siblings) -> String {
    let (scope, _) = siblings.scope();
    let take = match siblings {
        Siblings::Tasks { .. } => take_revisions!("$5"),
        Siblings::Lists => take_revisions!("$3"),
    };
    format!(
        "{take}, (SELECT max(position) FROM {} WHERE {scope})",
        siblings.table()
    )
}

/// Where a task goes, once checked: its list and parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Target {
    /// The list (`None`: the inbox).
    pub list: Option<i64>,
    /// The parent (`None`: the top level).
    pub parent: Option<i64>,
}

impl Target {
    pub(super) fn siblings(self) -> Siblings {
        Siblings::Tasks {
            list: self.list,
            parent: self.parent,
        }
    }
}

/// A position key, and the last revision taken when the siblings had to be renumbered for it.
pub(super) struct Keyed {
    pub key: String,
    pub renumbered: Option<i64>,
}

/// A task moved by [`SqlStore::relocate`].
pub(super) struct Relocated {
    /// Its row after the move.
    pub row: TaskRow,
    /// The revision of its change.
    pub revision: i64,
    /// The last revision the move took.
    pub last: i64,
}

/// The revisions `first..=last` a write took, handed out in order.
pub(super) struct Revisions {
    next: i64,
    last: i64,
}

impl Revisions {
    /// The revisions ending at `last`, `count` of them.
    pub(super) fn ending(last: i64, count: usize) -> Self {
        Self {
            next: last - i64::try_from(count).unwrap_or(i64::MAX) + 1,
            last,
        }
    }

    /// The next revision.
    pub(super) fn one(&mut self) -> i64 {
        self.take(1) + 1
    }

    /// Takes `count` revisions: returns the one before the first of them (what the JSON-array
    /// statements add each element's ordinal to).
    pub(super) fn take(&mut self, count: usize) -> i64 {
        let base = self.next - 1;
        self.next += i64::try_from(count).unwrap_or(i64::MAX);
        base
    }

    /// Past revisions taken later in the same transaction (a renumbering).
    pub(super) fn extend_to(&mut self, last: i64) {
        self.last = self.last.max(last);
    }

    /// The last revision taken: what the commit publishes.
    pub(super) fn last(&self) -> i64 {
        self.last
    }
}

/// A JSON array of ids or keys, for the statements that take one.
pub(super) fn json<T: serde::Serialize>(items: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(items).map_err(|err| StoreError::Encode(err.to_string()))
}

fn issue(field: &'static str, message: &str) -> FieldIssue {
    FieldIssue::new(field, message)
}

// The `where` clause is the one on the statements' `impl` in `super::statements`.
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
    /// `task` and its subtasks at every level, `(id, depth)`, parents before children. A task
    /// read in the write's transaction knows whether it has subtasks (its count is a column kept
    /// by triggers, and the user's writes are serial): without any, no statement runs.
    pub(super) async fn subtree(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &Task,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        if task.subtask_count == 0 {
            return Ok(vec![(task.id.0, 1)]);
        }
        Ok(sqlx::query_as(self.texts.subtree.clone())
            .bind(task.id.0)
            .bind(owner.as_str())
            .persistent(self.persistent())
            .fetch_all(&mut *tx)
            .await?)
    }

    /// Gives the tasks `ids` the revisions after `base`, in order (their subtask counts
    /// changed: the feed sends them again).
    pub(super) async fn revise(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        ids: &[i64],
        base: i64,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = json(ids)?;
        sqlx::query(self.texts.revise.clone())
            .bind(owner.as_str())
            .bind(base)
            .bind(ids.as_str())
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Moves the tasks `ids` (subtasks of a task that moves) to `list`, at the revisions after
    /// `base`.
    pub(super) async fn relist(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        ids: &[i64],
        list: Option<i64>,
        base: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = json(ids)?;
        sqlx::query(self.texts.relist.clone())
            .bind(owner.as_str())
            .bind(base)
            .bind(ids.as_str())
            .bind(list)
            .bind(at)
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Gives `ids` (tasks, or lists) the positions `keys` (and `list`, for tasks), at the
    /// revisions after `base`.
    pub(super) async fn reposition(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        ids: &[i64],
        keys: &[String],
        base: i64,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let (ids, keys) = (json(ids)?, json(keys)?);
        let statement = match siblings {
            Siblings::Tasks { .. } => self.texts.reposition.clone(),
            Siblings::Lists => self.texts.reposition_lists.clone(),
        };
        let mut query = sqlx::query(statement)
            .bind(owner.as_str())
            .bind(base)
            .bind(ids.as_str())
            .bind(keys.as_str())
            .bind(crate::domain::now());
        if let Siblings::Tasks { list, .. } = siblings {
            query = query.bind(list);
        }
        query
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// The list `id` of `owner`.
    pub(super) async fn find_list(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        id: ListId,
    ) -> Result<Option<ListRow>, StoreError> {
        Ok(sqlx::query_as(self.texts.find_list.clone())
            .bind(id.0)
            .bind(owner.as_str())
            .persistent(self.persistent())
            .fetch_optional(&mut *tx)
            .await?)
    }

    /// Checks where a task goes: its list and parent exist, no cycle, not too deep. `moving` is the task that moves and
    /// the height of its subtree (1: no subtasks), `None` for a new task (in the inbox, at the
    /// top level, until told otherwise). `list` and `parent` are what the client asked for
    /// (`None`: not given). A subtask is in its parent's list; a task that changes lists
    /// without a parent given leaves its parent.
    pub(super) async fn resolve(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        moving: Option<(&Task, u32)>,
        list: Option<Option<ListId>>,
        parent: Option<Option<TaskId>>,
    ) -> Result<Result<Target, Vec<FieldIssue>>, StoreError> {
        let (current_list, current_parent) = moving.map_or((None, None), |(task, _)| {
            (task.list_id.map(|l| l.0), task.parent_id.map(|p| p.0))
        });
        let height = moving.map_or(1, |(_, height)| height);
        let mut issues = Vec::new();
        let mut list_checked = false;
        let list = match list {
            Some(Some(id)) => {
                if self.find_list(tx, owner, id).await?.is_none() {
                    issues.push(issue(
                        "list_id",
                        "no list with this id exists for this user",
                    ));
                }
                list_checked = true;
                Some(Some(id.0))
            }
            Some(None) => Some(None),
            None => None,
        };
        let parent = match parent {
            Some(Some(id)) if moving.is_some_and(|(task, _)| task.id == id) => {
                issues.push(issue("parent_id", "cannot be the task itself"));
                None
            }
            Some(Some(id)) => {
                let found: Option<(i64, Option<i64>)> =
                    sqlx::query_as(self.texts.task_list.clone())
                        .bind(id.0)
                        .bind(owner.as_str())
                        .persistent(self.persistent())
                        .fetch_optional(&mut *tx)
                        .await?;
                match found {
                    None => {
                        issues.push(issue(
                            "parent_id",
                            "no task with this id exists for this user",
                        ));
                        None
                    }
                    Some((_, parent_list)) => {
                        let chain: Vec<(i64,)> = sqlx::query_as(self.texts.ancestors.clone())
                            .bind(id.0)
                            .bind(owner.as_str())
                            .persistent(self.persistent())
                            .fetch_all(&mut *tx)
                            .await?;
                        let level = u32::try_from(chain.len()).unwrap_or(u32::MAX);
                        if moving.is_some_and(|(task, _)| chain.iter().any(|(a,)| *a == task.id.0))
                        {
                            issues.push(issue(
                                "parent_id",
                                "cannot be one of the task's own subtasks",
                            ));
                        } else if level.saturating_add(height) > MAX_DEPTH {
                            issues.push(FieldIssue::new(
                                "parent_id",
                                format!(
                                    "would nest subtasks more than {MAX_DEPTH} levels deep \
                                     (the parent is at level {level}, and the task has \
                                     {} level(s) of its own)",
                                    height
                                ),
                            ));
                        }
                        if let Some(asked) = list
                            && asked != parent_list
                        {
                            issues.push(issue(
                                "list_id",
                                "is not the list of the parent task (parent_id): a subtask is \
                                 always in its parent's list",
                            ));
                        }
                        Some(Some((id.0, parent_list)))
                    }
                }
            }
            Some(None) => Some(None),
            None => None,
        };
        if !issues.is_empty() {
            return Ok(Err(issues));
        }
        let target = match (list, parent) {
            (_, Some(Some((parent, list)))) => Target {
                list,
                parent: Some(parent),
            },
            (Some(list), Some(None)) => Target { list, parent: None },
            (None, Some(None)) => Target {
                list: current_list,
                parent: None,
            },
            (Some(list), None) if list != current_list => Target { list, parent: None },
            (_, None) => Target {
                list: current_list,
                parent: current_parent,
            },
        };
        // A task that goes into a list: the list must exist (and stays until this write
        // commits, its deletion being a write of the same user).
        if let (Some(list), false) = (target.list, list_checked)
            && self.find_list(tx, owner, ListId(list)).await?.is_none()
        {
            return Ok(Err(vec![issue(
                "list_id",
                "no list with this id exists for this user",
            )]));
        }
        Ok(Ok(target))
    }

    /// One position among `siblings` of `owner`.
    async fn extreme(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        exclude: i64,
        last: bool,
    ) -> Result<Option<String>, StoreError> {
        let (_, group) = siblings.scope();
        let mut query = sqlx::query_as(AssertSqlSafe(extreme_sql(siblings, last)))
            .bind(owner.as_str())
            .bind(exclude);
        for value in group {
            query = query.bind(value);
        }
        let (position,): (Option<String>,) = query
            .persistent(self.persistent())
            .fetch_one(&mut *tx)
            .await?;
        Ok(position)
    }

    /// The key of the task or list `moving` (`None`: a new one) at `slot` among `siblings`.
    /// Called once the user's revision row is held. When the key would be longer than
    /// [`MAX_KEY_LEN`], the siblings are renumbered instead (with revisions of their own).
    pub(super) async fn place_key(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        slot: Slot,
        moving: Option<i64>,
    ) -> Result<Result<Keyed, FieldIssue>, StoreError> {
        let exclude = moving.unwrap_or(0);
        let (scope, group) = siblings.scope();
        let next = 3 + group.len();
        let (before, after) = match slot {
            Slot::Last => (
                self.extreme(tx, owner, siblings, exclude, true).await?,
                None,
            ),
            Slot::First => (
                None,
                self.extreme(tx, owner, siblings, exclude, false).await?,
            ),
            Slot::After(id) if Some(id) == moving => {
                return Ok(Err(issue("after", "cannot be the moved item itself")));
            }
            Slot::After(id) => {
                let sql = format!(
                    "SELECT position FROM {} WHERE {scope} AND id = ${next}",
                    siblings.table()
                );
                let mut query = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(owner.as_str())
                    .bind(exclude);
                for value in &group {
                    query = query.bind(*value);
                }
                let found: Option<(String,)> = query
                    .bind(id)
                    .persistent(self.persistent())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((position,)) = found else {
                    return Ok(Err(issue(
                        "after",
                        match siblings {
                            Siblings::Tasks { .. } => {
                                "is not a task among the new siblings (the same list and parent)"
                            }
                            Siblings::Lists => "is not one of this user's lists",
                        },
                    )));
                };
                let sql = format!(
                    "SELECT min(position) FROM {} WHERE {scope} AND position > ${next}",
                    siblings.table()
                );
                let mut query = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(owner.as_str())
                    .bind(exclude);
                for value in &group {
                    query = query.bind(*value);
                }
                let (following,): (Option<String>,) = query
                    .bind(position.as_str())
                    .persistent(self.persistent())
                    .fetch_one(&mut *tx)
                    .await?;
                (Some(position), following)
            }
        };
        self.key_between(tx, owner, siblings, slot, exclude, before, after)
            .await
    }

    /// Takes `count` revisions of `owner` (as [`Self::take_revisions`]) and, in the same
    /// statement, reads the last position among `siblings`, for a new item that goes last
    /// ([`Self::place_last`]): one round trip instead of two.
    pub(super) async fn take_revisions_and_last(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        count: usize,
        siblings: Siblings,
    ) -> Result<(i64, Option<String>), StoreError> {
        let (_, group) = siblings.scope();
        let mut query = sqlx::query_as(AssertSqlSafe(take_revisions_and_last_sql(siblings)))
            .bind(owner.as_str())
            .bind(0_i64);
        for value in group {
            query = query.bind(value);
        }
        Ok(query
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .persistent(self.persistent())
            .fetch_one(&mut *tx)
            .await?)
    }

    /// [`Self::place_key`] of a new item at the end of `siblings`, whose last position is
    /// `last` (read by [`Self::take_revisions_and_last`]).
    pub(super) async fn place_last(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        last: Option<String>,
    ) -> Result<Result<Keyed, FieldIssue>, StoreError> {
        self.key_between(tx, owner, siblings, Slot::Last, 0, last, None)
            .await
    }

    /// The key between `before` and `after` (the neighbours at `slot` among `siblings`, but
    /// `exclude`), or, when it would be longer than [`MAX_KEY_LEN`], the key at `slot` once the
    /// siblings are renumbered.
    #[allow(clippy::too_many_arguments)]
    async fn key_between(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        slot: Slot,
        exclude: i64,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<Result<Keyed, FieldIssue>, StoreError> {
        if let Some(key) = order::between(before.as_deref(), after.as_deref())
            .filter(|key| key.len() <= MAX_KEY_LEN)
        {
            return Ok(Ok(Keyed {
                key,
                renumbered: None,
            }));
        }
        self.renumber(tx, owner, siblings, slot, exclude).await
    }

    /// Gives every sibling a fresh short key, leaving room at `slot` for `exclude` (the task
    /// or list that moves, or 0 for a new one); returns that room's key.
    async fn renumber(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        siblings: Siblings,
        slot: Slot,
        exclude: i64,
    ) -> Result<Result<Keyed, FieldIssue>, StoreError> {
        let (scope, group) = siblings.scope();
        let table = siblings.table();
        let sql = format!("SELECT id FROM {table} WHERE {scope} ORDER BY position, id");
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(exclude);
        for value in &group {
            query = query.bind(*value);
        }
        let rows: Vec<(i64,)> = query
            .persistent(self.persistent())
            .fetch_all(&mut *tx)
            .await?;
        let ids: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
        let index = match slot {
            Slot::First => 0,
            Slot::Last => ids.len(),
            Slot::After(after) => match ids.iter().position(|id| *id == after) {
                Some(at) => at + 1,
                None => return Ok(Err(issue("after", "is not among the new siblings"))),
            },
        };
        let mut keys = order::sequence(ids.len() + 1);
        let key = keys.remove(index);
        // Out of the way first (`~` sorts after every key), so that no two rows ever share a
        // position while the new keys are written; the one that moves too, if it is here.
        let sql = format!("UPDATE {table} SET position = '~' || CAST(id AS TEXT) WHERE {scope}");
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.as_str())
            .bind(0_i64);
        for value in &group {
            query = query.bind(*value);
        }
        query
            .persistent(self.persistent())
            .execute(&mut *tx)
            .await?;
        let last = self.take_revisions(tx, owner, ids.len()).await?;
        let base = last - i64::try_from(ids.len()).unwrap_or(i64::MAX);
        self.reposition(tx, owner, siblings, &ids, &keys, base)
            .await?;
        tracing::info!(
            siblings = ids.len(),
            "renumbered the positions of a sibling set (a key grew past {MAX_KEY_LEN} characters)"
        );
        Ok(Ok(Keyed {
            key,
            renumbered: Some(last),
        }))
    }

    /// Moves `task` (as read in this write transaction) to `list` / `parent` at `slot`, with its subtasks: takes the
    /// revisions, writes the task (its version bumped by `bump`), its subtasks' list, and the
    /// revisions of the parents whose subtask counts change.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn relocate(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &Task,
        list: Option<Option<ListId>>,
        parent: Option<Option<TaskId>>,
        slot: Slot,
        bump: bool,
    ) -> Result<Result<Relocated, Vec<FieldIssue>>, StoreError> {
        let subtree = self.subtree(tx, owner, task).await?;
        let height = subtree.iter().map(|(_, depth)| *depth).max().unwrap_or(1);
        let below: Vec<i64> = subtree
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != task.id.0)
            .collect();
        let height = u32::try_from(height).unwrap_or(u32::MAX);
        let target = match self
            .resolve(tx, owner, Some((task, height)), list, parent)
            .await?
        {
            Ok(target) => target,
            Err(issues) => return Ok(Err(issues)),
        };
        let old_parent = task.parent_id.map(|p| p.0);
        let mut touched: Vec<i64> = Vec::new();
        if old_parent != target.parent {
            touched.extend(old_parent);
            touched.extend(target.parent);
        }
        let relisted = if target.list != task.list_id.map(|l| l.0) {
            below.as_slice()
        } else {
            &[]
        };
        let count = 1 + relisted.len() + touched.len();
        let mut revisions = Revisions::ending(self.take_revisions(tx, owner, count).await?, count);
        let revision = revisions.one();
        let keyed = match self
            .place_key(tx, owner, target.siblings(), slot, Some(task.id.0))
            .await?
        {
            Ok(keyed) => keyed,
            Err(issue) => return Ok(Err(vec![issue])),
        };
        if let Some(last) = keyed.renumbered {
            revisions.extend_to(last);
        }
        let row: TaskRow = sqlx::query_as(super::statements::MOVE_TASK)
            .bind(task.id.0)
            .bind(owner.as_str())
            .bind(target.list)
            .bind(target.parent)
            .bind(keyed.key.as_str())
            .bind(revision)
            .bind(i64::from(bump))
            .bind(crate::domain::now())
            .persistent(self.persistent())
            .fetch_one(&mut *tx)
            .await?;
        let base = revisions.take(relisted.len());
        self.relist(tx, owner, relisted, target.list, base, crate::domain::now())
            .await?;
        let base = revisions.take(touched.len());
        self.revise(tx, owner, &touched, base).await?;
        Ok(Ok(Relocated {
            row,
            revision,
            last: revisions.last(),
        }))
    }

    /// Deletes the tasks `doomed` (whole subtrees), leaving their tombstones at the revisions
    /// after `base`, then gives `parents` (whose subtask counts change) the next ones.
    pub(super) async fn delete_tasks(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        doomed: &[i64],
        parents: &[i64],
        base: i64,
    ) -> Result<(), StoreError> {
        if !doomed.is_empty() {
            let ids = json(doomed)?;
            sqlx::query(self.texts.delete_ids.clone())
                .bind(owner.as_str())
                .bind(ids.as_str())
                .persistent(self.persistent())
                .execute(&mut *tx)
                .await?;
        }
        let buried = base + i64::try_from(doomed.len()).unwrap_or(i64::MAX);
        self.bury(tx, owner, doomed, buried).await?;
        self.revise(tx, owner, parents, buried).await
    }

    /// The user's completed tasks with their subtasks (what clearing them deletes), and the
    /// parents left whose subtask counts change.
    pub(super) async fn completed_trees(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
    ) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "WITH RECURSIVE doomed(id) AS ( \
               SELECT id FROM tasks WHERE user_id = $1 AND completed = TRUE \
               UNION SELECT t.id FROM tasks AS t JOIN doomed ON t.parent_id = doomed.id) \
             SELECT id, parent_id FROM tasks WHERE user_id = $1 \
             AND id IN (SELECT id FROM doomed) ORDER BY id",
        )
        .bind(owner.as_str())
        .persistent(self.persistent())
        .fetch_all(&mut *tx)
        .await?;
        let doomed: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let mut parents: Vec<i64> = rows
            .iter()
            .filter_map(|(_, parent)| *parent)
            .filter(|parent| doomed.binary_search(parent).is_err())
            .collect();
        parents.sort_unstable();
        parents.dedup();
        Ok((doomed, parents))
    }

    /// A conflict message when another list of the user (not `except`) has the name `key`.
    pub(super) async fn name_taken(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        key: &str,
        except: i64,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM lists WHERE user_id = $1 AND name_key = $2 AND id <> $3",
        )
        .bind(owner.as_str())
        .bind(key)
        .bind(except)
        .persistent(self.persistent())
        .fetch_optional(&mut *tx)
        .await?;
        Ok(found.map(|(id,)| {
            format!("the list {id} already has this name (names are unique, ignoring case)")
        }))
    }

    /// Gives `created`, the next occurrence of `task`, copies of the subtasks `below` of
    /// `task` (parents before children), reopened, in the same order.
    pub(super) async fn copy_subtasks(
        &self,
        tx: &mut Conn<D>,
        owner: &UserId,
        task: &Task,
        created: &Task,
        below: &[i64],
        revisions: &mut Revisions,
    ) -> Result<(), StoreError> {
        if below.is_empty() {
            return Ok(());
        }
        let ids = json(below)?;
        let rows: Vec<TaggedRow> = sqlx::query_as(self.texts.select_ids.clone())
            .bind(owner.as_str())
            .bind(ids.as_str())
            .persistent(self.persistent())
            .fetch_all(&mut *tx)
            .await?;
        let originals: std::collections::HashMap<i64, Task> = rows
            .into_iter()
            .map(|row| {
                let task = row.into_task();
                (task.id.0, task)
            })
            .collect();
        let mut copies = std::collections::HashMap::from([(task.id.0, created.id)]);
        let list = created.list_id.map(|l| l.0);
        for id in below {
            let Some(original) = originals.get(id) else {
                continue;
            };
            let Some(parent) = original.parent_id.and_then(|p| copies.get(&p.0).copied()) else {
                continue;
            };
            let copy = original.copy_under(parent, created.list_id);
            let target = Target {
                list,
                parent: Some(parent.0),
            };
            let inserted = self
                .insert_task(
                    tx,
                    owner,
                    &copy,
                    revisions.one(),
                    target,
                    &original.position,
                )
                .await?;
            copies.insert(*id, inserted.id);
        }
        Ok(())
    }
}
