//! Lists (projects): a user's named groups of tasks, with their own manual order.

use chrono::{DateTime, Utc};

use super::task::{NUL, NUL_REFUSED};
use super::{UserId, is_white_space};

/// The id of a list, assigned by the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct ListId(pub i64);

/// A list name: trimmed, 1 to [`ListName::MAX_CHARS`] characters, no NUL; unique per user
/// ignoring case ([`ListName::key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListName(String);

impl ListName {
    /// The longest name accepted, in characters.
    pub(crate) const MAX_CHARS: usize = 100;

    /// What [`Self::parse`] accepts, as the spec's `pattern` says it (see `TaskTitle::PATTERN`).
    pub(crate) const PATTERN: &'static str = r"^\s*[^\s\x00]([^\x00]{0,98}[^\s\x00]\s*|\s*)$";

    /// Trims surrounding white space, then checks the length.
    pub(crate) fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.contains(NUL) {
            return Err(NUL_REFUSED);
        }
        let trimmed = raw.trim_matches(is_white_space);
        if trimmed.is_empty() {
            return Err("must not be empty or only white space");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 100 characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as a string slice.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes two names the same name: the name, lower-cased.
    pub(crate) fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A list's color: `#rrggbb` (hex digits, stored lower-case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Color(String);

impl Color {
    /// What [`Self::parse`] accepts.
    pub(crate) const PATTERN: &'static str = "^#[0-9A-Fa-f]{6}$";

    /// `#` and six hex digits.
    pub(crate) fn parse(raw: &str) -> Result<Self, &'static str> {
        let bytes = raw.as_bytes();
        if bytes.len() == 7 && bytes[0] == b'#' && bytes[1..].iter().all(u8::is_ascii_hexdigit) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err("must be `#` and six hexadecimal digits, e.g. #1e90ff")
        }
    }

    /// The color as `#rrggbb`.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client supplies to create a list.
#[derive(Clone, Debug)]
pub(crate) struct NewList {
    /// The name.
    pub name: ListName,
    /// The color, if any.
    pub color: Option<Color>,
}

/// A partial update of a list: `None` leaves a field as it is; `Some(None)` clears the color.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListChanges {
    /// A new name.
    pub name: Option<ListName>,
    /// A new color; `Some(None)` clears it.
    pub color: Option<Option<Color>>,
}

impl ListChanges {
    /// True when the update would change no field.
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none() && self.color.is_none()
    }
}

/// What to do with the tasks of a list that is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename = "ListTasksOnDelete", rename_all = "lowercase")]
pub(crate) enum TasksOnDelete {
    /// Move them (with their subtasks, in their order) to the inbox.
    Inbox,
    /// Delete them with the list.
    Delete,
}

/// A stored list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct List {
    /// Assigned by the store; never reused.
    pub id: ListId,
    /// The owner.
    pub user_id: UserId,
    /// The name.
    pub name: String,
    /// `#rrggbb`, if any.
    pub color: Option<String>,
    /// Its place among the user's lists.
    pub position: String,
    /// How many tasks it holds (subtasks included).
    pub task_count: u64,
    /// How many of them are pending.
    pub pending_count: u64,
    /// Bumped on every change; the ETag.
    pub version: i64,
    /// When the list was created.
    pub created_at: DateTime<Utc>,
    /// When the list last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_colors_checked() {
        assert_eq!(ListName::parse("  Work ").map(|n| n.0), Ok("Work".into()));
        assert!(ListName::parse(" ").is_err());
        assert!(ListName::parse(&"é".repeat(100)).is_ok());
        assert!(ListName::parse(&"é".repeat(101)).is_err());
        assert_eq!(Color::parse("#A0b1C2").map(|c| c.0), Ok("#a0b1c2".into()));
        for bad in ["a0b1c2", "#a0b1c", "#a0b1c2f", "#g0b1c2", ""] {
            assert!(Color::parse(bad).is_err(), "{bad}");
        }
    }
}
