use chrono::{DateTime, Utc};

use super::UserId;

/// The id of a task, assigned by the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskId(pub i64);

/// A task title: trimmed, 1 to [`TaskTitle::MAX_CHARS`] characters (characters, not bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    /// The longest title accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims surrounding white space, then checks the length.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
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

/// A task description: up to [`TaskDescription::MAX_CHARS`] characters, kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    /// The longest description accepted, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Checks the length; the text itself is kept as the user wrote it.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
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

/// A stored task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
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
    /// When the task was created; never changes.
    pub created_at: DateTime<Utc>,
    /// When the task last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a client supplies to create a task.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// The title.
    pub title: TaskTitle,
    /// The description, if any.
    pub description: Option<TaskDescription>,
}

/// A partial update: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TaskChanges {
    /// A new title.
    pub title: Option<TaskTitle>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<TaskDescription>>,
}

impl TaskChanges {
    /// True when the update would change no field.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none()
    }
}

/// Which tasks a listing returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
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
    pub fn completed(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Pending => Some(false),
            Self::Completed => Some(true),
        }
    }
}

/// The current time at the precision every store keeps (microseconds), so that what a client
/// is told equals what it reads back later.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    let micros = now.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(now)
}
