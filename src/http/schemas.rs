//! The JSON shapes of the API: what the spec (and so the TypeScript client) calls `Task`,
//! `CreateTask`, `UpdateTask`, `CompleteTask` and friends.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Serialize;

use crate::domain::listing::{Order, SortKey};
use crate::domain::{
    Frequency, NewTask, Priority, Recurrence, Schedule, StatusFilter, Tag, Task, TaskChanges,
    TaskDescription, TaskTitle,
};
use crate::http::body::{Field, Fields, RequestSchema};
use crate::http::json::rfc3339;
use crate::http::nullable::Nullable;

/// How important a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename = "Priority", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum PriorityView {
    /// Can wait.
    Low,
    /// The default.
    Medium,
    /// Do it first.
    High,
}

impl From<Priority> for PriorityView {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::Low => Self::Low,
            Priority::Medium => Self::Medium,
            Priority::High => Self::High,
        }
    }
}

impl From<PriorityView> for Priority {
    fn from(priority: PriorityView) -> Self {
        match priority {
            PriorityView::Low => Self::Low,
            PriorityView::Medium => Self::Medium,
            PriorityView::High => Self::High,
        }
    }
}

const PRIORITIES: [(&str, Priority); 3] = [
    ("low", Priority::Low),
    ("medium", Priority::Medium),
    ("high", Priority::High),
];

/// How often a task repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename = "Frequency", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum FrequencyView {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months (month ends stick: Jan 31 → Feb 28/29 → Mar 31).
    Monthly,
    /// Every `interval` years.
    Yearly,
}

const FREQUENCIES: [(&str, Frequency); 4] = [
    ("daily", Frequency::Daily),
    ("weekly", Frequency::Weekly),
    ("monthly", Frequency::Monthly),
    ("yearly", Frequency::Yearly),
];

/// A repetition rule. Completing a recurring task creates its next occurrence, due (and
/// reminded) one `interval` of `frequency` later, in the calendar of the due date's offset.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Recurrence")]
pub struct RecurrenceView {
    /// The unit.
    pub frequency: FrequencyView,
    /// How many units between occurrences (default 1).
    #[oai(
        default = "one",
        validator(minimum(value = "1"), maximum(value = "1000"))
    )]
    pub interval: u32,
    /// No occurrence is due after this instant. With `count`, the series ends at whichever
    /// comes first.
    #[oai(skip_serializing_if_is_none)]
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339::option"
    )]
    pub until: Option<DateTime<Utc>>,
    /// The total number of occurrences, the first included. With `until`, the series ends at
    /// whichever comes first.
    #[oai(
        skip_serializing_if_is_none,
        validator(minimum(value = "1"), maximum(value = "10000"))
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

fn one() -> u32 {
    1
}

impl From<Recurrence> for RecurrenceView {
    fn from(rule: Recurrence) -> Self {
        Self {
            frequency: match rule.frequency {
                Frequency::Daily => FrequencyView::Daily,
                Frequency::Weekly => FrequencyView::Weekly,
                Frequency::Monthly => FrequencyView::Monthly,
                Frequency::Yearly => FrequencyView::Yearly,
            },
            interval: rule.interval,
            until: rule.until,
            count: rule.count,
        }
    }
}

/// A task.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Task")]
pub struct TaskView {
    /// Assigned by the server; never reused. Always below 2^53, so a JavaScript `number` holds it exactly.
    pub id: i64,
    /// The owner: the `sub` of the token that created it.
    pub user_id: String,
    /// 1–200 characters, without surrounding white space.
    pub title: String,
    /// Up to 1000 characters, or `null`.
    #[oai(nullable)]
    pub description: Nullable<String>,
    /// Whether the task is done.
    pub completed: bool,
    /// When the task was completed (RFC 3339, UTC); `null` while pending.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub completed_at: Nullable<DateTime<Utc>>,
    /// Importance.
    pub priority: PriorityView,
    /// Tags, in the order given.
    pub tags: Vec<String>,
    /// When the task is due (RFC 3339, UTC), or `null`.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub due_at: Nullable<DateTime<Utc>>,
    /// When to remind the user (RFC 3339, UTC), or `null`. Never after `due_at`.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub remind_at: Nullable<DateTime<Utc>>,
    /// How the task repeats, or `null`.
    #[oai(nullable)]
    pub recurrence: Nullable<RecurrenceView>,
    /// For a completed recurring task: the id of the occurrence its completion created.
    #[oai(nullable)]
    pub next_occurrence_id: Nullable<i64>,
    /// When the task was created (RFC 3339, UTC). Never changes.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When the task last changed (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id.0,
            user_id: task.user_id.to_string(),
            title: task.title,
            description: Nullable(task.description),
            completed: task.completed,
            completed_at: Nullable(task.completed_at),
            priority: task.priority.into(),
            tags: task.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            due_at: Nullable(task.schedule.due_at.map(|due| due.to_utc())),
            remind_at: Nullable(task.schedule.remind_at),
            recurrence: Nullable(task.schedule.recurrence.map(RecurrenceView::from)),
            next_occurrence_id: Nullable(task.next_occurrence_id.map(|id| id.0)),
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// A new task.
#[derive(Debug, Object)]
#[oai(rename = "CreateTask")]
pub struct CreateTask {
    /// 1–200 characters after trimming surrounding white space (the server trims it); no NUL
    /// character.
    #[oai(validator(
        min_length = 1,
        pattern = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00]\s*|\s*)$"
    ))]
    pub title: String,
    /// Up to 1000 characters, no NUL character; `null` or omitted for none.
    #[oai(nullable, validator(max_length = 1000, pattern = r"^[^\x00]*$"))]
    pub description: Option<String>,
    /// Importance; `null` or omitted for `medium`.
    #[oai(nullable)]
    pub priority: Option<PriorityView>,
    /// Up to 20 tags, each 1–32 characters after trimming (no NUL), unique ignoring case;
    /// `null` or omitted for none.
    #[oai(
        nullable,
        validator(
            max_items = 20,
            unique_items,
            pattern = r"^\s*[^\s\x00]([^\x00]{0,30}[^\s\x00]\s*|\s*)$"
        )
    )]
    pub tags: Option<Vec<String>>,
    /// When the task is due (RFC 3339, any offset; recurrence follows that offset's calendar).
    #[oai(nullable)]
    pub due_at: Option<DateTime<Utc>>,
    /// When to remind the user; not after `due_at`.
    #[oai(nullable)]
    pub remind_at: Option<DateTime<Utc>>,
    /// How the task repeats (needs `due_at`).
    #[oai(nullable)]
    pub recurrence: Option<RecurrenceView>,
}

/// What every body field of a task parses to; `None` where the field was invalid.
struct TaskFields {
    title: Option<Field<TaskTitle>>,
    description: Option<Field<TaskDescription>>,
    priority: Option<Field<Priority>>,
    tags: Option<Field<Vec<Tag>>>,
    due_at: Option<Field<chrono::DateTime<chrono::FixedOffset>>>,
    remind_at: Option<Field<DateTime<Utc>>>,
    recurrence: Option<Field<Recurrence>>,
}

fn map_field<T, U>(field: Field<T>, f: impl FnOnce(T) -> Option<U>) -> Option<Field<U>> {
    match field {
        Field::Absent => Some(Field::Absent),
        Field::Null => Some(Field::Null),
        Field::Value(v) => f(v).map(Field::Value),
    }
}

impl TaskFields {
    fn read(fields: &mut Fields<'_>) -> Self {
        let title = fields.string("title").and_then(|f| {
            map_field(f, |raw| {
                TaskTitle::parse(raw)
                    .map_err(|why| fields.error("title", why))
                    .ok()
            })
        });
        let description = fields.string("description").and_then(|f| {
            map_field(f, |raw| {
                TaskDescription::parse(raw)
                    .map_err(|why| fields.error("description", why))
                    .ok()
            })
        });
        let names: Vec<&str> = PRIORITIES.iter().map(|(name, _)| *name).collect();
        let priority = fields
            .choice("priority", &names)
            .and_then(|f| map_field(f, |i| Some(PRIORITIES[i].1)));
        let tags = fields.strings("tags").and_then(|f| {
            map_field(f, |raw| {
                Tag::parse_list(raw)
                    .map_err(|why| fields.error("tags", why))
                    .ok()
            })
        });
        let due_at = fields.timestamp("due_at");
        let remind_at = fields
            .timestamp("remind_at")
            .and_then(|f| map_field(f, |at| Some(at.to_utc())));
        let recurrence = fields.object("recurrence", parse_recurrence);
        Self {
            title,
            description,
            priority,
            tags,
            due_at,
            remind_at,
            recurrence,
        }
    }
}

/// The fields of a rule are not nullable (the spec says so): `null` is refused, not read as
/// "omitted".
fn omit_instead_of_null<T>(fields: &mut Fields<'_>, name: &str) -> Option<T> {
    fields.error(name, "cannot be null: omit it instead");
    None
}

fn parse_recurrence(fields: &mut Fields<'_>) -> Option<Recurrence> {
    let names: Vec<&str> = FREQUENCIES.iter().map(|(name, _)| *name).collect();
    let frequency = match fields.choice("frequency", &names)? {
        Field::Value(i) => Some(FREQUENCIES[i].1),
        Field::Absent | Field::Null => {
            fields.error("frequency", "is required");
            None
        }
    };
    let interval = match fields.integer("interval", 1, Recurrence::MAX_INTERVAL)? {
        Field::Value(n) => Some(n),
        Field::Absent => Some(1),
        Field::Null => omit_instead_of_null(fields, "interval"),
    };
    let until = match fields.timestamp("until")? {
        Field::Value(at) => Some(Some(at.to_utc())),
        Field::Absent => Some(None),
        Field::Null => omit_instead_of_null(fields, "until"),
    };
    let count = match fields.integer("count", 1, Recurrence::MAX_COUNT)? {
        Field::Value(n) => Some(Some(n)),
        Field::Absent => Some(None),
        Field::Null => omit_instead_of_null(fields, "count"),
    };
    let rule = Recurrence {
        frequency: frequency?,
        interval: interval?,
        until: until?,
        count: count?,
    };
    rule.validate()
        .map_err(|why| fields.error("count", why))
        .ok()?;
    Some(rule)
}

/// `Some(x)` for a value, `None` for absent or null.
fn value<T>(field: Field<T>) -> Option<T> {
    match field {
        Field::Value(v) => Some(v),
        Field::Absent | Field::Null => None,
    }
}

/// For a PUT: absent → `None` (unchanged), null → `Some(None)` (cleared), value → `Some(Some(_))`.
fn change<T>(field: Field<T>) -> Option<Option<T>> {
    match field {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Value(v) => Some(Some(v)),
    }
}

impl RequestSchema for CreateTask {
    type Output = NewTask;

    fn parse(fields: &mut Fields<'_>) -> Option<NewTask> {
        let read = TaskFields::read(fields);
        let title = match read.title {
            Some(Field::Value(title)) => Some(title),
            Some(Field::Absent | Field::Null) => {
                fields.error("title", "is required");
                None
            }
            None => None,
        };
        let schedule = Schedule {
            due_at: value(read.due_at?),
            remind_at: value(read.remind_at?),
            recurrence: value(read.recurrence?),
        };
        let created = NewTask::new(
            title?,
            value(read.description?),
            value(read.priority?).unwrap_or_default(),
            value(read.tags?).unwrap_or_default(),
            schedule,
        );
        created.map_err(|issues| fields.issues(issues)).ok()
    }
}

/// Changes to a task: every field is optional, an omitted field stays as it is, and `null`
/// clears a nullable field. At least one field is required.
#[derive(Debug, Object)]
#[oai(rename = "UpdateTask")]
pub struct UpdateTask {
    /// A new title: 1–200 characters after trimming surrounding white space; no NUL character.
    #[oai(validator(
        min_length = 1,
        pattern = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00]\s*|\s*)$"
    ))]
    pub title: Option<String>,
    /// A new description (up to 1000 characters, no NUL character), or `null` to clear it.
    #[oai(nullable, validator(max_length = 1000, pattern = r"^[^\x00]*$"))]
    pub description: Option<String>,
    /// A new priority.
    pub priority: Option<PriorityView>,
    /// New tags, replacing the old ones (`[]` or `null` removes them all); each 1–32
    /// characters after trimming (no NUL), unique ignoring case.
    #[oai(
        nullable,
        validator(
            max_items = 20,
            unique_items,
            pattern = r"^\s*[^\s\x00]([^\x00]{0,30}[^\s\x00]\s*|\s*)$"
        )
    )]
    pub tags: Option<Vec<String>>,
    /// A new due time, or `null` to clear it.
    #[oai(nullable)]
    pub due_at: Option<DateTime<Utc>>,
    /// A new reminder time, or `null` to clear it.
    #[oai(nullable)]
    pub remind_at: Option<DateTime<Utc>>,
    /// A new rule, or `null` to stop repeating.
    #[oai(nullable)]
    pub recurrence: Option<RecurrenceView>,
}

impl RequestSchema for UpdateTask {
    type Output = TaskChanges;

    /// Unknown fields are rejected, so one field is what "changes something" takes.
    const MIN_PROPERTIES: Option<usize> = Some(1);

    fn parse(fields: &mut Fields<'_>) -> Option<TaskChanges> {
        let read = TaskFields::read(fields);
        let not_null = |field: Option<Field<_>>, name: &str, fields: &mut Fields<'_>| match field {
            Some(Field::Null) => {
                fields.error(name, "cannot be null: omit it to keep the current value");
                None
            }
            other => other,
        };
        let title = not_null(read.title, "title", fields);
        let priority = match read.priority {
            Some(Field::Null) => {
                fields.error(
                    "priority",
                    "cannot be null: omit it to keep the current value",
                );
                None
            }
            other => other,
        };
        let tags = match read.tags {
            Some(Field::Null) => Some(Field::Value(Vec::new())),
            other => other,
        };
        let changes = TaskChanges {
            title: change(title?).flatten(),
            description: change(read.description?),
            priority: change(priority?).flatten(),
            tags: change(tags?).flatten(),
            due_at: change(read.due_at?),
            remind_at: change(read.remind_at?),
            recurrence: change(read.recurrence?),
        };
        if changes.is_empty() {
            fields.error("body", "changes nothing: send at least one field to change");
            return None;
        }
        Some(changes)
    }
}

/// Sets the completion state instead of toggling it (safe to retry).
#[derive(Debug, Object)]
#[oai(rename = "CompleteTask")]
pub struct CompleteTask {
    /// The state to set.
    pub completed: bool,
}

impl RequestSchema for CompleteTask {
    type Output = bool;

    fn parse(fields: &mut Fields<'_>) -> Option<bool> {
        match fields.boolean("completed")? {
            Field::Value(completed) => Some(completed),
            Field::Absent | Field::Null => {
                fields.error("completed", "is required (true or false)");
                None
            }
        }
    }
}

/// Which tasks to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Enum)]
#[oai(rename = "TaskStatus", rename_all = "lowercase")]
pub enum TaskStatus {
    /// Every task.
    #[default]
    All,
    /// Tasks not completed yet.
    Pending,
    /// Completed tasks.
    Completed,
}

/// Which tasks `DELETE /api/{user_id}/tasks` deletes: only completed ones, named explicitly so
/// that a bare `DELETE` of the collection deletes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ClearStatus", rename_all = "lowercase")]
pub enum ClearStatus {
    /// Completed tasks.
    Completed,
}

impl From<TaskStatus> for StatusFilter {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::All => Self::All,
            TaskStatus::Pending => Self::Pending,
            TaskStatus::Completed => Self::Completed,
        }
    }
}

/// What to sort a listing by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "TaskSort", rename_all = "snake_case")]
pub enum TaskSort {
    /// Creation time (default order: newest first).
    Created,
    /// Last change (default: most recent first).
    Updated,
    /// Title, ignoring case (default: A to Z).
    Title,
    /// Due time; tasks without one come last in either order (default: soonest first).
    DueDate,
    /// Priority (default: high first).
    Priority,
}

impl From<TaskSort> for SortKey {
    fn from(sort: TaskSort) -> Self {
        match sort {
            TaskSort::Created => Self::Created,
            TaskSort::Updated => Self::Updated,
            TaskSort::Title => Self::Title,
            TaskSort::DueDate => Self::DueDate,
            TaskSort::Priority => Self::Priority,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "SortOrder", rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl From<SortOrder> for Order {
    fn from(order: SortOrder) -> Self {
        match order {
            SortOrder::Asc => Self::Asc,
            SortOrder::Desc => Self::Desc,
        }
    }
}

/// A tag and how many of the user's tasks carry it.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "TagCount")]
pub struct TagCount {
    /// The tag, as first written.
    pub tag: String,
    /// How many tasks carry it.
    pub count: u64,
}

/// How many tasks were deleted.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Deleted")]
pub struct DeletedCount {
    /// The number of tasks deleted.
    pub deleted: u64,
}
