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

    /// What [`Self::parse`] accepts, as the spec's `pattern` says it: 1 to 200 characters once
    /// surrounding white space (`\s`, see [`is_white_space`]) is trimmed, and no NUL.
    pub const PATTERN: &'static str = r"^\s*[^\s\x00]([^\x00]{0,198}[^\s\x00])?\s*$";

    /// Trims surrounding white space (as [`is_white_space`] counts it), then checks the length.
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
pub fn is_white_space(c: char) -> bool {
    c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}')
}

/// The one character no text field takes: PostgreSQL cannot store it in text, and SQLite would,
/// so it is refused before either sees it.
const NUL: char = '\0';
const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

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
