//! Tags: trimmed, case-insensitively unique labels.

use serde::{Deserialize, Serialize};

use crate::domain::is_white_space;

/// A tag as the user wrote it (trimmed); tags compare case-insensitively through [`Tag::key`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag(String);

impl Tag {
    /// The longest tag accepted, in characters.
    pub const MAX_CHARS: usize = 32;
    /// The most tags a task may carry.
    pub const MAX_PER_TASK: usize = 20;

    /// What [`Self::parse`] accepts, as the spec's `pattern` for each tag says it: 1 to 32
    /// characters once surrounding white space (see `is_white_space` (what JavaScript's `trim()` removes)) is trimmed, and no NUL.
    pub const PATTERN: &'static str = r"^\s*[^\s\x00]([^\x00]{0,30}[^\s\x00]\s*|\s*)$";

    /// Trims surrounding white space (as `is_white_space` (what JavaScript's `trim()` removes) counts it, like titles), then checks
    /// the length (1 to 32 characters) and refuses NUL, which PostgreSQL cannot store.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim_matches(is_white_space);
        if trimmed.contains('\0') {
            return Err("a tag must not contain the NUL character (U+0000)");
        }
        if trimmed.is_empty() {
            return Err("a tag must not be empty or only white space");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("a tag must be at most 32 characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A stored tag, trusted as it is.
    pub fn from_stored(tag: String) -> Self {
        Self(tag)
    }

    /// The tag as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key tags are matched and de-duplicated by.
    pub fn key(&self) -> String {
        key(&self.0)
    }

    /// A task's tags: each valid, case-insensitively unique, at most [`Self::MAX_PER_TASK`].
    /// The count is checked first, so that what a list costs to check is bounded whatever its
    /// length.
    pub fn parse_list<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, String> {
        let raw: Vec<&str> = raw.into_iter().take(Self::MAX_PER_TASK + 1).collect();
        if raw.len() > Self::MAX_PER_TASK {
            return Err(format!("at most {} tags per task", Self::MAX_PER_TASK));
        }
        let mut tags: Vec<Self> = Vec::new();
        for (i, raw) in raw.into_iter().enumerate() {
            let tag = Self::parse(raw).map_err(|why| format!("tag {}: {why}", i + 1))?;
            if tags.iter().any(|t| t.key() == tag.key()) {
                return Err(format!(
                    "tag {}: `{}` is repeated (tags ignore case)",
                    i + 1,
                    tag.0
                ));
            }
            tags.push(tag);
        }
        Ok(tags)
    }
}

/// The case-insensitive key of a tag or of a tag filter.
pub(crate) fn key(raw: &str) -> String {
    raw.trim_matches(is_white_space).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_titles_and_refuses_nul() {
        assert_eq!(
            Tag::parse("\u{feff} work \n").map(|t| t.0),
            Ok("work".to_owned())
        );
        assert_eq!(Tag::parse("\u{85}").map(|t| t.0), Ok("\u{85}".to_owned()));
        assert!(Tag::parse("a\0b").is_err());
        assert!(Tag::parse(" \t ").is_err());
        assert!(Tag::parse(&"x".repeat(33)).is_err());
        assert!(Tag::parse(&format!("  {}  ", "x".repeat(32))).is_ok());
    }
}
