//! Tasks as rows: the [`TaskRow`] (and [`TaggedRow`]) both databases return, decoded into domain
//! tasks, and the [`TaskValues`] a task is written with.

use chrono::{DateTime, FixedOffset, Utc};

use super::StoreError;
use crate::domain::list::{List, ListId};
use crate::domain::{NewTask, Priority, Recurrence, Schedule, Tag, Task, TaskId, UserId};

/// A `tasks` row as both backends return it: the columns of `columns!()` (`statements.rs`), in
/// this order, read by position ([`positional`]).
pub(super) struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    completed_at: Option<DateTime<Utc>>,
    priority: i16,
    due_at: Option<DateTime<Utc>>,
    due_offset: Option<i32>,
    remind_at: Option<DateTime<Utc>>,
    recurrence: Option<String>,
    occurrence: i32,
    anchor_day: i16,
    next_task_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    list_id: Option<i64>,
    parent_id: Option<i64>,
    position: String,
    subtask_count: i64,
    completed_subtask_count: i64,
}

/// A `lists` row with its task counts.
#[derive(sqlx::FromRow)]
pub(super) struct ListRow {
    id: i64,
    user_id: String,
    name: String,
    color: Option<String>,
    position: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    task_count: i64,
    pending_count: i64,
}

impl ListRow {
    /// The row as a domain list.
    pub(super) fn into_list(self) -> List {
        List {
            id: ListId(self.id),
            user_id: UserId::parse(&self.user_id).unwrap_or_else(|_| UserId::stored(self.user_id)),
            name: self.name,
            color: self.color,
            position: self.position,
            task_count: u64::try_from(self.task_count).unwrap_or_default(),
            pending_count: u64::try_from(self.pending_count).unwrap_or_default(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A [`ListRow`] with the revision of the list's latest change, as the change feed reads it.
#[derive(sqlx::FromRow)]
pub(super) struct RevisedListRow {
    pub(super) change_revision: i64,
    #[sqlx(flatten)]
    pub(super) row: ListRow,
}

/// A `tasks` row followed by the task's tags as a JSON array of strings, in their order (`tags`:
/// `NULL` or `[]` when there are none; the column written from [`tags_json`]), so that a task
/// and its tags come in one statement.
pub(super) struct TaggedRow {
    row: TaskRow,
    tags: Option<String>,
}

/// A [`TaggedRow`] after the revision of the task's latest change (`change_revision`), as the
/// change feed reads it.
pub(super) struct RevisedRow {
    pub(super) change_revision: i64,
    pub(super) row: TaggedRow,
}

/// The names of [`TaskRow`]'s columns, in the order it reads them.
pub(super) const TASK_COLUMNS: [&str; 22] = [
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "due_offset",
    "remind_at",
    "recurrence",
    "occurrence",
    "anchor_day",
    "next_task_id",
    "version",
    "created_at",
    "updated_at",
    "list_id",
    "parent_id",
    "position",
    "subtask_count",
    "completed_subtask_count",
];

/// Task rows read by position rather than by name (what `derive(FromRow)` does): a read by name
/// is a hash lookup per column per row, a fifth of the server's work for a list of 50 tasks
/// (`bench/README.md`, the profile). Each statement selects [`TASK_COLUMNS`] in their order;
/// debug builds (every test) check each name as they read it, so a statement that selects them
/// in another order fails its tests.
mod positional {
    use sqlx::{Column as _, FromRow, Row as _};

    use super::{RevisedRow, TASK_COLUMNS, TaggedRow, TaskRow};

    /// A value read from the columns of a row of `R` that begin at `at`.
    trait ReadAt<R>: Sized {
        fn read_at(row: &R, at: usize) -> Result<Self, sqlx::Error>;
    }

    macro_rules! read_by_position {
        ($row:ty) => {
            impl ReadAt<$row> for TaskRow {
                /// The task whose columns begin at `at`.
                fn read_at(row: &$row, at: usize) -> Result<Self, sqlx::Error> {
                    let mut next = at;
                    let mut column = |name: &str| {
                        debug_assert_eq!(row.columns().get(next).map(|c| c.name()), Some(name));
                        next += 1;
                        next - 1
                    };
                    let [
                        id,
                        user_id,
                        title,
                        description,
                        completed,
                        completed_at,
                        priority,
                        due_at,
                        due_offset,
                        remind_at,
                        recurrence,
                        occurrence,
                        anchor_day,
                        next_task_id,
                        version,
                        created_at,
                        updated_at,
                        list_id,
                        parent_id,
                        position,
                        subtask_count,
                        completed_subtask_count,
                    ] = TASK_COLUMNS.map(|name| column(name));
                    Ok(Self {
                        id: row.try_get(id)?,
                        user_id: row.try_get(user_id)?,
                        title: row.try_get(title)?,
                        description: row.try_get(description)?,
                        completed: row.try_get(completed)?,
                        completed_at: row.try_get(completed_at)?,
                        priority: row.try_get(priority)?,
                        due_at: row.try_get(due_at)?,
                        due_offset: row.try_get(due_offset)?,
                        remind_at: row.try_get(remind_at)?,
                        recurrence: row.try_get(recurrence)?,
                        occurrence: row.try_get(occurrence)?,
                        anchor_day: row.try_get(anchor_day)?,
                        next_task_id: row.try_get(next_task_id)?,
                        version: row.try_get(version)?,
                        created_at: row.try_get(created_at)?,
                        updated_at: row.try_get(updated_at)?,
                        list_id: row.try_get(list_id)?,
                        parent_id: row.try_get(parent_id)?,
                        position: row.try_get(position)?,
                        subtask_count: row.try_get(subtask_count)?,
                        completed_subtask_count: row.try_get(completed_subtask_count)?,
                    })
                }
            }

            impl ReadAt<$row> for TaggedRow {
                /// The task whose columns begin at `at`, then its `tags`.
                fn read_at(row: &$row, at: usize) -> Result<Self, sqlx::Error> {
                    let tags = at + TASK_COLUMNS.len();
                    debug_assert_eq!(row.columns().get(tags).map(|c| c.name()), Some("tags"));
                    Ok(Self {
                        row: TaskRow::read_at(row, at)?,
                        tags: row.try_get(tags)?,
                    })
                }
            }

            impl FromRow<'_, $row> for TaskRow {
                fn from_row(row: &$row) -> Result<Self, sqlx::Error> {
                    Self::read_at(row, 0)
                }
            }

            impl FromRow<'_, $row> for TaggedRow {
                fn from_row(row: &$row) -> Result<Self, sqlx::Error> {
                    Self::read_at(row, 0)
                }
            }

            impl FromRow<'_, $row> for RevisedRow {
                fn from_row(row: &$row) -> Result<Self, sqlx::Error> {
                    debug_assert_eq!(
                        row.columns().first().map(|c| c.name()),
                        Some("change_revision")
                    );
                    Ok(Self {
                        change_revision: row.try_get(0)?,
                        row: TaggedRow::read_at(row, 1)?,
                    })
                }
            }
        };
    }

    read_by_position!(sqlx::postgres::PgRow);
    read_by_position!(sqlx::sqlite::SqliteRow);
}

/// The tags of a task as its `tags` column holds them: a JSON array of strings, in their order.
pub(super) fn tags_json(tags: &[Tag]) -> Result<String, StoreError> {
    let tags: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    serde_json::to_string(&tags).map_err(|err| StoreError::Encode(err.to_string()))
}

impl TaggedRow {
    /// The row as a domain task.
    pub(super) fn into_task(self) -> Task {
        let tags = match self
            .tags
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
        {
            None => Vec::new(),
            Some(Ok(tags)) => tags.into_iter().map(Tag::from_stored).collect(),
            Some(Err(err)) => {
                // The server wrote this array itself; this cannot happen short of a bug.
                tracing::error!(task = self.row.id, %err, "unreadable tags array");
                Vec::new()
            }
        };
        self.row.into_task(tags)
    }
}

impl TaskRow {
    /// The task id of this row.
    pub(super) fn id(&self) -> i64 {
        self.id
    }

    /// The row as a domain task, with its tags.
    pub(super) fn into_task(self, tags: Vec<Tag>) -> Task {
        let offset = self
            .due_offset
            .and_then(FixedOffset::east_opt)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
        Task {
            id: TaskId(self.id),
            user_id: UserId::parse(&self.user_id).unwrap_or_else(|_| UserId::stored(self.user_id)),
            title: self.title,
            description: self.description,
            completed: self.completed,
            completed_at: self.completed_at,
            priority: Priority::from_rank(self.priority),
            tags,
            schedule: Schedule {
                due_at: self.due_at.map(|due| due.with_timezone(&offset)),
                remind_at: self.remind_at,
                recurrence: self
                    .recurrence
                    .and_then(|json| serde_json::from_str::<Recurrence>(&json).ok()),
            },
            occurrence: u32::try_from(self.occurrence).unwrap_or(1),
            anchor_day: u32::try_from(self.anchor_day).unwrap_or(1),
            next_occurrence_id: self.next_task_id.map(TaskId),
            list_id: self.list_id.map(ListId),
            parent_id: self.parent_id.map(TaskId),
            position: self.position,
            subtask_count: u32::try_from(self.subtask_count).unwrap_or_default(),
            completed_subtask_count: u32::try_from(self.completed_subtask_count)
                .unwrap_or_default(),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The values a task is written with, the same for INSERT and UPDATE, in the order both bind
/// them: title, description, priority, due_at, due_offset, remind_at, recurrence, occurrence,
/// anchor_day, title_key, search_text and the time of the write.
pub(super) struct TaskValues<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub priority: i16,
    pub due_at: Option<DateTime<Utc>>,
    pub due_offset: Option<i32>,
    pub remind_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub occurrence: i32,
    pub anchor_day: i16,
    pub title_key: String,
    pub search_text: String,
    pub at: DateTime<Utc>,
}

impl<'a> TaskValues<'a> {
    /// The values of a task to create, written at `at`.
    pub(super) fn of_new(task: &'a NewTask, at: DateTime<Utc>) -> Self {
        let description = task.description.as_ref().map(|d| d.as_str());
        Self::new(
            task.title.as_str(),
            description,
            task.priority,
            &task.schedule,
            task.occurrence,
            task.anchor_day,
            at,
        )
    }

    /// The values of a changed task, written at `at`.
    pub(super) fn of_task(task: &'a Task, at: DateTime<Utc>) -> Self {
        Self::new(
            &task.title,
            task.description.as_deref(),
            task.priority,
            &task.schedule,
            task.occurrence,
            task.anchor_day,
            at,
        )
    }

    fn new(
        title: &'a str,
        description: Option<&'a str>,
        priority: Priority,
        schedule: &Schedule,
        occurrence: u32,
        anchor_day: u32,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            title,
            description,
            priority: priority.rank(),
            due_at: schedule.due_at.map(|due| due.to_utc()),
            due_offset: schedule.due_at.map(|due| due.offset().local_minus_utc()),
            remind_at: schedule.remind_at,
            recurrence: schedule
                .recurrence
                .as_ref()
                .and_then(|rule| serde_json::to_string(rule).ok()),
            occurrence: i32::try_from(occurrence).unwrap_or(i32::MAX),
            anchor_day: i16::try_from(anchor_day).unwrap_or(1),
            title_key: title.to_lowercase(),
            search_text: format!("{}\n{}", title, description.unwrap_or_default()).to_lowercase(),
            at,
        }
    }
}
