//! What responses hold: `Task` (with its `Recurrence`), `TagCount` and `Deleted`, built from the
//! domain types. Their spec comes from the poem-openapi derive, their bytes from serde (see
//! [`crate::http::json`]); the enums in them (`Priority`, `Frequency`) are the domain's own.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Serialize;

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
            created_at: task.created_at,
            updated_at: task.updated_at,
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
