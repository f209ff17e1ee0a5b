use chrono::{DateTime, Datelike, FixedOffset, Utc};

use super::list::ListId;
use super::order::Slot;
use super::{Priority, Recurrence, Tag, Timestamp, UserId};

/// The id of a task, assigned by the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct TaskId(pub i64);

/// A task title: trimmed, 1 to [`TaskTitle::MAX_CHARS`] characters (characters, not bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    /// The longest title accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// What [`Self::parse`] accepts, as the spec's `pattern` says it: 1 to 200 characters once
    /// surrounding white space (`\s`, see `is_white_space` (what JavaScript's `trim()` removes)) is trimmed, and no NUL. (Spelled
    /// with the trailing white space inside the alternatives: Schemathesis cannot generate
    /// from the equivalent `…([^\x00]{0,198}[^\s\x00])?\s*$`.)
    pub const PATTERN: &'static str = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00]\s*|\s*)$";

    /// Trims surrounding white space (as `is_white_space` (what JavaScript's `trim()` removes) counts it), then checks the length.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.contains(NUL) {
            return Err(NUL_REFUSED);
        }
        let trimmed = raw.trim_matches(is_white_space);
        if trimmed.is_empty() {
            return Err("must not be empty or only white space");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 200 characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The title as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// White space as ECMAScript counts it: what `\s` means in the spec's patterns (OpenAPI patterns
/// are ECMAScript regular expressions) and what JavaScript's `String.prototype.trim` removes, so a
/// frontend's `title.trim()` agrees with the server. It differs from Rust's `char::is_whitespace`
/// on two characters: U+FEFF (a byte order mark) is white space here, U+0085 (NEL) is not.
pub(crate) fn is_white_space(c: char) -> bool {
    c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}')
}

/// The one character no text field takes: PostgreSQL cannot store it in text, and SQLite would,
/// so it is refused before either sees it.
pub(super) const NUL: char = '\0';
pub(super) const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

/// A task description: up to [`TaskDescription::MAX_CHARS`] characters, kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    /// The longest description accepted, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// What the spec's `pattern` for a description says: no NUL.
    pub const PATTERN: &'static str = r"^[^\x00]*$";

    /// Checks the length; the text itself is kept as the user wrote it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.contains(NUL) {
            return Err(NUL_REFUSED);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 1000 characters");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The description as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field-level problem found by a domain rule (e.g. a reminder after the due time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldIssue {
    /// The body field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl FieldIssue {
    /// An issue about `field`.
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// When a task is due, reminded and repeated: the fields whose rules depend on each other.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Schedule {
    /// Due time, in the offset the client gave it (recurrence follows that calendar).
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When to remind the user.
    pub remind_at: Option<DateTime<Utc>>,
    /// The repetition rule.
    pub recurrence: Option<Recurrence>,
}

impl Schedule {
    /// Every instant within [`Timestamp`]'s rule; a reminder after the due time is refused; a
    /// recurrence needs a due time.
    pub(crate) fn check(&self) -> Result<(), Vec<FieldIssue>> {
        let mut issues = Vec::new();
        if let Some(Err(why)) = self.due_at.map(Timestamp::check) {
            issues.push(FieldIssue::new("due_at", why));
        }
        if let Some(Err(why)) = self.remind_at.map(Timestamp::check_utc) {
            issues.push(FieldIssue::new("remind_at", why));
        }
        if let Some(Err(why)) = self
            .recurrence
            .as_ref()
            .and_then(|rule| rule.until)
            .map(Timestamp::check_utc)
        {
            issues.push(FieldIssue::new("recurrence.until", why));
        }
        if let (Some(due), Some(remind)) = (self.due_at, self.remind_at)
            && remind > due.to_utc()
        {
            issues.push(FieldIssue::new("remind_at", "must not be after due_at"));
        }
        if let Some(rule) = &self.recurrence {
            if self.due_at.is_none() {
                issues.push(FieldIssue::new("recurrence", "needs a due_at"));
            }
            if let Err(why) = rule.validate() {
                issues.push(FieldIssue::new("recurrence", why));
            }
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(issues)
        }
    }
}

/// A stored task.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Task {
    /// Assigned by the store; never reused.
    pub id: TaskId,
    /// The owner.
    pub user_id: UserId,
    /// The title.
    pub title: String,
    /// The description, if any.
    pub description: Option<String>,
    /// Whether the task is done.
    pub completed: bool,
    /// When it was completed; `None` while pending.
    pub completed_at: Option<DateTime<Utc>>,
    /// Importance.
    pub priority: Priority,
    /// Tags, in the order given.
    pub tags: Vec<Tag>,
    /// Due time, reminder and repetition.
    pub schedule: Schedule,
    /// Which occurrence of its series this task is (1 for the first or a one-off task).
    pub occurrence: u32,
    /// The day of the month its series started on (month ends stick to it).
    pub anchor_day: u32,
    /// The task created when this recurring task was completed.
    pub next_occurrence_id: Option<TaskId>,
    /// The list it is in; `None`: the inbox. (Defaults: answers stored for idempotency keys
    /// before lists existed.)
    #[serde(default)]
    pub list_id: Option<ListId>,
    /// The task it is a subtask of; `None`: a top-level task.
    #[serde(default)]
    pub parent_id: Option<TaskId>,
    /// Its place among its siblings (same list, same parent): see `domain::order`.
    #[serde(default)]
    pub position: String,
    /// How many subtasks it has (direct children).
    #[serde(default)]
    pub subtask_count: u32,
    /// How many of them are completed.
    #[serde(default)]
    pub completed_subtask_count: u32,
    /// Bumped on every change; the ETag.
    pub version: i64,
    /// When the task was created; never changes.
    pub created_at: DateTime<Utc>,
    /// When the task last changed.
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// Applies `changes` (already validated field by field), then the cross-field rules.
    pub(crate) fn apply(&mut self, changes: &TaskChanges) -> Result<(), Vec<FieldIssue>> {
        if let Some(title) = &changes.title {
            self.title = title.as_str().to_owned();
        }
        if let Some(description) = &changes.description {
            self.description = description.as_ref().map(|d| d.as_str().to_owned());
        }
        if let Some(priority) = changes.priority {
            self.priority = priority;
        }
        if let Some(tags) = &changes.tags {
            self.tags = tags.clone();
        }
        if let Some(remind_at) = changes.remind_at {
            self.schedule.remind_at = remind_at;
        }
        if let Some(due_at) = changes.due_at {
            self.schedule.due_at = due_at;
            if let Some(due) = due_at {
                self.anchor_day = due.day();
            }
        }
        if let Some(recurrence) = &changes.recurrence {
            self.schedule.recurrence = recurrence.clone();
            self.occurrence = 1;
            if let Some(due) = self.schedule.due_at {
                self.anchor_day = due.day();
            }
        }
        self.schedule.check()
    }

    /// The next occurrence of a recurring task, if its series goes on.
    pub(crate) fn next_occurrence(&self) -> Option<NewTask> {
        let rule = self.schedule.recurrence.as_ref()?;
        let due = self.schedule.due_at?;
        let next_due = rule.next_due(due, self.anchor_day, self.occurrence)?;
        let remind_at = self
            .schedule
            .remind_at
            .map(|remind| next_due.to_utc() - (due.to_utc() - remind));
        Some(NewTask {
            title: TaskTitle(self.title.clone()),
            description: self.description.clone().map(TaskDescription),
            priority: self.priority,
            tags: self.tags.clone(),
            schedule: Schedule {
                due_at: Some(next_due),
                remind_at,
                recurrence: Some(rule.clone()),
            },
            occurrence: self.occurrence + 1,
            anchor_day: self.anchor_day,
            list_id: Some(self.list_id),
            parent_id: self.parent_id,
        })
    }

    /// A copy of this task, reopened, as a subtask of `parent` (the next occurrence of a
    /// recurring task gets its parent's subtasks this way).
    pub(crate) fn copy_under(&self, parent: TaskId, list: Option<ListId>) -> NewTask {
        NewTask {
            title: TaskTitle(self.title.clone()),
            description: self.description.clone().map(TaskDescription),
            priority: self.priority,
            tags: self.tags.clone(),
            schedule: Schedule {
                due_at: self.schedule.due_at,
                remind_at: self.schedule.remind_at,
                recurrence: None,
            },
            occurrence: 1,
            anchor_day: self.anchor_day,
            list_id: Some(list),
            parent_id: Some(parent),
        }
    }
}

/// How deep subtasks nest: a top-level task is at level 1, its subtasks at 2, and so on.
pub(crate) const MAX_DEPTH: u32 = 4;

/// What a client supplies to create a task (or what completing a recurring task creates).
#[derive(Clone, Debug)]
pub(crate) struct NewTask {
    /// The title.
    pub title: TaskTitle,
    /// The description, if any.
    pub description: Option<TaskDescription>,
    /// Importance.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Due time, reminder and repetition.
    pub schedule: Schedule,
    /// Which occurrence of its series this is (1 for a new task).
    pub occurrence: u32,
    /// The day of the month its series started on.
    pub anchor_day: u32,
    /// The list: `None` when not given (the parent's list, or the inbox), `Some(None)` the
    /// inbox.
    pub list_id: Option<Option<ListId>>,
    /// The parent task, for a subtask.
    pub parent_id: Option<TaskId>,
}

impl NewTask {
    /// A new one-off or first-occurrence task, checked against the cross-field rules.
    pub(crate) fn new(
        title: TaskTitle,
        description: Option<TaskDescription>,
        priority: Priority,
        tags: Vec<Tag>,
        schedule: Schedule,
    ) -> Result<Self, Vec<FieldIssue>> {
        schedule.check()?;
        let anchor_day = schedule.due_at.map_or(1, |due| due.day());
        Ok(Self {
            title,
            description,
            priority,
            tags,
            schedule,
            occurrence: 1,
            anchor_day,
            list_id: None,
            parent_id: None,
        })
    }
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default)]
pub(crate) struct TaskChanges {
    /// A new title.
    pub title: Option<TaskTitle>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<TaskDescription>>,
    /// A new priority.
    pub priority: Option<Priority>,
    /// New tags (replacing the old ones).
    pub tags: Option<Vec<Tag>>,
    /// A new due time; `Some(None)` clears it.
    pub due_at: Option<Option<DateTime<FixedOffset>>>,
    /// A new reminder; `Some(None)` clears it.
    pub remind_at: Option<Option<DateTime<Utc>>>,
    /// A new rule; `Some(None)` stops the repetition.
    pub recurrence: Option<Option<Recurrence>>,
    /// Another list; `Some(None)` the inbox.
    pub list_id: Option<Option<ListId>>,
    /// Another parent; `Some(None)` makes it a top-level task.
    pub parent_id: Option<Option<TaskId>>,
}

impl TaskChanges {
    /// True when the update would change no field.
    pub(crate) fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.priority.is_none()
            && self.tags.is_none()
            && self.due_at.is_none()
            && self.remind_at.is_none()
            && self.recurrence.is_none()
            && self.list_id.is_none()
            && self.parent_id.is_none()
    }

    /// True when the update changes only fields of the task itself (not where it is).
    pub(crate) fn stays(&self) -> bool {
        self.list_id.is_none() && self.parent_id.is_none()
    }
}

/// Where a task goes: `POST …/tasks/{id}/move`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskMove {
    /// Another list; `Some(None)` the inbox; `None` its own (or, with a parent, the parent's).
    pub list_id: Option<Option<ListId>>,
    /// Another parent; `Some(None)` the top level; `None` its own (unless the list changes).
    pub parent_id: Option<Option<TaskId>>,
    /// Where among its new siblings.
    pub slot: Slot,
}

// The API's `TaskStatus` schema derives from this enum, so its doc comment is the schema's
// description, word for word.
/// Which tasks to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename = "TaskStatus", rename_all = "lowercase")]
pub(crate) enum StatusFilter {
    /// Every task.
    #[default]
    All,
    /// Tasks not completed yet.
    Pending,
    /// Completed tasks.
    Completed,
}

impl StatusFilter {
    /// The `completed` value the filter selects, or `None` for all tasks.
    pub(crate) fn completed(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Pending => Some(false),
            Self::Completed => Some(true),
        }
    }
}

/// The current time at the precision every store keeps (microseconds), so that what a client
/// is told equals what it reads back later.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    let micros = now.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_is_ecmascripts() {
        for c in [
            ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{a0}', '\u{feff}', '\u{2028}',
        ] {
            assert!(is_white_space(c), "{c:?}");
        }
        for c in ['\u{85}', '\u{1c}', '\u{200b}', 'x'] {
            assert!(!is_white_space(c), "{c:?}");
        }
    }

    #[test]
    fn titles_are_trimmed_and_counted_in_characters() {
        assert_eq!(TaskTitle::parse("\u{feff} a ").map(|t| t.0), Ok("a".into()));
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(201)).is_err());
        assert!(TaskTitle::parse(" \u{3000} ").is_err());
        assert!(TaskTitle::parse("a\0").is_err());
        assert!(TaskDescription::parse("a\0").is_err());
    }
}
