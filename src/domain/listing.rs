//! What a task listing asks for: filters, sort order and the keyset position to continue after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Priority, StatusFilter, Task, TaskId};

// The API's `TaskSort` and `SortOrder` schemas derive from these enums, so their doc comments
// are the schemas' descriptions, word for word.
/// What to sort a listing by.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum,
)]
#[oai(rename = "TaskSort", rename_all = "snake_case")]
pub(crate) enum SortKey {
    /// Creation time (the default; default order: newest first).
    #[default]
    Created,
    /// Last change (default: most recent first).
    Updated,
    /// Title, ignoring case (default: A to Z).
    Title,
    /// Due time; tasks without one come last in either order (default: soonest first).
    DueDate,
    /// Priority, low < medium < high (default: high first).
    Priority,
    /// The manual order (`position`), among siblings: use it with `list_id` and `parent_id`
    /// (default: first to last).
    Position,
}

impl SortKey {
    /// The order used when none is asked for: newest, most important, or soonest first.
    pub(crate) fn default_order(self) -> Order {
        match self {
            Self::Created | Self::Updated | Self::Priority => Order::Desc,
            Self::Title | Self::DueDate | Self::Position => Order::Asc,
        }
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[oai(rename = "SortOrder", rename_all = "lowercase")]
pub(crate) enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// The value of a task's sort key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SortValue {
    /// A timestamp (created, updated, due).
    Time(DateTime<Utc>),
    /// A lower-cased title, or a position.
    Text(String),
    /// A priority rank.
    Rank(i64),
    /// No due date.
    Null,
}

/// Where a page ended: the last task's sort value and id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// The sort key's value.
    pub value: SortValue,
    /// The id (the tie-breaker).
    pub id: i64,
}

impl Position {
    /// The position of `task` in a listing sorted by `key`.
    pub(crate) fn of(task: &Task, key: SortKey) -> Self {
        let value = match key {
            SortKey::Created => SortValue::Time(task.created_at),
            SortKey::Updated => SortValue::Time(task.updated_at),
            SortKey::Title => SortValue::Text(task.title.to_lowercase()),
            SortKey::Position => SortValue::Text(task.position.clone()),
            SortKey::Priority => SortValue::Rank(i64::from(task.priority.rank())),
            SortKey::DueDate => task
                .schedule
                .due_at
                .map_or(SortValue::Null, |due| SortValue::Time(due.to_utc())),
        };
        let TaskId(id) = task.id;
        Self { value, id }
    }
}

/// The most values a repeatable filter (`priority`, `tag`) takes: as many tags as a task can
/// carry, which no filter needs more of. It keeps the cost of a listing bounded.
pub(crate) const MAX_FILTER_VALUES: usize = super::Tag::MAX_PER_TASK;

/// A keyword to find in titles and descriptions: trimmed, lower-cased, at most
/// [`Keyword::MAX_CHARS`] characters, no NUL (the same rule as text fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keyword(String);

impl Keyword {
    /// The longest keyword accepted, in characters.
    pub(crate) const MAX_CHARS: usize = 200;

    /// `None` for an empty (or white-space) keyword, which filters nothing.
    pub(crate) fn parse(raw: &str) -> Result<Option<Self>, &'static str> {
        if raw.contains('\0') {
            return Err("must not contain the NUL character (U+0000)");
        }
        let trimmed = raw.trim_matches(super::is_white_space);
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 200 characters");
        }
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_lowercase())))
    }

    /// The lower-cased keyword.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A listing request.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListQuery {
    /// Pending, completed or all.
    pub status: StatusFilter,
    /// Any of these priorities (empty: any).
    pub priorities: Vec<Priority>,
    /// All of these tag keys (lower-cased).
    pub tag_keys: Vec<String>,
    /// A lower-cased keyword to find in the title or description.
    pub search: Option<String>,
    /// Due strictly before this instant.
    pub due_before: Option<DateTime<Utc>>,
    /// Due at or after this instant.
    pub due_after: Option<DateTime<Utc>>,
    /// Pending and due before `now`.
    pub overdue: bool,
    /// In this list (`Some(None)`: the inbox).
    pub list: Option<Option<i64>>,
    /// Under this parent (`Some(None)`: top-level tasks only).
    pub parent: Option<Option<i64>>,
    /// The present, for `overdue`.
    pub now: DateTime<Utc>,
    /// Sort key.
    pub sort: SortKey,
    /// Direction.
    pub order: Option<Order>,
    /// Page size.
    pub limit: u32,
    /// Continue after this position.
    pub after: Option<Position>,
}

impl ListQuery {
    /// The effective direction.
    pub(crate) fn order(&self) -> Order {
        self.order.unwrap_or_else(|| self.sort.default_order())
    }
}

/// One page of a listing.
#[derive(Clone, Debug)]
pub(crate) struct Page {
    /// The tasks, in order.
    pub tasks: Vec<Task>,
    /// How many tasks match the filters, across all pages.
    pub total: u64,
    /// Where the next page starts, when there is one.
    pub next: Option<Position>,
}

/// A request for the user's tags, by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TagQuery {
    /// Continue after this tag key (lower-cased).
    pub after: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// One page of a user's tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TagPage {
    /// Each tag (as first written) with how many tasks carry it, by key.
    pub tags: Vec<(String, u64)>,
    /// How many distinct tags the user has, across all pages.
    pub total: u64,
    /// The key to continue after, when more tags follow.
    pub next: Option<String>,
}
