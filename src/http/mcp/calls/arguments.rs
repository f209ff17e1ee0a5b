//! Arguments into domain values, with the domain's parsers, and the problems found on the way.

use chrono::{DateTime, FixedOffset};

use super::ToolError;
use crate::domain::list::ListId;
use crate::domain::listing::SortKey;
use crate::domain::{
    FieldIssue, Recurrence, Tag, TaskChanges, TaskDescription, TaskId, TaskTitle, Timestamp,
};
use crate::http::listing::MAX_LIMIT;
use crate::http::mcp::schemas::{RecurrenceArgs, SortName, UpdateTaskArgs};
use crate::http::mcp::tools::ToolName;

/// Field problems, collected so that one answer names all of them.
#[derive(Default)]
pub(super) struct Issues(Vec<(String, String)>);

impl Issues {
    /// The value, or `None` with the problem recorded under `field`.
    pub(super) fn check<T, E: ToString>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|why| self.0.push((field.to_owned(), why.to_string())))
            .ok()
    }

    /// Records a problem with `field`.
    pub(super) fn add(&mut self, field: &str, why: impl Into<String>) {
        self.0.push((field.to_owned(), why.into()));
    }

    /// Whether nothing was recorded.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The error naming every problem recorded.
    pub(super) fn error(self, tool: ToolName) -> ToolError {
        ToolError::invalid(tool, self.0)
    }

    /// `Err` when anything was recorded.
    pub(super) fn finish(self, tool: ToolName) -> Result<(), ToolError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(tool))
        }
    }
}

/// The problems a domain rule found (e.g. a reminder after the due time).
impl From<Vec<FieldIssue>> for Issues {
    fn from(issues: Vec<FieldIssue>) -> Self {
        Self(
            issues
                .into_iter()
                .map(|i| (i.field.to_owned(), i.message))
                .collect(),
        )
    }
}

/// An RFC 3339 timestamp, its offset kept (as REST reads one); REST's message otherwise.
pub(super) fn timestamp_arg(raw: &str) -> Result<DateTime<FixedOffset>, &'static str> {
    Timestamp::parse(raw)
}

pub(super) fn recurrence_arg(args: RecurrenceArgs, issues: &mut Issues) -> Option<Recurrence> {
    let until = match args.until.as_deref().map(timestamp_arg) {
        None => Some(None),
        Some(parsed) => issues
            .check("recurrence.until", parsed)
            .map(|at| Some(at.to_utc())),
    };
    let rule = Recurrence {
        frequency: args.frequency.into(),
        interval: args.interval.unwrap_or(1),
        until: until?,
        count: args.count,
    };
    issues.check("recurrence", rule.validate().map(|()| rule))
}

/// A task's tags, as the domain accepts them.
pub(super) fn tags_arg(raw: &[String], issues: &mut Issues) -> Option<Vec<Tag>> {
    issues.check("tags", Tag::parse_list(raw.iter().map(String::as_str)))
}

/// The REST rules of an update: absent keeps, `null` clears (title and priority cannot be
/// cleared; `null` tags are no tags), and at least one field must change.
pub(super) fn changes(args: UpdateTaskArgs) -> Result<TaskChanges, ToolError> {
    let tool = ToolName::UpdateTask;
    let mut issues = Issues::default();
    let keep = "cannot be null: omit it to keep the current value";
    let mut changes = TaskChanges::default();
    match args.title {
        None => {}
        Some(None) => issues.add("title", keep),
        Some(Some(raw)) => changes.title = issues.check("title", TaskTitle::parse(&raw)),
    }
    if let Some(description) = args.description {
        changes.description = match description {
            None => Some(None),
            Some(raw) => issues
                .check("description", TaskDescription::parse(&raw))
                .map(Some),
        };
    }
    match args.priority {
        None => {}
        Some(None) => issues.add("priority", keep),
        Some(Some(priority)) => changes.priority = Some(priority.into()),
    }
    if let Some(tags) = args.tags {
        changes.tags = tags_arg(&tags.unwrap_or_default(), &mut issues);
    }
    if let Some(due_at) = args.due_at {
        changes.due_at = match due_at {
            None => Some(None),
            Some(raw) => issues.check("due_at", timestamp_arg(&raw)).map(Some),
        };
    }
    if let Some(remind_at) = args.remind_at {
        changes.remind_at = match remind_at {
            None => Some(None),
            Some(raw) => issues
                .check("remind_at", timestamp_arg(&raw))
                .map(|at| Some(at.to_utc())),
        };
    }
    if let Some(recurrence) = args.recurrence {
        changes.recurrence = match recurrence {
            None => Some(None),
            Some(rule) => recurrence_arg(rule, &mut issues).map(Some),
        };
    }
    changes.list_id = args.list_id.map(|list| list.map(ListId));
    changes.parent_id = args.parent_id.map(|parent| parent.map(TaskId));
    issues.finish(tool)?;
    if changes.is_empty() {
        return Err(ToolError::invalid(
            tool,
            [(
                String::new(),
                "they change nothing: give at least one of title, description, priority, tags, \
                 due_at, remind_at, recurrence, list_id, parent_id"
                    .to_owned(),
            )],
        ));
    }
    Ok(changes)
}

/// A page size within the REST API's bounds.
pub(super) fn limit_arg(limit: Option<u32>, default: u32, issues: &mut Issues) -> u32 {
    match limit {
        None => default,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            issues.add("limit", format!("must be 1 to {MAX_LIMIT}"));
            default
        }
    }
}

pub(super) fn sort_key(sort: SortName) -> SortKey {
    match sort {
        SortName::Created => SortKey::Created,
        SortName::Updated => SortKey::Updated,
        SortName::Title => SortKey::Title,
        SortName::DueDate => SortKey::DueDate,
        SortName::Priority => SortKey::Priority,
        SortName::Position => SortKey::Position,
    }
}
