//! The tools' arguments and results, and the JSON Schemas clients see for them (`schemars`,
//! from these types and their doc comments).
//!
//! Arguments arrive as raw text and numbers; [`crate::http::mcp::tools`] turns them into domain
//! values with the domain's own parsers, so every rule is the REST API's. A field the type
//! does not know is refused (`deny_unknown_fields`), so a misspelt argument is an error the
//! model can correct rather than a silently ignored value.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::list::List;
use crate::domain::{Frequency, Priority, Recurrence, Task};
use crate::http::listing::MAX_LIMIT;

/// For update arguments: an omitted field stays `None` (`#[serde(default)]`), a present one is
/// `Some`, `null` included (`Some(None)`: clear it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// How important a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PriorityName {
    /// Can wait.
    Low,
    /// The default.
    Medium,
    /// Do it first.
    High,
}

impl From<PriorityName> for Priority {
    fn from(priority: PriorityName) -> Self {
        match priority {
            PriorityName::Low => Self::Low,
            PriorityName::Medium => Self::Medium,
            PriorityName::High => Self::High,
        }
    }
}

impl From<Priority> for PriorityName {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::Low => Self::Low,
            Priority::Medium => Self::Medium,
            Priority::High => Self::High,
        }
    }
}

/// How often a task repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FrequencyName {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months (month ends stick: Jan 31, Feb 28/29, Mar 31).
    Monthly,
    /// Every `interval` years.
    Yearly,
}

impl From<FrequencyName> for Frequency {
    fn from(frequency: FrequencyName) -> Self {
        match frequency {
            FrequencyName::Daily => Self::Daily,
            FrequencyName::Weekly => Self::Weekly,
            FrequencyName::Monthly => Self::Monthly,
            FrequencyName::Yearly => Self::Yearly,
        }
    }
}

impl From<Frequency> for FrequencyName {
    fn from(frequency: Frequency) -> Self {
        match frequency {
            Frequency::Daily => Self::Daily,
            Frequency::Weekly => Self::Weekly,
            Frequency::Monthly => Self::Monthly,
            Frequency::Yearly => Self::Yearly,
        }
    }
}

/// A repetition rule: completing the task creates its next occurrence, due one `interval` of
/// `frequency` later. Needs a `due_at`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecurrenceArgs {
    /// The unit.
    pub frequency: FrequencyName,
    /// How many units between occurrences: 1 to 1000 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1, max = Recurrence::MAX_INTERVAL))]
    pub interval: Option<u32>,
    /// No occurrence is due after this instant (RFC 3339, e.g. `2030-12-31T23:59:59Z`).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub until: Option<String>,
    /// The total number of occurrences, the first included: 1 to 10000.
    #[serde(default)]
    #[schemars(range(min = 1, max = Recurrence::MAX_COUNT))]
    pub count: Option<u32>,
}

/// `add_task`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddTaskArgs {
    /// What to do: 1 to 200 characters (surrounding white space is trimmed).
    pub title: String,
    /// Details: up to 1000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Importance (default `medium`).
    #[serde(default)]
    pub priority: Option<PriorityName>,
    /// Labels: up to 20, each 1 to 32 characters, unique ignoring case.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// When the task is due: RFC 3339 with an offset, e.g. `2030-01-31T09:00:00+01:00`
    /// (a recurrence repeats in that offset's calendar).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub due_at: Option<String>,
    /// When to remind the user: RFC 3339, not after `due_at`.
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub remind_at: Option<String>,
    /// How the task repeats (needs `due_at`).
    #[serde(default)]
    pub recurrence: Option<RecurrenceArgs>,
    /// The list to put it in (`id` in `list_lists`); omitted: the parent's list, or the
    /// inbox.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// The task to make it a subtask of (at most 4 levels deep); omitted: a top-level task.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

/// `update_task`'s arguments: only the fields given change; `null` clears a field that can be
/// empty.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTaskArgs {
    /// The task's id (`id` in `list_tasks`).
    pub task_id: i64,
    /// A new title: 1 to 200 characters.
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    /// A new description (up to 1000 characters), or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    /// A new priority.
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<Option<PriorityName>>,
    /// New tags, replacing the old ones (`[]` or `null` removes them all).
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
    /// A new due time (RFC 3339 with an offset), or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(extend("format" = "date-time"))]
    pub due_at: Option<Option<String>>,
    /// A new reminder time (RFC 3339, not after the due time), or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(extend("format" = "date-time"))]
    pub remind_at: Option<Option<String>>,
    /// A new repetition rule, or `null` to stop repeating.
    #[serde(default, deserialize_with = "present")]
    pub recurrence: Option<Option<RecurrenceArgs>>,
    /// Another list (`null`: the inbox), with the task's subtasks; it goes last there.
    #[serde(default, deserialize_with = "present")]
    pub list_id: Option<Option<i64>>,
    /// Another parent task (`null`: top level); it goes last among that task's subtasks.
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<Option<i64>>,
}

/// `move_task`'s arguments: where the task goes. Omitted fields keep the task where it is.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveTaskArgs {
    /// The task's id.
    pub task_id: i64,
    /// Another list (`null`: the inbox), with the task's subtasks.
    #[serde(default, deserialize_with = "present")]
    pub list_id: Option<Option<i64>>,
    /// Another parent task (`null`: top level).
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<Option<i64>>,
    /// The id of the sibling (same list, same parent) to put it right after; `null`: first;
    /// omitted: last.
    #[serde(default, deserialize_with = "present")]
    pub after: Option<Option<i64>>,
}

/// `create_list`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateListArgs {
    /// The name: 1 to 100 characters, unique among the user's lists ignoring case.
    pub name: String,
    /// A color, `#rrggbb`.
    #[serde(default)]
    pub color: Option<String>,
}

/// `update_list`'s arguments: only the fields given change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateListArgs {
    /// The list's id (`id` in `list_lists`).
    pub list_id: i64,
    /// A new name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    /// A new color (`#rrggbb`), or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    pub color: Option<Option<String>>,
}

/// What happens to the tasks of a deleted list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TasksName {
    /// Move them to the inbox.
    Inbox,
    /// Delete them too.
    Delete,
}

/// `delete_list`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteListArgs {
    /// The list's id.
    pub list_id: i64,
    /// Required when the list has tasks: `inbox` moves them to the inbox, `delete` deletes
    /// them (ask the user which).
    #[serde(default)]
    pub tasks: Option<TasksName>,
}

/// The arguments of a tool that acts on one task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskIdArgs {
    /// The task's id (`id` in `list_tasks`).
    pub task_id: i64,
}

/// Which tasks `list_tasks` returns, by completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusName {
    /// Every task (the default).
    #[default]
    All,
    /// Tasks not completed yet.
    Pending,
    /// Completed tasks.
    Completed,
}

/// What `list_tasks` sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SortName {
    /// Creation time (default order: newest first).
    Created,
    /// Last change (default: most recent first).
    Updated,
    /// Title, ignoring case (default: A to Z).
    Title,
    /// Due time; tasks without one come last (default: soonest first).
    DueDate,
    /// Priority (default: high first).
    Priority,
    /// The user's manual order among siblings (use with `list_id` and `parent_id`).
    Position,
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OrderName {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// `list_tasks`'s arguments: every filter given must match.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListTasksArgs {
    /// `pending`, `completed` or `all` (the default).
    #[serde(default)]
    pub status: Option<StatusName>,
    /// A keyword to find in the title or description (case-insensitive, up to 200
    /// characters).
    #[serde(default)]
    pub q: Option<String>,
    /// Only tasks carrying every one of these tags (case-insensitive).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Only tasks with one of these priorities.
    #[serde(default)]
    pub priorities: Option<Vec<PriorityName>>,
    /// Only tasks due before this instant (RFC 3339).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub due_before: Option<String>,
    /// Only tasks due at or after this instant (RFC 3339).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub due_after: Option<String>,
    /// `true`: only pending tasks whose due time has passed.
    #[serde(default)]
    pub overdue: Option<bool>,
    /// What to sort by (default `created`).
    #[serde(default)]
    pub sort: Option<SortName>,
    /// Sort direction (default: `desc` for created, updated and priority; `asc` for title and
    /// due_date).
    #[serde(default)]
    pub order: Option<OrderName>,
    /// At most this many tasks: 1 to 1000 (default 50). `total` tells how many match.
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
    /// Only the tasks of this list (`id` in `list_lists`).
    #[serde(default)]
    pub list_id: Option<i64>,
    /// `true`: only the tasks in no list (the inbox).
    #[serde(default)]
    pub inbox: Option<bool>,
    /// Only the subtasks of this task.
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// `true`: only top-level tasks (no subtasks).
    #[serde(default)]
    pub top_level: Option<bool>,
}

/// `list_reminders`'s arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRemindersArgs {
    /// Reminders due at or before this instant (RFC 3339; default: now).
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub before: Option<String>,
    /// At most this many tasks: 1 to 1000 (default 100).
    #[serde(default)]
    #[schemars(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u32>,
}

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

/// A repetition rule, as stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RecurrenceOut {
    /// The unit.
    pub frequency: FrequencyName,
    /// How many units between occurrences.
    pub interval: u32,
    /// No occurrence is due after this instant.
    #[schemars(extend("format" = "date-time"))]
    pub until: Option<String>,
    /// The total number of occurrences, the first included.
    pub count: Option<u32>,
}

/// A task.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskOut {
    /// The task's id: what `task_id` arguments take.
    pub id: i64,
    /// The title.
    pub title: String,
    /// The description, or `null`.
    pub description: Option<String>,
    /// Whether the task is done.
    pub completed: bool,
    /// When it was completed (RFC 3339, UTC); `null` while pending.
    #[schemars(extend("format" = "date-time"))]
    pub completed_at: Option<String>,
    /// Importance.
    pub priority: PriorityName,
    /// Tags, in the order given.
    pub tags: Vec<String>,
    /// When it is due (RFC 3339, UTC), or `null`.
    #[schemars(extend("format" = "date-time"))]
    pub due_at: Option<String>,
    /// When the user is reminded (RFC 3339, UTC), or `null`.
    #[schemars(extend("format" = "date-time"))]
    pub remind_at: Option<String>,
    /// How it repeats, or `null`.
    pub recurrence: Option<RecurrenceOut>,
    /// For a completed recurring task: the id of the occurrence its completion created.
    pub next_occurrence_id: Option<i64>,
    /// The list it is in, or `null` for the inbox.
    pub list_id: Option<i64>,
    /// The task it is a subtask of, or `null`.
    pub parent_id: Option<i64>,
    /// Its place among its siblings (sort them by it, as strings).
    pub position: String,
    /// How many subtasks it has.
    pub subtask_count: u32,
    /// How many of them are completed.
    pub completed_subtask_count: u32,
    /// When it was created (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// When it last changed (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
}

/// The REST API's timestamp format.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

impl From<Task> for TaskOut {
    fn from(task: Task) -> Self {
        Self {
            id: task.id.0,
            title: task.title,
            description: task.description,
            completed: task.completed,
            completed_at: task.completed_at.map(timestamp),
            priority: task.priority.into(),
            tags: task.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            due_at: task.schedule.due_at.map(|due| timestamp(due.to_utc())),
            remind_at: task.schedule.remind_at.map(timestamp),
            recurrence: task.schedule.recurrence.map(RecurrenceOut::from),
            next_occurrence_id: task.next_occurrence_id.map(|id| id.0),
            list_id: task.list_id.map(|id| id.0),
            parent_id: task.parent_id.map(|id| id.0),
            position: task.position,
            subtask_count: task.subtask_count,
            completed_subtask_count: task.completed_subtask_count,
            created_at: timestamp(task.created_at),
            updated_at: timestamp(task.updated_at),
        }
    }
}

impl From<Recurrence> for RecurrenceOut {
    fn from(rule: Recurrence) -> Self {
        Self {
            frequency: rule.frequency.into(),
            interval: rule.interval,
            until: rule.until.map(timestamp),
            count: rule.count,
        }
    }
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WriteStatus {
    /// `add_task` created it.
    Created,
    /// `update_task` changed it.
    Updated,
    /// `complete_task` marked it done.
    Completed,
    /// `reopen_task` marked it pending again.
    Reopened,
    /// `delete_task` deleted it.
    Deleted,
    /// `move_task` moved it.
    Moved,
}

/// The result of `add_task`, `update_task` and `reopen_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskWritten {
    /// The task's id.
    pub task_id: i64,
    /// What happened.
    pub status: WriteStatus,
    /// The task's title.
    pub title: String,
    /// The whole task, as it is now.
    pub task: TaskOut,
}

impl TaskWritten {
    /// `task` after a write that did `status`.
    pub(crate) fn new(status: WriteStatus, task: Task) -> Self {
        Self {
            task_id: task.id.0,
            status,
            title: task.title.clone(),
            task: task.into(),
        }
    }
}

/// The result of `complete_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskCompleted {
    /// The task's id.
    pub task_id: i64,
    /// `completed`.
    pub status: WriteStatus,
    /// The task's title.
    pub title: String,
    /// The whole task, as it is now.
    pub task: TaskOut,
    /// For a recurring task: the next occurrence its completion created, else `null`.
    pub next_occurrence: Option<TaskOut>,
}

/// The result of `delete_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskDeleted {
    /// The deleted task's id (never reused).
    pub task_id: i64,
    /// `deleted`.
    pub status: WriteStatus,
    /// The deleted task's title.
    pub title: String,
}

/// The result of `get_task`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskFound {
    /// The task.
    pub task: TaskOut,
}

/// The result of `list_tasks`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaskPage {
    /// The matching tasks, in order (at most `limit`).
    pub tasks: Vec<TaskOut>,
    /// How many tasks match the filters in all.
    pub total: u64,
    /// `true` when more tasks match than were returned: narrow the filters or raise `limit`.
    pub more: bool,
    /// The server's current time (RFC 3339, UTC), for "today", "overdue" and relative dates.
    #[schemars(extend("format" = "date-time"))]
    pub now: String,
}

/// A tag and how many tasks carry it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TagOut {
    /// The tag, as first written.
    pub tag: String,
    /// How many of the user's tasks carry it.
    pub count: u64,
}

/// The result of `list_tags`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TagList {
    /// The user's tags, by name (the first 1000).
    pub tags: Vec<TagOut>,
    /// How many distinct tags the user has.
    pub total: u64,
}

/// The result of `list_reminders`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ReminderList {
    /// Pending tasks whose reminder is due at or before `before`, soonest first.
    pub tasks: Vec<TaskOut>,
    /// The instant the reminders are due by (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub before: String,
}

/// The result of `clear_completed_tasks`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Cleared {
    /// How many completed tasks were deleted.
    pub deleted: u64,
}

/// A list (a project).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListOut {
    /// The list's id: what `list_id` arguments take.
    pub id: i64,
    /// The name.
    pub name: String,
    /// The color (`#rrggbb`), or `null`.
    pub color: Option<String>,
    /// Its place among the user's lists (sort them by it, as strings).
    pub position: String,
    /// How many tasks it holds.
    pub task_count: u64,
    /// How many of them are pending.
    pub pending_count: u64,
}

impl From<List> for ListOut {
    fn from(list: List) -> Self {
        Self {
            id: list.id.0,
            name: list.name,
            color: list.color,
            position: list.position,
            task_count: list.task_count,
            pending_count: list.pending_count,
        }
    }
}

/// The result of `list_lists`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListsOut {
    /// The user's lists, in the user's order.
    pub lists: Vec<ListOut>,
}

/// The result of `create_list`, `update_list` and `delete_list`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListWritten {
    /// The list's id.
    pub list_id: i64,
    /// What happened.
    pub status: WriteStatus,
    /// The list's name.
    pub name: String,
    /// The whole list as it is now (`null` once deleted).
    pub list: Option<ListOut>,
}
