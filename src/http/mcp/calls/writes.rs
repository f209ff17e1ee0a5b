//! The tools that change tasks.

use super::ToolError;
use super::arguments::{Issues, changes, recurrence_arg, tags_arg, timestamp_arg};
use crate::domain::{NewTask, Schedule, TaskDescription, TaskId, TaskTitle, UserId};
use crate::http::mcp::schemas::{
    AddTaskArgs, TaskCompleted, TaskDeleted, TaskIdArgs, TaskOut, TaskWritten, UpdateTaskArgs,
    WriteStatus,
};
use crate::http::mcp::tools::ToolName;
use crate::store::{Created, Outcome, TaskStore};

pub(super) async fn add_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: AddTaskArgs,
) -> Result<TaskWritten, ToolError> {
    let tool = ToolName::AddTask;
    let mut issues = Issues::default();
    let title = issues.check("title", TaskTitle::parse(&args.title));
    let description = args
        .description
        .as_deref()
        .map(|raw| issues.check("description", TaskDescription::parse(raw)));
    let tags = args.tags.as_deref().map(|raw| tags_arg(raw, &mut issues));
    let due_at = args
        .due_at
        .as_deref()
        .map(|raw| issues.check("due_at", timestamp_arg(raw)));
    let remind_at = args
        .remind_at
        .as_deref()
        .map(|raw| issues.check("remind_at", timestamp_arg(raw)));
    let recurrence = args
        .recurrence
        .map(|rule| recurrence_arg(rule, &mut issues));
    let (Some(title), true) = (title, issues.is_empty()) else {
        return Err(issues.error(tool));
    };
    let schedule = Schedule {
        due_at: due_at.flatten(),
        remind_at: remind_at.flatten().map(|at| at.to_utc()),
        recurrence: recurrence.flatten(),
    };
    let priority = args.priority.map(Into::into).unwrap_or_default();
    let tags = tags.flatten().unwrap_or_default();
    let task = NewTask::new(title, description.flatten(), priority, tags, schedule)
        .map_err(|found| Issues::from(found).error(tool))?;
    match store.create(owner, task, None).await? {
        Created::New(task) | Created::Replayed(task) => {
            Ok(TaskWritten::new(WriteStatus::Created, task))
        }
        // Only a create with an idempotency key can meet one; MCP calls carry none.
        Created::KeyReused => Err(ToolError::refused("The task was not created: try again.")),
    }
}

/// The task of a store outcome, or why there is none.
fn done<T>(tool: ToolName, id: TaskId, outcome: Outcome<T>) -> Result<T, ToolError> {
    match outcome {
        Outcome::Done(value) => Ok(value),
        Outcome::NotFound => Err(ToolError::no_such_task(id)),
        Outcome::Invalid(issues) => Err(Issues::from(issues).error(tool)),
        Outcome::Stale => Err(ToolError::refused(format!(
            "The task changed while {} ran: call it again.",
            tool.as_str()
        ))),
    }
}

pub(super) async fn update_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: UpdateTaskArgs,
) -> Result<TaskWritten, ToolError> {
    let id = TaskId(args.task_id);
    let changes = changes(args)?;
    let outcome = store.update(owner, id, &changes, None).await?;
    let task = done(ToolName::UpdateTask, id, outcome)?;
    Ok(TaskWritten::new(WriteStatus::Updated, task))
}

pub(super) async fn complete_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: TaskIdArgs,
) -> Result<TaskCompleted, ToolError> {
    let id = TaskId(args.task_id);
    let outcome = store.set_completed(owner, id, Some(true), None).await?;
    let completion = done(ToolName::CompleteTask, id, outcome)?;
    let written = TaskWritten::new(WriteStatus::Completed, completion.task);
    Ok(TaskCompleted {
        task_id: written.task_id,
        status: written.status,
        title: written.title,
        task: written.task,
        next_occurrence: completion.next.map(TaskOut::from),
    })
}

pub(super) async fn reopen_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: TaskIdArgs,
) -> Result<TaskWritten, ToolError> {
    let id = TaskId(args.task_id);
    let outcome = store.set_completed(owner, id, Some(false), None).await?;
    let completion = done(ToolName::ReopenTask, id, outcome)?;
    Ok(TaskWritten::new(WriteStatus::Reopened, completion.task))
}

/// Deletes the task at the version just read, so that the title reported is the deleted one.
pub(super) async fn delete_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: TaskIdArgs,
) -> Result<TaskDeleted, ToolError> {
    let id = TaskId(args.task_id);
    let task = store
        .get(owner, id)
        .await?
        .ok_or_else(|| ToolError::no_such_task(id))?;
    let outcome = store.delete(owner, id, Some(task.version)).await?;
    done(ToolName::DeleteTask, id, outcome)?;
    Ok(TaskDeleted {
        task_id: id.0,
        status: WriteStatus::Deleted,
        title: task.title,
    })
}
