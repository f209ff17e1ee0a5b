//! The JSON shapes of the API: what the spec (and so the TypeScript client) calls `Task`,
//! `CreateTask`, `UpdateTask` and `CompleteTask`.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};

use crate::domain::{NewTask, StatusFilter, Task, TaskChanges, TaskDescription, TaskTitle};
use crate::http::body::{Field, Fields, RequestSchema};
use crate::http::nullable::Nullable;

/// A task.
#[derive(Debug, Object)]
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
    /// When the task was created (RFC 3339, UTC). Never changes.
    pub created_at: DateTime<Utc>,
    /// When the task last changed (RFC 3339, UTC).
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
        pattern = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00])?\s*$"
    ))]
    pub title: String,
    /// Up to 1000 characters, no NUL character; `null` or omitted for none.
    #[oai(nullable, validator(max_length = 1000, pattern = r"^[^\x00]*$"))]
    pub description: Option<String>,
}

impl RequestSchema for CreateTask {
    type Output = NewTask;

    fn parse(fields: &mut Fields<'_>) -> Option<NewTask> {
        let title = match fields.string("title") {
            Some(Field::Value(raw)) => fields.check("title", TaskTitle::parse(raw)),
            Some(Field::Absent | Field::Null) => {
                fields.error("title", "is required");
                None
            }
            None => None,
        };
        let description = parse_description(fields)?;
        Some(NewTask {
            title: title?,
            description: description.flatten(),
        })
    }
}

/// Changes to a task: every field is optional, an omitted field stays as it is, and
/// `"description": null` clears the description. At least one field is required.
#[derive(Debug, Object)]
#[oai(rename = "UpdateTask")]
pub struct UpdateTask {
    /// A new title: 1–200 characters after trimming surrounding white space; no NUL character.
    #[oai(validator(
        min_length = 1,
        pattern = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00])?\s*$"
    ))]
    pub title: Option<String>,
    /// A new description (up to 1000 characters, no NUL character), or `null` to clear it.
    #[oai(nullable, validator(max_length = 1000, pattern = r"^[^\x00]*$"))]
    pub description: Option<String>,
}

impl RequestSchema for UpdateTask {
    type Output = TaskChanges;

    /// Unknown fields are rejected, so one field is what "changes something" takes.
    const MIN_PROPERTIES: Option<usize> = Some(1);

    fn parse(fields: &mut Fields<'_>) -> Option<TaskChanges> {
        let title = match fields.string("title") {
            Some(Field::Value(raw)) => fields.check("title", TaskTitle::parse(raw)).map(Some),
            Some(Field::Absent) => Some(None),
            Some(Field::Null) => {
                fields.error("title", "cannot be null: omit it to keep the title");
                None
            }
            None => None,
        };
        let description = parse_description(fields);
        let changes = TaskChanges {
            title: title?,
            description: description?,
        };
        if changes.is_empty() {
            fields.error("body", "changes nothing: send `title` and/or `description`");
            return None;
        }
        Some(changes)
    }
}

/// `description`: absent → `Some(None)`, null → `Some(Some(None))`, a valid string →
/// `Some(Some(Some(_)))`, invalid → `None`.
fn parse_description(fields: &mut Fields<'_>) -> Option<Option<Option<TaskDescription>>> {
    match fields.string("description")? {
        Field::Absent => Some(None),
        Field::Null => Some(Some(None)),
        Field::Value(raw) => fields
            .check("description", TaskDescription::parse(raw))
            .map(|d| Some(Some(d))),
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
#[derive(Debug, Clone, Copy, Default, Enum)]
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

impl From<TaskStatus> for StatusFilter {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::All => Self::All,
            TaskStatus::Pending => Self::Pending,
            TaskStatus::Completed => Self::Completed,
        }
    }
}
