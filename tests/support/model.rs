//! What the API answers, typed after the `openapi.yaml` schemas, and strict: every field the
//! schema requires must be there, and a field it does not declare is an error (so comparing two
//! values compares everything the API said). Timestamps keep the text the server sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// A point in time as the server wrote it (RFC 3339).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Timestamp(pub String);

impl Timestamp {
    /// The instant it names.
    pub(crate) fn instant(&self) -> DateTime<Utc> {
        at(&self.0)
    }

    /// The text the server sent.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The instant an RFC 3339 timestamp names (panics on anything else).
pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("`{rfc3339}` is not an RFC 3339 timestamp: {e}"))
        .to_utc()
}

/// A `Task`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    #[serde(deserialize_with = "required")]
    pub description: Option<String>,
    pub completed: bool,
    #[serde(deserialize_with = "required")]
    pub completed_at: Option<Timestamp>,
    pub priority: Priority,
    pub tags: Vec<String>,
    #[serde(deserialize_with = "required")]
    pub due_at: Option<Timestamp>,
    #[serde(deserialize_with = "required")]
    pub remind_at: Option<Timestamp>,
    #[serde(deserialize_with = "required")]
    pub recurrence: Option<Recurrence>,
    #[serde(deserialize_with = "required")]
    pub next_occurrence_id: Option<i64>,
    #[serde(deserialize_with = "required")]
    pub list_id: Option<i64>,
    #[serde(deserialize_with = "required")]
    pub parent_id: Option<i64>,
    pub position: String,
    pub subtask_count: u32,
    pub completed_subtask_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A `List`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct List {
    pub id: i64,
    pub name: String,
    #[serde(deserialize_with = "required")]
    pub color: Option<String>,
    pub position: String,
    pub task_count: u64,
    pub pending_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Task {
    /// When it is due.
    pub(crate) fn due(&self) -> Option<DateTime<Utc>> {
        self.due_at.as_ref().map(Timestamp::instant)
    }

    /// When to remind.
    pub(crate) fn remind(&self) -> Option<DateTime<Utc>> {
        self.remind_at.as_ref().map(Timestamp::instant)
    }

    /// When it was last changed.
    pub(crate) fn updated(&self) -> DateTime<Utc> {
        self.updated_at.instant()
    }
}

/// A nullable field that must be present (`null` or a value), as the schema requires: serde
/// would otherwise take a missing `Option` field for `None`.
fn required<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// An optional field that is never `null`: omitted or a value.
fn never_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A `Priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Priority {
    Low,
    Medium,
    High,
}

/// A `Frequency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A `Recurrence` as the server answers it (`until` and `count` omitted when unset).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Recurrence {
    pub frequency: Frequency,
    pub interval: u32,
    #[serde(
        default,
        deserialize_with = "never_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<Timestamp>,
    #[serde(
        default,
        deserialize_with = "never_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u32>,
}

/// A `TagCount`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagCount {
    pub tag: String,
    pub count: u64,
}

/// `Deleted`: what clearing completed tasks answers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Deleted {
    pub deleted: u64,
}

/// `Health`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Health {
    pub status: String,
}

/// `Readiness`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Readiness {
    pub status: String,
    pub database: String,
    pub jwks: String,
}

/// One page of a listing, with what its headers say.
#[derive(Clone, Debug)]
pub(crate) struct Page {
    pub tasks: Vec<Task>,
    /// `X-Total-Count`: how many tasks match, across all pages.
    pub total: u64,
    /// The path and query of the next page (from `Link: <…>; rel="next"`), if any.
    pub next: Option<String>,
}

impl Page {
    /// The titles, in order.
    pub(crate) fn titles(&self) -> Vec<&str> {
        titles(&self.tasks)
    }
}

/// The titles of `tasks`, in order.
pub(crate) fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

/// The ids of `tasks`, in order.
pub(crate) fn ids(tasks: &[Task]) -> Vec<i64> {
    tasks.iter().map(|t| t.id).collect()
}

/// A `Change` of the change feed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)] // as the server sends them
pub(crate) enum Change {
    /// `{"type": "upsert", "task": …}`.
    Upsert { task: Task },
    /// `{"type": "delete", "id": …}`.
    Delete { id: i64 },
    /// `{"type": "list_upsert", "list": …}`.
    ListUpsert { list: List },
    /// `{"type": "list_delete", "id": …}`.
    ListDelete { id: i64 },
}

impl Change {
    /// The id of the task (or list) it is about.
    pub(crate) fn task_id(&self) -> i64 {
        match self {
            Self::Upsert { task } => task.id,
            Self::Delete { id } | Self::ListDelete { id } => *id,
            Self::ListUpsert { list } => list.id,
        }
    }
}

/// A `ChangePage`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePage {
    pub changes: Vec<Change>,
    pub cursor: String,
    pub has_more: bool,
}

/// A local copy of a user's tasks, kept as a client of the feed keeps it: by id, changes
/// applied in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Replica {
    pub tasks: std::collections::BTreeMap<i64, Task>,
    pub lists: std::collections::BTreeMap<i64, List>,
}

impl Replica {
    /// Applies one change.
    pub(crate) fn apply(&mut self, change: &Change) {
        match change {
            Change::Upsert { task } => {
                self.tasks.insert(task.id, task.clone());
            }
            Change::Delete { id } => {
                self.tasks.remove(id);
            }
            Change::ListUpsert { list } => {
                self.lists.insert(list.id, list.clone());
            }
            Change::ListDelete { id } => {
                self.lists.remove(id);
            }
        }
    }

    /// The tasks, by id.
    pub(crate) fn sorted(&self) -> Vec<Task> {
        self.tasks.values().cloned().collect()
    }
}
