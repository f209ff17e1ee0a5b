//! What responses hold: `Task` (with its `Recurrence`), `TagCount` and `Deleted`, built from the
//! domain types. Their spec comes from the poem-openapi derive, their bytes from serde (see
//! [`crate::http::json`]); the enums in them (`Priority`, `Frequency`) are the domain's own.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Serialize;

use crate::domain::list::List;
use crate::domain::{Frequency, Priority, Recurrence, Task};
use crate::http::json::rfc3339;
use crate::http::nullable::Nullable;

// Request bodies take it too; the bounds the spec states for `interval` and `count` come from
// `Recurrence` (see `super::requests`). (Doc comments here are the spec's words.)
/// A repetition rule. Completing a recurring task creates its next occurrence, due (and
/// reminded) one `interval` of `frequency` later, in the calendar of the due date's offset.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Recurrence")]
pub(crate) struct RecurrenceView {
    /// The unit.
    pub(crate) frequency: Frequency,
    /// How many units between occurrences (default 1).
    #[oai(default = "one")]
    pub(crate) interval: u32,
    /// No occurrence is due after this instant. With `count`, the series ends at whichever
    /// comes first.
    #[oai(skip_serializing_if_is_none)]
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339::option"
    )]
    pub(crate) until: Option<DateTime<Utc>>,
    /// The total number of occurrences, the first included. With `until`, the series ends at
    /// whichever comes first.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<u32>,
}

fn one() -> u32 {
    1
}

impl From<Recurrence> for RecurrenceView {
    fn from(rule: Recurrence) -> Self {
        Self {
            frequency: rule.frequency,
            interval: rule.interval,
            until: rule.until,
            count: rule.count,
        }
    }
}

/// A task.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Task")]
pub(crate) struct TaskView {
    /// Assigned by the server; never reused. Always below 2^53, so a JavaScript `number` holds it exactly.
    pub(crate) id: i64,
    /// The owner: the `sub` of the token that created it.
    pub(crate) user_id: String,
    /// 1–200 characters, without surrounding white space.
    pub(crate) title: String,
    /// Up to 1000 characters, or `null`.
    #[oai(nullable)]
    pub(crate) description: Nullable<String>,
    /// Whether the task is done.
    pub(crate) completed: bool,
    /// When the task was completed (RFC 3339, UTC); `null` while pending.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub(crate) completed_at: Nullable<DateTime<Utc>>,
    /// Importance.
    pub(crate) priority: Priority,
    /// Tags, in the order given.
    pub(crate) tags: Vec<String>,
    /// When the task is due (RFC 3339, UTC), or `null`.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub(crate) due_at: Nullable<DateTime<Utc>>,
    /// When to remind the user (RFC 3339, UTC), or `null`. Never after `due_at`.
    #[oai(nullable)]
    #[serde(serialize_with = "rfc3339::nullable")]
    pub(crate) remind_at: Nullable<DateTime<Utc>>,
    /// How the task repeats, or `null`.
    #[oai(nullable)]
    pub(crate) recurrence: Nullable<RecurrenceView>,
    /// For a completed recurring task: the id of the occurrence its completion created.
    #[oai(nullable)]
    pub(crate) next_occurrence_id: Nullable<i64>,
    /// The list the task is in, or `null` for the inbox.
    #[oai(nullable)]
    pub(crate) list_id: Nullable<i64>,
    /// The task this one is a subtask of, or `null` for a top-level task.
    #[oai(nullable)]
    pub(crate) parent_id: Nullable<i64>,
    /// Its place among its siblings (the tasks of the same list under the same parent):
    /// sort siblings by comparing positions as strings, byte by byte (ASCII; not
    /// locale-aware). Assigned by the server; changes when the task moves.
    pub(crate) position: String,
    /// How many subtasks it has (direct children only).
    pub(crate) subtask_count: u32,
    /// How many of its subtasks are completed.
    pub(crate) completed_subtask_count: u32,
    /// When the task was created (RFC 3339, UTC). Never changes.
    #[serde(serialize_with = "rfc3339::serialize")]
    pub(crate) created_at: DateTime<Utc>,
    /// When the task last changed (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub(crate) updated_at: DateTime<Utc>,
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
            priority: task.priority,
            tags: task.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            due_at: Nullable(task.schedule.due_at.map(|due| due.to_utc())),
            remind_at: Nullable(task.schedule.remind_at),
            recurrence: Nullable(task.schedule.recurrence.map(RecurrenceView::from)),
            next_occurrence_id: Nullable(task.next_occurrence_id.map(|id| id.0)),
            list_id: Nullable(task.list_id.map(|id| id.0)),
            parent_id: Nullable(task.parent_id.map(|id| id.0)),
            position: task.position,
            subtask_count: task.subtask_count,
            completed_subtask_count: task.completed_subtask_count,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// A list (a project): a named group of the user's tasks.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "List")]
pub(crate) struct ListView {
    /// Assigned by the server; never reused.
    pub(crate) id: i64,
    /// 1–100 characters, without surrounding white space; unique among the user's lists,
    /// ignoring case.
    pub(crate) name: String,
    /// `#rrggbb` (lower-case hex digits), or `null`.
    #[oai(nullable)]
    pub(crate) color: Nullable<String>,
    /// Its place among the user's lists: sort lists by comparing positions as strings, byte
    /// by byte. Assigned by the server.
    pub(crate) position: String,
    /// How many tasks the list holds (subtasks included), when it was read.
    pub(crate) task_count: u64,
    /// How many of them are pending, when it was read.
    pub(crate) pending_count: u64,
    /// When the list was created (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub(crate) created_at: DateTime<Utc>,
    /// When the list last changed (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<List> for ListView {
    fn from(list: List) -> Self {
        Self {
            id: list.id.0,
            name: list.name,
            color: Nullable(list.color),
            position: list.position,
            task_count: list.task_count,
            pending_count: list.pending_count,
            created_at: list.created_at,
            updated_at: list.updated_at,
        }
    }
}

/// A tag and how many of the user's tasks carry it.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "TagCount")]
pub(crate) struct TagCount {
    /// The tag, as first written.
    pub(crate) tag: String,
    /// How many tasks carry it.
    pub(crate) count: u64,
}

/// How many tasks were deleted.
#[derive(Debug, Object, Serialize)]
#[oai(rename = "Deleted")]
pub(crate) struct DeletedCount {
    /// The number of tasks deleted.
    pub(crate) deleted: u64,
}
