//! The tools that read tasks.

use chrono::{DateTime, Utc};

use super::ToolError;
use super::arguments::{Issues, limit_arg, sort_key, timestamp_arg};
use crate::domain::listing::{Keyword, ListQuery, MAX_FILTER_VALUES, Order};
use crate::domain::{StatusFilter, Tag, TaskId, UserId};
use crate::http::mcp::schemas::{
    ListOut, ListRemindersArgs, ListTasksArgs, ListsOut, OrderName, ReminderList, StatusName,
    TaskFound, TaskIdArgs, TaskOut, TaskPage, timestamp,
};
use crate::http::mcp::tools::ToolName;
use crate::store::TaskStore;

/// How many tasks `list_tasks` returns when no `limit` is given (a model reads every one).
const DEFAULT_LIST_LIMIT: u32 = 50;
/// How many reminders `list_reminders` returns by default (the REST default).
const DEFAULT_REMINDER_LIMIT: u32 = 100;

pub(super) async fn get_task(
    store: &dyn TaskStore,
    owner: &UserId,
    args: TaskIdArgs,
) -> Result<TaskFound, ToolError> {
    let id = TaskId(args.task_id);
    let task = store
        .get(owner, id)
        .await?
        .ok_or_else(|| ToolError::no_such_task(id))?;
    Ok(TaskFound { task: task.into() })
}

pub(super) async fn list_tasks(
    store: &dyn TaskStore,
    owner: &UserId,
    args: ListTasksArgs,
) -> Result<TaskPage, ToolError> {
    let mut issues = Issues::default();
    let search = match args.q.as_deref().map(Keyword::parse) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(keyword))) => Some(keyword.as_str().to_owned()),
        Some(Err(why)) => {
            issues.add("q", why);
            None
        }
    };
    let tags = args.tags.unwrap_or_default();
    if tags.len() > MAX_FILTER_VALUES {
        issues.add(
            "tags",
            format!("takes at most {MAX_FILTER_VALUES} tags, not {}", tags.len()),
        );
    }
    let mut tag_keys: Vec<String> = Vec::new();
    for raw in tags.iter().take(MAX_FILTER_VALUES + 1) {
        if let Some(tag) = issues.check("tags", Tag::parse(raw))
            && !tag_keys.contains(&tag.key())
        {
            tag_keys.push(tag.key());
        }
    }
    let mut instant = |field: &str, raw: Option<String>| {
        raw.and_then(|raw| issues.check(field, timestamp_arg(&raw)))
            .map(|at| at.to_utc())
    };
    let due_before = instant("due_before", args.due_before);
    let due_after = instant("due_after", args.due_after);
    let limit = limit_arg(args.limit, DEFAULT_LIST_LIMIT, &mut issues);
    let list = match (args.list_id, args.inbox.unwrap_or(false)) {
        (Some(_), true) => {
            issues.add(
                "inbox",
                "cannot be true with a list_id: give one or the other",
            );
            None
        }
        (Some(id), false) => Some(Some(id)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let parent = match (args.parent_id, args.top_level.unwrap_or(false)) {
        (Some(_), true) => {
            issues.add(
                "top_level",
                "cannot be true with a parent_id: give one or the other",
            );
            None
        }
        (Some(id), false) => Some(Some(id)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    issues.finish(ToolName::ListTasks)?;
    let now = crate::domain::now();
    let query = ListQuery {
        status: match args.status.unwrap_or_default() {
            StatusName::All => StatusFilter::All,
            StatusName::Pending => StatusFilter::Pending,
            StatusName::Completed => StatusFilter::Completed,
        },
        priorities: args
            .priorities
            .into_iter()
            .flatten()
            .map(Into::into)
            .collect(),
        tag_keys,
        search,
        due_before,
        due_after,
        overdue: args.overdue.unwrap_or(false),
        list,
        parent,
        now,
        sort: args.sort.map(sort_key).unwrap_or_default(),
        order: args.order.map(|order| match order {
            OrderName::Asc => Order::Asc,
            OrderName::Desc => Order::Desc,
        }),
        limit,
        after: None,
    };
    let page = store.list(owner, &query).await?;
    Ok(TaskPage {
        more: page.next.is_some(),
        total: page.total,
        tasks: page.tasks.into_iter().map(TaskOut::from).collect(),
        now: timestamp(now),
    })
}

pub(super) async fn list_reminders(
    store: &dyn TaskStore,
    owner: &UserId,
    args: ListRemindersArgs,
) -> Result<ReminderList, ToolError> {
    let mut issues = Issues::default();
    let before = args
        .before
        .and_then(|raw| issues.check("before", timestamp_arg(&raw)))
        .map(|at| at.to_utc());
    let limit = limit_arg(args.limit, DEFAULT_REMINDER_LIMIT, &mut issues);
    issues.finish(ToolName::ListReminders)?;
    let before: DateTime<Utc> = before.unwrap_or_else(crate::domain::now);
    let tasks = store.reminders(owner, before, limit).await?;
    Ok(ReminderList {
        tasks: tasks.into_iter().map(TaskOut::from).collect(),
        before: timestamp(before),
    })
}

pub(super) async fn list_lists(
    store: &dyn TaskStore,
    owner: &UserId,
) -> Result<ListsOut, ToolError> {
    let lists = store.lists(owner).await?;
    Ok(ListsOut {
        lists: lists.into_iter().map(ListOut::from).collect(),
    })
}
