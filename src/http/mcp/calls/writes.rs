//! The tools that change tasks.

use super::ToolError;
use super::arguments::{Issues, changes, recurrence_arg, tags_arg, timestamp_arg};
use crate::domain::list::{Color, ListChanges, ListId, ListName, NewList, TasksOnDelete};
use crate::domain::order::Slot;
use crate::domain::{NewTask, Schedule, TaskDescription, TaskId, TaskMove, TaskTitle, UserId};
use crate::http::mcp::schemas::{
    AddTaskArgs, CreateListArgs, DeleteListArgs, ListOut, ListWritten, MoveTaskArgs, TaskCompleted,
    TaskDeleted, TaskIdArgs, TaskOut, TaskWritten, TasksName, UpdateListArgs, UpdateTaskArgs,
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
    let mut task = NewTask::new(title, description.flatten(), priority, tags, schedule)
        .map_err(|found| Issues::from(found).error(tool))?;
    task.list_id = args.list_id.map(|id| Some(ListId(id)));
    task.parent_id = args.parent_id.map(TaskId);
    match store.create(owner, task, None).await? {
        Created::New(task) | Created::Replayed(task) => {
            Ok(TaskWritten::new(WriteStatus::Created, task))
        }
        // Only a create with an idempotency key can meet one; MCP calls carry none.
        Created::KeyReused => Err(ToolError::refused("The task was not created: try again.")),
        Created::Invalid(issues) => Err(Issues::from(issues).error(tool)),
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
        Outcome::Conflict(why) => Err(ToolError::refused(format!("Not done: {why}."))),
    }
}

/// The list of a store outcome, or why there is none.
fn list_done<T>(tool: ToolName, id: ListId, outcome: Outcome<T>) -> Result<T, ToolError> {
    match outcome {
        Outcome::NotFound => Err(ToolError::no_such_list(id)),
        other => done(tool, TaskId(0), other),
    }
}

pub(super) async fn move_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: MoveTaskArgs,
) -> Result<TaskWritten, ToolError> {
    let id = TaskId(args.task_id);
    let to = TaskMove {
        list_id: args.list_id.map(|list| list.map(ListId)),
        parent_id: args.parent_id.map(|parent| parent.map(TaskId)),
        slot: match args.after {
            None => Slot::Last,
            Some(None) => Slot::First,
            Some(Some(after)) => Slot::After(after),
        },
    };
    let outcome = store.move_task(owner, id, &to, None).await?;
    let task = done(ToolName::MoveTask, id, outcome)?;
    Ok(TaskWritten::new(WriteStatus::Moved, task))
}

fn written(status: WriteStatus, list: crate::domain::list::List) -> ListWritten {
    ListWritten {
        list_id: list.id.0,
        status,
        name: list.name.clone(),
        list: Some(ListOut::from(list)),
    }
}

pub(super) async fn create_list(
    store: &dyn TaskStore,
    owner: &UserId,
    args: CreateListArgs,
) -> Result<ListWritten, ToolError> {
    let tool = ToolName::CreateList;
    let mut issues = Issues::default();
    let name = issues.check("name", ListName::parse(&args.name));
    let color = args
        .color
        .as_deref()
        .map(|raw| issues.check("color", Color::parse(raw)));
    let (Some(name), true) = (name, issues.is_empty()) else {
        return Err(issues.error(tool));
    };
    let list = NewList {
        name,
        color: color.flatten(),
    };
    let outcome = store.create_list(owner, &list).await?;
    let list = done(tool, TaskId(0), outcome)?;
    Ok(written(WriteStatus::Created, list))
}

pub(super) async fn update_list(
    store: &dyn TaskStore,
    owner: &UserId,
    args: UpdateListArgs,
) -> Result<ListWritten, ToolError> {
    let tool = ToolName::UpdateList;
    let id = ListId(args.list_id);
    let mut issues = Issues::default();
    let mut changes = ListChanges::default();
    match args.name {
        None => {}
        Some(None) => issues.add("name", "cannot be null: omit it to keep the current value"),
        Some(Some(raw)) => changes.name = issues.check("name", ListName::parse(&raw)),
    }
    if let Some(color) = args.color {
        changes.color = match color {
            None => Some(None),
            Some(raw) => issues.check("color", Color::parse(&raw)).map(Some),
        };
    }
    issues.finish(tool)?;
    if changes.is_empty() {
        return Err(ToolError::invalid(
            tool,
            [(
                String::new(),
                "they change nothing: give name or color".to_owned(),
            )],
        ));
    }
    let outcome = store.update_list(owner, id, &changes, None).await?;
    let list = list_done(tool, id, outcome)?;
    Ok(written(WriteStatus::Updated, list))
}

pub(super) async fn delete_list(
    store: &dyn TaskStore,
    owner: &UserId,
    args: DeleteListArgs,
) -> Result<ListWritten, ToolError> {
    let tool = ToolName::DeleteList;
    let id = ListId(args.list_id);
    let list = store
        .get_list(owner, id)
        .await?
        .ok_or_else(|| ToolError::no_such_list(id))?;
    let tasks = args.tasks.map(|tasks| match tasks {
        TasksName::Inbox => TasksOnDelete::Inbox,
        TasksName::Delete => TasksOnDelete::Delete,
    });
    let outcome = store
        .delete_list(owner, id, tasks, Some(list.version))
        .await?;
    list_done(tool, id, outcome)?;
    Ok(ListWritten {
        list_id: id.0,
        status: WriteStatus::Deleted,
        name: list.name,
        list: None,
    })
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
